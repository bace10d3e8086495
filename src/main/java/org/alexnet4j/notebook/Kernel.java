package org.alexnet4j.notebook;

import jdk.jshell.Diag;
import jdk.jshell.EvalException;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.UnresolvedReferenceException;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.JupyterIO;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.kernel.ReplacementOptions;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.dflib.jjava.jupyter.kernel.util.StringStyler;
import org.dflib.jjava.jupyter.kernel.util.TextColor;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The notebooks' Java kernel: JJava's kernel library ({@code org.dflib.jjava:jjava-jupyter}) speaks Jupyter's
 * protocol, and every cell runs in a {@link JShell} inside this JVM (local execution), so cells see the project's
 * classes and {@code System.out}, and {@link Show} can put images and tables in the notebook. A cell fails, and with it
 * a headless {@code nbconvert --execute}, when a snippet does not compile or throws. Started by Jupyter through the
 * kernelspec {@code scripts/notebooks.sh} installs: {@code java ... org.alexnet4j.notebook.Kernel CONNECTION_FILE}.
 */
public final class Kernel extends BaseKernel {
    private final JShell shell;

    /** A kernel not yet connected (main connects it; tests evaluate cells directly). */
    Kernel(JupyterIO io) {
        super("alexnet4j-java", "1.0", new LanguageInfo.Builder("java")
                        .version(Runtime.version().toString()).mimetype("text/x-java-source").fileExtension(".jshell")
                        .pygments("java").codemirror("text/x-java").build(),
                List.of(), null, io, new CommManager(), new Renderer(), null, new MagicsRegistry(), false,
                new StringStyler.Builder().addPrimaryStyle(TextColor.BOLD_RESET_FG)
                        .addSecondaryStyle(TextColor.BOLD_RED_FG).addHighlightStyle(TextColor.BOLD_RESET_FG).build());
        shell = JShell.builder().executionEngine("local").out(io.out).err(io.err).in(io.in).build();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                shell.addToClasspath(entry);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Kernel CONNECTION_FILE (Jupyter starts it through the alexnet4j kernelspec)");
            System.exit(2);
        }
        KernelConnectionProperties props = KernelConnectionProperties.parse(
                Files.readString(Path.of(args[0]), StandardCharsets.UTF_8));
        JupyterConnection connection = new JupyterConnection(props);
        Kernel kernel = new Kernel(new JupyterIO(StandardCharsets.UTF_8));
        kernel.onStartup();
        kernel.becomeHandlerForConnection(connection);
        connection.connect();
        connection.waitUntilClose();
        kernel.close();
        System.exit(0);
    }

    /** Runs a cell snippet by snippet; if its last snippet is an expression, returns its value as text. */
    @Override
    public Object evalRaw(String source) {
        String remaining = source;
        String lastValue = null;
        SourceCodeAnalysis analysis = shell.sourceCodeAnalysis();
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = analysis.analyzeCompletion(remaining);
            if (!info.completeness().isComplete()) {
                throw new CellException("incomplete code at the end of the cell: " + remaining.strip());
            }
            lastValue = run(info.source());
            remaining = info.remaining();
        }
        return lastValue;
    }

    private String run(String snippet) {
        String value = null;
        for (SnippetEvent e : shell.eval(snippet)) {
            if (e.status() == Snippet.Status.REJECTED) {
                String diag = shell.diagnostics(e.snippet()).map(d -> describe(d, e.snippet()))
                        .collect(Collectors.joining("\n"));
                throw new CellException("does not compile:\n" + diag);
            }
            if (e.exception() != null) {
                throw new CellException(describe(e.exception()));
            }
            if ((e.status() == Snippet.Status.RECOVERABLE_DEFINED
                    || e.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED)
                    && e.snippet() instanceof jdk.jshell.DeclarationSnippet d) {
                throw new CellException("does not compile: " + d.source().strip() + " refers to something undefined: "
                        + shell.unresolvedDependencies(d).collect(Collectors.toList()));
            }
            Snippet.SubKind sub = e.snippet().subKind();
            boolean expression = e.snippet().kind() == Snippet.Kind.EXPRESSION
                    || sub == Snippet.SubKind.TEMP_VAR_EXPRESSION_SUBKIND;
            if (e.value() != null && expression && e.causeSnippet() == null) {
                value = e.value();
            }
        }
        return value;
    }

    private static String describe(Diag d, Snippet s) {
        String src = s.source();
        int line = 1;
        for (int i = 0; i < Math.min(d.getStartPosition(), src.length()); i++) {
            line += src.charAt(i) == '\n' ? 1 : 0;
        }
        return String.format(Locale.ROOT, "%s (line %d of: %s)", d.getMessage(Locale.ROOT), line,
                src.strip().lines().findFirst().orElse(""));
    }

    private static String describe(Exception e) {
        if (e instanceof EvalException ee) {
            StringBuilder sb = new StringBuilder(ee.getExceptionClassName()).append(": ").append(ee.getMessage());
            for (StackTraceElement el : ee.getStackTrace()) {
                sb.append("\n    at ").append(el);
            }
            return sb.toString();
        }
        if (e instanceof UnresolvedReferenceException u) {
            return "refers to something undefined: " + u.getSnippet().source().strip();
        }
        return e.toString();
    }

    void close() {
        shell.close();
    }

    @Override
    public DisplayData inspect(String code, int at, boolean extraDetail) {
        return null;
    }

    @Override
    public ReplacementOptions complete(String code, int at) {
        int[] anchor = new int[1];
        List<String> options = new ArrayList<>();
        for (SourceCodeAnalysis.Suggestion s : shell.sourceCodeAnalysis().completionSuggestions(code, at, anchor)) {
            options.add(s.continuation());
        }
        return options.isEmpty() ? null : new ReplacementOptions(options, anchor[0], at);
    }

    @Override
    public String isComplete(String code) {
        SourceCodeAnalysis.CompletionInfo info = shell.sourceCodeAnalysis().analyzeCompletion(code);
        return switch (info.completeness()) {
            case COMPLETE, COMPLETE_WITH_SEMI, EMPTY -> IS_COMPLETE_YES;
            case UNKNOWN -> IS_COMPLETE_BAD;
            default -> IS_COMPLETE_MAYBE;
        };
    }

    @Override
    public List<String> formatError(Throwable e) {
        List<String> lines = new ArrayList<>();
        lines.add(errorStyler.secondary(e instanceof CellException ? "cell failed" : e.getClass().getName()));
        String msg = e.getMessage() == null ? e.toString() : e.getMessage();
        msg.lines().forEach(lines::add);
        return lines;
    }

    /** A cell that did not compile or threw. */
    static final class CellException extends RuntimeException {
        CellException(String message) {
            super(message);
        }
    }
}
