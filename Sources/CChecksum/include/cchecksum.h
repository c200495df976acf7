#ifndef GRIDLITE_CCHECKSUM_H
#define GRIDLITE_CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli) of `length` bytes at `data`, continuing from `crc` (0 to start).
/// Pre- and post-inverted as usual: crc32c_update(0, "123456789", 9) == 0xE3069283.
/// Uses the SSE4.2 `crc32` instruction (three interleaved streams) when the CPU has it,
/// a slicing-by-8 table otherwise.
uint32_t gridlite_crc32c(uint32_t crc, const void *data, size_t length);

/// The same, always with the portable table code (for tests and the benchmark).
uint32_t gridlite_crc32c_portable(uint32_t crc, const void *data, size_t length);

/// 1 when gridlite_crc32c uses the hardware instruction.
int gridlite_crc32c_hardware(void);

#endif
