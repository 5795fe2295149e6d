#include "fs_machine.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/// `n` rounds of 12 independent `r = r·m + a` on LANES-float vectors (the compiler's vector extension;
/// under an FMA target each line is one fused multiply-add), reduced so no result is dead.
#define FS_CHAIN(NAME, LANES, ATTRIBUTES)                                                  \
    ATTRIBUTES static float NAME(long n) {                                                 \
        typedef float vec __attribute__((vector_size(4 * LANES)));                         \
        const vec m = (vec){0} + 0.999999f, a = (vec){0} + 1e-7f;                          \
        vec r[12];                                                                         \
        for (int j = 0; j < 12; j++) r[j] = (vec){0} + 1;                                  \
        for (long i = 0; i < n; i++)                                                       \
            for (int j = 0; j < 12; j++) r[j] = r[j] * m + a;                              \
        vec s = r[0];                                                                      \
        for (int j = 1; j < 12; j++) s += r[j];                                            \
        float total = 0;                                                                   \
        for (int l = 0; l < LANES; l++) total += s[l];                                     \
        return total;                                                                      \
    }

// Portable fallback: 4-wide vectors (NEON, SSE, ...).
FS_CHAIN(chain128, 4, )

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

FS_CHAIN(chain512, 16, __attribute__((target("avx512f"))))
FS_CHAIN(chain256, 8, __attribute__((target("avx2,fma"))))

/// R copies (rows of `values`) × one 16-wide strip, accumulated over the `count` non-zeros.
#define FS_STRIP(R)                                                                                              \
    __attribute__((target("avx512f"))) static void strip##R(const float *values, long stride, const int32_t *rows, \
                                                            long count, const float *weights, long row_length,    \
                                                            long j, __m512 *acc) {                                \
        __m512 a[R];                                                                                             \
        for (int r = 0; r < R; r++) a[r] = _mm512_setzero_ps();                                                  \
        for (long i = 0; i < count; i++) {                                                                       \
            const __m512 w = _mm512_loadu_ps(weights + (long)rows[i] * row_length + j);                          \
            const float *v = values + i * stride;                                                                 \
            for (int r = 0; r < R; r++) a[r] = _mm512_fmadd_ps(_mm512_set1_ps(v[r]), w, a[r]);                   \
        }                                                                                                        \
        for (int r = 0; r < R; r++) acc[r] = a[r];                                                               \
    }
FS_STRIP(10)
FS_STRIP(5)

__attribute__((target("avx512f"))) static void scatter512(const float *values, long stride, long copies,
                                                          const int32_t *rows, long count, const float *weights,
                                                          long row_length, long tap_width, const int64_t *targets,
                                                          float *out, long copy_stride) {
    __m512 acc[10];
    for (long j = 0; j + 16 <= row_length; j += 16) {
        const int64_t target = targets[j / tap_width];
        if (target < 0) continue;
        const long offset = target + j % tap_width;
        for (long k0 = 0; k0 < copies;) {
            const int rows_here = k0 + 10 <= stride ? 10 : 5;
            if (rows_here == 10) strip10(values + k0, stride, rows, count, weights, row_length, j, acc);
            else strip5(values + k0, stride, rows, count, weights, row_length, j, acc);
            for (int r = 0; r < rows_here && k0 + r < copies; r++) {
                float *p = out + (k0 + r) * copy_stride + offset;
                _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[r]));
            }
            k0 += rows_here;
        }
    }
}
#endif

int fs_sparse_scatter(const float *values, long stride, long copies, const int32_t *rows, long count,
                      const float *weights, long row_length, long tap_width, const int64_t *targets,
                      float *out, long copy_stride) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!__builtin_cpu_supports("avx512f") || tap_width % 16 != 0 || row_length % 16 != 0 || stride % 5 != 0) return 0;
    scatter512(values, stride, copies, rows, count, weights, row_length, tap_width, targets, out, copy_stride);
    return 1;
#else
    (void)values; (void)stride; (void)copies; (void)rows; (void)count; (void)weights; (void)row_length;
    (void)tap_width; (void)targets; (void)out; (void)copy_stride;
    return 0;
#endif
}

float fs_fma_chain(long iterations, int *lanes) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) { *lanes = 16; return chain512(iterations); }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { *lanes = 8; return chain256(iterations); }
#endif
    *lanes = 4;
    return chain128(iterations);
}

int fs_keep_freed_memory(void) {
#if defined(__GLIBC__)
    int ok = mallopt(M_MMAP_MAX, 0);              // no mmap-backed blocks: freed tensors stay reusable
    ok &= mallopt(M_TRIM_THRESHOLD, 0x7fffffff);  // never give the heap top back
    return ok;
#else
    return 0;
#endif
}
