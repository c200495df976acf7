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

/* A connected client and a freshly dropped database, from `<uri> [database]` on the command line. */
typedef struct {
    mongoc_client_t *client;
    mongoc_database_t *db;
    const char *db_name;
} test_env_t;

/* Parses argv, connects, and drops the test database; exits with status 2 on bad usage or setup. */
static test_env_t test_setup(int argc, char *argv[], const char *default_db) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <mongodb-uri> [database]\n", argv[0]);
        exit(2);
    }
    test_env_t env = {0};
    env.db_name = argc == 3 ? argv[2] : default_db;
    mongoc_init();
    env.client = mongoc_client_new(argv[1]);
    if (!env.client) { fprintf(stderr, "bad uri %s\n", argv[1]); exit(2); }
    mongoc_client_set_error_api(env.client, MONGOC_ERROR_API_VERSION_2);
    env.db = mongoc_client_get_database(env.client, env.db_name);
    bson_error_t error = {0};
    if (!mongoc_database_drop_with_opts(env.db, NULL, &error)) {
        fprintf(stderr, "dropping %s failed: %s\n", env.db_name, error.message);
        exit(2);
    }
    return env;
}

/* Drops the test database, releases the client, prints the failure count; returns the exit status. */
static int test_finish(test_env_t *env) {
    mongoc_database_drop_with_opts(env->db, NULL, NULL);
    mongoc_database_destroy(env->db);
    mongoc_client_destroy(env->client);
    mongoc_cleanup();
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}

#endif
