package org.bce4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.MemberSetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of {@code cpp/include/bce4j/bce4j.h}. JavaCPP generates and compiles the JNI glue from
 * these declarations (the glue includes the header, so the compiler checks every signature against it).
 *
 * <p>The loss entry points take raw addresses only (every argument a primitive, so the glue makes no JNI calls at
 * all): a {@link Tensor} resolves its memory's address once, when it is made.
 * The shape and the reduced loss always travel through the caller's {@link CallScratch}. The C functions catch
 * everything themselves and report through status codes, hence {@code @NoException}.
 */
@Platform(include = "bce4j/bce4j.h", link = "bce4j@.1", preload = "gomp-bce4j@.1", library = "jnibce4j")
@NoException
final class NativeLibrary {
    static {
        // Through NativeLoader, which turns a failure into an error that says what to do, and repeats it.
        NativeLoader.loadFromNativeLibraryInitializer();
    }

    private NativeLibrary() {}

    /** Does nothing but make sure this class, and so the native libraries, are initialised (see NativeLoader). */
    static void initialize() {}

    /**
     * {@code bce4j_options}, with a getter and a setter per scalar field (a new scalar option: its pair here, and its
     * setter and getter beside its builder's). Allocated once per loss object and dtype, read by every call; the
     * builders and losses keep their settings in {@link #collectable()} ones.
     */
    @Name("bce4j_options")
    @NoException
    static final class Options extends Pointer {
        static {
            Loader.load();
        }

        private final ByteBuffer memory; // collectable options' memory, kept reachable with them; else null

        /** New options with the defaults ({@code bce4j_options_init}), in JavaCPP memory (see {@link Pointer}). */
        Options() {
            this.memory = null;
            allocate();
            bce4j_options_init(this);
        }

        private Options(ByteBuffer memory) {
            super(memory);
            this.memory = memory;
        }

        private native void allocate();

        /**
         * New options with the defaults ({@code bce4j_options_init}) in a direct buffer: memory that the garbage
         * collector frees with this object, which no PointerScope holds, {@link Pointer#totalBytes()} does not count
         * and nothing needs to close.
         */
        static Options collectable() {
            ByteBuffer memory = ByteBuffer.allocateDirect((int) Loader.sizeof(Options.class))
                    .order(ByteOrder.nativeOrder());
            Options options = new Options(memory);
            bce4j_options_init(options);
            return options;
        }

        /** {@return a {@link #collectable()} copy of these options} */
        Options collectableCopy() {
            Options copy = collectable();
            copyInto(copy);
            return copy;
        }

        /** Copies these options into {@code target}, which then points at the same weights. */
        void copyInto(Options target) {
            Pointer.memcpy(target, this, sizeof());
        }

        @MemberGetter
        native int reduction();

        @MemberGetter
        native int num_threads();

        @MemberGetter
        native int pos_weight_mode();

        @MemberGetter
        native int validate_targets();

        @MemberGetter
        native int has_ignore_index();

        @MemberGetter
        native double ignore_index();

        @MemberGetter
        native double label_smoothing();

        @MemberGetter
        native int smoothing_classes();

        @MemberGetter
        native int has_focal();

        @MemberGetter
        native double focal_gamma();

        @MemberGetter
        native double focal_alpha();

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
        native Options grad_weight(@Cast("void*") long gradWeight);

        @MemberSetter
        native Options grad_pos_weight(@Cast("void*") long gradPosWeight);

        // The weight at raw addresses, for a partial call's own weight (BinaryCrossEntropy.partial).
        @MemberSetter
        @Name("weight")
        native Options weightAddress(@Cast("const void*") long weight);

        @MemberSetter
        @Name("weight_shape")
        native Options weightShapeAddress(@Cast("const int64_t*") long shape);
    }

    static native void bce4j_options_init(Options options);

    static native int bce4j_check_options(@Cast("const bce4j_options*") long options, int logits);

    static native int bce4j_bce_with_logits(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget);

