#ifndef GRIDLITE_CBSONSHIM_H
#define GRIDLITE_CBSONSHIM_H
/*
 * A small C shim over libbson. bson_t is 128-byte aligned, which Swift cannot promise for memory it
 * allocates, so any bson_t lives on the C stack inside these functions (or is created and destroyed
 * by libbson here), and Swift only ever sees plain byte buffers and C strings. The BSON module
 * validates, reads and writes BSON and extended JSON in Swift; it calls into this shim for
 * Decimal128 text, and its tests call gl_bson_validate to cross-check the Swift validator.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Validates `len` bytes as one BSON document with libbson (structure, UTF-8 of keys, nested
 * documents). Not used on the request path: BSONDocument.validate does its own, stricter check
 * (libbson 1.23 accepts bad UTF-8 in string values); this one is for cross-checks in tests. On
 * failure writes a message into `errmsg` (NUL-terminated) and the offset of the offending element
 * into `*err_offset`. */
bool gl_bson_validate(const uint8_t *data, size_t len, size_t *err_offset, char *errmsg, size_t errlen);

/* Extended JSON through libbson. Nothing calls these two any more: the BSON module reads and
 * writes extended JSON in Swift (libbson 1.23 truncates $code at NUL, accepts invalid
 * $numberDecimal as NaN and prints dates after 9999 as ISO strings). */

/* Canonical (mode 1) or relaxed (mode 0) extended JSON of a document. Returns a malloc'ed
 * NUL-terminated string (free with gl_free) or NULL if the bytes are not a document. */
char *gl_bson_as_extended_json(const uint8_t *data, size_t len, int canonical, size_t *out_len);

/* Parses extended JSON into BSON bytes (malloc'ed; free with gl_free). Returns false and fills
 * errmsg on failure. */
bool gl_bson_from_json(const char *json, size_t json_len, uint8_t **out, size_t *out_len, char *errmsg, size_t errlen);

/* Decimal128 (low, high 64-bit words as stored little-endian in BSON) to its string form;
 * `out` must hold at least 43 bytes. */
void gl_decimal128_to_string(uint64_t low, uint64_t high, char *out);

/* Parses a decimal string; false if it is not a valid Decimal128. */
bool gl_decimal128_from_string(const char *text, uint64_t *low, uint64_t *high);

/* Frees memory returned by this shim. */
void gl_free(void *ptr);

#endif
