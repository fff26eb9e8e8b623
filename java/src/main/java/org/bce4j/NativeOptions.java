package org.bce4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The native {@code bce4j_options} of one loss object, one per dtype, with native copies of its weights: built
 * once and checked by the native library, read by every call, freed by {@link #close()} (or, for a loss never
 * closed, by JavaCPP's deallocator once the garbage collector finds them unreachable; a call keeps its loss, and
 * so them, reachable until it returns).
 */
final class NativeOptions implements AutoCloseable {
    private final List<Pointer> owned = new ArrayList<>();
    private final long[] addressByDType = new long[DType.values().length];
    private final NativeLibrary.Options[] optionsByDType = new NativeLibrary.Options[DType.values().length];

    /**
     * Per dtype, a copy of {@code settings} (the loss' scalar options) with native copies of the weights in that
     * dtype, and {@code kind}'s own (the positive-class weight).
     *
     * @throws IllegalArgumentException with the native library's message where it rejects an option
     */
    NativeOptions(NativeLibrary.Options settings, WeightTensor weight, LossKind kind) {
        this(settings, weight, kind, DType.values());
    }

    /** As {@link #NativeOptions(NativeLibrary.Options, WeightTensor, LossKind)}, for the given dtypes only. */
    NativeOptions(NativeLibrary.Options settings, WeightTensor weight, LossKind kind, DType... dtypes) {
        try {
            for (DType dtype : dtypes) {
                NativeLibrary.Options options = own(new NativeLibrary.Options());
                settings.copyInto(options);
                if (weight != null) {
                    options.weight(own(weight.toNative(dtype))).weight_ndim(weight.shape.length)
                            .weight_shape(shapeOf(weight));
                }
                kind.setOptions(options, dtype, this);
                addressByDType[dtype.ordinal()] = options.address();
                optionsByDType[dtype.ordinal()] = options;
            }
            // The dtypes' options differ only in the weights' storage type: checking one checks them all.
            NativeStatus.check(kind.checkOptions(address(dtypes[0])));
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    // A reference of this object's own: a JavaCPP PointerScope open on the building thread attaches every new
    // Pointer to itself and releases it when it closes, which would free the memory of a loss that lives on.
    <P extends Pointer> P own(P pointer) {
        owned.add(pointer);
        pointer.retainReference();
        return pointer;
    }

    /** A native copy, owned by this object, of a weight's shape. */
    LongPointer shapeOf(WeightTensor weight) {
        return own(new LongPointer(weight.shape));
    }

    long address(DType dtype) {
        return addressByDType[dtype.ordinal()];
    }

    /**
     * Copies {@code dtype}'s options into {@code copy}, for one call that sets its own outputs in it (the options
     * held here are read by other threads at the same time). The copy points at this object's weights.
     */
    void copyInto(DType dtype, NativeLibrary.Options copy) {
        optionsByDType[dtype.ordinal()].copyInto(copy);
    }

    /** Frees the memory, whatever other references (a PointerScope's) remain; their later release does nothing. */
    @Override
    public void close() {
        for (Pointer p : owned) {
            p.deallocate();
        }
        owned.clear();
    }
}
