// Winograd F(4×4, 3×3) transforms; see include/fs_winograd.h for the math, layouts and rounding.
#include "fs_winograd.h"
#include "fs_machine.h"

#include <string.h>

// ---- Filter transforms, vectorized over output channels (the weights arrive transposed, [c][9][o]) ----

/// u = G g (3 → 6): the filter's interpolation at 0, 1, −1, 2, −2 and ∞ (with Lavin's scalings). Products with
/// the reciprocals, not divisions.
#define FILTER_1D(g, u)                                                                            \
    do {                                                                                           \
        u[0] = g[0] * (1.0f / 4);                                                                  \
        u[1] = -(g[0] + g[1] + g[2]) * (1.0f / 6);                                                 \
        u[2] = -(g[0] - g[1] + g[2]) * (1.0f / 6);                                                 \
        u[3] = g[0] * (1.0f / 24) + g[1] * (1.0f / 12) + g[2] * (1.0f / 6);                        \
        u[4] = g[0] * (1.0f / 24) - g[1] * (1.0f / 12) + g[2] * (1.0f / 6);                        \
        u[5] = g[2];                                                                               \
    } while (0)
/// g = Gᵀ u (6 → 3), the adjoint of FILTER_1D.
#define FILTER_ADJ_1D(u, g)                                                                        \
    do {                                                                                           \
        g[0] = u[0] * (1.0f / 4) - (u[1] + u[2]) * (1.0f / 6) + (u[3] + u[4]) * (1.0f / 24);       \
        g[1] = (u[2] - u[1]) * (1.0f / 6) + (u[3] - u[4]) * (1.0f / 12);                           \
        g[2] = (u[3] + u[4] - u[1] - u[2]) * (1.0f / 6) + u[5];                                    \
    } while (0)

