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

/// R copies (rows of `values`) × S 16-wide strips at weight columns j[0..<S], accumulated over the `count`
/// non-zeros: R·S accumulators in registers, S weight loads and R broadcasts per non-zero. Two strips
/// (20 accumulators for 10 copies) keep the FMA units busier than the load ports; one strip did 11
/// loads per 10 FMAs.
#define FS_STRIPS(R, S)                                                                                          \
    __attribute__((target("avx512f"))) static void strips##R##x##S(const float *values, long stride,            \
                                                                   const int32_t *rows, long count,             \
                                                                   const float *weights, long row_length,       \
                                                                   const long *j, __m512 *acc) {                \
        __m512 a[S][R];                                                                                          \
        for (int s = 0; s < S; s++)                                                                              \
            for (int r = 0; r < R; r++) a[s][r] = _mm512_setzero_ps();                                           \
        for (long i = 0; i < count; i++) {                                                                       \
            const float *row = weights + (long)rows[i] * row_length;                                             \
            __m512 w[S];                                                                                         \
            for (int s = 0; s < S; s++) w[s] = _mm512_loadu_ps(row + j[s]);                                      \
            const float *v = values + i * stride;                                                                 \
            for (int r = 0; r < R; r++) {                                                                        \
                const __m512 g = _mm512_set1_ps(v[r]);                                                           \
                for (int s = 0; s < S; s++) a[s][r] = _mm512_fmadd_ps(g, w[s], a[s][r]);                         \
            }                                                                                                    \
        }                                                                                                        \
        for (int s = 0; s < S; s++)                                                                              \
            for (int r = 0; r < R; r++) acc[s * R + r] = a[s][r];                                                \
    }
FS_STRIPS(10, 2)
FS_STRIPS(10, 1)
FS_STRIPS(5, 2)
FS_STRIPS(5, 1)

/// Adds the accumulators of `strips` strips (columns j[s], pixel offsets offset[s]) for copies k0..<k0+rows
/// (those below `copies`) into `out`.
__attribute__((target("avx512f"))) static void add_strips(const __m512 *acc, int rows, int strips, long k0, long copies,
                                                          const long *offset, float *out, long copy_stride) {
    for (int s = 0; s < strips; s++)
        for (int r = 0; r < rows && k0 + r < copies; r++) {
            float *p = out + (k0 + r) * copy_stride + offset[s];
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[s * rows + r]));
        }
}

/// One group of 1 or 2 strips for every copy, 10 (or 5) copies per pass.
__attribute__((target("avx512f"))) static void scatter_strips(const float *values, long stride, long copies,
                                                              const int32_t *rows, long count, const float *weights,
                                                              long row_length, const long *j, const long *offset,
                                                              int strips, float *out, long copy_stride) {
    __m512 acc[20];
    for (long k0 = 0; k0 < copies;) {
        const int ten = k0 + 10 <= stride;
        const float *v = values + k0;
        if (ten && strips == 2) strips10x2(v, stride, rows, count, weights, row_length, j, acc);
        else if (ten) strips10x1(v, stride, rows, count, weights, row_length, j, acc);
        else if (strips == 2) strips5x2(v, stride, rows, count, weights, row_length, j, acc);
        else strips5x1(v, stride, rows, count, weights, row_length, j, acc);
        add_strips(acc, ten ? 10 : 5, strips, k0, copies, offset, out, copy_stride);
        k0 += ten ? 10 : 5;
    }
}

__attribute__((target("avx512f"))) static void scatter512(const float *values, long stride, long copies,
                                                          const int32_t *rows, long count, const float *weights,
                                                          long row_length, long tap_width, const int64_t *targets,
                                                          float *out, long copy_stride) {
    // The strips whose tap lands inside the image, taken two at a time (any two: each has its own offset).
    long j[2], offset[2];
    int pending = 0;
    for (long column = 0; column + 16 <= row_length; column += 16) {
        const int64_t target = targets[column / tap_width];
        if (target < 0) continue;
        j[pending] = column;
        offset[pending] = target + column % tap_width;
        if (++pending == 2) {
            scatter_strips(values, stride, copies, rows, count, weights, row_length, j, offset, 2, out, copy_stride);
            pending = 0;
        }
    }
    if (pending) scatter_strips(values, stride, copies, rows, count, weights, row_length, j, offset, 1, out, copy_stride);
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
