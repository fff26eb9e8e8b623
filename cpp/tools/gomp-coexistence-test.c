/*
 * Two OpenMP runtimes in one process: the bundled pair (libbce4j + libgomp-bce4j.so.1, from
 * cpp/tools/bundle-natives.sh) and another libgomp.so.1 (the system's, as libtorch or an OpenMP application brings
 * it). Built and run by cpp/tools/gomp-coexistence-test.sh, which also shows the symbol bindings (LD_DEBUG).
 *
 *   gomp-coexistence-test LIBBCE4J OTHER_LIBGOMP other-first|bce4j-first|other-local-first
 *
 * Both are dlopened with RTLD_NOW | RTLD_GLOBAL in the order given (other-local-first: the other libgomp with
 * RTLD_LOCAL, as the JVM's System.load opens a library). Then, in the main thread:
 *   - each runtime's omp_get_max_threads after omp_set_num_threads(3) on the other one only: separate ICVs mean two
 *     separate runtimes;
 *   - which runtime libbce4j's parallel regions run on, from the threads each runtime starts: a libgomp keeps the
 *     workers of a master thread's last team, so a region on a runtime that has already run a 3-thread team here
 *     starts no thread, and one on the other runtime starts one (num_threads 2);
 * and then, concurrently, one thread running 3-thread regions on the other runtime and two threads calling
 * bce4j_bce_with_logits with num_threads 2 on 1M float32 elements, whose loss must equal a single-thread call
 * bit for bit (libbce4j's reduction order does not depend on the thread count).
 * Exit status 0 when all of that holds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bce4j/bce4j.h"

typedef void (*gomp_parallel_fn)(void (*)(void*), void*, unsigned, unsigned);
typedef int (*omp_int_fn)(void);
typedef void (*omp_set_fn)(int);
typedef void (*options_init_fn)(bce4j_options*);
typedef bce4j_status (*bce_with_logits_fn)(const bce4j_options*, bce4j_dtype, int, const int64_t*, const void*,
                                           const void*, const void*, void*, double*, void*, void*);

static gomp_parallel_fn other_gomp_parallel;
static omp_int_fn other_thread_num, other_max_threads, bundled_max_threads;
static omp_set_fn other_set_num_threads;
static options_init_fn options_init;
static bce_with_logits_fn bce_with_logits;

enum { ELEMENTS = 1 << 20, ROUNDS = 100 };
static float* logits;
static float* labels;
static double reference_loss;
static int failures;
static pthread_mutex_t failures_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char* what) {
    pthread_mutex_lock(&failures_lock);
    ++failures;
    fprintf(stderr, "FAIL: %s\n", what);
    pthread_mutex_unlock(&failures_lock);
}

static void* need(void* handle, const char* name) {
    void* p = dlsym(handle, name);
    if (!p) {
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
        exit(2);
    }
    return p;
}

static int thread_count(void) {
    DIR* d = opendir("/proc/self/task");
    int n = 0;
    struct dirent* e;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static int list_runtime(struct dl_phdr_info* info, size_t size, void* data) {
    (void)size;
    (void)data;
    if (strstr(info->dlpi_name, "libgomp")) printf("  loaded: %s\n", info->dlpi_name);
    return 0;
}

struct team_tally {
    int members;
    int id_sum;
};

static void count_member(void* data) {
    struct team_tally* t = data;
    __atomic_add_fetch(&t->members, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&t->id_sum, other_thread_num(), __ATOMIC_RELAXED);
}

static int other_region(void) { /* a 3-thread team on the other runtime: 1 if it had 3 members 0, 1, 2 */
    struct team_tally t = {0, 0};
    other_gomp_parallel(count_member, &t, 3, 0);
    return t.members == 3 && t.id_sum == 3;
}

static double loss_with(int threads) {
    bce4j_options options;
    const int64_t shape[1] = {ELEMENTS};
    double loss = NAN;
    options_init(&options);
    options.num_threads = threads;
    if (bce_with_logits(&options, BCE4J_FLOAT32, 1, shape, logits, labels, NULL, NULL, &loss, NULL, NULL) != BCE4J_OK) {
        fail("bce4j_bce_with_logits returned an error");
    }
    return loss;
}

static void* other_runtime_worker(void* arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; ++i) {
        if (!other_region()) fail("a team on the other runtime was not 3 threads 0, 1, 2");
    }
    return NULL;
}