/// Both filter transforms for elements of type T (a float or a vector of LANES floats), over output channels
/// oi = o0, o0 + LANES, ... < o1.
#define FS_FILTER_KERNELS(SUFFIX, T, LANES, ATTRIBUTES)                                            \
    ATTRIBUTES static void filter##SUFFIX(const float *wt, long o, long c, long c0, long c1, long o0, \
                                          long o1, float *u) {                                     \
        for (long ci = c0; ci < c1; ci++)                                                          \
            for (long oi = o0; oi + LANES <= o1; oi += LANES) {                                    \
                T g[9], t[6][3], col[3], out[6];                                                   \
                for (int k = 0; k < 9; k++) g[k] = *(const T *)(wt + (ci * 9 + k) * o + oi);       \
                for (int j = 0; j < 3; j++) {                                                      \
                    col[0] = g[j]; col[1] = g[3 + j]; col[2] = g[6 + j];                           \
                    FILTER_1D(col, out);                                                           \
                    for (int r = 0; r < 6; r++) t[r][j] = out[r];                                  \
                }                                                                                  \
                for (int r = 0; r < 6; r++) {                                                      \
                    FILTER_1D(t[r], out);                                                          \
                    for (int s = 0; s < 6; s++) *(T *)(u + ((r * 6 + s) * c + ci) * o + oi) = out[s]; \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
    ATTRIBUTES static void filter_adjoint##SUFFIX(const float *du, long o, long c, long c0, long c1, \
                                                  long o0, long o1, float *dwt) {                  \
        for (long ci = c0; ci < c1; ci++)                                                          \
            for (long oi = o0; oi + LANES <= o1; oi += LANES) {                                    \
                T t[6][3], row[6], g[3];                                                           \
                for (int r = 0; r < 6; r++) {                                                      \
                    for (int s = 0; s < 6; s++) row[s] = *(const T *)(du + ((r * 6 + s) * c + ci) * o + oi); \
                    FILTER_ADJ_1D(row, t[r]);                                                      \
                }                                                                                  \
                for (int j = 0; j < 3; j++) {                                                      \
                    for (int r = 0; r < 6; r++) row[r] = t[r][j];                                  \
                    FILTER_ADJ_1D(row, g);                                                         \
                    for (int i = 0; i < 3; i++) *(T *)(dwt + (ci * 9 + i * 3 + j) * o + oi) = g[i]; \
                }                                                                                  \
            }                                                                                      \
    }

typedef float fs_scalar;
FS_FILTER_KERNELS(_1, fs_scalar, 1, )

// ---- Tile transforms, vectorized over channels: one copy per vector width ----
//
// Each 2-D transform applies its 1-D transform to the columns of the tile and then to the rows. The 1-D
// transforms are written as macros over any vector type (the compiler's vector extension, FMA-contracted under
// the target attribute).

/// t = Bᵀ d (6 → 6).
#define IN_1D(d, t)                                                                                \
    do {                                                                                           \
        t[0] = 4 * d[0] - 5 * d[2] + d[4];                                                         \
        t[1] = -4 * (d[1] + d[2]) + d[3] + d[4];                                                   \
        t[2] = 4 * (d[1] - d[2]) - d[3] + d[4];                                                    \
        t[3] = 2 * (d[3] - d[1]) - d[2] + d[4];                                                    \
        t[4] = 2 * (d[1] - d[3]) - d[2] + d[4];                                                    \
        t[5] = 4 * d[1] - 5 * d[3] + d[5];                                                         \
    } while (0)
/// d = B t, the adjoint of IN_1D.
#define IN_ADJ_1D(t, d)                                                                            \
    do {                                                                                           \
        d[0] = 4 * t[0];                                                                           \
        d[1] = 4 * (t[2] - t[1] + t[5]) + 2 * (t[4] - t[3]);                                       \
        d[2] = -5 * t[0] - 4 * (t[1] + t[2]) - t[3] - t[4];                                        \
        d[3] = t[1] - t[2] + 2 * (t[3] - t[4]) - 5 * t[5];                                         \
        d[4] = t[0] + t[1] + t[2] + t[3] + t[4];                                                   \
        d[5] = t[5];                                                                               \
    } while (0)
/// y = Aᵀ m (6 → 4).
#define OUT_1D(m, y)                                                                               \
    do {                                                                                           \
        y[0] = m[0] + m[1] + m[2] + m[3] + m[4];                                                   \
        y[1] = m[1] - m[2] + 2 * (m[3] - m[4]);                                                    \
        y[2] = m[1] + m[2] + 4 * (m[3] + m[4]);                                                    \
        y[3] = m[1] - m[2] + 8 * (m[3] - m[4]) + m[5];                                             \
    } while (0)
/// m = A y, the adjoint of OUT_1D (4 → 6).
#define OUT_ADJ_1D(y, m)                                                                           \
    do {                                                                                           \
        m[0] = y[0];                                                                               \
        m[1] = y[0] + y[1] + y[2] + y[3];                                                          \
        m[2] = y[0] - y[1] + y[2] - y[3];                                                          \
        m[3] = y[0] + 2 * y[1] + 4 * y[2] + 8 * y[3];                                              \
        m[4] = y[0] - 2 * y[1] + 4 * y[2] - 8 * y[3];                                              \
        m[5] = y[3];                                                                               \
    } while (0)

/// The four tile kernels for LANES-float vectors (`vf`, unaligned loads and stores through the aligned(4) type).
#define FS_WINO_KERNELS(SUFFIX, LANES, ATTRIBUTES)                                                 \
    typedef float vf##SUFFIX __attribute__((vector_size(4 * LANES), aligned(4)));                 \
                                                                                                   \
    ATTRIBUTES static void input##SUFFIX(const float *xp, long c, long ty, long tx, float *v,     \
                                         long xs, long ld, long t0) {                              \
        typedef vf##SUFFIX V;                                                                      \
        const long pw = 4 * tx + 2;                                                                \
        for (long a = 0; a < ty; a++)                                                              \
            for (long b = 0; b < tx; b++) {                                                        \
                const float *src = xp + ((4 * a) * pw + 4 * b) * c;                               \
                float *dst = v + (t0 + a * tx + b) * ld;                                           \
                for (long ch = 0; ch < c; ch += LANES) {                                           \
                    V tmp[6][6];                                                                   \
                    for (int j = 0; j < 6; j++) {                                                  \
                        V d[6], t[6];                                                              \
                        for (int i = 0; i < 6; i++) d[i] = *(const V *)(src + (i * pw + j) * c + ch); \
                        IN_1D(d, t);                                                               \
                        for (int r = 0; r < 6; r++) tmp[r][j] = t[r];                             \
                    }                                                                              \
                    for (int r = 0; r < 6; r++) {                                                  \
                        V t[6];                                                                    \
                        IN_1D(tmp[r], t);                                                          \
                        for (int s = 0; s < 6; s++) *(V *)(dst + (r * 6 + s) * xs + ch) = t[s];    \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
                                                                                                   \
    ATTRIBUTES static void input_adjoint##SUFFIX(const float *dv, long xs, long ld, long t0, long c, \
                                                 long ty, long tx, float *dxp) {                  \
        typedef vf##SUFFIX V;                                                                      \
        const long pw = 4 * tx + 2;                                                                \
        for (long a = 0; a < ty; a++)                                                              \
            for (long b = 0; b < tx; b++) {                                                        \
                const float *src = dv + (t0 + a * tx + b) * ld;                                    \
                float *dst = dxp + ((4 * a) * pw + 4 * b) * c;                                    \
                for (long ch = 0; ch < c; ch += LANES) {                                           \
                    V tmp[6][6];                                                                   \
                    for (int r = 0; r < 6; r++) {                                                  \
                        V t[6], d[6];                                                              \
                        for (int s = 0; s < 6; s++) t[s] = *(const V *)(src + (r * 6 + s) * xs + ch); \
                        IN_ADJ_1D(t, d);                                                           \
                        for (int j = 0; j < 6; j++) tmp[r][j] = d[j];                             \
                    }                                                                              \
                    for (int j = 0; j < 6; j++) {                                                  \
                        V t[6], d[6];                                                              \
                        for (int r = 0; r < 6; r++) t[r] = tmp[r][j];                             \
                        IN_ADJ_1D(t, d);                                                           \
                        for (int i = 0; i < 6; i++) {                                              \
                            V *p = (V *)(dst + (i * pw + j) * c + ch);                             \
                            *p += d[i];                                                            \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
                                                                                                   \
    ATTRIBUTES static void output##SUFFIX(const float *m, long xs, long ld, long t0, long o,      \
                                          const float *bias, long ty, long tx, long h, long w,    \
                                          float *y) {                                              \
        typedef vf##SUFFIX V;                                                                      \
        for (long a = 0; a < ty; a++)                                                              \
            for (long b = 0; b < tx; b++) {                                                        \
                const float *src = m + (t0 + a * tx + b) * ld;                                     \
                const long rows = h - 4 * a < 4 ? h - 4 * a : 4, cols = w - 4 * b < 4 ? w - 4 * b : 4; \
                for (long ch = 0; ch < o; ch += LANES) {                                           \
                    V tmp[4][6];                                                                   \
                    for (int s = 0; s < 6; s++) {                                                  \
                        V t[6], u[4];                                                              \
                        for (int r = 0; r < 6; r++) t[r] = *(const V *)(src + (r * 6 + s) * xs + ch); \
                        OUT_1D(t, u);                                                              \
                        for (int i = 0; i < 4; i++) tmp[i][s] = u[i];                             \
                    }                                                                              \
                    const V bv = bias ? *(const V *)(bias + ch) : (V){0};                          \
                    for (int i = 0; i < rows; i++) {                                               \
                        V u[4];                                                                    \
                        OUT_1D(tmp[i], u);                                                         \
                        for (int j = 0; j < cols; j++)                                             \
                            *(V *)(y + ((4 * a + i) * w + 4 * b + j) * o + ch) = u[j] + bv;        \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    }                                                                                              \
                                                                                                   \
    ATTRIBUTES static void output_adjoint##SUFFIX(const float *dy, long o, long ty, long tx,       \
                                                  float *dm, long xs, long ld, long t0) {          \
        typedef vf##SUFFIX V;                                                                      \
        const long pw = 4 * tx;                                                                    \
        for (long a = 0; a < ty; a++)                                                              \
            for (long b = 0; b < tx; b++) {                                                        \
                const float *src = dy + ((4 * a) * pw + 4 * b) * o;                               \
                float *dst = dm + (t0 + a * tx + b) * ld;                                          \
                for (long ch = 0; ch < o; ch += LANES) {                                           \
                    V tmp[6][4];                                                                   \
                    for (int j = 0; j < 4; j++) {                                                  \
                        V u[4], t[6];                                                              \
                        for (int i = 0; i < 4; i++) u[i] = *(const V *)(src + (i * pw + j) * o + ch); \
                        OUT_ADJ_1D(u, t);                                                          \
                        for (int r = 0; r < 6; r++) tmp[r][j] = t[r];                             \
                    }                                                                              \
                    for (int r = 0; r < 6; r++) {                                                  \
                        V t[6];                                                                    \
                        OUT_ADJ_1D(tmp[r], t);                                                     \
                        for (int s = 0; s < 6; s++) *(V *)(dst + (r * 6 + s) * xs + ch) = t[s];    \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
    }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
FS_WINO_KERNELS(_16, 16, __attribute__((target("avx512f"))))
FS_WINO_KERNELS(_8, 8, __attribute__((target("avx2,fma"))))
FS_FILTER_KERNELS(_16, vf_16, 16, __attribute__((target("avx512f"))))
FS_FILTER_KERNELS(_8, vf_8, 8, __attribute__((target("avx2,fma"))))

static int widest = 16;  // fs_wino_limit_lanes

/// 16 when the AVX-512 kernels may run on `channels` (a multiple of 16), 8 when the AVX2 ones may
/// (a multiple of 8), 0 when neither.
static int lanes_for(long channels) {
    if (channels % 16 == 0 && widest >= 16 && fs_has_avx512()) return 16;
    __builtin_cpu_init();
    if (channels % 8 == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 0;
}

#define DISPATCH(CHANNELS, NAME, ...)                                                             \
    switch (lanes_for(CHANNELS)) {                                                                 \
    case 16: NAME##_16(__VA_ARGS__); return 1;                                                     \
    case 8: NAME##_8(__VA_ARGS__); return 1;                                                       \
    default: return 0;                                                                             \
    }
#define VECTOR_CALL(LANES, NAME, ...)                                                              \
    if (LANES == 16) NAME##_16(__VA_ARGS__, out);                                                  \
    else if (LANES == 8) NAME##_8(__VA_ARGS__, out);
#else
static int lanes_for(long channels) { (void)channels; return 0; }
#define DISPATCH(CHANNELS, NAME, ...) return 0;
#define VECTOR_CALL(LANES, NAME, ...)
#endif

int fs_wino_lanes(long channels) { return lanes_for(channels); }

void fs_wino_limit_lanes(int lanes) { widest = lanes < 16 ? 8 : 16; }

/// The vector kernels for the output channels a vector width covers, the scalar ones for the rest.
#define FILTER_DISPATCH(NAME, ...)                                                                 \
    do {                                                                                           \
        const int lanes = lanes_for(o);                                                            \
        const long vo = lanes ? o - o % lanes : 0;                                                 \
        VECTOR_CALL(lanes, NAME, __VA_ARGS__, 0, vo)                                               \
        NAME##_1(__VA_ARGS__, vo, o, out);                                                         \
    } while (0)

void fs_wino_filter(const float *wt, long o, long c, long c0, long c1, float *u) {
    float *out = u;
    FILTER_DISPATCH(filter, wt, o, c, c0, c1);
}

void fs_wino_filter_adjoint(const float *du, long o, long c, long c0, long c1, float *dwt) {
    float *out = dwt;
    FILTER_DISPATCH(filter_adjoint, du, o, c, c0, c1);
}

int fs_wino_input(const float *xp, long c, long ty, long tx, float *v, long xi_stride, long ld, long t0) {
    DISPATCH(c, input, xp, c, ty, tx, v, xi_stride, ld, t0)
}

int fs_wino_input_adjoint(const float *dv, long xi_stride, long ld, long t0, long c, long ty, long tx, float *dxp) {
    DISPATCH(c, input_adjoint, dv, xi_stride, ld, t0, c, ty, tx, dxp)
}

int fs_wino_output(const float *m, long xi_stride, long ld, long t0, long o, const float *bias, long ty, long tx,
                   long h, long w, float *y) {
    DISPATCH(o, output, m, xi_stride, ld, t0, o, bias, ty, tx, h, w, y)
}

int fs_wino_output_adjoint(const float *dy, long o, long ty, long tx, float *dm, long xi_stride, long ld, long t0) {
    DISPATCH(o, output_adjoint, dy, o, ty, tx, dm, xi_stride, ld, t0)
}
