package org.bce4j.sidebyside;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The memory floor: bce4j_memory_floor (cpp/bench/memory_floor.cpp, built with the C++ tests), a vectorised C loop
 * that moves the bytes of the same job (reads input and target, writes grad_input, float32) with the library's
 * threading, run as a child process over the same sizes and thread counts. Not checked: it computes no loss.
 */
final class FloorChild {
    static final String NAME = "memory floor";

    private FloorChild() {}

    static ChildRun run(Path program, List<Integer> sizes, List<Integer> threads, Timer timer) throws Exception {
        ChildRun child = new ChildRun(NAME);
        if (!Files.isExecutable(program)) {
            child.info = "skipped: no " + program + " (built by `mvn -B verify` or any build with -DBCE4J_TESTS=ON; "
                    + "or set -Dsidebyside.floor)";
            System.out.println("NOTE: memory floor " + child.info);
            return child;
        }
        List<String> command = new ArrayList<>(List.of(program.toString(), "--sizes", VectorApiChild.joined(sizes),
                "--threads", VectorApiChild.joined(threads), "--warmup-s", String.valueOf(timer.warmupS), "--cap-s",
                String.valueOf(timer.capS), "--batches", String.valueOf(timer.batches)));
        child.run(command, Map.of(), child::timing);
        return child;
    }
}
