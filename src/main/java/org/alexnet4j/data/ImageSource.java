package org.alexnet4j.data;

import java.io.IOException;
import java.util.List;

/**
 * Random access to the images of one split, each already in the paper's preprocessed form: an S x S RGB image
 * (S = 256: shorter side rescaled to S, central patch), with its class index. Implemented over a prepared cache
 * ({@link PreparedCache}) and over original image files ({@link FileImageSource}). Thread-safe.
 */
public interface ImageSource {
    /** Number of images. */
    int size();

    /** Side of the square images {@link #load} returns. */
    int imageSize();

    /** Class index of image {@code i}. */
    int label(int i);

    /** Where image {@code i} came from (relative path), for messages. */
    String path(int i);

    /** Class wnids in index order. */
    List<String> wnids();

    /** The preprocessed image {@code i}; a file that cannot be decoded raises a {@code DecodeException}. */
    RgbImage load(int i) throws ImageCodec.DecodeException, IOException;

    /** How the images were brought to S x S (the paper's shorter-side resize unless a cache says otherwise). */
    default Resize resize() {
        return Resize.CENTER;
    }

    /** Training-set statistics that come with this source, or null. */
    default DatasetStats stats() {
        return null;
    }
}
