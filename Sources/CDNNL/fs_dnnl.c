// oneDNN convolution wrapper; see include/fs_dnnl.h.
#include "fs_dnnl.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void omp_set_num_threads(int n);
int omp_get_thread_num(void);
// libgomp's entry point for `#pragma omp parallel` (GCC ABI); called directly so this file needs no
// OpenMP compiler support.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static dnnl_status_t engine_status = dnnl_success;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_init(void) {
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
    if (engine_status == dnnl_success) engine_status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
}


/// One tensor argument: our plain memory (handle set per call) and, when the primitive wants
/// another layout, the blocked memory plus the reorder between them.
typedef struct {
    dnnl_memory_t user;
    dnnl_memory_t inner;      // == user when the layouts agree
    dnnl_primitive_t reorder; // user -> inner for inputs, inner -> user for outputs; NULL when equal
} fs_arg;

struct fs_conv {
    int has_bias;
    int threads;
    int winograd;  // passes that run Winograd (bits as in fs_conv_create)
    dnnl_primitive_desc_t fwd_pd, bwd_d_pd, bwd_w_pd;
    dnnl_primitive_t fwd, bwd_d, bwd_w;
    fs_arg f_src, f_w, f_b, f_dst;
    fs_arg d_dsrc, d_w, d_ddst;
    fs_arg w_src, w_dw, w_db, w_ddst;
    // Reorders the backward pass can skip: the weight gradient reads the source in the layout the
    // forward pass already produced, and the output gradient in the layout backward-data produced.
    int src_shared, ddst_shared;
    const float *last_src;  // input of the last forward pass (its blocked copy is in f_src.inner)
};

#define CHECK(expr) do { dnnl_status_t s_ = (expr); if (s_ != dnnl_success) { status = s_; where = #expr; goto fail; } } while (0)

static dnnl_status_t arg_init(fs_arg *a, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *prim_md, int output) {
    memset(a, 0, sizeof *a);
    dnnl_status_t s = dnnl_memory_create(&a->user, user_md, engine, DNNL_MEMORY_NONE);
    if (s != dnnl_success) return s;
    if (dnnl_memory_desc_equal(user_md, prim_md)) { a->inner = a->user; return dnnl_success; }
    s = dnnl_memory_create(&a->inner, prim_md, engine, DNNL_MEMORY_ALLOCATE);
    if (s != dnnl_success) return s;
    dnnl_primitive_desc_t rpd;
    s = output ? dnnl_reorder_primitive_desc_create(&rpd, prim_md, engine, user_md, engine, NULL)
               : dnnl_reorder_primitive_desc_create(&rpd, user_md, engine, prim_md, engine, NULL);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_create(&a->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    return s;
}

static void arg_destroy(fs_arg *a) {
    if (a->reorder) dnnl_primitive_destroy(a->reorder);
    if (a->inner && a->inner != a->user) dnnl_memory_destroy(a->inner);
    if (a->user) dnnl_memory_destroy(a->user);
}

static dnnl_status_t run_reorder(fs_arg *a, int output) {
    if (!a->reorder) return dnnl_success;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, output ? a->inner : a->user}, {DNNL_ARG_TO, output ? a->user : a->inner}};
    return dnnl_primitive_execute(a->reorder, stream, 2, args);
}

/// Sets the user handle and, for inputs, brings the data into the primitive's layout.
static dnnl_status_t bind_input(fs_arg *a, const float *p) {
    dnnl_status_t s = dnnl_memory_set_data_handle(a->user, (void *)p);
    return s == dnnl_success ? run_reorder(a, 0) : s;
}

/// Forward primitive descriptor for one algorithm; also the hint backward passes of that algorithm need.
static dnnl_status_t forward_pd(dnnl_primitive_desc_t *pd, dnnl_alg_kind_t alg, const dnnl_memory_desc_t *src,
                                const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b, const dnnl_memory_desc_t *dst,
                                const dnnl_dims_t strides, const dnnl_dims_t pads) {
    dnnl_convolution_desc_t d;
    dnnl_status_t s = dnnl_convolution_forward_desc_init(&d, dnnl_forward_training, alg, src, w, b, dst, strides, pads, pads);
    return s == dnnl_success ? dnnl_primitive_desc_create(pd, &d, NULL, engine, NULL) : s;
}

