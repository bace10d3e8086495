package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.runtime.RunLog;
import org.alexnet4j.train.RunDirectory;
import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train AlexNet with the paper's recipe (section 5): batch 128, classical momentum 0.9, weight "
                + "decay 0.0005 through the momentum, lr 0.01 divided by 10 when the validation error stops improving "
                + "(at most 3 times), 90 epochs. Defaults < --config FILE (JSON) < flags; the resolved recipe goes to "
                + "RUN_DIR/config.json. Writes metrics.csv, plots/*.png, checkpoints/ and train.log in RUN_DIR. "
                + "Ctrl-C writes a checkpoint and exits; --resume RUN_DIR continues exactly."})
class TrainCommand implements Callable<Integer> {
    @Option(names = "--out", paramLabel = "RUN_DIR", description = "Run directory (new).")
    Path out;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its last "
            + "checkpoint (the settings marked \"may change\" in docs/training.md may be given again).")
    Path resume;

    @Option(names = "--config", paramLabel = "FILE", description = "JSON recipe (keys as in config.json).")
    Path config;

    /** The recipe's settings, declared once in {@link TrainConfig}; only those given are applied. */
    @Mixin(name = "settings")
    TrainConfig flags;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        boolean isResume = resume != null;
        if (isResume == (out != null)) {
            throw new IllegalArgumentException("give either --out RUN_DIR (a new run) or --resume RUN_DIR");
        }
        Path runDir = isResume ? resume : out;
        ParseResult parsed = spec.commandLine().getParseResult();
        List<Field> given = new ArrayList<>();
        for (Field f : TrainConfig.settings()) {
            if (parsed.hasMatchedOption(TrainConfig.flag(f))) {
                given.add(f);
            }
        }
        TrainConfig cfg;
        if (isResume) {
            cfg = RunDirectory.open(runDir).readConfig();
            boolean recipeChanged = config != null || parsed.hasMatchedOption("--seed")
                    || modelOptions.anyArchitectureOption()
                    || given.stream().anyMatch(f -> !f.isAnnotationPresent(TrainConfig.Resumable.class));
            if (recipeChanged) {
                throw new IllegalArgumentException("--resume continues the recipe in " + runDir.resolve(
                        RunDirectory.CONFIG) + "; only " + String.join(", ", TrainConfig.resumableFlags())
                        + " may change");
            }
        } else {
            cfg = config != null ? TrainConfig.read(config) : new TrainConfig();
            modelOptions.defaultsFrom(cfg, parsed, config != null);
        }
        for (Field f : given) {
            f.set(cfg, f.get(flags));
        }
        if (given.stream().anyMatch(f -> f.getName().equals("initFrom"))) {
            cfg.initFrom = Path.of(cfg.initFrom).toAbsolutePath().toString();
        }
        if (cfg.spark != null && cfg.spark.equalsIgnoreCase("none")) {
            cfg.spark = null;
        }
        if (!isResume) {
            if (cfg.data == null) {
                throw new IllegalArgumentException("--data DIR is required (or \"data\" in --config)");
            }
            modelOptions.record(cfg);
        }
        cfg.validate();
        Files.createDirectories(runDir);

        Trainer.Result r;
        try (StopOnSignal stop = new StopOnSignal();
             AutoCloseable runLog = RunLog.attach(RunDirectory.at(runDir).log())) {
            if (isResume) {
                r = Trainer.resume(runDir, cfg, stop::requested);
            } else {
                AlexNet model = modelOptions.build();
                r = Trainer.start(cfg, model, runDir, stop::requested);
            }
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%s: %d iterations, %d epochs%n", r.stopReason(), r.iterations(), r.epochsCompleted());
        o.printf(Locale.ROOT, "validation (centre crop): top-1 error %.4f, top-5 error %.4f (chance %.4f / %.4f); "
                        + "best top-1 error %.4f%n", r.lastTop1Error(), r.lastTop5Error(), 1 - 1.0 / r.classes(),
                Math.max(0, 1 - 5.0 / r.classes()), r.bestTop1Error());
        o.printf("run directory %s: metrics.csv, plots/, checkpoints/, train.log%n", runDir);
        return 0;
    }
}
