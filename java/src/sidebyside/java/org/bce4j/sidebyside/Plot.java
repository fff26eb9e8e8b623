package org.bce4j.sidebyside;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * The PNG: time per call against N, log-log, one panel per thread count, one line per implementation (colour and
 * marker), drawn with Java2D (headless) and written by ImageIO.
 */
final class Plot {
    private Plot() {}

    private static final Color[] COLORS = {new Color(0xD62728), new Color(0x1F77B4), new Color(0x2CA02C),
        new Color(0xFF7F0E), new Color(0x9467BD), new Color(0x7F7F7F), new Color(0x8C564B)};
    private static final int PANEL_W = 640;
    private static final int PANEL_H = 520;
    private static final int LEFT = 80;
    private static final int RIGHT = 20;
    private static final int TOP = 60;
    private static final int BOTTOM = 60;

    static void write(Path file, String title, String subtitle, List<Point> points, List<String> columns,
            List<Integer> sizes, List<Integer> threads) throws IOException {
        int width = PANEL_W * threads.size();
        int height = PANEL_H + 50;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 12, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(subtitle, 12, 44);

        double minNs = Double.MAX_VALUE;
        double maxNs = 0;
        for (Point p : points) {
            if (!Double.isNaN(p.ns()) && p.ns() > 0) {
                minNs = Math.min(minNs, p.ns());
                maxNs = Math.max(maxNs, p.ns());
            }
        }
        if (maxNs == 0) {
            minNs = 1;
            maxNs = 10;
        }
        double yLo = Math.floor(Math.log10(minNs));
        double yHi = Math.ceil(Math.log10(maxNs));
        if (yHi <= yLo) yHi = yLo + 1;
        double xLo = Math.log10(sizes.get(0)) - 0.15;
        double xHi = Math.log10(sizes.get(sizes.size() - 1)) + 0.15;
        if (sizes.size() == 1) {
            xLo -= 0.5;
            xHi += 0.5;
        }
        for (int k = 0; k < threads.size(); k++) {
            int t = threads.get(k);
            Graphics2D panel = (Graphics2D) g.create();
            panel.translate(PANEL_W * k, 50);
            drawPanel(panel, t, points, columns, sizes, xLo, xHi, yLo, yHi);
            panel.dispose();
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static void drawPanel(Graphics2D g, int t, List<Point> points, List<String> columns, List<Integer> sizes,
            double xLo, double xHi, double yLo, double yHi) {
        int x0 = LEFT;
        int x1 = PANEL_W - RIGHT;
        int y0 = PANEL_H - BOTTOM;
        int y1 = TOP;
        java.util.function.DoubleUnaryOperator px = v -> x0 + (Math.log10(v) - xLo) / (xHi - xLo) * (x1 - x0);
        java.util.function.DoubleUnaryOperator py = v -> y0 - (Math.log10(v) - yLo) / (yHi - yLo) * (y0 - y1);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(t + (t == 1 ? " thread" : " threads"), x0, y1 - 16);

        // Grid and ticks.
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        Stroke thin = new BasicStroke(1f);
        for (int e = (int) yLo; e <= (int) yHi; e++) {
            int y = (int) Math.round(py.applyAsDouble(Math.pow(10, e)));
            g.setColor(new Color(0xE0E0E0));
            g.setStroke(thin);
            g.drawLine(x0, y, x1, y);
            g.setColor(Color.BLACK);
            String label = tick(e);
            g.drawString(label, x0 - 6 - fm.stringWidth(label), y + 4);
        }
        for (int n : sizes) {
            int x = (int) Math.round(px.applyAsDouble(n));
            g.setColor(new Color(0xEEEEEE));
            g.drawLine(x, y0, x, y1);
            g.setColor(Color.BLACK);
            g.drawLine(x, y0, x, y0 + 4);
            String label = Report.size(n);
            g.drawString(label, x - fm.stringWidth(label) / 2, y0 + 16);
        }
        g.setColor(Color.BLACK);
        g.drawRect(x0, y1, x1 - x0, y0 - y1);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        fm = g.getFontMetrics();
        String xLabel = "N (float32 elements)";
        g.drawString(xLabel, (x0 + x1 - fm.stringWidth(xLabel)) / 2, y0 + 40);
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2);
        String yLabel = "time per call (median)";
        g.drawString(yLabel, -(y0 + y1 + fm.stringWidth(yLabel)) / 2, 18);
        g.setTransform(saved);

        // One line per implementation; the memory floor dashed.
        for (int c = 0; c < columns.size(); c++) {
            String impl = columns.get(c);
            Color color = COLORS[c % COLORS.length];
            Path2D.Double line = new Path2D.Double();
            boolean started = false;
            g.setColor(color);
            for (int n : sizes) {
                double ns = Report.ns(points, impl, n, t);
                if (Double.isNaN(ns) || ns <= 0) continue;
                double x = px.applyAsDouble(n);
                double y = py.applyAsDouble(ns);
                if (started) line.lineTo(x, y);
                else line.moveTo(x, y);
                started = true;
                marker(g, c, x, y);
            }
            g.setStroke(impl.equals(FloorChild.NAME)
                    ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f));
            g.draw(line);
        }

        // Legend, top left inside the plot.
        g.setStroke(new BasicStroke(2f));
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        fm = g.getFontMetrics();
        int lx = x0 + 10;
        int ly = y1 + 10;
        int lw = 0;
        for (String impl : columns) lw = Math.max(lw, fm.stringWidth(impl));
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(lx, ly, lw + 50, columns.size() * 18 + 8);
        g.setColor(Color.GRAY);
        g.drawRect(lx, ly, lw + 50, columns.size() * 18 + 8);
        for (int c = 0; c < columns.size(); c++) {
            int y = ly + 16 + c * 18;
            g.setColor(COLORS[c % COLORS.length]);
            g.setStroke(columns.get(c).equals(FloorChild.NAME)
                    ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f));
            g.drawLine(lx + 6, y - 4, lx + 34, y - 4);
            marker(g, c, lx + 20, y - 4);
            g.setColor(Color.BLACK);
            g.drawString(columns.get(c), lx + 42, y);
        }
    }

    /** 10^e ns as "1 ns", "10 µs", "100 ms", "1 s". */
    static String tick(int e) {
        String[] units = {"ns", "µs", "ms", "s"};
        int u = Math.max(0, Math.min(3, Math.floorDiv(e, 3)));
        long mantissa = Math.round(Math.pow(10, e - 3 * u));
        return mantissa + " " + units[u];
    }

    private static void marker(Graphics2D g, int kind, double x, double y) {
        int cx = (int) Math.round(x);
        int cy = (int) Math.round(y);
        Stroke saved = g.getStroke();
        g.setStroke(new BasicStroke(1.5f));
        switch (kind % 5) {
            case 0 -> g.fillOval(cx - 4, cy - 4, 8, 8);
            case 1 -> g.fillRect(cx - 4, cy - 4, 8, 8);
            case 2 -> g.fillPolygon(new int[] {cx, cx + 5, cx - 5}, new int[] {cy - 5, cy + 4, cy + 4}, 3);
            case 3 -> g.fillPolygon(new int[] {cx, cx + 5, cx, cx - 5}, new int[] {cy - 5, cy, cy + 5, cy}, 4);
            default -> g.drawOval(cx - 4, cy - 4, 8, 8);
        }
        g.setStroke(saved);
    }
}
