// SHA-256's block function on the CPU's SHA extensions (x86-64 SHA-NI), for WaymarkHash.
#ifndef WAYMARK_CSHA256_H
#define WAYMARK_CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// The 64 round constants (FIPS 180-4, 4.2.2), shared with WaymarkHash's Swift loop.
const uint32_t *wm_sha256_constants(void);

/// Whether this CPU has the SHA extensions (and the SSSE3 and SSE4.1 the block function uses).
int wm_sha256_hardware(void);

/// Runs `blocks` 64-byte blocks of `data` through the compression function, updating `state`
/// (the eight working words, h0 first). Call only when `wm_sha256_hardware()` said yes.
void wm_sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
