/**
 * Binary cross-entropy loss and its gradients, computed by a native library in one fused pass over memory the caller
 * owns.
 *
 * <h2>Entry points</h2>
 * <ul>
 *   <li>{@link org.bce4j.BCEWithLogitsLoss} (on logits, as PyTorch's {@code BCEWithLogitsLoss}) and
 *       {@link org.bce4j.BCELoss} (on probabilities, as PyTorch's {@code BCELoss}), each configured once through its
 *       {@code builder()}: weight, positive-class weight, {@link org.bce4j.Reduction}, thread count, ignore index,
 *       label smoothing, focal loss, {@link org.bce4j.Device}. Loss objects are immutable and safe to share between
 *       threads; they hold native memory, so close them when done.</li>
 *   <li>The calls, described in {@link org.bce4j.BinaryCrossEntropy}: {@code compute} on {@link org.bce4j.Tensor}
 *       views (of JavaCPP pointers, direct NIO buffers, raw addresses or copied Java arrays; float32, float64 or
 *       16-bit ({@link org.bce4j.HalfPrecision}) data), writing where an {@link org.bce4j.Outputs} says, weight
 *       gradients included; {@code computeAt} on raw native addresses; {@code computeOnCuda} on CUDA device
 *       memory.</li>
 *   <li>{@link org.bce4j.Bce4j}: facts about the loaded native library (version, CPU kernels, default thread count)
 *       and whether CUDA can run here ({@link org.bce4j.CudaAvailability}).</li>
 * </ul>
 *
 * <h2>Native access</h2>
 * JavaCPP loads bce4j's native libraries through JNI on first use. On JDK 22 and later, run with the launcher flag
 * {@code --enable-native-access}: from JDK 24 on, the JVM warns at that load without it, and a future release will
 * refuse it. On the class path its value is {@code ALL-UNNAMED} ({@code --enable-native-access=ALL-UNNAMED}); on
 * the module path it names the modules org.bce4j and org.bytedeco.javacpp
 * ({@code --enable-native-access=org.bce4j,org.bytedeco.javacpp}).
 */
package org.bce4j;
