/*
 * gridfs_cat URI DB FILENAME: writes the newest revision of a GridFS file to stdout through
 * libmongoc's bucket API (find by filename, newest uploadDate first, then a download stream).
 * Used by test_http_gateway.py to read back a file that was uploaded over HTTP. Exit status 0 on
 * success, 1 (with the reason on stderr) otherwise.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>

int main(int argc, char *argv[]) {
    if (argc != 4) {
        fprintf(stderr, "usage: gridfs_cat URI DB FILENAME\n");
        return 1;
    }
    mongoc_init();
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
    if (!uri) { fprintf(stderr, "%s\n", error.message); return 1; }
    mongoc_client_t *client = mongoc_client_new_from_uri(uri);
    mongoc_database_t *db = mongoc_client_get_database(client, argv[2]);
    mongoc_gridfs_bucket_t *bucket = mongoc_gridfs_bucket_new(db, NULL, NULL, &error);
    if (!bucket) { fprintf(stderr, "%s\n", error.message); return 1; }
    bson_t *filter = BCON_NEW("filename", BCON_UTF8(argv[3]));
    bson_t *opts = BCON_NEW("sort", "{", "uploadDate", BCON_INT32(-1), "}", "limit", BCON_INT64(1));
    mongoc_cursor_t *cursor = mongoc_gridfs_bucket_find(bucket, filter, opts);
    const bson_t *doc;
    int status = 1;
    if (mongoc_cursor_next(cursor, &doc)) {
        bson_iter_t it;
        if (bson_iter_init_find(&it, doc, "_id")) {
            bson_value_t id;
            bson_value_copy(bson_iter_value(&it), &id);
            mongoc_stream_t *down = mongoc_gridfs_bucket_open_download_stream(bucket, &id, &error);
            if (down) {
                char buf[65536];
                ssize_t n;
                status = 0;
                while ((n = mongoc_stream_read(down, buf, sizeof buf, 1, 10000)) > 0) {
                    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) { status = 1; break; }
                }
                if (n < 0) status = 1;
                mongoc_stream_destroy(down);
            } else {
                fprintf(stderr, "%s\n", error.message);
            }
            bson_value_destroy(&id);
        }
    } else {
        fprintf(stderr, "no file named %s\n", argv[3]);
    }
    mongoc_cursor_destroy(cursor);
    bson_destroy(opts);
    bson_destroy(filter);
    mongoc_gridfs_bucket_destroy(bucket);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return status;
}
