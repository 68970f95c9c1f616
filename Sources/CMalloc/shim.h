// glibc's malloc tuning (mallopt), which the Glibc module does not export, for the runner's
// AllocatorTuning. Empty where there is no <malloc.h> with mallopt (macOS).
#ifndef WAYMARK_CMALLOC_SHIM_H
#define WAYMARK_CMALLOC_SHIM_H
#if defined(__linux__) && __has_include(<malloc.h>)
#include <malloc.h>
#endif
#endif
