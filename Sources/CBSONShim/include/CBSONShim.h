#ifndef GRIDLITE_CBSONSHIM_H
#define GRIDLITE_CBSONSHIM_H
/*
 * A small C shim over libbson. bson_t and bson_iter_t are 128-byte aligned and cannot live on
 * Swift's stack, so every libbson object is created and destroyed here, and Swift only ever sees
 * plain byte buffers and C strings.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Validates `len` bytes as one BSON document with libbson. BSONDocument.validate does its own,
 * stricter check (libbson 1.23 accepts bad UTF-8 in string values); this one is for cross-checks.
 * Validates `len` bytes as one BSON document (structure, UTF-8 of strings and keys, nested
 * documents). On failure writes a message into `errmsg` (NUL-terminated) and the offset of the
 * offending element into `*err_offset`. */
bool gl_bson_validate(const uint8_t *data, size_t len, size_t *err_offset, char *errmsg, size_t errlen);

/* Extended JSON through libbson. The BSON module now reads and writes extended JSON in Swift
 * (libbson 1.23 truncates $code at NUL, accepts invalid $numberDecimal as NaN and prints dates
 * after 9999 as ISO strings); these two remain for comparison in tests and tools. */

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