    static native int bce4j_bce(
            @Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype, int ndim,
            @Cast("const int64_t*") long shape, @Cast("const void*") long input, @Cast("const void*") long target,
            @Cast("const void*") long gradOutput, @Cast("void*") long loss, @Cast("double*") long reducedLoss,
            @Cast("void*") long gradInput, @Cast("void*") long gradTarget);

    static native int bce4j_prepare(@Cast("const bce4j_options*") long options, int logits,
            @Cast("bce4j_dtype") int dtype, int ndim, @Cast("const int64_t*") long shape,
            @Cast("bce4j_prepared**") long prepared);

    static native int bce4j_prepared_run(@Cast("const bce4j_prepared*") long prepared, long batch,
            @Cast("const void*") long input, @Cast("const void*") long target, @Cast("const void*") long gradOutput,
            @Cast("void*") long loss, @Cast("double*") long reducedLoss, @Cast("void*") long gradInput,
            @Cast("void*") long gradTarget, @Cast("void*") long gradWeight, @Cast("void*") long gradPosWeight);

    static native void bce4j_prepared_destroy(@Cast("bce4j_prepared*") long prepared);

    // Partials (Partial, PartialScratch): every bce4j_partial in a thread's scratch memory, by address.
    static native int bce4j_bce_with_logits_partial(@Cast("const bce4j_options*") long options,
            @Cast("bce4j_dtype") int dtype, int ndim, @Cast("const int64_t*") long shape,
            @Cast("const void*") long input, @Cast("const void*") long target, @Cast("bce4j_partial*") long partial);

    static native int bce4j_bce_partial(@Cast("const bce4j_options*") long options, @Cast("bce4j_dtype") int dtype,
            int ndim, @Cast("const int64_t*") long shape, @Cast("const void*") long input,
            @Cast("const void*") long target, @Cast("bce4j_partial*") long partial);

    static native void bce4j_partial_init(@Cast("bce4j_partial*") long partial);

    static native int bce4j_partial_merge(@Cast("bce4j_partial*") long into, @Cast("const bce4j_partial*") long from);

    static native int bce4j_partial_finish(@Cast("const bce4j_partial*") long partial, int reduction,
            @Cast("double*") long value);

    static native int bce4j_partial_loss_sum(@Cast("const bce4j_partial*") long partial, @Cast("double*") long value);

    static native int bce4j_partial_weight_sum(@Cast("const bce4j_partial*") long partial,
            @Cast("double*") long value);

    static native int bce4j_partial_serialize(@Cast("const bce4j_partial*") long partial,
            @Cast("uint8_t*") long bytes, @Cast("size_t") long capacity);

    static native int bce4j_partial_deserialize(@Cast("const uint8_t*") long bytes, @Cast("size_t") long length,
            @Cast("bce4j_partial*") long partial);

    static native @Cast("const char*") String bce4j_last_error_message();

    static native @Cast("const char*") String bce4j_version();

    static native @Cast("const char*") String bce4j_cpu_isa();

    static native int bce4j_default_num_threads();

    static native @Cast("const char*") String bce4j_cpu_isas_available();

    static native @Cast("const char*") String bce4j_cpu_isa_request();

    static native @Cast("const char*") String bce4j_cpu_isa_reason();

    static native @Cast("const char*") String bce4j_library_path();

    static native @Cast("const char*") String bce4j_platform();

    static native @Cast("const char*") String bce4j_glibc_baseline();

    static native @Cast("const char*") String bce4j_compiler();

    static native @Cast("const char*") String bce4j_openmp_library_path();

    /**
     * JavaCPP extracts only the libraries it loads, and libbce4j loads libbce4j_cuda itself, lazily: so before the
     * first CUDA call this class finds the CUDA library among the resources, extracts it where it is in a jar, and
     * names the file to libbce4j (bce4j_cuda_use_library). It is the GPU natives of this platform,
     * {@code org/bce4j/<platform>-gpu/libbce4j_cuda.so} (a jar of their own, which JavaCPP extracts into a cache
     * folder of its own). Where there is none, nothing is named and libbce4j looks beside itself, so that
     * {@link Bce4j#cuda()} reports the library absent.
     */
    static final class CudaLibraryFile {
        /** The CUDA library's resource, relative to this package; {@code %s} is the platform. */
        static final String RESOURCE = "%s-gpu/libbce4j_cuda.so";

