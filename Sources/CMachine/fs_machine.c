#include "fs_machine.h"

#include <stdlib.h>  // defines __GLIBC__ on glibc systems
#include <string.h>
#include <strings.h>
#include <unistd.h>
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

/// The register tile of the sparse kernels: `__m512 a[S][R]`, R copies × S 16-wide strips. FS_TILE_FMA adds one
/// non-zero (weight row `row`, strip columns `column[0..<S]`, one value per copy in `v`): S weight loads, R
/// broadcasts, R·S fused multiply-adds.
#define FS_TILE_ZERO(R, S, a)                                                                                    \
    for (int s_ = 0; s_ < S; s_++)                                                                               \
        for (int r_ = 0; r_ < R; r_++) a[s_][r_] = _mm512_setzero_ps()
#define FS_TILE_FMA(R, S, a, row, column, v)                                                                     \
    do {                                                                                                         \
        __m512 w_[S];                                                                                            \
        for (int s_ = 0; s_ < S; s_++) w_[s_] = _mm512_loadu_ps((row) + (column)[s_]);                           \
        for (int r_ = 0; r_ < R; r_++) {                                                                         \
            const __m512 g_ = _mm512_set1_ps((v)[r_]);                                                          \
            for (int s_ = 0; s_ < S; s_++) a[s_][r_] = _mm512_fmadd_ps(g_, w_[s_], a[s_][r_]);                   \
        }                                                                                                        \
    } while (0)
#define FS_TILE_STORE(R, S, a, acc)                                                                              \
    for (int s_ = 0; s_ < S; s_++)                                                                               \
        for (int r_ = 0; r_ < R; r_++) (acc)[s_ * R + r_] = a[s_][r_]

/// R copies (rows of `values`) × S 16-wide strips at weight columns j[0..<S], accumulated over the `count`
/// non-zeros. Two strips (20 accumulators for 10 copies) keep the FMA units busier than the load ports; one
/// strip did 11 loads per 10 FMAs.
#define FS_STRIPS(R, S)                                                                                          \
    __attribute__((target("avx512f"))) static void strips##R##x##S(const float *values, long stride,            \
                                                                   const int32_t *rows, long count,             \
                                                                   const float *weights, long row_length,       \
                                                                   const long *j, __m512 *acc) {                \
        __m512 a[S][R];                                                                                          \
        FS_TILE_ZERO(R, S, a);                                                                                   \
        for (long i = 0; i < count; i++)                                                                         \
            FS_TILE_FMA(R, S, a, weights + (long)rows[i] * row_length, j, values + i * stride);                  \
        FS_TILE_STORE(R, S, a, acc);                                                                             \
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/// R copies × S 16-wide strips (columns j + 16·s of every tap) of one input pixel, summed over the
/// entries of its `n_taps` contributing output positions: R·S accumulators stay in registers across all
/// taps and are stored once, where the scatter added its partial sums into memory once per position.
#define FS_GATHER(R, S)                                                                                          \
    __attribute__((target("avx512f"))) static void gather##R##x##S(                                               \
        const float *values, long stride, const int32_t *rows, const int32_t *start, const float *weights,       \
        long row_length, long tap_width, const long *taps, const long *positions, int n_taps, long j,            \
        __m512 *acc) {                                                                                           \
        static const long strips[2] = {0, 16};                                                                   \
        __m512 a[S][R];                                                                                          \
        FS_TILE_ZERO(R, S, a);                                                                                   \
        for (int t = 0; t < n_taps; t++) {                                                                       \
            const float *column = weights + taps[t] * tap_width + j;                                             \
            const long last = start[positions[t] + 1];                                                           \
            for (long i = start[positions[t]]; i < last; i++) {                                                  \
                if (i + 6 < last) {                                                                              \
                    const float *ahead = column + (long)rows[i + 6] * row_length;                                \
                    _mm_prefetch((const char *)ahead, _MM_HINT_T0);                                              \
                    _mm_prefetch((const char *)(ahead + 16 * S - 1), _MM_HINT_T0);                               \
                }                                                                                                \
                FS_TILE_FMA(R, S, a, column + (long)rows[i] * row_length, strips, values + i * stride);          \
            }                                                                                                    \
        }                                                                                                        \
        FS_TILE_STORE(R, S, a, acc);                                                                             \
    }
FS_GATHER(10, 2)
FS_GATHER(5, 2)

