package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "env", mixinStandardHelpOptions = true,
        description = "Report the ND4J backend, BLAS, threads, and whether the oneDNN helpers really run the "
                + "convolution and pooling layers of the paper net (a silent fallback costs ~3.5x on CPU).")
class EnvCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Map<String, Object> info = new LinkedHashMap<>(Backend.init());
        ComputationGraph g = AlexNet.builder().width(0.1).numClasses(10).build().newGraph();
        int[] coverage = Backend.helperCoverage(g);
        info.put("helperLayers", coverage[0] + "/" + coverage[1]);
        info.put("maxBytes", System.getProperty("org.bytedeco.javacpp.maxbytes", "default"));
        info.put("maxPhysicalBytes", System.getProperty("org.bytedeco.javacpp.maxphysicalbytes", "default"));
        String why = org.alexnet4j.cuda.CudaRuntime.whyNot();
        // what the CPU's oneDNN engine dispatches to, and so what --precision bf16 and int8 get here
        info.put("cpuIsa", org.alexnet4j.runtime.Dnnl.isaName());
        info.put("cpuPrecisions", "fp32, bf16" + (org.alexnet4j.infer.OneDnnInference.available(
                org.alexnet4j.infer.CpuPrecision.BF16) == org.alexnet4j.infer.CpuPrecision.BF16 ? "" : " (as fp32)")
                + ", int8");
        info.put("cudaEngine", why == null ? "usable: " + org.alexnet4j.cuda.CudaRuntime.probe(0).asMap()
                : "not usable: " + why);
        if (json) {
            spec.commandLine().getOut().println(Json.pretty(info));
        } else {
            info.forEach((k, v) -> spec.commandLine().getOut().printf("%-18s %s%n", k, v));
        }
        spec.commandLine().getOut().flush();
        return 0;
    }
}