/// Backward-data (pass 1) or backward-weights (pass 2) descriptor for one algorithm, hinted by that
/// algorithm's forward descriptor.
static dnnl_status_t backward_pd(dnnl_primitive_desc_t *pd, int pass, dnnl_alg_kind_t alg, const_dnnl_primitive_desc_t hint,
                                 const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *w, const dnnl_memory_desc_t *b,
                                 const dnnl_memory_desc_t *dst, const dnnl_dims_t strides, const dnnl_dims_t pads) {
    dnnl_convolution_desc_t d;
    dnnl_status_t s = pass == 1 ? dnnl_convolution_backward_data_desc_init(&d, alg, src, w, dst, strides, pads, pads)
                                : dnnl_convolution_backward_weights_desc_init(&d, alg, src, w, b, dst, strides, pads, pads);
    return s == dnnl_success ? dnnl_primitive_desc_create(pd, &d, NULL, engine, hint) : s;
}

fs_conv *fs_conv_create(int n, int c, int h, int w, int o, int k, int stride, int pad, int has_bias,
                        int threads, int winograd, char *err, int err_len) {
    dnnl_status_t status = dnnl_success;
    const char *where = "engine";
    dnnl_primitive_desc_t direct_pd = NULL, wino_pd = NULL;  // forward descriptors per algorithm
    pthread_once(&engine_once, engine_init);
    // Primitives fix their thread decomposition (and so the reduction order of the weight gradient)
    // when created: create them under the same budget they will run with.
    if (threads < 1) threads = 1;
    omp_set_num_threads(threads);
    fs_conv *cv = calloc(1, sizeof *cv);
    if (!cv) { snprintf(err, err_len, "out of memory"); return NULL; }
    cv->threads = threads;
    if (engine_status != dnnl_success) { status = engine_status; goto fail; }
    cv->has_bias = has_bias;
    int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
    dnnl_dims_t src_dims = {n, c, h, w}, w_dims = {o, c, k, k}, b_dims = {o}, dst_dims = {n, o, oh, ow};
    dnnl_dims_t strides = {stride, stride}, pads = {pad, pad};
    dnnl_memory_desc_t src_u, w_u, b_u, dst_u, src_any, w_any, dst_any, b_any;
    CHECK(dnnl_memory_desc_init_by_tag(&src_u, 4, src_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&w_u, 4, w_dims, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&b_u, 1, b_dims, dnnl_f32, dnnl_a));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_u, 4, dst_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&w_any, 4, w_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&b_any, 1, b_dims, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any));

    // Forward descriptors per algorithm: the forward pass itself and the hints of the backward passes.
    // Winograd exists only for some CPUs (oneDNN 2.x: AVX-512) and shapes; where it is missing the pass
    // runs direct.
    const dnnl_memory_desc_t *b_arg = has_bias ? &b_any : NULL;
    CHECK(forward_pd(&direct_pd, dnnl_convolution_direct, &src_any, &w_any, b_arg, &dst_any, strides, pads));
    if (winograd && forward_pd(&wino_pd, dnnl_convolution_winograd, &src_any, &w_any, b_arg, &dst_any, strides, pads) != dnnl_success) {
        wino_pd = NULL;
        winograd = 0;
    }
    // Each backward pass: Winograd when asked for and oneDNN has the kernel, else direct; each is hinted
    // by the forward descriptor of its own algorithm.
    cv->winograd = winograd & 1;
    dnnl_primitive_desc_t *backward[3] = {NULL, &cv->bwd_d_pd, &cv->bwd_w_pd};
    for (int pass = 1; pass <= 2; pass++) {
        if (((winograd >> pass) & 1) && backward_pd(backward[pass], pass, dnnl_convolution_winograd, wino_pd, &src_any,
                                                    &w_any, b_arg, &dst_any, strides, pads) == dnnl_success)
            cv->winograd |= 1 << pass;
        else
            CHECK(backward_pd(backward[pass], pass, dnnl_convolution_direct, direct_pd, &src_any, &w_any, b_arg,
                              &dst_any, strides, pads));
    }
    // The forward pass keeps its descriptor; the other one was only a hint.
    if (cv->winograd & 1) { cv->fwd_pd = wino_pd; wino_pd = NULL; } else { cv->fwd_pd = direct_pd; direct_pd = NULL; }
    if (direct_pd) dnnl_primitive_desc_destroy(direct_pd);
    if (wino_pd) dnnl_primitive_desc_destroy(wino_pd);
    direct_pd = wino_pd = NULL;
    CHECK(dnnl_primitive_create(&cv->fwd, cv->fwd_pd));
    CHECK(dnnl_primitive_create(&cv->bwd_d, cv->bwd_d_pd));
    CHECK(dnnl_primitive_create(&cv->bwd_w, cv->bwd_w_pd));

