package org.bce4j;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The native {@code bce4j_options} of one loss object, one per dtype, with native copies of its weights: built
 * once, read by every call, freed by {@link #close()} (or, for a loss never closed, by JavaCPP when the garbage
 * collector finds them unreachable).
 */
final class NativeOptions implements AutoCloseable {
    private final List<Pointer> owned = new ArrayList<>();
    private final long[] addressByDType = new long[DType.values().length];
    private final NativeLibrary.Options[] optionsByDType = new NativeLibrary.Options[DType.values().length];

    /** {@code ignoreIndex}: null for none. */
    NativeOptions(Reduction reduction, int numThreads, WeightTensor weight, LogitsOptions logits, Double ignoreIndex,
            double labelSmoothing, int smoothingClasses) {
        WeightTensor posWeight = logits.posWeight();
        try {
            LongPointer weightShape = weight == null ? null : own(new LongPointer(weight.shape));
            LongPointer posWeightShape = posWeight == null ? null : own(new LongPointer(posWeight.shape));
            for (DType dtype : DType.values()) {
                NativeLibrary.Options options = own(new NativeLibrary.Options());
                options.reduction(reduction.code).num_threads(numThreads).pos_weight_mode(logits.posWeightMode().code)
                        .validate_targets(logits.validateTargets() ? 1 : 0).label_smoothing(labelSmoothing)
                        .smoothing_classes(smoothingClasses);
                if (logits.focalGamma() != null) {
                    options.has_focal(1).focal_gamma(logits.focalGamma()).focal_alpha(logits.focalAlpha());
                }
                if (ignoreIndex != null) {
                    options.has_ignore_index(1).ignore_index(ignoreIndex);
                }
                if (weight != null) {
                    options.weight(own(weight.toNative(dtype))).weight_ndim(weight.shape.length)
                            .weight_shape(weightShape);
                }
                if (posWeight != null) {
                    options.pos_weight(own(posWeight.toNative(dtype))).pos_weight_ndim(posWeight.shape.length)
                            .pos_weight_shape(posWeightShape);
                }
                addressByDType[dtype.ordinal()] = options.address();
                optionsByDType[dtype.ordinal()] = options;
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    // A reference of this object's own: a JavaCPP PointerScope open on the building thread attaches every new
    // Pointer to itself and releases it when it closes, which would free the memory of a loss that lives on.
    private <P extends Pointer> P own(P pointer) {
        owned.add(pointer);
        pointer.retainReference();
        return pointer;
    }

    long address(DType dtype) {
        return addressByDType[dtype.ordinal()];
    }

    /**
     * A new copy of {@code dtype}'s options for one call that sets its own outputs in it (the shared options are
     * read by other threads at the same time). It shares this object's weights; the caller frees it.
     */
    NativeLibrary.Options copyForCall(DType dtype) {
        NativeLibrary.Options source = optionsByDType[dtype.ordinal()];
        NativeLibrary.Options copy = new NativeLibrary.Options();
        Pointer.memcpy(copy, source, source.sizeof());
        return copy;
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
