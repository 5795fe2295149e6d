// Winograd F(4×4, 3×3) transforms for stride-1, padding-1 3×3 convolutions (Conv2D+Winograd.swift).
//
// A 6×6 input tile d gives a 4×4 output tile y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for a 3×3 filter g (Lavin & Gray 2016,
// interpolation points 0, ±1, ±2, ∞): 36 multiplications per channel pair instead of 144. Summed over channels,
// the element-wise products become 36 independent matrix products (one per transformed position ξ), done by the
// caller with BLAS:  M[ξ] (rows × O) = V[ξ] (rows × C) · U[ξ] (C × O).
//
// The backward passes are the exact adjoints of that forward computation (so finite differences of the forward
// agree with them): with dM = A dY Aᵀ per output tile, dV[ξ] = dM[ξ] · U[ξ]ᵀ, dx = Σ_tiles B dV Bᵀ
// (overlapping tiles add), dU[ξ] = V[ξ]ᵀ · dM[ξ] and dW = Gᵀ dU G.
//
// Rounding: B and A have entries up to 5 and 8, G entries down to 1/24, so each transformed value is a sum of up
// to 36 (input) or 16 (output) terms with weights up to 25 or 64. Measured against a double-precision direct
// convolution the float32 result differs by 1.5–3.5e-6 of the largest output (im2col + BLAS: 1.7–2.5e-7, measured on
// the test geometries, C ≤ 32); the
// tests bound it at 2e-5.
//
// Layouts: images are channels-last inside the kernels. `xp` is one image's zero-bordered input,
// [(4·ty + 2) rows][(4·tx + 2) columns][c] (pixel (y, x) of the image at row y + 1, column x + 1); tile (a, b) reads
// rows 4a..<4a+6 and columns 4b..<4b+6. Transformed tiles are rows of 36 matrices: element ξ = 6r + s of tile t
// lies at v[ξ·xi_stride + t·ld + channel]. Channel counts must be multiples of 8; the kernels use 16-float
// vectors where the CPU has AVX-512 (and FSWEEP_ISA does not say avx2) and the count allows, else 8-float AVX2.
#ifndef FS_WINOGRAD_H
#define FS_WINOGRAD_H

#ifdef __cplusplus
extern "C" {
#endif

/// The vector width (16 or 8 floats) the tile kernels use for `channels`, 0 when they cannot run (not a multiple
/// of 8, or no AVX2 + FMA).
int fs_wino_lanes(long channels);

/// Limits the tile kernels to 8-float vectors (`lanes` 8) or lets them use 16 again (16): the tests run both
/// paths on one AVX-512 machine. Process-wide; not for concurrent use with running kernels.
void fs_wino_limit_lanes(int lanes);

/// u[ξ·c·o + ci·o + oi] = (G w[oi][ci] Gᵀ)[ξ] for input channels c0 ≤ ci < c1 (callers split the channels over
/// threads), from the weights transposed to wt[(ci·9 + k)·o + oi] = w[oi][ci][k] (so the kernels run along oi):
/// the filters in the transformed domain, [36][c][o].
void fs_wino_filter(const float *wt, long o, long c, long c0, long c1, float *u);

/// dwt[(ci·9 + k)·o + oi] = (Gᵀ du[·][ci][oi] G)[k] for c0 ≤ ci < c1 (overwritten, transposed like fs_wino_filter's
/// wt): the adjoint of fs_wino_filter (du [36][c][o]).
void fs_wino_filter_adjoint(const float *du, long o, long c, long c0, long c1, float *dwt);

/// V = Bᵀ d B of the ty·tx tiles of one bordered channels-last image `xp` (c channels) into
/// v[ξ·xi_stride + (t0 + a·tx + b)·ld + ci]. Returns 1, or 0 when c is not a multiple of 8 or the CPU lacks AVX2.
int fs_wino_input(const float *xp, long c, long ty, long tx, float *v, long xi_stride, long ld, long t0);

/// The adjoint of fs_wino_input: dxp (same bordered layout, zeroed by the caller) += B dV Bᵀ of every tile,
/// overlapping tiles adding up. Returns 1, or 0 as fs_wino_input.
int fs_wino_input_adjoint(const float *dv, long xi_stride, long ld, long t0, long c, long ty, long tx, float *dxp);

/// Y = Aᵀ M A (+ bias[oi] when bias is not NULL) of the ty·tx tiles of one image, stored into the channels-last
/// h×w image y [h][w][o] (outputs past h or w are dropped). Returns 1, or 0 as fs_wino_input.
int fs_wino_output(const float *m, long xi_stride, long ld, long t0, long o, const float *bias, long ty, long tx,
                   long h, long w, float *y);

/// The adjoint of fs_wino_output: dM = A dY Aᵀ of every 4×4 tile of the channels-last image dy
/// [4·ty][4·tx][o] (zero past the h×w image: the caller pads it) into dm like fs_wino_input's v. Returns 1 or 0.
int fs_wino_output_adjoint(const float *dy, long o, long ty, long tx, float *dm, long xi_stride, long ld, long t0);

#ifdef __cplusplus
}
#endif
#endif
