package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToIntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java mirrors of bce4j.h's constants, copied by hand (the codes of DType, Reduction, PosWeightMode and
 * CudaState; NativeLibrary's status codes and limits), against the values the compiled library sees: NativeLibrary's
 * {@code header_*} getters, which the JNI glue reads from the header's enumerators and macros. The header's text is
 * parsed too, only to know which constants exist (the library cannot list an enum's enumerators): every enumerator
 * and integer macro must have a getter with the same value, and every enum its mirror, in both directions.
 */
class HeaderConstantsTest {
    /** C enum name to its enumerators (name to value), and integer macros (name to value), from bce4j.h. */
    record Header(Map<String, Map<String, Integer>> enums, Map<String, Integer> macros) {
        Map<String, Integer> enumerators(String cEnum) {
            Map<String, Integer> e = enums.get(cEnum);
            assertNotNull(e, "bce4j.h declares no enum " + cEnum + "; it has " + enums.keySet());
            return e;
        }
    }

    private static Header header;
    /** Every constant NativeLibrary's getters read from the compiled glue, by C name. */
    private static Map<String, Integer> compiled;

    @BeforeAll
    static void readBoth() throws Exception {
        Properties p = new Properties();
        try (InputStream in = HeaderConstantsTest.class.getResourceAsStream("/bce4j-build.properties")) {
            assertNotNull(in, "bce4j-build.properties");
            p.load(in);
        }
        header = parse(Files.readString(Path.of(p.getProperty("header"))));
        compiled = compiledConstants();
    }

    // ---- The header's text ------------------------------------------------------------------------------------

    private static final Pattern BLOCK_COMMENT = Pattern.compile("/\\*.*?\\*/", Pattern.DOTALL);
    private static final Pattern LINE_COMMENT = Pattern.compile("//[^\\n]*");
    private static final Pattern ENUM = Pattern.compile("\\benum\\s+(\\w+)\\s*\\{([^}]*)}");
    private static final Pattern ENUMERATOR = Pattern.compile("\\s*(\\w+)\\s*(?:=\\s*(.+?))?\\s*");
    /** An object-like macro with a value (function-like ones have "(" right after the name). */
    private static final Pattern MACRO = Pattern.compile("(?m)^[ \\t]*#[ \\t]*define[ \\t]+(\\w+)[ \\t]+(.*?)[ \\t]*$");
    private static final Pattern INTEGER = Pattern
            .compile("(\\()?\\s*([-+]?)\\s*(0[xX][0-9a-fA-F]+|\\d+)[uUlL]*\\s*(\\))?");

    /** An integer literal, possibly signed, suffixed or parenthesised; null for anything else. */
    static Integer integer(String text) {
        Matcher m = INTEGER.matcher(text.strip());
        if (!m.matches() || (m.group(1) == null) != (m.group(4) == null)) {
            return null;
        }
        String digits = m.group(3);
        long v = digits.startsWith("0x") || digits.startsWith("0X") ? Long.parseLong(digits.substring(2), 16)
                : digits.length() > 1 && digits.startsWith("0") ? Long.parseLong(digits, 8) : Long.parseLong(digits);
        return Math.toIntExact(m.group(2).equals("-") ? -v : v);
    }

    /**
     * Enumerators and integer macros of a C header: comments removed, each {@code enum tag { A = 0, B, ... }} with
     * values as C gives them (an enumerator without a value is the previous one plus 1, the first 0), and each
     * {@code #define NAME literal}. Fails on an enumerator whose value is not a literal, rather than guess.
     */
    static Header parse(String text) {
        String code = LINE_COMMENT.matcher(BLOCK_COMMENT.matcher(text).replaceAll(" ")).replaceAll("");
        Map<String, Map<String, Integer>> enums = new TreeMap<>();
        Matcher e = ENUM.matcher(code);
        while (e.find()) {
            Map<String, Integer> values = new LinkedHashMap<>();
            int next = 0;
            for (String item : e.group(2).split(",")) {
                if (item.isBlank()) {
                    continue; // a trailing comma
                }
                Matcher m = ENUMERATOR.matcher(item);
                assertTrue(m.matches(), "enum " + e.group(1) + ": cannot read the enumerator \"" + item.strip() + "\"");
                if (m.group(2) != null) {
                    Integer v = integer(m.group(2));
                    assertNotNull(v, "enum " + e.group(1) + ": " + m.group(1) + " = " + m.group(2)
                            + " is not an integer literal; teach this parser, or the header, better");
                    next = v;
                }
                assertFalse(values.containsKey(m.group(1)), "enum " + e.group(1) + " repeats " + m.group(1));
                values.put(m.group(1), next++);
            }
            assertFalse(enums.containsKey(e.group(1)), "bce4j.h declares enum " + e.group(1) + " twice");
            enums.put(e.group(1), values);
        }
        Map<String, Integer> macros = new TreeMap<>();
        Matcher d = MACRO.matcher(code);
        while (d.find()) {
            Integer v = integer(d.group(2));
            if (v != null) {
                Integer before = macros.put(d.group(1), v);
                assertTrue(before == null || before.equals(v), d.group(1) + " is defined as both " + before + " and "
                        + v);
            }
        }
        return new Header(enums, macros);
    }

    @Test
    @DisplayName("the parser reads enumerators (implicit values included), literals and macros as C does")
    void parserReadsCAsTheCompilerDoes() {
        Header h = parse("""
                /* enum commented { X = 9 }; */
                #define A_H
                #define API __attribute__((visibility("default")))
                #define F(x) (x)
                  #  define HEX 0x1F   // comment
                #define NEG (-3)
                #define BIG 1024u
                #define HALF (7
                typedef enum tag {
                    T_A,          /* a, b = 7 */
                    T_B = 5,
                    T_C,
                    T_D = -2,     // one, two
                    T_E,
                } tag;
                enum other { O_A = 010 };
                """);
        assertEquals(Map.of("tag", Map.of("T_A", 0, "T_B", 5, "T_C", 6, "T_D", -2, "T_E", -1), "other",
                Map.of("O_A", 8)), h.enums());
        assertEquals(Map.of("HEX", 31, "NEG", -3, "BIG", 1024), h.macros());
        assertEquals(Arrays.asList("T_A", "T_B", "T_C", "T_D", "T_E"),
                h.enumerators("tag").keySet().stream().toList(), "the enumerators in declaration order");
    }

    // ---- The compiled values ----------------------------------------------------------------------------------

    /** NativeLibrary's {@code @MemberGetter} getters, invoked: C name (the {@code @Name}) to value. */
    private static Map<String, Integer> compiledConstants() throws IllegalAccessException, InvocationTargetException {
        Map<String, Integer> values = new TreeMap<>();
        for (Method m : NativeLibrary.class.getDeclaredMethods()) {
            if (!m.isAnnotationPresent(MemberGetter.class)) {
                continue;
            }
            String where = "NativeLibrary." + m.getName();
            assertTrue(Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                    && m.getReturnType() == int.class, where + ": a constant's getter is static, int, no arguments");
            assertFalse(Modifier.isPublic(m.getModifiers()), where + " is public; keep it package-private");
            Name name = m.getAnnotation(Name.class);
            String cName = name == null ? m.getName() : name.value()[0];
            assertEquals("header_" + cName, m.getName(), where + " reads " + cName + ": name it after it");
            values.put(cName, (Integer) m.invoke(null));
        }
        return values;
    }

    /** The compiled value of a C constant; fails where NativeLibrary has no getter for it. */
    private static int value(String cName) {
        Integer v = compiled.get(cName);
        assertNotNull(v, "NativeLibrary has no getter header_" + cName + "() for this constant of bce4j.h");
        return v;
    }

    @Test
    @DisplayName("every enumerator and integer macro of bce4j.h has a getter, and no getter reads anything else")
    void everyHeaderConstantIsReadFromTheLibrary() {
        Map<String, Integer> inHeader = new TreeMap<>(header.macros());
        header.enums().values().forEach(inHeader::putAll);
        assertTrue(inHeader.size() >= 32, "the parser found only " + inHeader.keySet());
        assertEquals(inHeader.keySet(), compiled.keySet(),
                "bce4j.h's enumerators and integer macros against NativeLibrary's header_* getters");
        // The text read here and the header the glue was compiled against agree (and the parser reads it right).
        assertEquals(inHeader, compiled, "bce4j.h as parsed here against the compiled values");
    }

    // ---- The mirrors ------------------------------------------------------------------------------------------

    /** A Java enum mirroring a C enum: constant X has the code of the C enumerator prefix + X, and nothing else. */
    record Mirror<E extends Enum<E>>(Class<E> type, String cEnum, String prefix, ToIntFunction<E> code) {
        @Override
        public String toString() {
            return type.getSimpleName() + " = " + cEnum;
        }
    }

    static Stream<Arguments> enumMirrors() {
        return Stream.of(new Mirror<>(DType.class, "bce4j_dtype", "BCE4J_", d -> d.code),
                new Mirror<>(Reduction.class, "bce4j_reduction", "BCE4J_REDUCTION_", r -> r.code),
                new Mirror<>(PosWeightMode.class, "bce4j_pos_weight_mode", "BCE4J_POS_WEIGHT_", m -> m.code),
                new Mirror<>(CudaState.class, "bce4j_cuda_state", "BCE4J_CUDA_", s -> s.code)).map(Arguments::of);
    }

    /** The C enums mirrored by NativeLibrary's int fields rather than by a Java enum. */
    private static final Set<String> MIRRORED_BY_FIELDS = Set.of("bce4j_status");

    @Test
    @DisplayName("every enum of bce4j.h has its Java mirror")
    void everyHeaderEnumIsMirrored() {
        Set<String> mirrored = new TreeSet<>(MIRRORED_BY_FIELDS);
        enumMirrors().forEach(a -> mirrored.add(((Mirror<?>) a.get()[0]).cEnum()));
        assertEquals(mirrored, header.enums().keySet(),
                "bce4j.h's enums against those mirrored in Java: mirror a new one, and add it to enumMirrors()");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("enumMirrors")
    @DisplayName("each Java enum has a constant per C enumerator, with its code, and no other")
    void javaEnumMatchesItsCEnum(Mirror<?> mirror) {
        check(mirror);
    }

    private static <E extends Enum<E>> void check(Mirror<E> mirror) {
        Map<String, Integer> cValues = header.enumerators(mirror.cEnum());
        Map<String, Integer> javaValues = new TreeMap<>();
        for (E constant : mirror.type().getEnumConstants()) {
            javaValues.put(mirror.prefix() + constant.name(), mirror.code().applyAsInt(constant));
        }
        assertEquals(new TreeSet<>(cValues.keySet()), javaValues.keySet(), mirror + ": the C enumerators against "
                + mirror.prefix() + " + the Java constants' names");
        for (Map.Entry<String, Integer> e : javaValues.entrySet()) {
            assertEquals(value(e.getKey()), e.getValue().intValue(), mirror + ": the code of " + e.getKey());
        }
    }

    @Test
    @DisplayName("CudaState.of maps every C state to its constant, and an unknown code to ERROR")
    void cudaStateOfReadsEveryCode() {
        int highest = Integer.MIN_VALUE;
        for (Map.Entry<String, Integer> e : header.enumerators("bce4j_cuda_state").entrySet()) {
            CudaState state = CudaState.of(value(e.getKey()));
            assertEquals(e.getKey(), "BCE4J_CUDA_" + state.name(), "CudaState.of(" + e.getValue() + ")");
            highest = Math.max(highest, e.getValue());
        }
        assertSame(CudaState.ERROR, CudaState.of(highest + 1));
        assertSame(CudaState.ERROR, CudaState.of(-1));
    }

    /** NativeLibrary's {@code static final int} fields: its hand-copied mirrors, by Java name. */
    private static Map<String, Integer> nativeLibraryMirrors() throws IllegalAccessException {
        Map<String, Integer> fields = new TreeMap<>();
        for (Field f : NativeLibrary.class.getDeclaredFields()) {
            int modifiers = f.getModifiers();
            if (Modifier.isStatic(modifiers) && Modifier.isFinal(modifiers) && f.getType() == int.class) {
                fields.put(f.getName(), f.getInt(null));
            }
        }
        return fields;
    }

    /**
     * The statuses Java deliberately does not mirror: NativeStatus.toException reports every status it does
     * not name as an IllegalArgumentException, and these are the argument errors.
     */
    private static final Set<String> STATUSES_REPORTED_AS_ARGUMENT_ERRORS = Set.of("BCE4J_ERROR_INVALID_SHAPE",
            "BCE4J_ERROR_BROADCAST", "BCE4J_ERROR_OUT_OF_RANGE", "BCE4J_ERROR_INVALID_OPTION");

    @Test
    @DisplayName("NativeLibrary's status codes: each a bce4j_status with its value; the others are argument errors")
    void statusMirrorsMatch() throws IllegalAccessException {
        Map<String, Integer> statuses = header.enumerators("bce4j_status");
        Map<String, Integer> mirrors = nativeLibraryMirrors().entrySet().stream()
                .filter(e -> e.getKey().startsWith("BCE4J_"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, TreeMap::new));
        assertTrue(mirrors.keySet().containsAll(Set.of("BCE4J_OK", "BCE4J_ERROR_NULL_ARGUMENT",
                "BCE4J_ERROR_INTERNAL", "BCE4J_ERROR_UNAVAILABLE", "BCE4J_ERROR_DEVICE")), "found " + mirrors);
        for (Map.Entry<String, Integer> e : mirrors.entrySet()) {
            assertTrue(statuses.containsKey(e.getKey()), "NativeLibrary." + e.getKey() + " is no bce4j_status");
            assertEquals(value(e.getKey()), e.getValue().intValue(), "NativeLibrary." + e.getKey());
        }
        // The other direction: every status is mirrored or, on purpose, one of the argument errors.
        Set<String> accounted = new TreeSet<>(mirrors.keySet());
        for (String s : STATUSES_REPORTED_AS_ARGUMENT_ERRORS) {
            assertTrue(accounted.add(s), s + " is mirrored, yet listed as not mirrored");
        }
        assertEquals(new TreeSet<>(statuses.keySet()), accounted,
                "bce4j_status against the mirrored statuses and the argument errors");
        for (String s : STATUSES_REPORTED_AS_ARGUMENT_ERRORS) {
            assertEquals(IllegalArgumentException.class, NativeStatus.toException(value(s)).getClass(),
                    s + " as Java reports it");
        }
    }

    @Test
    @DisplayName("NativeLibrary's limits equal their macros; the version macros are bce4j_version()")
    void limitAndVersionMacrosMatch() throws IllegalAccessException {
        Map<String, Integer> limits = new TreeMap<>(nativeLibraryMirrors());
        limits.keySet().removeIf(name -> name.startsWith("BCE4J_"));
        assertTrue(limits.keySet().containsAll(Set.of("MAX_DIMS", "MAX_THREADS")), "found " + limits);
        Set<String> accounted = new TreeSet<>(Set.of("BCE4J_VERSION_MAJOR", "BCE4J_VERSION_MINOR",
                "BCE4J_VERSION_PATCH"));
        for (Map.Entry<String, Integer> e : limits.entrySet()) {
            String macro = "BCE4J_" + e.getKey();
            if (!header.macros().containsKey(macro)) {
                fail("NativeLibrary." + e.getKey() + " mirrors no macro of bce4j.h (" + macro + ")");
            }
            assertEquals(value(macro), e.getValue().intValue(), "NativeLibrary." + e.getKey() + " against " + macro);
            accounted.add(macro);
        }
        assertEquals(accounted, header.macros().keySet(),
                "bce4j.h's integer macros against those mirrored (limits) or checked here (version)");
        assertEquals(value("BCE4J_VERSION_MAJOR") + "." + value("BCE4J_VERSION_MINOR") + "."
                + value("BCE4J_VERSION_PATCH"), Bce4j.version(), "the version macros against bce4j_version()");
    }
}
