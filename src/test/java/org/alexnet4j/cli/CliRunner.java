package org.alexnet4j.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the CLI in-process, capturing what a user would read on stdout and stderr. */
final class CliRunner {
    private CliRunner() {
    }

    record Result(int exit, String out, String err) {
    }

    static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = Main.execute(cl, args);
        return new Result(exit, out.toString(), err.toString());
    }
}
