package org.alexnet4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code alexnet4j} command line. Each subcommand is its own class; run {@code alexnet4j <command> --help}.
 * Errors in the user's input end with a one-line message and exit code 1 (2 for usage errors); set
 * {@code ALEXNET4J_DEBUG=1} for stack traces.
 */
@Command(name = "alexnet4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "The AlexNet of Krizhevsky, Sutskever and Hinton (NIPS 2012), on Deeplearning4j.",
        subcommands = {
                SummaryCommand.class,
                ExportWeightsCommand.class,
                ImportWeightsCommand.class,
                ExportOnnxCommand.class,
                ForwardCommand.class,
                PredictCommand.class,
                FeaturesCommand.class,
                SampleInputCommand.class,
                EnvCommand.class,
                GpuCheckCommand.class,
                SynthCommand.class,
                ManifestCommand.class,
                PrepareCommand.class,
                BenchDataCommand.class,
                BenchCommand.class,
                BenchScaleCommand.class,
                TrainCommand.class,
                CompareRunsCommand.class,
                TuneCommand.class,
                EvalCommand.class,
                CalibrateCommand.class,
                ServeCommand.class,
                BenchServeCommand.class,
                CommandLine.HelpCommand.class})
public class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Where log lines also go (DL4J's and ND4J's included); training runs set this to their run directory. */
    @CommandLine.Option(names = "--log-file", paramLabel = "FILE", scope = CommandLine.ScopeType.INHERIT,
            description = "Also write the full log (DL4J and ND4J lines included) to FILE.")
    void setLogFile(java.nio.file.Path file) throws Exception {
        if (file == null) {
            return;
        }
        if (runLog != null) { // picocli may apply an inherited option more than once
            runLog.close();
        }
        runLog = org.alexnet4j.runtime.RunLog.attach(file);
    }

    /** The --log-file attachment of the last command line run in this JVM (detached by {@link #run}). */
    private static AutoCloseable runLog;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI in-process and returns its exit code (used by tests). */
    public static int run(String... args) {
        return execute(commandLine(), args);
    }

    /** Executes {@code args} on {@code cl}, then detaches a --log-file log, if any. */
    public static int execute(CommandLine cl, String... args) {
        org.alexnet4j.runtime.CudaSettings.apply(); // before any ND4J call (no-op on the CPU build)
        org.alexnet4j.runtime.Backend.javacppLogging(); // before JavaCPP's Loader initialises
        try {
            return cl.execute(args);
        } finally {
            if (runLog != null) {
                try {
                    runLog.close();
                } catch (Exception e) {
                    cl.getErr().println("alexnet4j: could not close the log file: " + e.getMessage());
                }
                runLog = null;
            }
        }
    }

    /** A typed setting's flag takes the names config.json uses ("mean-image", "sgd"). */
    private static <E> void register(CommandLine cl, org.alexnet4j.train.TrainConfig.Choice<E> c) {
        cl.registerConverter(c.type(), value -> {
            try {
                return c.parse().apply(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        });
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        for (org.alexnet4j.train.TrainConfig.Choice<?> c : org.alexnet4j.train.TrainConfig.CHOICES) {
            register(cl, c);
        }
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (System.getenv("ALEXNET4J_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.println("alexnet4j " + commandLine.getCommandName() + ": error: " + ErrorMessages.sentence(ex));
            err.flush();
            return 1;
        });
        return cl;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"alexnet4j " + (v == null ? "(development build)" : v)
                    + " on Deeplearning4j 1.0.0-M2.1, Java " + System.getProperty("java.version")};
        }
    }
}
