// CRC-32C for chunk payload checksums. Written for gridlite from the polynomial's definition:
// a table path (slicing-by-8) and, on x86-64 with SSE4.2, the crc32 instruction over three
// interleaved streams whose results are combined with precomputed "append N zero bytes"
// operators (the CRC register is linear over GF(2), so crc(A||B) = shift_|B|(crc(A)) ^ crc0(B)).
#include "cchecksum.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = n;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        table[0][n] = crc;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t crc = table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table[0][crc & 0xff] ^ (crc >> 8);
            table[k][n] = crc;
        }
    }
}

uint32_t gridlite_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&table_once, build_table);
    const unsigned char *p = data;
    uint64_t c = ~crc & 0xffffffffu;
    while (length && ((uintptr_t)p & 7)) {
        c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= c;
        c = table[7][word & 0xff] ^ table[6][(word >> 8) & 0xff] ^ table[5][(word >> 16) & 0xff] ^
            table[4][(word >> 24) & 0xff] ^ table[3][(word >> 32) & 0xff] ^ table[2][(word >> 40) & 0xff] ^
            table[1][(word >> 48) & 0xff] ^ table[0][word >> 56];
        p += 8;
        length -= 8;
    }
    while (length--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return (uint32_t)~c;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

// Stream lengths: three streams of LONG bytes, then of SHORT bytes, then one stream.
#define LONG 8192
#define SHORT 256

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static int have_hw;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_times(mat, mat[n]);
}

// The operator that appends `len` zero bytes (len a power of two) to a raw CRC register.
static void zeros_operator(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY;  // one zero bit
    uint32_t row = 1;
    for (int n = 1; n < 32; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_square(even, odd);  // two zero bits
    gf2_square(odd, even);  // four zero bits
    for (;;) {
        gf2_square(even, odd);  // 8, 32, 128 … bits
        len >>= 1;
        if (len == 0) return;
        gf2_square(odd, even);  // 16, 64 … bits
        len >>= 1;
        if (len == 0) {
            memcpy(even, odd, sizeof(odd));
            return;
        }
    }
}

static void zeros_table(uint32_t zeros[4][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t n = 0; n < 256; n++) {
        zeros[0][n] = gf2_times(op, n);
        zeros[1][n] = gf2_times(op, n << 8);
        zeros[2][n] = gf2_times(op, n << 16);
        zeros[3][n] = gf2_times(op, n << 24);
    }
}

static inline uint32_t shift(uint32_t zeros[4][256], uint32_t crc) {
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^ zeros[3][crc >> 24];
}

static void init_hw(void) {
    __builtin_cpu_init();
    have_hw = __builtin_cpu_supports("sse4.2");
    if (have_hw) {
        zeros_table(shift_long, LONG);
        zeros_table(shift_short, SHORT);
    }
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const unsigned char *next, size_t len) {
    uint64_t crc0 = ~crc & 0xffffffffu;
    while (len && ((uintptr_t)next & 7)) {
        crc0 = _mm_crc32_u8((uint32_t)crc0, *next++);
        len--;
    }
    while (len >= LONG * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const unsigned char *end = next + LONG;
        do {
            uint64_t a, b, c;
            memcpy(&a, next, 8);
            memcpy(&b, next + LONG, 8);
            memcpy(&c, next + 2 * LONG, 8);
            crc0 = _mm_crc32_u64(crc0, a);
            crc1 = _mm_crc32_u64(crc1, b);
            crc2 = _mm_crc32_u64(crc2, c);
            next += 8;
        } while (next < end);
        crc0 = shift(shift_long, (uint32_t)crc0) ^ crc1;
        crc0 = shift(shift_long, (uint32_t)crc0) ^ crc2;
        next += LONG * 2;
        len -= LONG * 3;
    }
    while (len >= SHORT * 3) {
        uint64_t crc1 = 0, crc2 = 0;
        const unsigned char *end = next + SHORT;
        do {
            uint64_t a, b, c;
            memcpy(&a, next, 8);
            memcpy(&b, next + SHORT, 8);
            memcpy(&c, next + 2 * SHORT, 8);
            crc0 = _mm_crc32_u64(crc0, a);
            crc1 = _mm_crc32_u64(crc1, b);
            crc2 = _mm_crc32_u64(crc2, c);
            next += 8;
        } while (next < end);
        crc0 = shift(shift_short, (uint32_t)crc0) ^ crc1;
        crc0 = shift(shift_short, (uint32_t)crc0) ^ crc2;
        next += SHORT * 2;
        len -= SHORT * 3;
    }
    while (len >= 8) {
        uint64_t a;
        memcpy(&a, next, 8);
        crc0 = _mm_crc32_u64(crc0, a);
        next += 8;
        len -= 8;
    }
    while (len) {
        crc0 = _mm_crc32_u8((uint32_t)crc0, *next++);
        len--;
    }
    return (uint32_t)~crc0;
}

uint32_t gridlite_crc32c(uint32_t crc, const void *data, size_t length) {
    pthread_once(&hw_once, init_hw);
    if (have_hw) return crc32c_hw(crc, data, length);
    return gridlite_crc32c_portable(crc, data, length);
}

int gridlite_crc32c_hardware(void) {
    pthread_once(&hw_once, init_hw);
    return have_hw;
}

#else

uint32_t gridlite_crc32c(uint32_t crc, const void *data, size_t length) {
    return gridlite_crc32c_portable(crc, data, length);
}

int gridlite_crc32c_hardware(void) { return 0; }

#endif
