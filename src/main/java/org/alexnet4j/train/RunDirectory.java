package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.data.ClassList;
import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one owner of a training run's directory and its format:
 * <pre>
 * RUN_DIR/config.json                 the resolved recipe ({@link TrainConfig})
 *         state.json                  the commit point: the latest checkpoint, counters, data position, schedule
 *         checkpoints/ckpt-N.zip      model + momentum, the last keepCheckpoints of them
 *         checkpoints/ckpt-N.json     the state as of that checkpoint (to fall back to should a later one be damaged)
 *         checkpoints/best.zip        the best validation top-1 error's weights (no momentum)
 *         metrics.csv, plots/*.png    per-epoch loss, error, lr, speed
 *         classes.tsv                 the classes by index
 *         preprocessing/              what the input went through: preprocessing.json (variant, resize, crop,
 *                                     channel order, normalisation kind, statistics source) and, for a prepared
 *                                     cache's statistics, stats.json + mean_image.npy
 *         result.json, train.log
 * </pre>
 * A run directory is self-contained: copied to another machine without its dataset it predicts, evaluates and exports
 * as it did where it was trained. Training writes it ({@link Trainer}); every {@code --run} command, fine-tuning's
 * {@code --init-from RUN_DIR} and hyperparameter search read it through here.
 */
public final class RunDirectory {
    private static final Logger log = LoggerFactory.getLogger(RunDirectory.class);
    public static final String CONFIG = "config.json";
    public static final String STATE = "state.json";
    public static final String METRICS = "metrics.csv";
    public static final String RESULT = "result.json";
    public static final String LOG = "train.log";
    public static final String PLOTS = "plots";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String BEST = "best.zip";
    public static final String PREPROCESSING = "preprocessing";
    /** The description of the input pipeline inside {@link #PREPROCESSING}. */
    public static final String PREPROCESSING_FILE = "preprocessing.json";
    static final String METRICS_HEADER = "epoch,iterations,train_loss,val_loss,val_top1_err,val_top5_err,lr,"
            + "images_per_s,seconds";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;

    private RunDirectory(Path dir) {
        this.dir = dir;
    }

    /** The run directory at {@code dir}, existing or about to be written. */
    public static RunDirectory at(Path dir) {
        return new RunDirectory(dir);
    }

