package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real Spark standalone cluster on this machine ({@code scripts/spark-cluster.sh}: a Master and two Worker
 * processes on 127.0.0.1) trained on through {@code scripts/spark-submit.sh}: a run that learns, its resume, a worker
 * killed with SIGKILL mid-run, the driver killed and resumed, every socket on the loopback address, and a stop that
 * leaves no process behind. Runs after {@code package} (failsafe): it needs the packaged jar and Spark's jars.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SparkClusterIT {
    private static final Path SCRIPTS = Path.of("scripts").toAbsolutePath();

    /** Not a temporary directory: the cluster's, the driver's and the executors' logs stay for a failed build. */
    static Path tmp;
    static Path cache;
    static Path clusterDir;
    static String master;

    /** The same small learning recipe as the local-mode tests (4 classes, chance top-1 error 0.75). */
    private static List<String> recipe(Path run, int epochs) {
        // the data relative to the driver's working directory (tmp): executors, which run in their own, must get it
        return List.of("--data", tmp.relativize(cache).toString(), "--out", run.toString(), "--width", "0.25", "--batch", "8",
                "--epochs", Integer.toString(epochs), "--optimizer", "adam", "--lr", "1e-3", "--init", "he",
                "--normalize", "channel", "--seed", "3", "--spark-workers", "2", "--averaging-frequency", "3",
                "--checkpoint-every", "2");
    }

    private static Process start(List<String> command, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("SPARK_HOME");
        pb.environment().put("ALEXNET4J_SPARK_DIR", clusterDir.toString()); // spark-submit.sh finds the web UI
        return pb.start();
    }

    private static String run(Path log, String... command) throws Exception {
        Process p = start(List.of(command), log);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(String.join(" ", command) + " within 300 s").isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(String.join(" ", command) + ":\n" + out).isZero();
        return out;
    }

    private static String cluster(String action, String... more) throws Exception {
        List<String> c = new ArrayList<>(List.of(SCRIPTS.resolve("spark-cluster.sh").toString(), action));
        c.addAll(List.of(more));
        c.addAll(List.of("--dir", clusterDir.toString()));
        return run(tmp.resolve("cluster-" + action + ".log"), c.toArray(String[]::new));
    }

    private static List<String> submit(String... trainArgs) {
        List<String> c = new ArrayList<>(List.of(SCRIPTS.resolve("spark-submit.sh").toString(), master,
                "--cores", "1", "--executor-memory", "1g", "--memory-overhead", "3g", "--"));
        c.addAll(List.of(trainArgs));
        return c;
    }

    private static int freePort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int port = 20000 + (int) (Math.random() * 20000);
            if (free(port) && free(port + 1003) && free(port + 1004) && free(port + 1005)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port found");
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @BeforeAll
    static void cluster() throws Exception {
        tmp = Path.of("target", "spark-cluster-it").toAbsolutePath();
        org.apache.commons.io.FileUtils.deleteDirectory(tmp.toFile());
        Files.createDirectories(tmp);
        cache = Fixtures.rawCache(tmp, 4, 60, 10, 5);
        clusterDir = tmp.resolve("cluster");
        int port = freePort();
        master = "spark://127.0.0.1:" + port;
        String out = cluster("start", "--workers", "2", "--cores", "1", "--memory", "3g", "--port",
                Integer.toString(port));
        assertThat(out).contains(master).contains("2 workers x 1 cores");
    }

    @AfterAll
    static void stop() throws Exception {
        if (clusterDir == null || !Files.exists(clusterDir.resolve("master.pid"))) {
            return;
        }
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> s = Files.list(clusterDir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".pid")).toList()) {
                pids.add(Long.parseLong(Files.readString(p).trim()));
            }
        }
        pids.addAll(executors());
        assertThat(cluster("stop")).contains("cluster stopped");
        for (long pid : pids) {
            assertThat(ended(pid)).as("process %d after stop", pid).isTrue();
        }
        assertThat(Files.list(clusterDir).filter(p -> p.toString().endsWith(".pid"))).isEmpty();
    }

    /** Gone, or a zombie its new parent (init) has not reaped yet: it runs no code and holds no port. */
    private static boolean ended(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException e) {
            return true;
        }
    }

    /** Executors of this cluster: processes working in its work directories. */
    private static List<Long> executors() {
        return ProcessHandle.allProcesses().filter(h -> {
            try {
                return Files.readSymbolicLink(Path.of("/proc/" + h.pid() + "/cwd")).startsWith(clusterDir);
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }).map(ProcessHandle::pid).toList();
    }

    private static void waitFor(Process p, String what, BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!done.getAsBoolean()) {
            assertThat(p.isAlive()).as(what + ": the process ended first").isTrue();
            assertThat(System.nanoTime()).as(what + " within 180 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private static long iteration(Path run) {
        // state.json is replaced atomically at each checkpoint (every 2 iterations here)
        try {
            return new ObjectMapper().readTree(run.resolve(RunDirectory.STATE).toFile()).get("iteration").asLong();
        } catch (Exception e) {
            return -1;
        }
    }

    private static String log(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The addresses of every TCP socket the processes hold (listening and connected), from /proc: local and remote
     * ends as "hex-ip:hex-port" pairs, so that the test can require the loopback address for all of them.
     */
    static List<String> socketAddresses(List<Long> pids) throws IOException {
        Set<String> inodes = new HashSet<>();
        for (long pid : pids) {
            try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
                fds.forEach(fd -> {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (target.startsWith("socket:[")) {
                            inodes.add(target.substring(8, target.length() - 1));
                        }
                    } catch (IOException e) {
                        // closed meanwhile
                    }
                });
            } catch (IOException e) {
                // the process ended meanwhile
            }
        }
        List<String> addresses = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path t = Path.of(table);
            if (!Files.exists(t)) {
                continue;
            }
            for (String line : Files.readAllLines(t, StandardCharsets.US_ASCII)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && inodes.contains(f[9])) {
                    addresses.add(f[1]);
                    if (!f[2].startsWith("00000000:") && !f[2].matches("0{32}:.*")) { // listening: no remote end
                        addresses.add(f[2]);
                    }
                }
            }
        }
        return addresses;
    }

    /** 127.0.0.1 in /proc/net/tcp (little-endian hex) or as IPv4-mapped / ::1 in /proc/net/tcp6. */
    static boolean loopback(String hexAddress) {
        String ip = hexAddress.substring(0, hexAddress.indexOf(':'));
        return ip.equals("0100007F") || ip.equals("0000000000000000FFFF00000100007F")
                || ip.equals("00000000000000000000000001000000");
    }

    private static List<Long> clusterProcesses(Process driver) throws IOException {
        List<Long> pids = new ArrayList<>(List.of(driver.pid()));
        try (Stream<Path> s = Files.list(clusterDir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".pid")).toList()) {
                pids.add(Long.parseLong(Files.readString(p).trim()));
            }
        }
        pids.addAll(executors());
        return pids;
    }

    /** A training run of {@link #recipe} submitted to the cluster, its output in {@code tmp/submit-NAME.log}. */
    private record Submitted(Process process, Path log) {
        /** Waits for the end of the run, which must succeed, and returns its output. */
        String finish() throws Exception {
            assertThat(process.waitFor(300, TimeUnit.SECONDS)).as("the run within 300 s").isTrue();
            String out = Files.readString(log);
            assertThat(process.exitValue()).as(out).isZero();
            return out;
        }
    }

    private static Submitted submitRun(Path run, int epochs, String name) throws IOException {
        Path log = tmp.resolve("submit-" + name + ".log");
        return new Submitted(start(submit(recipe(run, epochs).toArray(String[]::new)), log), log);
    }

    @Test
    @Order(10)
    void anApplicationAskingMoreThanTheWorkersOfferStopsWithASentence() throws Exception {
        // without --cores, the submit script asks for what one worker offers (1 core here), not 2
        String dry = run(tmp.resolve("dry.log"), SCRIPTS.resolve("spark-submit.sh").toString(), master, "--dry-run",
                "--", "--data", "d", "--out", "r");
        assertThat(dry).contains("offer at most 1 core(s) each").contains("--executor-cores 1 ");
        // asked for 2: the driver gives up after the wait with what was asked and what the workers offer
        List<String> c = new ArrayList<>(List.of(SCRIPTS.resolve("spark-submit.sh").toString(), master,
                "--cores", "2", "--executor-memory", "1g", "--memory-overhead", "3g", "--spark-conf",
                "spark.alexnet4j.executorWaitSeconds=15", "--"));
        c.addAll(recipe(tmp.resolve("run-too-big"), 1));
        Path log = tmp.resolve("too-big.log");
        Process p = start(c, log);
        assertThat(p.waitFor(180, TimeUnit.SECONDS)).as("the driver gives up by itself").isTrue();
        String out = Files.readString(log);
        assertThat(p.exitValue()).as(out).isNotZero();
        assertThat(out).contains("no Spark executor started on " + master + " within 15 s")
                .contains("asks for 2 cores").contains("of 1 cores free");
    }

    @Test
    @Order(1)
    void statusListsTheMasterAndTwoAliveWorkers() throws Exception {
        String out = cluster("status");
        assertThat(out).contains("master  " + master);
        assertThat(out.lines().filter(l -> l.startsWith("worker ") && l.contains(" ALIVE "))).hasSize(2);
    }

    @Test
    @Order(2)
    void theSubmitScriptTrainsOnTheClusterOnLoopbackOnlyAndTheRunResumes() throws Exception {
        Path run = tmp.resolve("run-a");
        Submitted first = submitRun(run, 3, "a");
        Process p = first.process();
        // once the executors train, every socket of driver, master, workers and executors is on 127.0.0.1
        waitFor(p, "the first checkpoint", () -> iteration(run) >= 2);
        List<Long> pids = clusterProcesses(p);
        assertThat(pids.size()).as("driver, master, 2 workers, 2 executors").isGreaterThanOrEqualTo(6);
        List<String> addresses = socketAddresses(pids);
        assertThat(addresses).isNotEmpty();
        assertThat(addresses).allMatch(SparkClusterIT::loopback);
        String out = first.finish();
        assertThat(out).contains("Spark " + master + ": 2 workers").contains("completed 3 epochs: 15 iterations")
                .doesNotContain("resolves to a loopback address");
        // both workers ran an executor of the application
        for (int w = 1; w <= 2; w++) {
            try (Stream<Path> apps = Files.list(clusterDir.resolve("work-" + w))) {
                assertThat(apps.filter(a -> a.getFileName().toString().startsWith("app-"))).isNotEmpty();
            }
        }

        String resumed = run(tmp.resolve("submit-a2.log"),
                submit("--resume", run.toString(), "--epochs", "6").toArray(String[]::new));
        assertThat(resumed).contains("completed 6 epochs: 30 iterations");
        Metrics m = Metrics.read(run.resolve(RunDirectory.METRICS));
        assertThat(Arrays.stream(m.top1()).min().orElseThrow()).as("best top-1 error; chance 0.75").isLessThan(0.5);
        assertThat(m.trainLoss()[m.trainLoss().length - 1]).isLessThan(0.8 * m.trainLoss()[0]);
    }

    @Test
    @Order(3)
    void theDriverKilledMidRunResumesFromTheRunDirectory() throws Exception {
        Path run = tmp.resolve("run-driver");
        Process p = submitRun(run, 2, "driver").process();
        waitFor(p, "the checkpoint at iteration 4", () -> iteration(run) >= 4);
        p.destroyForcibly();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        // the master notices the lost driver and its workers end the executors
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!executors().isEmpty()) {
            assertThat(System.nanoTime()).as("executors ended after the driver died").isLessThan(deadline);
            Thread.sleep(200);
        }
        long at = iteration(run);
        String out = run(tmp.resolve("submit-driver2.log"), submit("--resume", run.toString()).toArray(String[]::new));
        assertThat(out).contains("completed 2 epochs: 10 iterations");
        assertThat(log(run.resolve("train.log"))).contains("resum");
        assertThat(at).isGreaterThanOrEqualTo(4);
    }

    @Test
    @Order(4)
    void aWorkerKilledMidRunLeavesTheRunToFinishOnTheSurvivor() throws Exception {
        Path run = tmp.resolve("run-worker");
        Submitted w = submitRun(run, 3, "worker");
        // in the middle of epoch 2 (5 steps an epoch): a round is running on both executors
        waitFor(w.process(), "step 7", () -> iteration(run) >= 7);
        cluster("kill-worker", "2");
        String out = w.finish();
        assertThat(out).contains("Lost executor").contains("completed 3 epochs: 15 iterations");
        assertThat(cluster("status")).containsPattern("worker 2 .* DEAD").containsPattern("worker 1 .* ALIVE");
    }
}
