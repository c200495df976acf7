/*
 * gridfs_legacy: libmongoc's legacy GridFS API (mongoc_gridfs_t) against a server.
 *
 *   gridfs_legacy <uri> [database]        database defaults to "gridfs_c_legacy" (dropped first)
 *
 * Creates files from streams and by writing (every chunk is an upsert, the files document an upsert
 * with $set), finds them by filename, reads them back with seeks across chunk boundaries, lists them,
 * removes by filename and drops the GridFS collections. Prints one "ok"/"FAIL" line per check; exit
 * status 0 when every check passed, 1 otherwise, 2 on bad usage or setup failure.
 */
#include <mongoc/mongoc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

/* Reads `count` bytes at the file's current position; true when they equal data[offset...]. */
static bool read_equals(mongoc_gridfs_file_t *file, const uint8_t *data, size_t offset, size_t count) {
    uint8_t *buffer = bson_malloc(count ? count : 1);
    mongoc_iovec_t iov = {.iov_base = (void *)buffer, .iov_len = count};
    ssize_t n = mongoc_gridfs_file_readv(file, &iov, 1, count, 0);
    bool ok = n == (ssize_t)count && memcmp(buffer, data + offset, count) == 0;
    bson_free(buffer);
    return ok;
}

static int count_files(mongoc_gridfs_t *gridfs, const bson_t *filter) {
    mongoc_gridfs_file_list_t *list = mongoc_gridfs_find_with_opts(gridfs, filter, NULL);
    mongoc_gridfs_file_t *file;
    int n = 0;
    while ((file = mongoc_gridfs_file_list_next(list))) {
        n++;
        mongoc_gridfs_file_destroy(file);
    }
    bson_error_t error;
    if (mongoc_gridfs_file_list_error(list, &error)) n = -1;
    mongoc_gridfs_file_list_destroy(list);
    return n;
}

static int count_chunks(mongoc_gridfs_t *gridfs, const bson_t *filter) {
    mongoc_collection_t *chunks = mongoc_gridfs_get_chunks(gridfs);
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(chunks, filter, NULL, NULL);
    const bson_t *doc;
    int n = 0;
    while (mongoc_cursor_next(cursor, &doc)) n++;
    mongoc_cursor_destroy(cursor);
    return n;
}