    /** An existing run to read (a {@code --run} option): a directory with a config.json, or a sentence saying why not. */
    public static RunDirectory open(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a run directory (" + (Files.exists(dir) ? "a file"
                    : "no such directory") + "); give the --out of an alexnet4j train run");
        }
        if (!Files.isRegularFile(dir.resolve(CONFIG))) {
            throw new IllegalArgumentException(dir + " is not a run directory (no " + CONFIG + "); give the --out of "
                    + "an alexnet4j train run");
        }
        return new RunDirectory(dir);
    }

    public Path path() {
        return dir;
    }

    public Path config() {
        return dir.resolve(CONFIG);
    }

    public Path state() {
        return dir.resolve(STATE);
    }

    public Path metrics() {
        return dir.resolve(METRICS);
    }

    public Path result() {
        return dir.resolve(RESULT);
    }

    public Path log() {
        return dir.resolve(LOG);
    }

    public Path plots() {
        return dir.resolve(PLOTS);
    }

    public Path checkpoints() {
        return dir.resolve(CHECKPOINTS);
    }

    public Path best() {
        return checkpoints().resolve(BEST);
    }

    public Path classes() {
        return dir.resolve(ClassList.FILE);
    }

    public Path preprocessing() {
        return dir.resolve(PREPROCESSING);
    }

    /** Where {@code eval --run} writes by default. */
    public Path eval() {
        return dir.resolve("eval");
    }

    public TrainConfig readConfig() throws IOException {
        return TrainConfig.read(config());
    }

    /** Whether a checkpoint was ever committed (there is something to resume). */
    public boolean hasState() {
        return Files.exists(state());
    }

    public Trainer.State readState() throws IOException {
        return JSON.readValue(state().toFile(), Trainer.State.class);
    }

    /** The best checkpoint, or a sentence saying why there is none. */
    public Path bestCheckpoint() {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is not a run directory (no such directory)");
        }
        if (!Files.exists(best())) {
            throw new IllegalArgumentException(dir + " has no " + CHECKPOINTS + "/" + BEST
                    + " (no epoch finished yet?)");
        }
        return best();
    }

    /** The run's classes by index (classes.tsv, else its dataset's), or null when neither is readable. */
    public List<String> classList() throws IOException {
        if (Files.isRegularFile(classes())) {
            return ClassList.read(classes());
        }
        Path data = dataset();
        if (data == null) {
            return null;
        }
        if (PreparedCache.isCache(data)) {
            return PreparedCache.open(data).wnids();
        }
        Path manifest = data.resolve(org.alexnet4j.data.Datasets.MANIFEST_FILE);
        return Files.isRegularFile(manifest) ? org.alexnet4j.data.Manifest.read(manifest).wnids() : null;
    }

    /** The dataset the run trained on, as config.json names it (it may have moved since), or null. */
    private Path dataset() throws IOException {
        if (!Files.exists(config())) {
            return null;
        }
        String data = readConfig().data;
        return data == null ? null : Path.of(data);
    }

    // ---------------------------------------------------------------- preprocessing

    /**
     * Records the input pipeline the run trains with: the variant's resize, crop and channel order, the recipe's
     * normalisation kind, and the statistics ({@code stats}: a prepared cache's, written beside; null: the published
     * constants). Written once, at the start; a resumed run keeps it.
     */
    void writePreprocessing(AlexNet net, Normalization.Kind kind, DatasetStats stats) throws IOException {
        Path p = preprocessing();
        if (Files.exists(p.resolve(PREPROCESSING_FILE))) {
            return;
        }
        Files.createDirectories(p);
        if (stats != null) {
            stats.save(p);
        }
        Preprocessing.Input in = Preprocessing.training(net.variant(), net.inputSize(), kind, stats, stats == null
                ? 256 : stats.size());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", net.variant().id());
        m.put("resize", Preprocessing.resize(net).id());
        m.put("crop", net.inputSize());
        m.put("channels", in.normalization().isBgr() ? "BGR" : "RGB");
        m.put("normalize", kind.id());
        m.put("statistics", stats != null ? DatasetStats.STATS_FILE : "published");
        m.put("describe", in.describe());
        byte[] json = JSON.writeValueAsBytes(m);
        AtomicFiles.write(p.resolve(PREPROCESSING_FILE), tmp -> Files.write(tmp, json));
    }

    /**
     * What the run trained with: its normalisation kind and statistics, from the run itself. A run from before runs
     * kept them takes its statistics from the dataset config.json names, saying so; when that is gone, the published
     * constants, with a warning that they may not be what it trained with.
     */
    public Preprocessing.Trained trained() throws IOException {
        Path p = preprocessing();
        Normalization.Kind kind = readConfig().normalize;
        if (Files.isRegularFile(p.resolve(DatasetStats.STATS_FILE))) {
            return new Preprocessing.Trained(kind, DatasetStats.load(p), "the run's " + PREPROCESSING + "/");
        }
        if (Files.isRegularFile(p.resolve(PREPROCESSING_FILE))) {
            return new Preprocessing.Trained(kind, null, "published");
        }
        Path data = dataset();
        if (data != null && PreparedCache.isCache(data)) {
            log.info("{} has no stored preprocessing (trained before runs kept it): taking its statistics from its "
                    + "dataset {}", dir, data);
            return new Preprocessing.Trained(kind, PreparedCache.open(data).stats(), "its dataset " + data);
        }
        log.warn("{} has no stored preprocessing (trained before runs kept it) and its dataset {} is not a prepared "
                + "cache here: using the published ImageNet constants, which may not be what it trained with", dir,
                data);
        return new Preprocessing.Trained(kind, null, "published");
    }

    // ---------------------------------------------------------------- checkpoints

    /**
     * Writes the model (with momentum), its checksum and size, and {@code state} as of this checkpoint beside it
     * ({@code ckpt-N.json}), then, as the commit, the state naming it; prunes old checkpoints beyond {@code keep}
     * (the one just written always stays).
     */
    void checkpoint(AlexNet net, ComputationGraph graph, Trainer.State state, int keep) throws IOException {
        Path file = checkpoints().resolve(String.format("ckpt-%08d.zip", state.iteration));
        ModelFiles.save(file, net, graph, true);
        state.checkpoint = CHECKPOINTS + "/" + file.getFileName();
        state.checkpointSha256 = sha256(file);
        state.checkpointBytes = Files.size(file);
        byte[] json = JSON.writeValueAsBytes(state);
        AtomicFiles.write(sidecar(file), tmp -> Files.write(tmp, json));
        AtomicFiles.write(state(), tmp -> Files.write(tmp, json));
        List<Path> old = checkpointFiles();
        for (int i = 0; i < old.size() - keep; i++) {
            Files.deleteIfExists(old.get(i));
            Files.deleteIfExists(sidecar(old.get(i)));
        }
    }

    /** Saves the weights of a new best epoch as {@code checkpoints/best.zip}. */
    void saveBest(AlexNet net, ComputationGraph graph) throws IOException {
        ModelFiles.save(best(), net, graph, false);
    }

    /** Removes the temporary files of writes cut short by a kill (before a resume). */
    void removeLeftovers() throws IOException {
        AtomicFiles.removeLeftovers(checkpoints());
        AtomicFiles.removeLeftovers(dir);
    }

    /** The run's ckpt-N.zip files, oldest first. */
    private List<Path> checkpointFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(checkpoints())) {
            try (var s = Files.list(checkpoints())) {
                s.filter(p -> p.getFileName().toString().matches("ckpt-\\d+\\.zip")).sorted().forEach(out::add);
            }
        }
        return out;
    }

    private static Path sidecar(Path checkpoint) {
        String n = checkpoint.getFileName().toString();
        return checkpoint.resolveSibling(n.substring(0, n.length() - ".zip".length()) + ".json");
    }

    /**
     * The state to resume from: {@code latest} if its checkpoint is intact (size and SHA-256 as recorded), else the
     * newest older checkpoint that is, with the state saved beside it (the iterations since are replayed).
     *
     * @throws IllegalArgumentException if no checkpoint of the run is intact, saying what is wrong with the latest
     */
    Trainer.State intactCheckpoint(Trainer.State latest) throws IOException {
        String problem = damage(latest);
        if (problem == null) {
            return latest;
        }
        List<Path> all = checkpointFiles();
        for (int i = all.size() - 1; i >= 0; i--) {
            Path side = sidecar(all.get(i));
            if (!Files.isRegularFile(side) || (CHECKPOINTS + "/" + all.get(i).getFileName()).equals(latest.checkpoint)) {
                continue;
            }
            Trainer.State older;
            try {
                older = JSON.readValue(side.toFile(), Trainer.State.class);
            } catch (IOException e) {
                continue;
            }
            if (damage(older) == null && older.iteration <= latest.iteration) {
                log.warn("the latest checkpoint {} is damaged ({}); resuming from the intact {} (iteration {}): {} "
                                + "iterations will be replayed", latest.checkpoint, problem, older.checkpoint,
                        older.iteration, latest.iteration - older.iteration);
                return older;
            }
        }
        throw new IllegalArgumentException("cannot resume " + dir + ": the latest checkpoint " + latest.checkpoint
                + " is damaged (" + problem + ") and no older intact checkpoint is left in " + checkpoints()
                + "; start a new run (" + CHECKPOINTS + "/" + BEST + ", if present, holds the best weights)");
    }

    /** What is wrong with a state's checkpoint file, or null if it is intact. */
    private String damage(Trainer.State s) throws IOException {
        if (s.checkpoint == null) {
            return "no checkpoint recorded";
        }
        Path f = dir.resolve(s.checkpoint);
        if (!Files.isRegularFile(f)) {
            return "missing";
        }
        if (s.checkpointSha256 == null) {
            return null; // a run from before checksums: ModelFiles.load reports a broken file
        }
        long size = Files.size(f);
        if (size != s.checkpointBytes) {
            return size + " bytes instead of " + s.checkpointBytes;
        }
        return sha256(f).equals(s.checkpointSha256) ? null : "its SHA-256 differs from the recorded one";
    }

    private static String sha256(Path f) throws IOException {
        try (var in = Files.newInputStream(f)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- metrics, plots, result

    /** The data rows of metrics.csv (none if it does not exist yet). */
    List<String> metricsRows() throws IOException {
        if (!Files.exists(metrics())) {
            return new ArrayList<>();
        }
        List<String> rows = new ArrayList<>();
        for (String line : Files.readAllLines(metrics())) {
            if (!line.equals(METRICS_HEADER) && !line.isBlank()) {
                rows.add(line);
            }
        }
        return rows;
    }

    /** Writes metrics.csv with these data rows (atomically). */
    void writeMetrics(List<String> rows) throws IOException {
        StringBuilder sb = new StringBuilder(METRICS_HEADER).append('\n');
        rows.forEach(r -> sb.append(r).append('\n'));
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(metrics(), tmp -> Files.write(tmp, bytes));
    }

    /** On resume: drops rows of epochs after {@code epochs} (written before a crash, to be redone). */
    void keepMetricsUpTo(int epochs) throws IOException {
        List<String> keep = new ArrayList<>();
        for (String row : metricsRows()) {
            if (Integer.parseInt(row.split(",")[0]) <= epochs) {
                keep.add(row);
            }
        }
        writeMetrics(keep);
    }

    /** The run's per-epoch metrics. */
    public Metrics readMetrics() throws IOException {
        return Metrics.read(metrics());
    }

    /**
     * Loss, error and learning-rate curves from metrics.csv. A chart that cannot be drawn (Java2D refuses to start
     * its font machinery once the JVM is shutting down after Ctrl-C: "Shutdown in progress") costs the pictures of
     * this epoch, never the run or its checkpoint: logged, and drawn again at the next epoch.
     */
    void plot(int classes) throws IOException {
        Metrics m = readMetrics();
        try {
            m.plot(plots(), classes);
        } catch (RuntimeException | InternalError e) {
            log.warn("plots not redrawn this time ({}); metrics.csv is complete", String.valueOf(e.getMessage()));
        }
    }

    void writeResult(Map<String, Object> result) throws IOException {
        byte[] json = JSON.writeValueAsBytes(result);
        AtomicFiles.write(result(), tmp -> Files.write(tmp, json));
    }

    @Override
    public String toString() {
        return dir.toString();
    }
}
