// Per-layer GFLOP/s of the oneDNN convolution wrapper (Sources/CDNNL) on Myrtle's layer shapes,
// measured in process CPU time so a loaded, shared machine still gives the work rate per core.
//   cc -O2 -I Sources/CDNNL/include bench/conv_layers.c Sources/CDNNL/fs_dnnl.c -ldnnl -lgomp -lpthread -o /tmp/conv_layers
//   /tmp/conv_layers 1      # threads
//   /tmp/conv_layers 1 7    # threads, Winograd for all three passes
#include "fs_dnnl.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu(void) { struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1, n = 128;
    int winograd = argc > 2 ? atoi(argv[2]) : 0;  // bits: 1 forward, 2 backward data, 4 backward weights
    int shapes[][3] = {{64, 32, 128}, {128, 16, 256}, {256, 8, 512}, {512, 4, 512}};  // c, h, o
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int c = shapes[s][0], h = shapes[s][1], o = shapes[s][2];
        char err[256];
        fs_conv *cv = fs_conv_create(n, c, h, h, o, 3, 1, 1, 1, threads, winograd, err, sizeof err);
        if (!cv) { printf("%s\n", err); return 1; }
        size_t X = (size_t)n * c * h * h, Y = (size_t)n * o * h * h, W = (size_t)o * c * 9;
        float *x = calloc(X, 4), *y = calloc(Y, 4), *w = calloc(W, 4), *b = calloc(o, 4), *dx = calloc(X, 4);
        float *dw = calloc(W, 4), *db = calloc(o, 4);
        for (size_t i = 0; i < X; i++) x[i] = rand() / (float)RAND_MAX;
        double gf = 2.0 * n * c * o * 9 * h * h / 1e9, best[3] = {0, 0, 0};
        for (int r = 0; r < 3; r++) {
            double t0 = cpu(); fs_conv_forward(cv, x, w, b, y);
            double t1 = cpu(); fs_conv_backward(cv, x, y, w, dx, NULL, NULL);
            double t2 = cpu(); fs_conv_backward(cv, x, y, w, NULL, dw, db);
            double t3 = cpu();
            double g[3] = {gf / (t1 - t0), gf / (t2 - t1), gf / (t3 - t2)};
            for (int k = 0; k < 3; k++) if (g[k] > best[k]) best[k] = g[k];
        }
        printf("c%-4d %2dx%-2d o%-4d  fwd %5.1f  bwd-data %5.1f  bwd-weights %5.1f GFLOP/s per CPU-second  (%s)\n",
               c, h, h, o, best[0], best[1], best[2], fs_conv_impl(cv, 0));
        fs_conv_destroy(cv);
        free(x); free(y); free(w); free(b); free(dx); free(dw); free(db);
    }
    return 0;
}
