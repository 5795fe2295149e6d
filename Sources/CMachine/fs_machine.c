#include "fs_machine.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

__attribute__((target("avx512f"))) static float chain512(long n) {
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    __m512 r0 = _mm512_set1_ps(1), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0;
    __m512 r6 = r0, r7 = r0, r8 = r0, r9 = r0, r10 = r0, r11 = r0;
    for (long i = 0; i < n; i++) {
        r0 = _mm512_fmadd_ps(r0, m, a); r1 = _mm512_fmadd_ps(r1, m, a); r2 = _mm512_fmadd_ps(r2, m, a);
        r3 = _mm512_fmadd_ps(r3, m, a); r4 = _mm512_fmadd_ps(r4, m, a); r5 = _mm512_fmadd_ps(r5, m, a);
        r6 = _mm512_fmadd_ps(r6, m, a); r7 = _mm512_fmadd_ps(r7, m, a); r8 = _mm512_fmadd_ps(r8, m, a);
        r9 = _mm512_fmadd_ps(r9, m, a); r10 = _mm512_fmadd_ps(r10, m, a); r11 = _mm512_fmadd_ps(r11, m, a);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0, r1), _mm512_add_ps(r2, r3)),
                             _mm512_add_ps(_mm512_add_ps(r4, r5), _mm512_add_ps(r6, r7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(r8, r9), _mm512_add_ps(r10, r11)));
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float chain256(long n) {
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    __m256 r0 = _mm256_set1_ps(1), r1 = r0, r2 = r0, r3 = r0, r4 = r0, r5 = r0;
    __m256 r6 = r0, r7 = r0, r8 = r0, r9 = r0, r10 = r0, r11 = r0;
    for (long i = 0; i < n; i++) {
        r0 = _mm256_fmadd_ps(r0, m, a); r1 = _mm256_fmadd_ps(r1, m, a); r2 = _mm256_fmadd_ps(r2, m, a);
        r3 = _mm256_fmadd_ps(r3, m, a); r4 = _mm256_fmadd_ps(r4, m, a); r5 = _mm256_fmadd_ps(r5, m, a);
        r6 = _mm256_fmadd_ps(r6, m, a); r7 = _mm256_fmadd_ps(r7, m, a); r8 = _mm256_fmadd_ps(r8, m, a);
        r9 = _mm256_fmadd_ps(r9, m, a); r10 = _mm256_fmadd_ps(r10, m, a); r11 = _mm256_fmadd_ps(r11, m, a);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(r0, r1), _mm256_add_ps(r2, r3)),
                             _mm256_add_ps(_mm256_add_ps(r4, r5), _mm256_add_ps(r6, r7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(r8, r9), _mm256_add_ps(r10, r11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}

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

// Portable fallback: 4-wide vectors through the compiler's vector extension (NEON, SSE, ...).
typedef float fs_v4 __attribute__((vector_size(16)));
static float chain128(long n) {
    const fs_v4 m = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, a = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
    fs_v4 r[12];
    for (int j = 0; j < 12; j++) r[j] = (fs_v4){1, 1, 1, 1};
    for (long i = 0; i < n; i++)
        for (int j = 0; j < 12; j++) r[j] = r[j] * m + a;
    fs_v4 s = r[0];
    for (int j = 1; j < 12; j++) s += r[j];
    return s[0] + s[1] + s[2] + s[3];
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
