#include <fftw3.h>

/// FFTW's version string (`fftw-3.3.10-sse2-avx`); the array itself does not import into Swift.
static inline const char *fs_fftwf_version(void) { return fftwf_version; }