        static {
            NativeLoader.ensureLoaded();
            String file = find();
            if (file != null) {
                // Fails only where C code in this process made a CUDA call first; its choice then stands, and the
                // CUDA description tells which library that was.
                bce4j_cuda_use_library(file);
            }
        }

        private CudaLibraryFile() {}

        /** Finds and names the CUDA library once, on the first call. */
        static void ensureNamed() {}

        /** The CUDA library's file, extracted where it is in a jar; null where there is none. */
        private static String find() {
            java.net.URL url = NativeLoader.resource(String.format(RESOURCE, Loader.getPlatform()));
            if (url == null) {
                return null;
            }
            try {
                if ("file".equals(url.getProtocol())) {
                    return new java.io.File(url.toURI()).getAbsolutePath(); // a directory on the class path
                }
                java.io.File extracted = Loader.cacheResource(url);
                return extracted == null ? null : extracted.getAbsolutePath();
            } catch (java.io.IOException | java.net.URISyntaxException | IllegalArgumentException e) {
                return null; // nothing named: libbce4j looks beside itself, and reports what it finds
            }
        }
    }

    static native int bce4j_cuda_use_library(String path);

    static native @Cast("const char*") String bce4j_cuda_library_path();

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

    // The header's constants as its compiler sees them, read through the glue: each header_X() returns the C
    // enumerator or macro X. The library does not use them (it uses the mirrors below, and the codes of DType,
    // Reduction, PosWeightMode and CudaState); HeaderConstantsTest checks every mirror against them, and this list
    // against the header: one getter per enumerator and per integer macro. (Here, not in a nested class: JavaCPP
    // generates glue for the nested classes of a binding class only where they are Pointers.)

    // @formatter:off (one constant per line)
    // enum bce4j_status
    @MemberGetter @Name("BCE4J_OK") static native int header_BCE4J_OK();
    @MemberGetter @Name("BCE4J_ERROR_NULL_ARGUMENT") static native int header_BCE4J_ERROR_NULL_ARGUMENT();
    @MemberGetter @Name("BCE4J_ERROR_INVALID_SHAPE") static native int header_BCE4J_ERROR_INVALID_SHAPE();
    @MemberGetter @Name("BCE4J_ERROR_BROADCAST") static native int header_BCE4J_ERROR_BROADCAST();
    @MemberGetter @Name("BCE4J_ERROR_OUT_OF_RANGE") static native int header_BCE4J_ERROR_OUT_OF_RANGE();
    @MemberGetter @Name("BCE4J_ERROR_INVALID_OPTION") static native int header_BCE4J_ERROR_INVALID_OPTION();
    @MemberGetter @Name("BCE4J_ERROR_INTERNAL") static native int header_BCE4J_ERROR_INTERNAL();
    @MemberGetter @Name("BCE4J_ERROR_UNAVAILABLE") static native int header_BCE4J_ERROR_UNAVAILABLE();
    @MemberGetter @Name("BCE4J_ERROR_DEVICE") static native int header_BCE4J_ERROR_DEVICE();

    // enum bce4j_dtype
    @MemberGetter @Name("BCE4J_FLOAT32") static native int header_BCE4J_FLOAT32();
    @MemberGetter @Name("BCE4J_FLOAT64") static native int header_BCE4J_FLOAT64();
    @MemberGetter @Name("BCE4J_FLOAT16") static native int header_BCE4J_FLOAT16();
    @MemberGetter @Name("BCE4J_BFLOAT16") static native int header_BCE4J_BFLOAT16();