static void* bce4j_worker(void* arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; ++i) {
        if (loss_with(2) != reference_loss) fail("a 2-thread loss differs from the 1-thread loss");
    }
    return NULL;
}

int main(int argc, char** argv) {
    if (argc != 4 ||
        (strcmp(argv[3], "other-first") && strcmp(argv[3], "bce4j-first") && strcmp(argv[3], "other-local-first"))) {
        fprintf(stderr, "usage: %s LIBBCE4J OTHER_LIBGOMP other-first|bce4j-first|other-local-first\n", argv[0]);
        return 2;
    }
    const int other_local = strcmp(argv[3], "other-local-first") == 0;
    const int other_first = other_local || strcmp(argv[3], "other-first") == 0;
    void* first = dlopen(other_first ? argv[2] : argv[1], RTLD_NOW | (other_local ? RTLD_LOCAL : RTLD_GLOBAL));
    if (!first) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    void* second = dlopen(other_first ? argv[1] : argv[2], RTLD_NOW | RTLD_GLOBAL);
    if (!second) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    void* bce4j = other_first ? second : first;
    void* other = other_first ? first : second;
    /* The bundled runtime, found by its SONAME among the loaded objects. */
    void* bundled = dlopen("libgomp-bce4j.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (!bundled) {
        fprintf(stderr, "libgomp-bce4j.so.1 is not loaded: %s\n", dlerror());
        return 2;
    }

    other_gomp_parallel = (gomp_parallel_fn)need(other, "GOMP_parallel");
    other_thread_num = (omp_int_fn)need(other, "omp_get_thread_num");
    other_max_threads = (omp_int_fn)need(other, "omp_get_max_threads");
    other_set_num_threads = (omp_set_fn)need(other, "omp_set_num_threads");
    bundled_max_threads = (omp_int_fn)need(bundled, "omp_get_max_threads");
    options_init = (options_init_fn)need(bce4j, "bce4j_options_init");
    bce_with_logits = (bce_with_logits_fn)need(bce4j, "bce4j_bce_with_logits");

    printf("order: %s, %s\n", argv[3],
           other_local ? "the other RTLD_NOW | RTLD_LOCAL, libbce4j RTLD_NOW | RTLD_GLOBAL"
                       : "both RTLD_NOW | RTLD_GLOBAL");
    dl_iterate_phdr(list_runtime, NULL);

    const int bundled_default = bundled_max_threads();
    other_set_num_threads(3);
    printf("omp_get_max_threads after omp_set_num_threads(3) on the other runtime: other %d, bundled %d\n",
           other_max_threads(), bundled_max_threads());
    if (other_max_threads() != 3 || bundled_max_threads() != bundled_default) fail("the two runtimes share ICVs");

    logits = malloc(sizeof(float) * ELEMENTS);
    labels = malloc(sizeof(float) * ELEMENTS);
    for (int i = 0; i < ELEMENTS; ++i) {
        logits[i] = (float)((i % 2001) - 1000) / 100.0f;
        labels[i] = (float)((i * 7) % 3 == 0);
    }
    reference_loss = loss_with(1);

    /* Which runtime libbce4j's regions use: run a 3-thread team on the other runtime first, so that its pool holds
     * 2 workers of this thread; a 2-thread bce4j region on the same runtime then starts no thread. */
    const int before = thread_count();
    if (!other_region()) fail("a team on the other runtime was not 3 threads 0, 1, 2");
    const int after_other = thread_count();
    const double two = loss_with(2);
    const int after_bce4j = thread_count();
    printf("threads: %d at start, %d after a 3-thread team on the other runtime, %d after a 2-thread bce4j call\n",
           before, after_other, after_bce4j);
    printf("libbce4j's parallel regions ran on: %s\n",
           after_bce4j > after_other ? "a runtime of their own (started a thread): the bundled libgomp-bce4j.so.1"
                                     : "the other runtime (reused its workers)");
    if (two != reference_loss) fail("the 2-thread loss differs from the 1-thread loss");

    pthread_t a, b, c;
    pthread_create(&a, NULL, other_runtime_worker, NULL);
    pthread_create(&b, NULL, bce4j_worker, NULL);
    pthread_create(&c, NULL, bce4j_worker, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_join(c, NULL);
    printf(
        "concurrently: %d rounds of 3-thread teams on the other runtime and 2 x %d bce4j calls with "
        "num_threads 2 (loss %.17g): %s\n",
        ROUNDS, ROUNDS, reference_loss, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
