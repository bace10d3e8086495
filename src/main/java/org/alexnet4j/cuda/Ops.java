package org.alexnet4j.cuda;

/**
 * The engine's op seam: every computation the AlexNet engine needs, one method per op, on device buffers. Two
 * implementations: {@link CudaOps} (each op one cuDNN or cuBLAS call sequence) and {@link ReferenceOps} (plain Java
 * loops on the CPU), so that the engine's orchestration (buffers, shapes, tower layout, the order of the backward pass,
 * the update) runs and is tested on any machine.
 *
 * <p>Layouts: activations NCHW, dense; convolution weights {@code [out, in/groups, k, k]}; fully connected weights
 * {@code [out, in]} (PyTorch's), activations of FC layers {@code [n, features]}. All values are float32 in memory.
 * Methods enqueue work and may return before it is done; {@link #download} and {@link #crossEntropy} wait for it.
 */
public interface Ops extends AutoCloseable {

    /** A short name for logs ("cuda", "reference"). */
    String name();

    /** A buffer of {@code count} floats, zeroed. {@code what} names it in an out-of-memory message. */
    Buffer alloc(long count, String what);

    /** Copies {@code count} floats from the host to {@code dst} (through pinned memory on CUDA). */
    void upload(float[] src, int count, Buffer dst);

    /**
     * Copies a batch of inputs to {@code dst} on a copy stream, overlapped with the work already enqueued (CUDA):
     * the copy waits only for the last {@link #release} of {@code dst}, and later work waits for the copy.
     */
    default void uploadInput(float[] src, int count, Buffer dst) {
        upload(src, count, dst);
    }

    /** Marks that all work reading {@code dst} so far has been enqueued (see {@link #uploadInput}). */
    default void release(Buffer dst) {
    }

    /** Copies {@code count} floats from {@code src} to the host, after all enqueued work. */
    void download(Buffer src, int count, float[] dst);

    /** Sets the first {@code count} elements of {@code b} to zero. */
    void zero(Buffer b, long count);

    /** y = relu(conv(x, w) + bias), grouped as {@code c.groups()}. */
    void convForward(Conv c, int n, Buffer x, Buffer w, Buffer bias, Buffer y);

    /** dx = the gradient of conv(x, w) with respect to x, for the output gradient dy. */
    void convBackwardData(Conv c, int n, Buffer w, Buffer dy, Buffer dx);

    /** dw = the gradient with respect to w, db = with respect to the bias (both overwritten). */
    void convBackwardFilter(Conv c, int n, Buffer x, Buffer dy, Buffer dw, Buffer db);

    /** dy[i] = 0 wherever y[i] &lt;= 0 (ReLU's backward pass through its output), in place. */
    void reluBackward(long count, Buffer y, Buffer dy);

    /**
     * Local response normalisation across channels of the map {@code s} (in the paper's form: {@code alpha} applies
     * to the plain sum of squares over the {@code size} channels around each one). Channel blocks normalised apart
     * (the paper's towers) are folded into the batch dimension by the caller.
     */
    void lrnForward(Shape s, Lrn lrn, Buffer x, Buffer y);

    /** dx of {@link #lrnForward} given its input x, output y and output gradient dy. */
    void lrnBackward(Shape s, Lrn lrn, Buffer x, Buffer y, Buffer dy, Buffer dx);

    /** Pooling of the map {@code in} (window, stride 2, no padding, floor rounding). */
    void poolForward(Shape in, Pool p, Buffer x, Buffer y);

    /** dx of {@link #poolForward}: for max pooling each window's gradient goes to its (first) maximum. */
    void poolBackward(Shape in, Pool p, Buffer x, Buffer y, Buffer dy, Buffer dx);

    /** y = x with {@code extra} rows and columns of zeros added at the bottom and right ({@code y} is larger). */
    void padBottomRight(Shape in, int extra, Buffer x, Buffer y);

    /** dx = the top-left {@code in} part of dy, a map padded by {@code extra} at the bottom and right. */
    void cropBottomRight(Shape in, int extra, Buffer dy, Buffer dx);

