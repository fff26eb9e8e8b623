// The cost of a JDK 22+ FFM downcall to bce4j_prepared_run beside the JNI path (PreparedCall.runAt) in one process,
// float32, reduction mean, loss + grad_input, one thread; alternating rounds, medians. Not part of the build. Run
// from the repository root after mvn install (the argument is the libbce4j the downcalls load):
// J=~/.m2/repository/org/bytedeco/javacpp/1.5.13; /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED -cp java/target/bce4j-0.1.0-SNAPSHOT.jar:java/target/bce4j-0.1.0-SNAPSHOT-linux-x86_64.jar:$J/javacpp-1.5.13.jar:$J/javacpp-1.5.13-linux-x86_64.jar java/src/ffm/PreparedFfm.java target/cmake/linux-x86_64/libbce4j.so.1
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.DType;
import org.bce4j.PreparedCall;
import org.bce4j.Reduction;

public class PreparedFfm {
    interface Call {
        void run() throws Throwable;
    }

    static double nsPerCall(Call c, int iterations) throws Throwable {
        double[] samples = new double[11];
        for (int r = 0; r < samples.length; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) c.run();
            samples[r] = (System.nanoTime() - t0) / (double) iterations;
        }
        Arrays.sort(samples);
        return samples[samples.length / 2];
    }

    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        Arena arena = Arena.global();
        SymbolLookup lib = SymbolLookup.libraryLookup(java.nio.file.Path.of(args[0]), arena);
        ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
        ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        var P = ValueLayout.ADDRESS;
        MethodHandle init = linker.downcallHandle(lib.find("bce4j_options_init").orElseThrow(),
                FunctionDescriptor.ofVoid(P));
        MethodHandle prepare = linker.downcallHandle(lib.find("bce4j_prepare").orElseThrow(),
                FunctionDescriptor.of(I, P, I, I, I, P, P));
        FunctionDescriptor runDescriptor = FunctionDescriptor.of(I, P, J, P, P, P, P, P, P, P, P, P);
        MemorySegment runSymbol = lib.find("bce4j_prepared_run").orElseThrow();
        MethodHandle run = linker.downcallHandle(runSymbol, runDescriptor);
        MethodHandle runCritical = linker.downcallHandle(runSymbol, runDescriptor, Linker.Option.critical(false));
        MethodHandle isa = linker.downcallHandle(lib.find("bce4j_default_num_threads").orElseThrow(),
                FunctionDescriptor.of(I));
        MemorySegment NULL = MemorySegment.NULL;
        for (long n : new long[] {1, 64, 1024}) {
            MemorySegment x = arena.allocate(4 * n, 64), y = arena.allocate(4 * n, 64), g = arena.allocate(4 * n, 64);
            for (int i = 0; i < n; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i) * 4);
                y.setAtIndex(ValueLayout.JAVA_FLOAT, i, i % 2);
            }
            MemorySegment options = arena.allocate(512, 8);
            init.invokeExact(options);
            options.set(I, 12, 1); // num_threads, after struct_size (8 bytes) and reduction (4)
            MemorySegment shape = arena.allocate(J, 1);
            shape.set(J, 0, n);
            MemorySegment handle = arena.allocate(P);
            int status = (int) prepare.invokeExact(options, 1, 0, 1, shape, handle);
            if (status != 0) throw new IllegalStateException("bce4j_prepare: " + status);
            MemorySegment prepared = handle.get(P, 0);
            MemorySegment reduced = arena.allocate(ValueLayout.JAVA_DOUBLE);
            BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(1).build();
            PreparedCall jni = loss.prepare(DType.FLOAT32, n);
            long xa = x.address(), ya = y.address(), ga = g.address();
            Call viaJni = () -> jni.runAt(n, xa, ya, 0, 0, ga, 0);
            Call viaFfm = () -> {
                int s = (int) run.invokeExact(prepared, n, x, y, NULL, NULL, reduced, g, NULL, NULL, NULL);
            };
            Call viaFfmCritical = () -> {
                int s = (int) runCritical.invokeExact(prepared, n, x, y, NULL, NULL, reduced, g, NULL, NULL, NULL);
            };
            Call trivialFfm = () -> {
                int t = (int) isa.invokeExact();
            };
            int iterations = n == 1024 ? 50_000 : 200_000;
            Call[] calls = {viaJni, viaFfm, viaFfmCritical, trivialFfm};
            double[][] rounds = new double[calls.length][5];
            for (Call c : calls) nsPerCall(c, iterations); // warm-up
            for (int r = 0; r < 5; r++) {
                for (int c = 0; c < calls.length; c++) rounds[c][r] = nsPerCall(calls[c], iterations);
            }
            double[] median = new double[calls.length];
            for (int c = 0; c < calls.length; c++) {
                Arrays.sort(rounds[c]);
                median[c] = rounds[c][2];
            }
            System.out.printf("n=%d jni_runAt=%.1f ffm=%.1f ffm_critical=%.1f ffm_trivial=%.1f%n", n, median[0],
                    median[1], median[2], median[3]);
        }
    }
}
