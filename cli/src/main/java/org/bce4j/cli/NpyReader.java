package org.bce4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.bce4j.DType;
import org.bce4j.cli.Npy.Array;
import org.bce4j.cli.Npy.NpyException;

/** Reads .npy files: the preamble, the header (parsed by {@link NpyHeader}) and the data, each checked. */
final class NpyReader {
    private NpyReader() {}

    /** {@link Npy#read}: every failure, including a missing or unreadable file, is an {@link NpyException}. */
    static Array read(Path file) throws NpyException {
        if (Files.isDirectory(file)) throw new NpyException(file, "is a directory, not an .npy file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer prefix = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, prefix, 0);
            if (prefix.position() < 10 || !hasMagic(prefix)) {
                throw new NpyException(file, "not an .npy file (no \\x93NUMPY magic)");
            }
            int major = prefix.get(6) & 0xff;
            int minor = prefix.get(7) & 0xff;
            long headerLength;
            int headerStart;
            if (major == 1 && minor == 0) {
                headerLength = prefix.getShort(8) & 0xffff;
                headerStart = 10;
            } else if (major == 2 && minor == 0) {
                if (prefix.position() < 12) throw new NpyException(file, "truncated .npy header");
                headerLength = prefix.getInt(8) & 0xffffffffL;
                headerStart = 12;
            } else {
                throw new NpyException(file, "unsupported .npy format version " + major + "." + minor
                        + "; versions 1.0 and 2.0 are supported");
            }
            if (headerStart + headerLength > size) {
                throw new NpyException(file, "truncated .npy header: it declares " + headerLength
                        + " bytes but the file has " + (size - headerStart) + " after the preamble");
            }
            if (headerLength > 1 << 20) throw new NpyException(file, "the .npy header is implausibly large");
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(ch, headerBytes, headerStart);
            String header = new String(headerBytes.array(), StandardCharsets.ISO_8859_1);
            NpyHeader h = NpyHeader.parse(file, header);

            long dataStart = headerStart + headerLength;
            long dataBytes;
            try {
                dataBytes = Math.multiplyExact(Npy.count(h.shape()), (long) Npy.bytes(h.dtype()));
            } catch (ArithmeticException e) {
                throw new NpyException(file, "shape " + Arrays.toString(h.shape()) + " has too many elements");
            }
            if (size - dataStart < dataBytes) {
                throw new NpyException(file, "truncated data: shape " + Arrays.toString(h.shape()) + " needs "
                        + dataBytes + " bytes but the file holds " + (size - dataStart));
            }
            if (size - dataStart > dataBytes) {
                throw new NpyException(file,
                        (size - dataStart - dataBytes) + " unexpected bytes after the data of shape "
                                + Arrays.toString(h.shape()));
            }
            if (dataBytes > Integer.MAX_VALUE) {
                throw new NpyException(file, "data of " + dataBytes + " bytes is over the 2 GiB supported");
            }
            ByteBuffer data = ByteBuffer.allocateDirect((int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, data, dataStart);
            data.flip();
            return new Array(h.dtype(), h.shape(), toNativeOrder(data, h.dtype()));
        } catch (NoSuchFileException e) {
            throw new NpyException(file, "no such file");
        } catch (NpyException e) {
            throw e;
        } catch (IOException e) {
            throw new NpyException(file, "cannot read: " + e, e);
        }
    }

    private static boolean hasMagic(ByteBuffer b) {
        for (int i = 0; i < NpyHeader.MAGIC.length; i++) {
            if (b.get(i) != NpyHeader.MAGIC[i]) return false;
        }
        return true;
    }

    private static void readFully(FileChannel ch, ByteBuffer into, long at) throws IOException {
        while (into.hasRemaining()) {
            int n = ch.read(into, at);
            if (n < 0) return;
            at += n;
        }
    }

    /** The little-endian file data as a native-order buffer (a no-op on little-endian machines). */
    private static ByteBuffer toNativeOrder(ByteBuffer le, DType dtype) {
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            return le.order(ByteOrder.nativeOrder());
        }
        ByteBuffer out = ByteBuffer.allocateDirect(le.capacity()).order(ByteOrder.nativeOrder());
        if (dtype == DType.FLOAT32) {
            out.asFloatBuffer().put(le.asFloatBuffer());
        } else if (dtype == DType.FLOAT16) {
            out.asShortBuffer().put(le.asShortBuffer());
        } else {
            out.asDoubleBuffer().put(le.asDoubleBuffer());
        }
        return out;
    }
}