    /** y[n, out] = x[n, in] w[out, in]^T + b, then ReLU when {@code relu}. */
    void linearForward(int n, int in, int out, Buffer x, Buffer w, Buffer b, Buffer y, boolean relu);

    /** dx[n, in] = dy[n, out] w[out, in]. */
    void linearBackwardData(int n, int in, int out, Buffer w, Buffer dy, Buffer dx);

    /** dw[out, in] = dy^T x; db[out] = sum over rows of dy (both overwritten). */
    void linearBackwardWeights(int n, int in, int out, Buffer x, Buffer dy, Buffer dw, Buffer db);

    /** A dropout site for up to {@code count} elements with its own random state and saved mask. */
    Dropout dropout(long count, float rate, long seed);

    /**
     * probs = softmax(logits) by rows; dlogits = (probs - onehot) / n, the gradient of the mean cross-entropy (the
     * loss DL4J's MCXENT output computes).
     */
    void softmaxCrossEntropy(int n, int classes, Buffer logits, Buffer onehot, Buffer probs, Buffer dlogits);

    /** The mean cross-entropy -sum(onehot * log softmax(logits)) / n; waits for the enqueued work. */
    double crossEntropy(int n, int classes, Buffer logits, Buffer onehot, Buffer scratch);

    /**
     * The paper's update (section 5) on {@code count} parameters: {@code v = momentum * v - lr * (g + decay * w);
     * w = w + v}.
     */
    void momentumUpdate(long count, Buffer w, Buffer g, Buffer v, float lr, float momentum, float decay);

    /** Waits for all enqueued work. */
    void synchronize();

    @Override
    void close();

    /** A block of device (or, for the reference, host) memory. */
    interface Buffer {
        long count();
    }

    /** Inverted dropout at one place of the net; the mask of the last forward pass is kept for the backward one. */
    interface Dropout {
        /** y = x * mask / (1 - rate), a new mask drawn for every call. */
        void forward(long count, Buffer x, Buffer y);

        /** dx = dy * mask / (1 - rate), the mask of the last forward pass. */
        void backward(long count, Buffer dy, Buffer dx);

        /**
         * Restarts the masks' random stream from {@code seed} (a step's own seed, so that a resumed run draws the
         * masks of an uninterrupted one). Seams whose generator cannot restart cheaply (cuDNN's) ignore it.
         */
        default void reseed(long seed) {
        }
    }

    /** An NCHW map's shape. */
    record Shape(int n, int c, int h, int w) {
        public long count() {
            return (long) n * c * h * w;
        }
    }

    /**
     * A convolution's geometry: input channels and side, output channels and side, square kernel, stride, symmetric
     * zero padding and group count (the paper's towers: 2).
     */
    record Conv(String name, int inChannels, int inSide, int outChannels, int outSide, int kernel, int stride,
                int pad, int groups) {
        public Conv {
            if (inChannels % groups != 0 || outChannels % groups != 0) {
                throw new IllegalArgumentException(name + ": " + inChannels + " -> " + outChannels
                        + " channels do not split into " + groups + " groups");
            }
            if ((inSide + 2 * pad - kernel) / stride + 1 != outSide) {
                throw new IllegalArgumentException(name + ": output side " + outSide + " does not follow from input "
                        + inSide + ", kernel " + kernel + ", stride " + stride + ", pad " + pad);
            }
        }

        public long weightCount() {
            return (long) outChannels * (inChannels / groups) * kernel * kernel;
        }

        public Shape input(int n) {
            return new Shape(n, inChannels, inSide, inSide);
        }

        public Shape output(int n) {
            return new Shape(n, outChannels, outSide, outSide);
        }
    }

    /** LRN's constants, alpha in the paper's form (on the plain sum of squares). */
    record Lrn(int size, double k, double alpha, double beta) {
    }

    /** Pooling: square window, stride, max or average. */
    record Pool(int window, int stride, boolean max) {
        public int out(int side) {
            return (side - window) / stride + 1;
        }
    }
}
