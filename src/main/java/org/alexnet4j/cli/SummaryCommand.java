package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ModelSummary;
import org.alexnet4j.runtime.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Per layer: name, type, output shape, parameters and multiply-adds; then the totals.")
class SummaryCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--json", description = "Print JSON: {\"model\", \"parameters\", \"layers\": [{\"name\", \"type\", "
            + "\"outputShape\", \"parameters\"}, ...]} (plus settings, detail and macs).")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        AlexNet net = model.build();
        ModelSummary summary = ModelSummary.of(net);
        if (json) {
            spec.commandLine().getOut().println(Json.pretty(summary.toMap()));
        } else {
            spec.commandLine().getOut().print(summary.toTable());
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
