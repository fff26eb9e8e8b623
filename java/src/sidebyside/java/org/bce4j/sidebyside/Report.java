package org.bce4j.sidebyside;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The markdown report: a header (date, machine, versions, method), the table, the checks. */
final class Report {
    private Report() {}

    static Optional<Point> find(List<Point> points, String impl, int n, int t) {
        return points.stream().filter(p -> p.impl().equals(impl) && p.n() == n && p.t() == t).findFirst();
    }

    static String time(double ns) {
        if (Double.isNaN(ns)) return "–";
        if (ns < 1e3) return String.format(Locale.ROOT, "%.0f ns", ns);
        if (ns < 1e6) return String.format(Locale.ROOT, "%.3g µs", ns / 1e3);
        if (ns < 1e9) return String.format(Locale.ROOT, "%.3g ms", ns / 1e6);
        return String.format(Locale.ROOT, "%.3g s", ns / 1e9);
    }

    static String size(int n) {
        if (n >= 1 << 20 && n % (1 << 20) == 0) return (n >> 20) + "M";
        if (n >= 1 << 10 && n % (1 << 10) == 0) return (n >> 10) + "K";
        return String.valueOf(n);
    }

    static String ratio(double a, double b) {
        return Double.isNaN(a) || Double.isNaN(b) ? "–" : String.format(Locale.ROOT, "%.2f×", a / b);
    }

    /** The table, as markdown. {@code columns} are the implementations in column order, bce4j first. */
    static String table(List<Point> points, List<String> columns, List<Integer> sizes, List<Integer> threads,
            int fullBatches) {
        StringBuilder s = new StringBuilder();
        s.append("| N | T |");
        for (String c : columns) s.append(' ').append(c).append(" |");
        s.append(" libtorch ÷ bce4j | Vector API ÷ bce4j | bce4j ÷ memory floor |\n|--:|--:|");
        s.append("--:|".repeat(columns.size() + 3)).append('\n');
        for (int n : sizes) {
            for (int t : threads) {
                s.append("| ").append(size(n)).append(" | ").append(t).append(" |");
                for (String c : columns) {
                    Optional<Point> p = find(points, c, n, t);
                    String cell = p.map(q -> time(q.ns())).orElse("–");
                    if (p.isPresent() && p.get().batches() < fullBatches) cell += " †";
                    if (p.isPresent() && p.get().failed()) cell += " ⚠";
                    s.append(' ').append(cell).append(" |");
                }
                double bce = ns(points, "bce4j", n, t);
                s.append(' ').append(ratio(ns(points, "libtorch", n, t), bce)).append(" |");
                s.append(' ').append(ratio(ns(points, VectorApiChild.NAME, n, t), bce)).append(" |");
                s.append(' ').append(ratio(bce, ns(points, FloorChild.NAME, n, t))).append(" |\n");
            }
        }
        return s.toString();
    }

    static double ns(List<Point> points, String impl, int n, int t) {
        return find(points, impl, n, t).map(Point::ns).orElse(Double.NaN);
    }

    /** Per implementation: the worst differences over all points, and one line per failed point. */
    static String checks(List<Point> points, List<String> columns) {
        StringBuilder s = new StringBuilder();
        for (String c : columns) {
            List<Point> mine = new ArrayList<>();
            for (Point p : points) if (p.impl().equals(c) && p.checked()) mine.add(p);
            if (mine.isEmpty()) {
                s.append(String.format(Locale.ROOT, "- %s: not checked (no loss)%n", c));
                continue;
            }
            double loss = mine.stream().mapToDouble(Point::lossRelDiff).max().getAsDouble();
            double grad = mine.stream().mapToDouble(Point::gradErr).max().getAsDouble();
            long failed = mine.stream().filter(Point::failed).count();
            s.append(String.format(Locale.ROOT,
                    "- %s (against %s): worst mean-loss relative difference %.2e, worst max|grad_input diff|·N %.2e"
                            + " over %d points%s%n",
                    c, mine.get(0).checkedAgainst(), loss, grad, mine.size(),
                    failed == 0 ? ", all within tolerance" : ", " + failed + " outside tolerance (⚠)"));
        }
        return s.toString();
    }
}
