/*
 * gridfs_fail_points: libmongoc's GridFS bucket API against a server whose failCommand fail point
 * closes connections, fails commands or blocks them (the server must run with
 * --setParameter enableTestCommands=1).
 *
 *   gridfs_fail_points <uri> [database]      database defaults to "gridfs_c_fail_points"
 *
 * Checks: a download whose first find loses its connection succeeds through libmongoc's retryable
 * reads; so does one whose find fails once with NotWritablePrimary (10107); with retryReads=false
 * the same failure reaches the caller; a bucket find with maxTimeMS shorter than a blocked find
 * fails with 50 MaxTimeMSExpired; an upload whose first chunk insert fails stores no files document.
 * Prints one "ok"/"FAIL" line per check; exit status 0 when every check passed.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"

/* Sets failCommand on the admin database; false (and a FAIL line) when the server refused. */
static bool fail_command(mongoc_client_t *client, const char *json) {
    bson_error_t error;
    bson_t *command = bson_new_from_json((const uint8_t *)json, -1, &error);
    if (!command) {
        check(false, "bad fail point JSON: %s", error.message);
        return false;
    }
    bool ok = mongoc_client_command_simple(client, "admin", command, NULL, NULL, &error);
    if (!ok) check(false, "configureFailPoint: %s", error.message);
    bson_destroy(command);
    return ok;
}

static void fail_point_off(mongoc_client_t *client) {
    fail_command(client, "{\"configureFailPoint\": \"failCommand\", \"mode\": \"off\"}");
}

/* Downloads `id` completely; true when the bytes equal `data`. `error` gets the failure. */
static bool download_equals(mongoc_gridfs_bucket_t *bucket, const bson_value_t *id, const uint8_t *data,
                            size_t size, bson_error_t *error) {
    mongoc_stream_t *stream = mongoc_gridfs_bucket_open_download_stream(bucket, id, error);
    if (!stream) return false;
    uint8_t *buffer = bson_malloc(size + 1);
    size_t offset = 0;
    bool ok = true;
    for (;;) {
        ssize_t n = mongoc_stream_read(stream, buffer + offset, size + 1 - offset, 1, 0);
        if (n < 0) { ok = false; break; }
        if (n == 0) break;
        offset += (size_t)n;
        if (offset > size) { ok = false; break; }
    }
    if (ok && mongoc_gridfs_bucket_stream_error(stream, error)) ok = false;
    ok = ok && offset == size && memcmp(buffer, data, size) == 0;
    bson_free(buffer);
    mongoc_stream_destroy(stream);
    return ok;
}

