package org.bce4j;

import java.nio.Buffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * A view of dense, C-order native memory of one {@link DType} and shape: the operand type of
 * {@link BinaryCrossEntropy#compute(Tensor, Tensor, Tensor, Outputs)}. A view is built once per buffer and can be
 * passed to any number of calls without allocating.
 *
 * <p>A view made from a JavaCPP pointer or a direct NIO buffer starts at the pointer's or buffer's position at the
 * time it is made (later position changes do not move it) and is checked then to fit before the limit. It holds a
 * strong reference to that pointer or buffer, so the memory stays reachable while the view is; the caller must not
 * free it ({@link Pointer#close()}) while the view is in use. A view made with {@link #ofAddress} is unchecked: the
 * caller keeps that memory alive and large enough. {@link #copyOf(float[], long...)} and
 * {@link #allocate(DType, long...)} make views that own new native memory, freed when the view becomes unreachable.
 *
 * <p>Immutable and safe to share between threads; the memory it views is not synchronised: threads that write
 * through views of the same memory (outputs) must not run at once.
 */
public final class Tensor {
    private final DType dtype;
    private final long[] shape;
    private final long count;
    private final long address;
    private final boolean readOnly;
    // What owns or holds the memory (a Pointer or a Buffer); null for a raw address. Kept reachable with the view.
    private final Object memory;

    private Tensor(DType dtype, long[] shape, long count, long address, boolean readOnly, Object memory) {
        this.dtype = dtype;
        this.shape = shape;
        this.count = count;
        this.address = address;
        this.readOnly = readOnly;
        this.memory = memory;
    }

    /**
     * A float32 view of {@code data} from its position on.
     *
     * @param data the elements in C order; {@code limit() - position()} must be at least the shape's element count
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code data} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid, or {@code data} is NULL or holds too few elements
     */
    public static Tensor of(FloatPointer data, long... shape) {
        return ofPointer(DType.FLOAT32, data, shape);
    }

    /**
     * A float64 view of {@code data} from its position on.
     *
     * @param data the elements in C order; {@code limit() - position()} must be at least the shape's element count
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code data} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid, or {@code data} is NULL or holds too few elements
     */
    public static Tensor of(DoublePointer data, long... shape) {
        return ofPointer(DType.FLOAT64, data, shape);
    }

    /**
     * A 16-bit view of the {@code short} bits in {@code bits} (see {@link HalfPrecision}) from its position on.
     *
     * @param dtype {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param bits the elements' bits in C order; {@code limit() - position()} must be at least the element count
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the shape is invalid, or {@code bits}
     *     is NULL or holds too few elements
     */
    public static Tensor of(DType dtype, ShortPointer bits, long... shape) {
        return ofPointer(Checks.storage16(dtype), bits, shape);
    }

    /**
     * A float32 view of a direct, native-order buffer from its position on; read-only if the buffer is.
     *
     * @param data the elements in C order; {@code remaining()} must be at least the shape's element count
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code data} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid, or {@code data} is a heap buffer, is not in the
     *     native byte order or holds too few elements
     */
    public static Tensor of(FloatBuffer data, long... shape) {
        return ofBuffer(DType.FLOAT32, data, shape);
    }

    /**
     * A float64 view of a direct, native-order buffer from its position on; read-only if the buffer is.
     *
     * @param data the elements in C order; {@code remaining()} must be at least the shape's element count
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code data} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid, or {@code data} is a heap buffer, is not in the
     *     native byte order or holds too few elements
     */
    public static Tensor of(DoubleBuffer data, long... shape) {
        return ofBuffer(DType.FLOAT64, data, shape);
    }

    /**
     * A 16-bit view of the {@code short} bits in a direct, native-order buffer from its position on; read-only if
     * the buffer is.
     *
     * @param dtype {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param bits the elements' bits in C order; {@code remaining()} must be at least the shape's element count
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the shape is invalid, or {@code bits}
     *     is a heap buffer, is not in the native byte order or holds too few elements
     */
    public static Tensor of(DType dtype, ShortBuffer bits, long... shape) {
        return ofBuffer(Checks.storage16(dtype), bits, shape);
    }

    /**
     * A view of native memory at a raw address, unchecked: the caller keeps the memory alive, and large enough for
     * the shape, while the view is in use. On JDK 22 and later this also views a {@code MemorySegment}, through
     * its {@code address()}.
     *
     * @param dtype the element type
     * @param address the address of the first element; 0 only for an empty shape
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code dtype} or {@code shape} is null, or {@code address} is 0 for a
     *     non-empty shape
     * @throws IllegalArgumentException if the shape is invalid
     */
    public static Tensor ofAddress(DType dtype, long address, long... shape) {
        Checks.notNull(dtype, "dtype");
        long count = Checks.shapeCount(shape);
        if (count > 0 && address == 0) {
            throw new NullPointerException("address is 0 (NULL)");
        }
        return new Tensor(dtype, shape.clone(), count, address, false, null);
    }

    /**
     * A float32 view of a native copy of {@code values}, which the view owns.
     *
     * @param values the elements in C order, exactly as many as the shape holds
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code values} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid or does not hold {@code values.length} elements
     */
    public static Tensor copyOf(float[] values, long... shape) {
        Checks.notNull(values, "values");
        long count = Checks.shapeCount(shape);
        Checks.arrayLength(values.length, count);
        return owning(DType.FLOAT32, shape, count, new FloatPointer(values));
    }

    /**
     * A float64 view of a native copy of {@code values}, which the view owns.
     *
     * @param values the elements in C order, exactly as many as the shape holds
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code values} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid or does not hold {@code values.length} elements
     */
    public static Tensor copyOf(double[] values, long... shape) {
        Checks.notNull(values, "values");
        long count = Checks.shapeCount(shape);
        Checks.arrayLength(values.length, count);
        return owning(DType.FLOAT64, shape, count, new DoublePointer(values));
    }

    /**
     * A view of new zeroed native memory, which the view owns: an output to pass in {@link Outputs}.
     *
     * @param dtype the element type
     * @param shape the dimensions, at most 32 ({@code {}} or none for a scalar)
     * @return the view
     * @throws NullPointerException if {@code dtype} or {@code shape} is null
     * @throws IllegalArgumentException if the shape is invalid or its bytes exceed 2^63-1
     */
    public static Tensor allocate(DType dtype, long... shape) {
        Checks.notNull(dtype, "dtype");
        long count = Checks.shapeCount(shape);
        if (count > Long.MAX_VALUE / dtype.bytes) {
            throw new IllegalArgumentException("shape " + Checks.format(shape) + " of " + dtype
                    + " needs more than 2^63-1 bytes");
        }
        BytePointer memory = new BytePointer(Math.max(1, count * dtype.bytes));
        memory.zero();
        return owning(dtype, shape, count, memory);
    }

    // The view owns `memory`: a reference of its own keeps a JavaCPP PointerScope open on this thread from freeing
    // it; JavaCPP's deallocator frees it once the view, and so the pointer, is unreachable.
    private static Tensor owning(DType dtype, long[] shape, long count, Pointer memory) {
        memory.retainReference();
        return new Tensor(dtype, shape.clone(), count, memory.address(), false, memory);
    }

    private static Tensor ofPointer(DType dtype, Pointer data, long[] shape) {
        Checks.notNull(data, "data");
        long count = Checks.shapeCount(shape);
        long address = Checks.address(data, "data", dtype.bytes, count);
        return new Tensor(dtype, shape.clone(), count, address, false, data);
    }

    private static Tensor ofBuffer(DType dtype, Buffer data, long[] shape) {
        Checks.notNull(data, "data");
        long count = Checks.shapeCount(shape);
        Checks.buffer(data, "data", count);
        long address = new Pointer(data).address() + (long) data.position() * dtype.bytes;
        return new Tensor(dtype, shape.clone(), count, address, data.isReadOnly(), data);
    }

    /** {@return the element type} */
    public DType dtype() {
        return dtype;
    }

    /** {@return the dimensions, C order; a new copy} */
    public long[] shape() {
        return shape.clone();
    }

    /** {@return the number of dimensions} */
    public int rank() {
        return shape.length;
    }

    /** {@return the number of elements: the product of the dimensions (1 for a scalar)} */
    public long count() {
        return count;
    }

    /** {@return the native address of the first element} */
    public long address() {
        return address;
    }

    /** {@return whether the view is read-only (made from a read-only NIO buffer): it cannot be an output} */
    public boolean isReadOnly() {
        return readOnly;
    }

    /**
     * {@return the elements as floats, C order: float32 as they are, float16 and bfloat16 widened exactly}
     *
     * @throws IllegalStateException if the view is float64 (use {@link #toDoubleArray()}) or holds more than
     *     2^31-1 elements
     */
    public float[] toFloatArray() {
        if (dtype == DType.FLOAT64) {
            throw new IllegalStateException("a FLOAT64 tensor does not convert to float[]; use toDoubleArray()");
        }
        float[] values = new float[arrayLength()];
        if (dtype == DType.FLOAT32) {
            new FloatPointer(at(address)).get(values);
        } else {
            short[] bits = new short[values.length];
            new ShortPointer(at(address)).get(bits);
            for (int i = 0; i < bits.length; i++) {
                values[i] = HalfPrecision.toFloat(dtype, bits[i]);
            }
        }
        java.lang.ref.Reference.reachabilityFence(this);
        return values;
    }

    /**
     * {@return the elements as doubles, C order, widened exactly from any dtype}
     *
     * @throws IllegalStateException if the view holds more than 2^31-1 elements
     */
    public double[] toDoubleArray() {
        double[] values = new double[arrayLength()];
        if (dtype == DType.FLOAT64) {
            new DoublePointer(at(address)).get(values);
            java.lang.ref.Reference.reachabilityFence(this);
            return values;
        }
        float[] floats = toFloatArray();
        for (int i = 0; i < floats.length; i++) {
            values[i] = floats[i];
        }
        return values;
    }

    private int arrayLength() {
        if (count > Integer.MAX_VALUE) {
            throw new IllegalStateException("a tensor of " + count + " elements does not fit in a Java array");
        }
        return (int) count;
    }

    /** {@return the dtype and shape, e.g. {@code Tensor[FLOAT32, [2, 3]]}} */
    @Override
    public String toString() {
        return "Tensor[" + dtype + ", " + Arrays.toString(shape) + "]";
    }

    /** The shape, without a copy; the caller must not modify it. */
    long[] dims() {
        return shape;
    }

    /** The JavaCPP pointer this view was made from, to detect one freed since; null for other memory. */
    Pointer pointer() {
        return memory instanceof Pointer p ? p : null;
    }

    // A pointer at a raw address that owns nothing, to read through JavaCPP's typed copies.
    // (The parameter is not named `address`: in the anonymous class, that name would be Pointer's own field.)
    private static Pointer at(long location) {
        return new Pointer() {
            {
                address = location;
            }
        };
    }
}
