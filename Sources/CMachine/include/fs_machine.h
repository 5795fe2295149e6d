// Machine-level helpers Swift cannot express directly: kernels dispatched at run time to the widest
// vectors the CPU has (Swift's SIMD types are compiled for one target CPU, AVX2 here, so AVX-512
// code needs C with per-function targets) and glibc's allocator settings (<malloc.h> is not part of
// Swift's Glibc module).
#ifndef FS_MACHINE_H
#define FS_MACHINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Runs `iterations` rounds of 12 independent fused multiply-adds on the widest float vectors this
/// CPU executes (AVX-512, else AVX2+FMA, else 4-wide) and returns a value that depends on every
/// result. `*lanes` receives the vector width in floats, so FLOPs = iterations * 12 * lanes * 2.
float fs_fma_chain(long iterations, int *lanes);

/// The sparse input-gradient scatter of Conv2D (Conv2D+SparseGradient.swift) on AVX-512: for every
/// 16-wide column strip j of the `row_length` weight columns whose tap `j / tap_width` lands inside
/// the image (`targets[tap] >= 0`), and every copy k < copies,
///   out[k*copy_stride + targets[tap] + j % tap_width + 0..<16] +=
///       sum_i values[i*stride + k] * weights[rows[i]*row_length + j + 0..<16].
/// `values` rows hold `stride` (a multiple of 5, >= copies) entries, zero past `copies`. Returns 1 when
/// done, 0 when the CPU lacks AVX-512 or the widths are not multiples of 16 (the caller then runs
/// its own loop).
int fs_sparse_scatter(const float *values, long stride, long copies, const int32_t *rows, long count,
                      const float *weights, long row_length, long tap_width, const int64_t *targets,
                      float *out, long copy_stride);

/// 1 when the CPU executes AVX-512F and the environment does not force the AVX2 paths (FSWEEP_ISA=avx2, which
/// also sets OPENBLAS_CORETYPE=Haswell and ONEDNN_MAX_CPU_ISA=AVX2 for the libraries, see fs_machine.c), so
/// callers can pick a layout for the AVX-512 kernels up front. Every AVX-512 kernel here asks it.
int fs_has_avx512(void);

/// The same sums as fs_sparse_scatter for stride-1 convolutions, organized per input pixel: for every
/// pixel (iy, ix) of the h×w image, every 16-wide strip j of a tap (`tap_width`, a multiple of 32) and
/// every copy k,
///   out[k*copy_stride + (iy*w + ix)*pixel_stride + j + 0..<16] =
///       sum over taps (p, q) with output position e = (iy-p+pad)*ow + (ix-q+pad) inside the oh×ow map,
///       sum over i in start[e]..<start[e+1] of values[i*stride + k] * weights[rows[i]*row_length + (p*k+q)*tap_width + j + 0..<16]
/// (stored, not added: every pixel of the block is written, zeros where nothing lands). Returns 1 when
/// done, 0 without AVX-512 or when the widths do not fit (the caller then scatters).
int fs_sparse_gather(const float *values, long stride, long copies, const int32_t *rows, const int32_t *start,
                     const float *weights, long row_length, long tap_width, long k, long pad, long h, long w,
                     long oh, long ow, float *out, long pixel_stride, long copy_stride);

/// dst[j*dst_stride + i] = src[i*src_stride + j] for i < rows, j < columns (a rows × columns block
/// transposed), on elements of one float, or of two (`complex` != 0: interleaved re/im pairs, strides
/// counted in pairs), with AVX2 register transposes. Returns 1 when done, 0 without AVX2 (the caller then
/// runs its own loop).
int fs_transpose(const float *src, long rows, long columns, long src_stride, float *dst, long dst_stride,
                 int complex);

/// Serves large blocks from the heap instead of mmap and never trims the heap top (glibc only;
/// a no-op elsewhere). Returns 1 when the settings were applied.
int fs_keep_freed_memory(void);

#ifdef __cplusplus
}
#endif
#endif