int main(int argc, char *argv[]) {
    test_env_t env = test_setup(argc, argv, "gridfs_c_fail_points");
    bson_error_t error = {0};
    mongoc_gridfs_bucket_t *bucket = mongoc_gridfs_bucket_new(env.db, NULL, NULL, &error);
    check(bucket != NULL, "bucket created (%s)", error.message);
    if (!bucket) return test_finish(&env);

    const size_t size = 300 * 1024 + 17;
    uint8_t *data = pattern(size, 3);
    mongoc_stream_t *source = source_stream(data, size);
    bson_value_t id;
    bool uploaded = mongoc_gridfs_bucket_upload_from_stream(bucket, "retried.bin", source, NULL, &id, &error);
    mongoc_stream_destroy(source);
    check(uploaded, "uploaded %zu bytes (%s)", size, error.message);

    /* closeConnection on the first find: libmongoc retries the read once, on a new connection. */
    if (fail_command(env.client, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1},"
                                 " \"data\": {\"failCommands\": [\"find\"], \"closeConnection\": true}}")) {
        memset(&error, 0, sizeof error);
        check(download_equals(bucket, &id, data, size, &error),
              "download retried after the connection closed (%s)", error.message);
    }

    /* NotWritablePrimary once: retried as well. */
    if (fail_command(env.client, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1},"
                                 " \"data\": {\"failCommands\": [\"find\"], \"errorCode\": 10107}}")) {
        memset(&error, 0, sizeof error);
        check(download_equals(bucket, &id, data, size, &error), "download retried after 10107 (%s)", error.message);
    }

    /* Without retryable reads the failure reaches the caller. */
    char *uri = bson_strdup_printf("%s%sretryReads=false", argv[1], strchr(argv[1], '?') ? "&" : "/?");
    mongoc_client_t *plain = mongoc_client_new(uri);
    mongoc_client_set_error_api(plain, MONGOC_ERROR_API_VERSION_2);
    mongoc_database_t *plain_db = mongoc_client_get_database(plain, env.db_name);
    mongoc_gridfs_bucket_t *plain_bucket = mongoc_gridfs_bucket_new(plain_db, NULL, NULL, &error);
    if (fail_command(env.client, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1},"
                                 " \"data\": {\"failCommands\": [\"find\"], \"errorCode\": 10107}}")) {
        memset(&error, 0, sizeof error);
        bool ok = download_equals(plain_bucket, &id, data, size, &error);
        check(!ok && error.code == 10107, "retryReads=false: the download fails with 10107 (got %u: %s)",
              error.code, error.message);
        memset(&error, 0, sizeof error);
        check(download_equals(plain_bucket, &id, data, size, &error), "the next download works (%s)", error.message);
    }
    mongoc_gridfs_bucket_destroy(plain_bucket);
    mongoc_database_destroy(plain_db);
    mongoc_client_destroy(plain);
    bson_free(uri);

    /* A find held for 2 s under maxTimeMS 100: 50 MaxTimeMSExpired. */
    if (fail_command(env.client, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1},"
                                 " \"data\": {\"failCommands\": [\"find\"], \"blockConnection\": true,"
                                 " \"blockTimeMS\": 2000}}")) {
        bson_t *opts = BCON_NEW("maxTimeMS", BCON_INT32(100));
        bson_t filter = BSON_INITIALIZER;
        mongoc_cursor_t *cursor = mongoc_gridfs_bucket_find(bucket, &filter, opts);
        const bson_t *doc;
        while (mongoc_cursor_next(cursor, &doc)) {}
        memset(&error, 0, sizeof error);
        bool failed = mongoc_cursor_error(cursor, &error);
        check(failed && error.code == 50, "bucket find with maxTimeMS 100 under a 2 s block: 50 (got %u: %s)",
              error.code, error.message);
        mongoc_cursor_destroy(cursor);
        bson_destroy(&filter);
        bson_destroy(opts);
    }

    /* The first chunk insert of an upload fails: the upload fails and no files document is written.
     * (The file spans two chunks: libmongoc reports chunk writes made while streaming; the last
     * chunk is written when the stream closes, and libmongoc 1.23 does not report that one.) */
    if (fail_command(env.client, "{\"configureFailPoint\": \"failCommand\", \"mode\": {\"times\": 1},"
                                 " \"data\": {\"failCommands\": [\"insert\"], \"errorCode\": 2}}")) {
        const size_t small = 300 * 1024;
        uint8_t *bytes = pattern(small, 9);
        mongoc_stream_t *src = source_stream(bytes, small);
        bson_value_t failed_id;
        memset(&error, 0, sizeof error);
        bool ok = mongoc_gridfs_bucket_upload_from_stream(bucket, "failed.bin", src, NULL, &failed_id, &error);
        check(!ok && error.code == 2, "upload with a failed chunk insert fails with 2 (got %u: %s)", error.code,
              error.message);
        mongoc_stream_destroy(src);
        bson_free(bytes);
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "filename", "failed.bin");
        mongoc_cursor_t *cursor = mongoc_gridfs_bucket_find(bucket, &filter, NULL);
        const bson_t *doc;
        int found = 0;
        while (mongoc_cursor_next(cursor, &doc)) found++;
        check(found == 0, "no files document for the failed upload (found %d)", found);
        mongoc_cursor_destroy(cursor);
        bson_destroy(&filter);
    }

    fail_point_off(env.client);
    bson_value_destroy(&id);
    bson_free(data);
    mongoc_gridfs_bucket_destroy(bucket);
    return test_finish(&env);
}
