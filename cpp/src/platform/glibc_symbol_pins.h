/*
 * Pins the glibc functions whose default symbol version moved after the oldest glibc that bce4j's natives
 * support to their ORIGINAL version, so that a library built against a new glibc still loads on an old one.
 * Force-included into every C and C++ translation unit of libbce4j (cmake/Portable.cmake: -include) and of the
 * JNI glue (JavaCPP compilerOptions), before anything else: a `.symver` directive makes every reference to NAME
 * in that object file a reference to NAME@VERSION. A pin that a translation unit never uses emits nothing.
 *
 * Why these functions:
 *  - glibc 2.27 and 2.29 gave expf/exp2f/logf/log2f/powf (2.27) and exp/exp2/log/log2/pow (2.29) new versions,
 *    identical but for dropping the SVID error handling (matherr, _LIB_VERSION). The old versions are still
 *    exported; on a current glibc they are the same computation behind a wrapper that sets errno on overflow,
 *    underflow and domain errors, so the values are the same.
 *  - glibc 2.34 merged libdl into libc and gave dlopen and its family new versions in libc.so.6. The old versions
 *    still exist there; on glibc < 2.34 they are in libdl.so.2, which the loader finds because symbol lookup
 *    matches version names in every loaded object, not the file a version need names. So an object using these
 *    pins must have libdl.so.2 as a NEEDED library (cmake/Portable.cmake links it with --no-as-needed).
 *
 * Anything else that a new glibc binds to a version above the bound fails cpp/tools/check-glibc.sh, which names
 * the symbol: pin it here with its oldest version (objdump -T /lib/x86_64-linux-gnu/libc.so.6 | grep -w NAME
 * lists them, the old ones in parentheses). A pthread_* function pinned to its pre-2.34 version would need
 * libpthread.so.0 as NEEDED in the same way as libdl.so.2.
 *
 * Define BCE4J_NO_GLIBC_SYMBOL_PINS to disable (e.g. for a build that is only ever run where it is built).
 */
#ifndef BCE4J_GLIBC_SYMBOL_PINS_H
#define BCE4J_GLIBC_SYMBOL_PINS_H

#if defined(__linux__) && !defined(BCE4J_NO_GLIBC_SYMBOL_PINS)
#include <features.h> /* defines __GLIBC__ (and nothing that changes what the translation unit sees) */
#endif

#if defined(__GLIBC__) && !defined(BCE4J_NO_GLIBC_SYMBOL_PINS)
/* BCE4J_GLIBC_PIN(name, version on x86-64): on a port, every function's oldest version is at least the port's
 * base version. aarch64's base is GLIBC_2.17, and every function below has a GLIBC_2.17 version there (objdump -T
 * of the aarch64 libc.so.6 and libm.so.6 of glibc 2.36; check-glibc.sh --max-glibc 2.17 passes on the linux-arm64
 * natives). */
#if defined(__x86_64__)
#define BCE4J_GLIBC_PIN(name, x86_64_version) __asm__(".symver " #name "," #name "@" x86_64_version);
#elif defined(__aarch64__)
#define BCE4J_GLIBC_PIN(name, x86_64_version) __asm__(".symver " #name "," #name "@GLIBC_2.17");
#endif
#endif

#ifdef BCE4J_GLIBC_PIN
/* libm: new versions in glibc 2.29 (double) and 2.27 (float). */
BCE4J_GLIBC_PIN(exp, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(exp2, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(log, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(log2, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(pow, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(expf, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(exp2f, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(logf, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(log2f, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(powf, "GLIBC_2.2.5")
/* libdl, in libc.so.6 from glibc 2.34 on with new versions. */
BCE4J_GLIBC_PIN(dlopen, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(dlsym, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(dlvsym, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(dladdr, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(dladdr1, "GLIBC_2.3.3")
BCE4J_GLIBC_PIN(dlinfo, "GLIBC_2.3.3")
BCE4J_GLIBC_PIN(dlmopen, "GLIBC_2.3.4")
BCE4J_GLIBC_PIN(dlerror, "GLIBC_2.2.5")
BCE4J_GLIBC_PIN(dlclose, "GLIBC_2.2.5")
#undef BCE4J_GLIBC_PIN
#endif

#endif /* BCE4J_GLIBC_SYMBOL_PINS_H */