#define MD(pd, q) dnnl_primitive_desc_query_md(pd, q, 0)
    CHECK(arg_init(&cv->f_src, &src_u, MD(cv->fwd_pd, dnnl_query_src_md), 0));
    CHECK(arg_init(&cv->f_w, &w_u, MD(cv->fwd_pd, dnnl_query_weights_md), 0));
    if (has_bias) CHECK(arg_init(&cv->f_b, &b_u, dnnl_primitive_desc_query_md(cv->fwd_pd, dnnl_query_weights_md, 1), 0));
    CHECK(arg_init(&cv->f_dst, &dst_u, MD(cv->fwd_pd, dnnl_query_dst_md), 1));
    CHECK(arg_init(&cv->d_dsrc, &src_u, MD(cv->bwd_d_pd, dnnl_query_diff_src_md), 1));
    CHECK(arg_init(&cv->d_w, &w_u, MD(cv->bwd_d_pd, dnnl_query_weights_md), 0));
    CHECK(arg_init(&cv->d_ddst, &dst_u, MD(cv->bwd_d_pd, dnnl_query_diff_dst_md), 0));
    CHECK(arg_init(&cv->w_src, &src_u, MD(cv->bwd_w_pd, dnnl_query_src_md), 0));
    CHECK(arg_init(&cv->w_dw, &w_u, MD(cv->bwd_w_pd, dnnl_query_diff_weights_md), 1));
    if (has_bias) CHECK(arg_init(&cv->w_db, &b_u, dnnl_primitive_desc_query_md(cv->bwd_w_pd, dnnl_query_diff_weights_md, 1), 1));
    CHECK(arg_init(&cv->w_ddst, &dst_u, MD(cv->bwd_w_pd, dnnl_query_diff_dst_md), 0));
    cv->src_shared = cv->f_src.reorder && dnnl_memory_desc_equal(MD(cv->fwd_pd, dnnl_query_src_md), MD(cv->bwd_w_pd, dnnl_query_src_md));
    cv->ddst_shared = cv->d_ddst.reorder && dnnl_memory_desc_equal(MD(cv->bwd_d_pd, dnnl_query_diff_dst_md), MD(cv->bwd_w_pd, dnnl_query_diff_dst_md));
#undef MD
    return cv;
fail:
    snprintf(err, err_len, "oneDNN status %d in %s", (int)status, where);
    if (direct_pd) dnnl_primitive_desc_destroy(direct_pd);
    if (wino_pd) dnnl_primitive_desc_destroy(wino_pd);
    fs_conv_destroy(cv);
    return NULL;
}

void fs_conv_destroy(fs_conv *cv) {
    if (!cv) return;
    fs_arg *args[] = {&cv->f_src, &cv->f_w, &cv->f_b, &cv->f_dst, &cv->d_dsrc, &cv->d_w, &cv->d_ddst,
                      &cv->w_src, &cv->w_dw, &cv->w_db, &cv->w_ddst};
    for (size_t i = 0; i < sizeof args / sizeof *args; i++) arg_destroy(args[i]);
    if (cv->fwd) dnnl_primitive_destroy(cv->fwd);
    if (cv->bwd_d) dnnl_primitive_destroy(cv->bwd_d);
    if (cv->bwd_w) dnnl_primitive_destroy(cv->bwd_w);
    if (cv->fwd_pd) dnnl_primitive_desc_destroy(cv->fwd_pd);
    if (cv->bwd_d_pd) dnnl_primitive_desc_destroy(cv->bwd_d_pd);
    if (cv->bwd_w_pd) dnnl_primitive_desc_destroy(cv->bwd_w_pd);
    free(cv);
}

