// Thin C wrapper over oneDNN's C API: one object per convolution geometry holding its forward,
// backward-data and backward-weights primitives, the reorders between our plain NCHW/OIHW arrays
// and the blocked layouts oneDNN's JIT kernels prefer, and the blocked buffers (allocated once).
#ifndef FS_DNNL_H
#define FS_DNNL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fs_conv fs_conv;

/// Creates the primitives for x [n,c,h,w] * w [o,c,k,k] (stride, symmetric zero padding) -> y,
/// running on `threads` OpenMP threads. oneDNN fixes its work split (and so the reduction order of
/// the weight gradient) at creation, so results are reproducible per plan and thread count.
/// `winograd` selects Winograd F(4×4, 3×3) per pass (bit 0 forward, bit 1 backward data, bit 2
/// backward weights); a pass whose Winograd kernel this CPU lacks falls back to the direct algorithm.
/// Returns NULL on failure and writes a message into err.
fs_conv *fs_conv_create(int n, int c, int h, int w, int o, int k, int stride, int pad, int has_bias,
                        int threads, int winograd, char *err, int err_len);
void fs_conv_destroy(fs_conv *conv);

/// y = conv(x, w) + b (b ignored without bias). Returns 0 on success, else a dnnl_status_t.
int fs_conv_forward(fs_conv *conv, const float *x, const float *w, const float *b, float *y);

/// dx = conv_backward_data(dy, w) (skipped if dx is NULL); dw, db = weight/bias gradients
/// (overwritten, skipped if dw is NULL; db ignored without bias). Returns 0 on success.
int fs_conv_backward(fs_conv *conv, const float *x, const float *dy, const float *w,
                     float *dx, float *dw, float *db);

/// Names of the implementations oneDNN chose (forward, backward data, backward weights).
/// `fs_conv_winograd` tells which passes run Winograd (same bits as `winograd` at creation).
const char *fs_conv_impl(const fs_conv *conv, int which);
int fs_conv_winograd(const fs_conv *conv);

/// Runs body(ctx, t) for t = 0..<threads on libgomp's thread team (the one oneDNN uses), so our
/// own parallel loops and oneDNN's never compete for the cores. Returns when all calls returned.
void fs_team_run(int threads, void (*body)(void *ctx, int t), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
