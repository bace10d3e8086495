package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ConvImplementation;
import org.alexnet4j.model.LrnImplementation;
import org.alexnet4j.model.Padding;
import org.alexnet4j.model.Pooling;
import org.alexnet4j.model.Variant;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The model-selection options shared by every subcommand that builds a net. */
public class ModelOptions {
    @Option(names = "--model", paramLabel = "NAME", defaultValue = "paper",
            description = "Variant: paper (2012 two-tower net), torchvision, or caffe (BVLC's bvlc_alexnet) "
                    + "(default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--classes", paramLabel = "N", description = "Number of classes of fc8 (default: 1000).")
    Integer classes;

    @Option(names = "--width", paramLabel = "X", description = "Width multiplier for every conv/FC width, (0, 4] "
            + "(default: 1, the paper).")
    Double width;

    @Option(names = "--input-size", paramLabel = "S", description = "Input crop: 227 or 224 (paper, caffe), 224 "
            + "(torchvision). Default: the variant's.")
    Integer inputSize;

    @Option(names = "--no-lrn", description = "Ablation: no local response normalisation.")
    boolean noLrn;

    @Option(names = "--lrn-impl", paramLabel = "IMPL", converter = LrnImplConverter.class,
            description = "Code that computes LRN: alexnet4j (default, fast) or dl4j (DL4J's layer; same function, "
                    + "for comparison).")
    LrnImplementation lrnImpl;

    @Option(names = "--conv-impl", paramLabel = "IMPL", converter = ConvImplConverter.class,
            description = "Code that computes the convolutions: ops (default: libnd4j's conv2d_bp on the kept input, "
                    + "no recomputed forward pass; cuDNN on CUDA) or dl4j (DL4J's layers; same function, for "
                    + "comparison).")
    ConvImplementation convImpl;

    @Option(names = "--pooling", paramLabel = "KIND", description = "Ablation: max (paper) or avg.")
    Pooling pooling;

    @Option(names = "--non-overlapping-pooling", description = "Ablation: 2x2 stride 2 pooling instead of 3x3 stride 2.")
    boolean nonOverlapping;

    @Option(names = "--towers", paramLabel = "N", description = "Ablation: 2 (paper, grouped conv2/4/5) or 1 "
            + "(same widths, no grouping).")
    Integer towers;

    @Option(names = "--padding", paramLabel = "KIND", description = "Ablation: zeros (paper) or edge replication.")
    Padding padding;

    @Option(names = "--dropout", paramLabel = "P", description = "Dropout rate on fc6/fc7 outputs, [0, 1) "
            + "(default: 0.5).")
    Double dropout;

    @Option(names = "--format", paramLabel = "FMT", description = "Activation layout: NCHW (default) or NHWC.")
    CNN2DFormat format;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the weight initialisation (default: ${DEFAULT-VALUE}).")
    long seed;

    /** The net these options describe; validation errors name the option. */
    public AlexNet build() {
        AlexNet.Builder b = AlexNet.builder(Variant.fromId(model)).seed(seed);
        if (classes != null) {
            b.numClasses(classes);
        }
        if (width != null) {
            b.width(width);
        }
        if (inputSize != null) {
            b.inputSize(inputSize);
        }
        if (noLrn) {
            b.lrn(false);
        }
        if (convImpl != null) {
            b.convImplementation(convImpl);
        }
        if (lrnImpl != null) {
            b.lrnImplementation(lrnImpl);
        }
        if (pooling != null) {
            b.pooling(pooling);
        }
        if (nonOverlapping) {
            b.overlappingPooling(false);
        }
        if (towers != null) {
            if (towers != 1 && towers != 2) {
                throw new IllegalArgumentException("--towers must be 1 or 2, got " + towers);
            }
            b.grouped(towers == 2);
        }
        if (padding != null) {
            b.padding(padding);
        }
        if (dropout != null) {
            b.dropout(dropout);
        }
        if (format != null) {
            b.dataFormat(format);
        }
        return b.build();
    }

    /**
     * A new run's model options: those not given on the command line take the config file's values ({@code --seed}
     * too, when a config file is given without it). Config file &lt; flags, as for the other settings.
     */
    void defaultsFrom(org.alexnet4j.train.TrainConfig cfg, CommandLine.ParseResult parsed, boolean fromFile) {
        if (fromFile && !parsed.hasMatchedOption("--seed")) {
            seed = cfg.seed;
        }
        if (!parsed.hasMatchedOption("--model") && cfg.model != null) {
            model = cfg.model;
        }
        width = width != null ? width : cfg.width;
        inputSize = inputSize != null ? inputSize : cfg.inputSize;
        dropout = dropout != null ? dropout : cfg.dropout;
    }

    /** Writes the net these options describe into a new run's recipe (its seed, variant, width, crop, dropout). */
    void record(org.alexnet4j.train.TrainConfig cfg) {
        cfg.seed = seed;
        cfg.model = model;
        cfg.width = width;
        cfg.inputSize = inputSize;
        cfg.dropout = dropout;
    }

    /**
     * Loads a model file, which carries its own settings: model options given next to it are refused rather than
     * silently ignored.
     */
    ModelFiles.Loaded loadCheckpoint(Path checkpoint) throws IOException {
        if (anyArchitectureOption()) {
            throw new IllegalArgumentException("--checkpoint carries its own model settings; drop the model options");
        }
        return ModelFiles.load(checkpoint, false);
    }

    /** True if any option other than --seed was given (used to refuse options that a model file overrides). */
    boolean anyArchitectureOption() {
        return !"paper".equals(model) || classes != null || width != null || inputSize != null || noLrn
                || pooling != null || nonOverlapping || towers != null || padding != null || dropout != null
                || format != null || lrnImpl != null || convImpl != null;
    }

    static final class ConvImplConverter implements CommandLine.ITypeConverter<ConvImplementation> {
        public ConvImplementation convert(String value) {
            return ConvImplementation.fromId(value);
        }
    }

    static final class LrnImplConverter implements CommandLine.ITypeConverter<LrnImplementation> {
        public LrnImplementation convert(String value) {
            return LrnImplementation.fromId(value);
        }
    }
}
