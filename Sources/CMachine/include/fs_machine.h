// Machine-level helpers Swift cannot express directly: the widest-vector FMA loop that measures the
// CPU's FLOP ceiling (Swift's SIMD types are compiled for one target CPU, not dispatched at run
// time) and glibc's allocator settings (<malloc.h> is not part of Swift's Glibc module).
#ifndef FS_MACHINE_H
#define FS_MACHINE_H

#ifdef __cplusplus
extern "C" {
#endif

/// Runs `iterations` rounds of 12 independent fused multiply-adds on the widest float vectors this
/// CPU executes (AVX-512, else AVX2+FMA, else 4-wide) and returns a value that depends on every
/// result. `*lanes` receives the vector width in floats, so FLOPs = iterations * 12 * lanes * 2.
float fs_fma_chain(long iterations, int *lanes);

/// Serves large blocks from the heap instead of mmap and never trims the heap top (glibc only;
/// a no-op elsewhere). Returns 1 when the settings were applied.
int fs_keep_freed_memory(void);

#ifdef __cplusplus
}
#endif
#endif
