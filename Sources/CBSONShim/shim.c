#include "CBSONShim.h"
#include <bson/bson.h>
#include <string.h>

static void copy_message(char *dst, size_t dstlen, const char *src) {
    if (dst == NULL || dstlen == 0) return;
    bson_strncpy(dst, src, dstlen);
}

bool gl_bson_validate(const uint8_t *data, size_t len, size_t *err_offset, char *errmsg, size_t errlen) {
    bson_t doc; /* lives on the C stack, where the compiler honours its alignment */
    bson_error_t error;
    size_t offset = 0;
    if (len < 5 || !bson_init_static(&doc, data, len)) {
        if (err_offset) *err_offset = 0;
        copy_message(errmsg, errlen, "invalid document length");
        return false;
    }
    if (!bson_validate(&doc, BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL, &offset)) {
        if (err_offset) *err_offset = offset;
        memset(&error, 0, sizeof error);
        bson_validate_with_error(&doc, BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL, &error);
        copy_message(errmsg, errlen, error.message[0] ? error.message : "corrupt BSON");
        return false;
    }
    return true;
}

char *gl_bson_as_extended_json(const uint8_t *data, size_t len, int canonical, size_t *out_len) {
    bson_t doc;
    if (len < 5 || !bson_init_static(&doc, data, len)) return NULL;
    return canonical ? bson_as_canonical_extended_json(&doc, out_len)
                     : bson_as_relaxed_extended_json(&doc, out_len);
}

bool gl_bson_from_json(const char *json, size_t json_len, uint8_t **out, size_t *out_len, char *errmsg, size_t errlen) {
    bson_error_t error;
    memset(&error, 0, sizeof error);
    bson_t *doc = bson_new_from_json((const uint8_t *)json, (ssize_t)json_len, &error);
    if (doc == NULL) {
        copy_message(errmsg, errlen, error.message[0] ? error.message : "invalid JSON");
        return false;
    }
    uint32_t n = doc->len;
    uint8_t *buf = bson_malloc(n);
    memcpy(buf, bson_get_data(doc), n);
    bson_destroy(doc);
    *out = buf;
    *out_len = n;
    return true;
}

void gl_decimal128_to_string(uint64_t low, uint64_t high, char *out) {
    bson_decimal128_t dec;
    dec.low = low;
    dec.high = high;
    bson_decimal128_to_string(&dec, out);
}

bool gl_decimal128_from_string(const char *text, uint64_t *low, uint64_t *high) {
    bson_decimal128_t dec;
    if (!bson_decimal128_from_string(text, &dec)) return false;
    *low = dec.low;
    *high = dec.high;
    return true;
}

void gl_free(void *ptr) { bson_free(ptr); }
