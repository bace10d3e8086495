package org.alexnet4j.tune;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.util.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the search knows of one candidate, kept as {@code candidate.json} in its run directory and rewritten at every
 * change of status: this file is how a resumed search knows which candidates are finished (public fields for JSON).
 */
public class CandidateRecord {
    /** Trained to the end of its budget. */
    public static final String COMPLETE = "complete";
    /** Ended by the median stopping rule. */
    public static final String STOPPED_EARLY = "stopped-early";
    /** The loss became NaN or infinite. */
    public static final String DIVERGED = "diverged";
    /** Could not be trained (its message says why). */
    public static final String FAILED = "failed";
    /** Started, not finished (the search was interrupted): a resumed search continues it from its checkpoint. */
    public static final String RUNNING = "running";

    public int index;
    public String status;
    /** The candidate's hyperparameters, in the space's order. */
    public LinkedHashMap<String, Object> values;
    /** Arbiter's point in [0, 1]^d that generated the values. */
    public double[] point;
    /** Validation top-1 error at the end of its training (the score; null if none). */
    public Double top1Error;
    public Double top5Error;
    public Double bestTop1Error;
    /** Validation top-1 error after each epoch. */
    public List<Double> curve = new ArrayList<>();
    public long iterations;
    public int epochs;
    /** Training time, over all sessions. */
    public double seconds;
    public String reason;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final String FILE = "candidate.json";

    public boolean finished() {
        return !RUNNING.equals(status);
    }

    /** Has a score (complete or stopped early). */
    public boolean scored() {
        return top1Error != null && (COMPLETE.equals(status) || STOPPED_EARLY.equals(status));
    }

    public void write(Path runDir) throws IOException {
        Files.createDirectories(runDir);
        byte[] json = JSON.writeValueAsBytes(this);
        AtomicFiles.write(runDir.resolve(FILE), tmp -> Files.write(tmp, json));
    }

    public static CandidateRecord read(Path runDir) throws IOException {
        return JSON.readValue(runDir.resolve(FILE).toFile(), CandidateRecord.class);
    }

    /** The records under {@code candidatesDir}, by index. */
    public static Map<Integer, CandidateRecord> readAll(Path candidatesDir) throws IOException {
        Map<Integer, CandidateRecord> out = new LinkedHashMap<>();
        if (!Files.isDirectory(candidatesDir)) {
            return out;
        }
        List<Path> dirs = new ArrayList<>();
        try (var s = Files.list(candidatesDir)) {
            s.filter(p -> Files.exists(p.resolve(FILE))).sorted().forEach(dirs::add);
        }
        for (Path d : dirs) {
            CandidateRecord r = read(d);
            out.put(r.index, r);
        }
        return out;
    }
}