int main(int argc, char *argv[]) {
    test_env_t env = test_setup(argc, argv, "gridfs_c_legacy");
    mongoc_client_t *client = env.client;
    mongoc_database_t *db = env.db;
    const char *db_name = env.db_name;
    bson_error_t error = {0};

    mongoc_gridfs_t *gridfs = mongoc_client_get_gridfs(client, db_name, "legacy", &error);
    check(gridfs != NULL, "mongoc_client_get_gridfs (prefix legacy)%s%s", gridfs ? "" : ": ",
          gridfs ? "" : error.message);
    if (!gridfs) return 1;

    /* 1. create_file_from_stream with a small chunk size: 5 chunks, the last one short. */
    size_t size = 4 * 1000 + 321;
    uint8_t *data = pattern(size, 5);
    mongoc_gridfs_file_opt_t opt = {0};
    opt.filename = "report.bin";
    opt.content_type = "application/x-report";
    opt.chunk_size = 1000;
    bson_t *metadata = BCON_NEW("owner", "c-test");
    opt.metadata = metadata;
    mongoc_stream_t *src = source_stream(data, size);
    mongoc_gridfs_file_t *file = mongoc_gridfs_create_file_from_stream(gridfs, src, &opt);
    check(file != NULL, "create_file_from_stream report.bin (%zu bytes)", size);
    if (!file) return 1;
    bson_value_t id;
    bson_value_copy(mongoc_gridfs_file_get_id(file), &id);
    mongoc_gridfs_file_destroy(file);

    /* A second file written through mongoc_gridfs_file_writev and saved. */
    mongoc_gridfs_file_opt_t opt2 = {0};
    opt2.filename = "written.txt";
    opt2.chunk_size = 4;
    file = mongoc_gridfs_create_file(gridfs, &opt2);
    const char *text = "written in three pieces";
    mongoc_iovec_t iov[3] = {{.iov_base = (void *)text, .iov_len = 7},
                             {.iov_base = (void *)(text + 7), .iov_len = 10},
                             {.iov_base = (void *)(text + 17), .iov_len = strlen(text) - 17}};
    ssize_t w = mongoc_gridfs_file_writev(file, iov, 3, 0);
    check(w == (ssize_t)strlen(text), "file_writev wrote %zd bytes", w);
    check(mongoc_gridfs_file_save(file), "file_save written.txt");
    mongoc_gridfs_file_destroy(file);

    /* 2. find_one_by_filename and its attributes. */
    file = mongoc_gridfs_find_one_by_filename(gridfs, "report.bin", &error);
    check(file != NULL, "find_one_by_filename report.bin%s%s", file ? "" : ": ", file ? "" : error.message);
    if (!file) return 1;
    check(mongoc_gridfs_file_get_length(file) == (int64_t)size, "length %lld",
          (long long)mongoc_gridfs_file_get_length(file));
    check(mongoc_gridfs_file_get_chunk_size(file) == 1000, "chunk size %d", mongoc_gridfs_file_get_chunk_size(file));
    const char *content_type = mongoc_gridfs_file_get_content_type(file);
    check(content_type && strcmp(content_type, "application/x-report") == 0, "contentType kept");
    const bson_t *meta = mongoc_gridfs_file_get_metadata(file);
    bson_iter_t it;
    check(meta && bson_iter_init_find(&it, meta, "owner") && strcmp(bson_iter_utf8(&it, NULL), "c-test") == 0,
          "metadata kept");
    check(mongoc_gridfs_file_get_upload_date(file) > 0, "uploadDate set");
    check(id.value_type == BSON_TYPE_OID && mongoc_gridfs_file_get_id(file)->value_type == BSON_TYPE_OID &&
              bson_oid_equal(&id.value.v_oid, &mongoc_gridfs_file_get_id(file)->value.v_oid),
          "the same ObjectId _id as created");

    /* 3. Reads with seeks across chunk boundaries. */
    check(read_equals(file, data, 0, 1500), "read bytes 0..1500 (two chunks)");
    check(mongoc_gridfs_file_tell(file) == 1500, "tell is 1500");
    check(mongoc_gridfs_file_seek(file, 2999, SEEK_SET) == 0 && read_equals(file, data, 2999, 2),
          "seek 2999 and read across the boundary at 3000");
    check(mongoc_gridfs_file_seek(file, -1001, SEEK_CUR) == 0 && read_equals(file, data, 2000, 1000),
          "seek back 1001 from the current position reads chunk 2 whole");
    check(mongoc_gridfs_file_seek(file, -21, SEEK_END) == 0 && read_equals(file, data, size - 21, 21),
          "seek 21 from the end reads the short last chunk");
    check(mongoc_gridfs_file_seek(file, 0, SEEK_SET) == 0 && read_equals(file, data, 0, size), "re-read everything");
    mongoc_gridfs_file_destroy(file);

    file = mongoc_gridfs_find_one_by_filename(gridfs, "written.txt", &error);
    check(file != NULL, "find_one_by_filename written.txt");
    if (file) {
        check(read_equals(file, (const uint8_t *)text, 0, strlen(text)), "written.txt reads back");
        mongoc_gridfs_file_destroy(file);
    }
    file = mongoc_gridfs_find_one_by_filename(gridfs, "missing", &error);
    check(file == NULL, "find_one_by_filename of a missing name returns NULL");
    if (file) mongoc_gridfs_file_destroy(file);

    /* Chunk documents as the legacy API wrote them (upserts): n int32, data binary, an _id. */
    bson_t *chunk_filter = bson_new();
    BSON_APPEND_VALUE(chunk_filter, "files_id", &id);
    check(count_chunks(gridfs, chunk_filter) == 5, "report.bin has 5 chunks");
    mongoc_collection_t *chunks = mongoc_gridfs_get_chunks(gridfs);
    bson_t *first_filter = BCON_NEW("n", BCON_INT32(4));
    BSON_APPEND_VALUE(first_filter, "files_id", &id);
    mongoc_cursor_t *cursor = mongoc_collection_find_with_opts(chunks, first_filter, NULL, NULL);
    const bson_t *chunk;
    bool found = mongoc_cursor_next(cursor, &chunk);
    check(found, "chunk n=4 found by {n, files_id}");
    if (found) {
        check(bson_iter_init_find(&it, chunk, "_id"), "the upserted chunk has an _id");
        check(bson_iter_init_find(&it, chunk, "n") && BSON_ITER_HOLDS_INT32(&it), "n is int32");
        const uint8_t *bytes;
        uint32_t len;
        check(bson_iter_init_find(&it, chunk, "data") && BSON_ITER_HOLDS_BINARY(&it), "data is binary");
        bson_iter_binary(&it, NULL, &len, &bytes);
        check(len == 321 && memcmp(bytes, data + 4000, 321) == 0, "last chunk holds the last 321 bytes");
    }
    mongoc_cursor_destroy(cursor);
    bson_destroy(first_filter);

    /* 4. list (find with a filter and without). */
    bson_t empty = BSON_INITIALIZER;
    check(count_files(gridfs, &empty) == 2, "two files listed");
    bson_t *by_name = BCON_NEW("filename", "{", "$regex", "^rep", "}");
    check(count_files(gridfs, by_name) == 1, "one file matches {filename: /^rep/}");
    bson_destroy(by_name);

    /* 5. remove_by_filename; 6. drop. */
    check(mongoc_gridfs_remove_by_filename(gridfs, "report.bin", &error), "remove_by_filename report.bin");
    check(count_files(gridfs, &empty) == 1, "one file left");
    check(count_chunks(gridfs, chunk_filter) == 0, "its chunks are gone");
    bool dropped = mongoc_gridfs_drop(gridfs, &error);
    check(dropped, "drop%s%s", dropped ? "" : ": ", dropped ? "" : error.message);
    char **names = mongoc_database_get_collection_names_with_opts(db, NULL, &error);
    bool gone = names != NULL;
    for (size_t i = 0; names && names[i]; i++) {
        if (strcmp(names[i], "legacy.files") == 0 || strcmp(names[i], "legacy.chunks") == 0) gone = false;
    }
    bson_strfreev(names);
    check(gone, "legacy.files and legacy.chunks are dropped");

    bson_destroy(chunk_filter);
    bson_destroy(metadata);
    bson_value_destroy(&id);
    bson_free(data);
    mongoc_gridfs_destroy(gridfs);
    return test_finish(&env);
}
