package org.bce4j.sidebyside;

/**
 * One implementation of the benchmarked job: BCE with logits, float32, hard labels, reduction mean, computing the
 * mean loss and grad_input on the first {@code n} elements of the shared {@link DataSet}.
 */
interface Impl extends AutoCloseable {
    /** The column name. */
    String name();

    /** Sets up for {@code n} elements (views, tensors, ops); called once per N, before any call. */
    void prepare(int n);

    /** Sets the thread count of the following calls. */
    void threads(int t);

    /** One call: returns the mean loss (NaN where there is none) and leaves grad_input in its output buffer. */
    double call();

    /** A copy of grad_input from the last call. */
    float[] gradInput();

    @Override
    void close();
}
