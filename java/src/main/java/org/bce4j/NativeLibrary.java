package org.bce4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.MemberSetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code cpp/include/bce4j/bce4j.h}. JavaCPP generates and compiles the JNI glue from
 * these declarations (the glue includes the header, so the compiler checks every signature against it).
 *
 * <p>Each loss entry point has a form taking raw addresses (every argument a primitive, so the glue makes no JNI
 * calls at all) and forms taking direct NIO buffers (the glue reads each buffer's address and adds its position;
 * the buffer types must be the typed ones, because for a plain {@code Buffer} the glue would add the position in
 * bytes).
 * The shape and the reduced loss always travel through the caller's {@link CallScratch}. The C functions catch
 * everything themselves and report through status codes, hence {@code @NoException}.
 */
@Platform(include = "bce4j/bce4j.h", link = "bce4j@.1", preload = "gomp-bce4j@.1", library = "jnibce4j")
@NoException
final class NativeLibrary {
    static {
        Loader.load();
    }

    private NativeLibrary() {}

    /** {@code bce4j_options}: allocated once per loss object and dtype, read by every call. */
    @Name("bce4j_options")
    @NoException
    static final class Options extends Pointer {
        static {
            Loader.load();
        }

        Options() {
            allocate();
            bce4j_options_init(this);
        }

        private native void allocate();

        @MemberSetter
        native Options reduction(int reduction);

        @MemberSetter
        native Options num_threads(int numThreads);

        @MemberSetter
        native Options weight(@Cast("const void*") Pointer weight);

        @MemberSetter
        native Options weight_ndim(int ndim);

        @MemberSetter
        native Options weight_shape(@Cast("const int64_t*") Pointer shape);

        @MemberSetter
        native Options pos_weight(@Cast("const void*") Pointer posWeight);

        @MemberSetter
        native Options pos_weight_ndim(int ndim);

        @MemberSetter
        native Options pos_weight_shape(@Cast("const int64_t*") Pointer shape);

        @MemberSetter
        native Options pos_weight_mode(int mode);

        @MemberSetter
        native Options validate_targets(int validate);

        @MemberSetter
        native Options has_ignore_index(int hasIgnoreIndex);

        @MemberSetter
        native Options ignore_index(double ignoreIndex);

        @MemberSetter
        native Options label_smoothing(double epsilon);

        @MemberSetter
        native Options smoothing_classes(int classes);

        @MemberSetter
        native Options has_focal(int hasFocal);

        @MemberSetter
        native Options focal_gamma(double gamma);

        @MemberSetter
        native Options focal_alpha(double alpha);

        @MemberSetter
        native Options grad_weight(@Cast("void*") Pointer gradWeight);

        @MemberSetter
        native Options grad_pos_weight(@Cast("void*") Pointer gradPosWeight);
    }

    static native void bce4j_options_init(Options options);

    static native int bce4j_bce_with_logits(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget);

    static native int bce4j_bce_with_logits(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") FloatBuffer input,
            @Cast("const void*") FloatBuffer target, @Cast("const void*") FloatBuffer gradOutput,
            @Cast("void*") FloatBuffer loss, @Cast("double*") long reducedLoss, @Cast("void*") FloatBuffer gradInput,
            @Cast("void*") FloatBuffer gradTarget);

    static native int bce4j_bce_with_logits(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") DoubleBuffer input,
            @Cast("const void*") DoubleBuffer target, @Cast("const void*") DoubleBuffer gradOutput,
            @Cast("void*") DoubleBuffer loss, @Cast("double*") long reducedLoss, @Cast("void*") DoubleBuffer gradInput,
            @Cast("void*") DoubleBuffer gradTarget);

    static native int bce4j_bce_with_logits(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") ShortBuffer input,
            @Cast("const void*") ShortBuffer target, @Cast("const void*") ShortBuffer gradOutput,
            @Cast("void*") ShortBuffer loss, @Cast("double*") long reducedLoss, @Cast("void*") ShortBuffer gradInput,
            @Cast("void*") ShortBuffer gradTarget);

    static native int bce4j_bce(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget);

    static native int bce4j_bce(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") FloatBuffer input,
            @Cast("const void*") FloatBuffer target, @Cast("const void*") FloatBuffer gradOutput,
            @Cast("void*") FloatBuffer loss, @Cast("double*") long reducedLoss, @Cast("void*") FloatBuffer gradInput,
            @Cast("void*") FloatBuffer gradTarget);

    static native int bce4j_bce(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") DoubleBuffer input,
            @Cast("const void*") DoubleBuffer target, @Cast("const void*") DoubleBuffer gradOutput,
            @Cast("void*") DoubleBuffer loss, @Cast("double*") long reducedLoss, @Cast("void*") DoubleBuffer gradInput,
            @Cast("void*") DoubleBuffer gradTarget);

    static native int bce4j_bce(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") ShortBuffer input,
            @Cast("const void*") ShortBuffer target, @Cast("const void*") ShortBuffer gradOutput,
            @Cast("void*") ShortBuffer loss, @Cast("double*") long reducedLoss, @Cast("void*") ShortBuffer gradInput,
            @Cast("void*") ShortBuffer gradTarget);

    static native @Cast("const char*") String bce4j_last_error_message();

    static native @Cast("const char*") String bce4j_version();

    static native @Cast("const char*") String bce4j_cpu_isa();

    static native int bce4j_default_num_threads();

    /**
     * JavaCPP extracts only the libraries it loads, and libbce4j loads libbce4j_cuda itself (lazily, from its own
     * directory): so before the first CUDA call, the CUDA library is extracted beside libbce4j, where a jar built
     * with it carries one. Nothing happens for a CPU-only jar or where nothing needs extracting.
     */
    static final class CudaLibraryFile {
        static {
            String resource = Loader.getPlatform() + "/libbce4j_cuda.so";
            if (NativeLibrary.class.getResource(resource) != null) {
                try {
                    Loader.cacheResource(NativeLibrary.class, resource);
                } catch (java.io.IOException e) {
                    // The core then reports the CUDA library as absent, with the loader's reason.
                }
            }
        }

        private CudaLibraryFile() {}

        /** Runs the extraction once, on the first call. */
        static void ensureExtracted() {}
    }

    static native int bce4j_cuda_availability();

    static native @Cast("const char*") String bce4j_cuda_description();

    static native int bce4j_cuda_device_count();

    // The CUDA entry points, on raw addresses only: host buffers of the other forms are turned into addresses first.
    static native int bce4j_cuda_bce_with_logits(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget, @Cast("void*") long stream);

    static native int bce4j_cuda_bce(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget, @Cast("void*") long stream);

    static native int bce4j_cuda_bce_with_logits_host(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget);

    static native int bce4j_cuda_bce_host(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget);

    // Status codes, mirroring enum bce4j_status in bce4j.h.
    static final int BCE4J_OK = 0;
    static final int BCE4J_ERROR_NULL_ARGUMENT = 1;
    static final int BCE4J_ERROR_INTERNAL = 6;
    static final int BCE4J_ERROR_UNAVAILABLE = 7;
    static final int BCE4J_ERROR_DEVICE = 8;

    // Mirror BCE4J_MAX_DIMS and BCE4J_MAX_THREADS in bce4j.h.
    static final int MAX_DIMS = 32;
    static final int MAX_THREADS = 1024;
}
