/*
 * Helpers shared by the libmongoc test programs: one "ok"/"FAIL" line per check, deterministic
 * content, and a file stream holding it.
 */
#ifndef GRIDLITE_TEST_SUPPORT_H
#define GRIDLITE_TEST_SUPPORT_H

#include <mongoc/mongoc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int failures = 0;

/* Prints "ok - ..." or "FAIL - ..." and counts failures. */
static void check(bool ok, const char *format, ...) {
    va_list args;
    va_start(args, format);
    printf("%s - ", ok ? "ok" : "FAIL");
    vprintf(format, args);
    printf("\n");
    va_end(args);
    if (!ok) failures++;
}

/* `size` bytes of a pattern that depends on `seed` (free with bson_free). */
static uint8_t *pattern(size_t size, unsigned seed) {
    uint8_t *data = bson_malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++) data[i] = (uint8_t)((i * 7 + seed) % 251);
    return data;
}

/* A readable file stream holding `data` (a temporary file, unlinked at once). */
static mongoc_stream_t *source_stream(const uint8_t *data, size_t size) {
    char path[] = "/tmp/gridlite_c_srcXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    unlink(path);
    size_t written = 0;
    while (written < size) {
        ssize_t n = write(fd, data + written, size - written);
        if (n <= 0) { close(fd); return NULL; }
        written += (size_t)n;
    }
    lseek(fd, 0, SEEK_SET);
    return mongoc_stream_file_new(fd);
}

#endif