#define TRY(expr) do { dnnl_status_t s_ = (expr); if (s_ != dnnl_success) return (int)s_; } while (0)

int fs_conv_forward(fs_conv *cv, const float *x, const float *w, const float *b, float *y) {
    omp_set_num_threads(cv->threads);
    cv->last_src = NULL;
    TRY(bind_input(&cv->f_src, x));
    cv->last_src = x;
    TRY(bind_input(&cv->f_w, w));
    if (cv->has_bias) TRY(bind_input(&cv->f_b, b));
    TRY(dnnl_memory_set_data_handle(cv->f_dst.user, y));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, cv->f_src.inner}, {DNNL_ARG_WEIGHTS, cv->f_w.inner},
                               {DNNL_ARG_DST, cv->f_dst.inner}, {DNNL_ARG_BIAS, cv->f_b.inner}};
    TRY(dnnl_primitive_execute(cv->fwd, stream, cv->has_bias ? 4 : 3, args));
    TRY(run_reorder(&cv->f_dst, 1));
    TRY(dnnl_stream_wait(stream));
    return 0;
}

int fs_conv_backward(fs_conv *cv, const float *x, const float *dy, const float *w, float *dx, float *dw, float *db) {
    omp_set_num_threads(cv->threads);
    if (dx) {
        TRY(bind_input(&cv->d_ddst, dy));
        TRY(bind_input(&cv->d_w, w));
        TRY(dnnl_memory_set_data_handle(cv->d_dsrc.user, dx));
        dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, cv->d_ddst.inner}, {DNNL_ARG_WEIGHTS, cv->d_w.inner},
                                   {DNNL_ARG_DIFF_SRC, cv->d_dsrc.inner}};
        TRY(dnnl_primitive_execute(cv->bwd_d, stream, 3, args));
        TRY(run_reorder(&cv->d_dsrc, 1));
    }
    if (dw) {
        dnnl_memory_t src = cv->w_src.inner, ddst = cv->w_ddst.inner;
        if (cv->src_shared && x == cv->last_src) src = cv->f_src.inner;
        else TRY(bind_input(&cv->w_src, x));
        if (cv->ddst_shared && dx) ddst = cv->d_ddst.inner;
        else TRY(bind_input(&cv->w_ddst, dy));
        TRY(dnnl_memory_set_data_handle(cv->w_dw.user, dw));
        if (cv->has_bias) TRY(dnnl_memory_set_data_handle(cv->w_db.user, db));
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst},
                                   {DNNL_ARG_DIFF_WEIGHTS, cv->w_dw.inner}, {DNNL_ARG_DIFF_BIAS, cv->w_db.inner}};
        TRY(dnnl_primitive_execute(cv->bwd_w, stream, cv->has_bias ? 4 : 3, args));
        TRY(run_reorder(&cv->w_dw, 1));
        if (cv->has_bias) TRY(run_reorder(&cv->w_db, 1));
    }
    TRY(dnnl_stream_wait(stream));
    return 0;
}

int fs_conv_winograd(const fs_conv *cv) { return cv->winograd; }

const char *fs_conv_impl(const fs_conv *cv, int which) {
    const char *s = "";
    const_dnnl_primitive_desc_t pd = which == 0 ? cv->fwd_pd : which == 1 ? cv->bwd_d_pd : cv->bwd_w_pd;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, (void *)&s) != dnnl_success) return "?";
    return s;
}

typedef struct {
    void (*body)(void *ctx, int t);
    void *ctx;
} fs_team_call;

static void fs_team_member(void *data) {
    fs_team_call *call = data;
    call->body(call->ctx, omp_get_thread_num());
}

void fs_team_run(int threads, void (*body)(void *ctx, int t), void *ctx) {
    fs_team_call call = {body, ctx};
    GOMP_parallel(fs_team_member, &call, (unsigned)threads, 0);
}