    // enum bce4j_reduction
    @MemberGetter @Name("BCE4J_REDUCTION_NONE") static native int header_BCE4J_REDUCTION_NONE();
    @MemberGetter @Name("BCE4J_REDUCTION_MEAN") static native int header_BCE4J_REDUCTION_MEAN();
    @MemberGetter @Name("BCE4J_REDUCTION_SUM") static native int header_BCE4J_REDUCTION_SUM();
    @MemberGetter @Name("BCE4J_REDUCTION_MEAN_BY_WEIGHT") static native int header_BCE4J_REDUCTION_MEAN_BY_WEIGHT();
    @MemberGetter @Name("BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT")
    static native int header_BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT();
    @MemberGetter @Name("BCE4J_REDUCTION_MEAN_VALID") static native int header_BCE4J_REDUCTION_MEAN_VALID();

    // enum bce4j_pos_weight_mode
    @MemberGetter @Name("BCE4J_POS_WEIGHT_TORCH") static native int header_BCE4J_POS_WEIGHT_TORCH();
    @MemberGetter @Name("BCE4J_POS_WEIGHT_PADDLE_LEGACY") static native int header_BCE4J_POS_WEIGHT_PADDLE_LEGACY();

    // enum bce4j_cuda_state
    @MemberGetter @Name("BCE4J_CUDA_AVAILABLE") static native int header_BCE4J_CUDA_AVAILABLE();
    @MemberGetter @Name("BCE4J_CUDA_LIBRARY_ABSENT") static native int header_BCE4J_CUDA_LIBRARY_ABSENT();
    @MemberGetter @Name("BCE4J_CUDA_NO_DRIVER") static native int header_BCE4J_CUDA_NO_DRIVER();
    @MemberGetter @Name("BCE4J_CUDA_DRIVER_TOO_OLD") static native int header_BCE4J_CUDA_DRIVER_TOO_OLD();
    @MemberGetter @Name("BCE4J_CUDA_NO_DEVICE") static native int header_BCE4J_CUDA_NO_DEVICE();
    @MemberGetter @Name("BCE4J_CUDA_ERROR") static native int header_BCE4J_CUDA_ERROR();

    // integer macros
    @MemberGetter @Name("BCE4J_MAX_DIMS") static native int header_BCE4J_MAX_DIMS();
    @MemberGetter @Name("BCE4J_MAX_THREADS") static native int header_BCE4J_MAX_THREADS();
    @MemberGetter @Name("BCE4J_VERSION_MAJOR") static native int header_BCE4J_VERSION_MAJOR();
    @MemberGetter @Name("BCE4J_VERSION_MINOR") static native int header_BCE4J_VERSION_MINOR();
    @MemberGetter @Name("BCE4J_VERSION_PATCH") static native int header_BCE4J_VERSION_PATCH();
    @MemberGetter @Name("BCE4J_PARTIAL_VERSION") static native int header_BCE4J_PARTIAL_VERSION();
    @MemberGetter @Name("BCE4J_PARTIAL_BYTES") static native int header_BCE4J_PARTIAL_BYTES();
    // @formatter:on

    // Status codes, mirroring enum bce4j_status in bce4j.h (HeaderConstantsTest checks them).
    static final int BCE4J_OK = 0;
    static final int BCE4J_ERROR_NULL_ARGUMENT = 1;
    static final int BCE4J_ERROR_INTERNAL = 6;
    static final int BCE4J_ERROR_UNAVAILABLE = 7;
    static final int BCE4J_ERROR_DEVICE = 8;

    // Mirror BCE4J_MAX_DIMS and BCE4J_MAX_THREADS in bce4j.h (HeaderConstantsTest checks them).
    static final int MAX_DIMS = 32;
    static final int MAX_THREADS = 1024;

    // Mirror BCE4J_PARTIAL_VERSION and BCE4J_PARTIAL_BYTES (HeaderConstantsTest checks them).
    static final int PARTIAL_VERSION = 1;
    static final int PARTIAL_BYTES = 160;
}
