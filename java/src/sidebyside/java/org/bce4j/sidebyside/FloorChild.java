package org.bce4j.sidebyside;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The memory floor: bce4j_memory_floor (cpp/bench/memory_floor.cpp, built with the C++ tests), a vectorised C++ loop
 * that moves the bytes of the same job (reads input and target, writes one output, float32) with the library's
 * threading, run as a child process over the same sizes and thread counts; its lines are
 * {@code floor n= threads= dtype= ns=}. Not checked: it computes no loss.
 */
final class FloorChild {
    static final String NAME = "memory floor";

    private FloorChild() {}

    static ChildRun run(Path program, List<Integer> sizes, List<Integer> threads, Timer timer) throws Exception {
        ChildRun child = new ChildRun(NAME, "floor ");
        if (!Files.isExecutable(program)) {
            child.info = "skipped: no " + program + " (built by `mvn -B verify` or any build with -DBCE4J_TESTS=ON; "
                    + "or set -Dsidebyside.floor)";
            System.out.println("NOTE: memory floor " + child.info);
            return child;
        }
        List<String> command = new ArrayList<>(List.of(program.toString(), "--threads",
                VectorApiChild.joined(threads), "--dtype", "float32"));
        sizes.forEach(n -> command.add(String.valueOf(n)));
        // Its own timing rule: the median of at least 11 timed calls (see memory_floor.cpp), one call per batch.
        child.run(command, Map.of(), kv -> new Point(NAME, Integer.parseInt(kv.get("n")),
                Integer.parseInt(kv.get("threads")), Double.parseDouble(kv.get("ns")), timer.batches, 1, Double.NaN,
                Double.NaN, ""));
        return child;
    }
}