__attribute__((target("avx512f"))) static void gather512(const float *values, long stride, long copies,
                                                         const int32_t *rows, const int32_t *start,
                                                         const float *weights, long row_length, long tap_width,
                                                         long k, long pad, long h, long w, long oh, long ow,
                                                         float *out, long pixel_stride, long copy_stride) {
    long taps[64], positions[64];  // k*k <= 64, checked by the caller
    __m512 acc[20];
    for (long iy = 0; iy < h; iy++)
        for (long ix = 0; ix < w; ix++) {
            // Output positions (i, j) whose tap (p, q) lands on this pixel: i = iy - p + pad (stride 1).
            int n_taps = 0;
            for (long p = 0; p < k; p++) {
                const long i = iy - p + pad;
                if (i < 0 || i >= oh) continue;
                for (long q = 0; q < k; q++) {
                    const long j = ix - q + pad;
                    if (j < 0 || j >= ow || start[i * ow + j] == start[i * ow + j + 1]) continue;
                    taps[n_taps] = p * k + q;
                    positions[n_taps++] = i * ow + j;
                }
            }
            float *pixel = out + (iy * w + ix) * pixel_stride;
            for (long j = 0; j < tap_width; j += 32)
                for (long k0 = 0; k0 < copies;) {
                    const int ten = k0 + 10 <= stride, rows_here = ten ? 10 : 5;
                    if (ten) gather10x2(values + k0, stride, rows, start, weights, row_length, tap_width, taps, positions, n_taps, j, acc);
                    else gather5x2(values + k0, stride, rows, start, weights, row_length, tap_width, taps, positions, n_taps, j, acc);
                    for (int r = 0; r < rows_here && k0 + r < copies; r++) {
                        float *dst = pixel + (k0 + r) * copy_stride + j;
                        _mm512_storeu_ps(dst, acc[r]);
                        _mm512_storeu_ps(dst + 16, acc[rows_here + r]);
                    }
                    k0 += rows_here;
                }
        }
}

/// One 8×8 block: rows of `s` (`ss` apart) become columns of `d` (`ds` apart), in registers.
__attribute__((target("avx2"))) static inline void transpose8x8(const float *s, long ss, float *d, long ds) {
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * ss);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(d + i * ds, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(d + (i + 4) * ds, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

/// One 4×4 block of 64-bit elements (complex floats): rows of `s` (`ss` apart) become columns of `d`.
__attribute__((target("avx2"))) static inline void transpose4x4x64(const float *s, long ss, float *d, long ds) {
    __m256d r[4];
    for (int i = 0; i < 4; i++) r[i] = _mm256_loadu_pd((const double *)(s + 2 * i * ss));
    const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    _mm256_storeu_pd((double *)d, _mm256_permute2f128_pd(t0, t2, 0x20));
    _mm256_storeu_pd((double *)(d + 2 * ds), _mm256_permute2f128_pd(t1, t3, 0x20));
    _mm256_storeu_pd((double *)(d + 4 * ds), _mm256_permute2f128_pd(t0, t2, 0x31));
    _mm256_storeu_pd((double *)(d + 6 * ds), _mm256_permute2f128_pd(t1, t3, 0x31));
}

/// Register-block transposes (B×B elements of `width` floats) in 64×64-element tiles, so a tile's source rows
/// stay in L1 while its columns are written; ragged edges element by element.
#define FS_TRANSPOSE(NAME, B, WIDTH, BLOCK)                                                                   \
    __attribute__((target("avx2"))) static void NAME(const float *src, long rows, long columns, long ss,    \
                                                     float *dst, long ds) {                                 \
        const long tile = 64;                                                                                \
        for (long i0 = 0; i0 < rows; i0 += tile)                                                             \
            for (long j0 = 0; j0 < columns; j0 += tile) {                                                    \
                const long i1 = i0 + tile < rows ? i0 + tile : rows;                                         \
                const long j1 = j0 + tile < columns ? j0 + tile : columns;                                   \
                long i = i0;                                                                                 \
                for (; i + B <= i1; i += B) {                                                                \
                    long j = j0;                                                                             \
                    for (; j + B <= j1; j += B) BLOCK(src + WIDTH * (i * ss + j), ss, dst + WIDTH * (j * ds + i), ds); \
                    for (; j < j1; j++)                                                                      \
                        for (long k = i; k < i + B; k++)                                                     \
                            for (int e = 0; e < WIDTH; e++) dst[WIDTH * (j * ds + k) + e] = src[WIDTH * (k * ss + j) + e]; \
                }                                                                                            \
                for (; i < i1; i++)                                                                          \
                    for (long j = j0; j < j1; j++)                                                           \
                        for (int e = 0; e < WIDTH; e++) dst[WIDTH * (j * ds + i) + e] = src[WIDTH * (i * ss + j) + e]; \
            }                                                                                                \
    }
FS_TRANSPOSE(transpose256, 8, 1, transpose8x8)
FS_TRANSPOSE(transpose256x64, 4, 2, transpose4x4x64)
#endif

int fs_transpose(const float *src, long rows, long columns, long src_stride, float *dst, long dst_stride,
                 int complex) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!__builtin_cpu_supports("avx2")) return 0;
    if (complex) transpose256x64(src, rows, columns, src_stride, dst, dst_stride);
    else transpose256(src, rows, columns, src_stride, dst, dst_stride);
    return 1;
#else
    (void)src; (void)rows; (void)columns; (void)src_stride; (void)dst; (void)dst_stride; (void)complex;
    return 0;
#endif
}


/// 1 when FSWEEP_ISA is "avx2" (any case): the AVX-512 paths are then never taken.
static int avx2_forced(void) {
    const char *isa = getenv("FSWEEP_ISA");
    return isa && strcasecmp(isa, "avx2") == 0;
}

int fs_has_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    static int cached = -1;  // a race only writes the same value twice
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && !avx2_forced() ? 1 : 0;
    }
    return cached;
#else
    return 0;
#endif
}

int fs_sparse_gather(const float *values, long stride, long copies, const int32_t *rows, const int32_t *start,
                     const float *weights, long row_length, long tap_width, long k, long pad, long h, long w,
                     long oh, long ow, float *out, long pixel_stride, long copy_stride) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!fs_has_avx512() || tap_width % 32 != 0 || stride % 5 != 0 || k * k > 64) return 0;
    gather512(values, stride, copies, rows, start, weights, row_length, tap_width, k, pad, h, w, oh, ow, out,
              pixel_stride, copy_stride);
    return 1;
#else
    (void)values; (void)stride; (void)copies; (void)rows; (void)start; (void)weights; (void)row_length;
    (void)tap_width; (void)k; (void)pad; (void)h; (void)w; (void)oh; (void)ow; (void)out; (void)pixel_stride;
    (void)copy_stride;
    return 0;
#endif
}

int fs_sparse_scatter(const float *values, long stride, long copies, const int32_t *rows, long count,
                      const float *weights, long row_length, long tap_width, const int64_t *targets,
                      float *out, long copy_stride) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (!fs_has_avx512() || tap_width % 16 != 0 || row_length % 16 != 0 || stride % 5 != 0) return 0;
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
    if (fs_has_avx512()) { *lanes = 16; return chain512(iterations); }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) { *lanes = 8; return chain256(iterations); }
#endif
    *lanes = 4;
    return chain128(iterations);
}

#if defined(__linux__)
/// FSWEEP_ISA=avx2 for the libraries too: OpenBLAS picks its kernels in its own constructor, before any code of
/// ours runs, from OPENBLAS_CORETYPE; oneDNN reads ONEDNN_MAX_CPU_ISA. When FSWEEP_ISA=avx2 is set and they are
/// not, this constructor sets both (Haswell, AVX2) and executes the program again, once, with the same arguments.
__attribute__((constructor)) static void fs_apply_isa(int argc, char **argv) {
    (void)argc;
    if (!avx2_forced() || getenv("OPENBLAS_CORETYPE") || !argv || !argv[0]) return;
    setenv("OPENBLAS_CORETYPE", "Haswell", 1);
    if (!getenv("ONEDNN_MAX_CPU_ISA")) setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
    execv("/proc/self/exe", argv);  // returns only on failure: then the libraries keep their choice
}
#endif

int fs_keep_freed_memory(void) {
#if defined(__GLIBC__)
    int ok = mallopt(M_MMAP_MAX, 0);              // no mmap-backed blocks: freed tensors stay reusable
    ok &= mallopt(M_TRIM_THRESHOLD, 0x7fffffff);  // never give the heap top back
    return ok;
#else
    return 0;
#endif
}
