/*
 * gridfs_bench: the machine's and a server's limits past pymongo, for `make bench` (bench/ceiling_bench.py).
 *
 *   gridfs_bench gridfs <uri> <MiB> [database]   upload then download one file of <MiB> MiB with libmongoc's
 *                                                bucket API (mongoc_gridfs_bucket_t, 255 KiB chunks), 8 MiB
 *                                                stream writes and reads; SHA-256 of the content before the
 *                                                upload and of what came back, both outside the timed parts
 *   gridfs_bench loopback <MiB>                  TCP throughput over 127.0.0.1 (one writer process, one reader
 *                                                process, 1 MiB send/recv calls): what the socket alone allows
 *
 * Prints one JSON object on stdout, e.g. {"up_mibs": 512.3, "down_mibs": 901.2, "sha256_ok": true}.
 * Exit status 0 when the run worked (and the content matched), 1 otherwise, 2 on bad usage.
 */
#include <mongoc/mongoc.h>
#include <openssl/evp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024u * 1024u)

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills `data` with pseudo-random bytes (xorshift64*: incompressible, much faster than /dev/urandom). */
static void fill_random(uint8_t *data, size_t size) {
    uint64_t state = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        uint64_t v = state * 0x2545F4914F6CDD1Dull;
        memcpy(data + i, &v, 8);
    }
    for (; i < size; i++) data[i] = (uint8_t)(i * 131u);
}

static int sha256(const uint8_t *data, size_t size, unsigned char out[32]) {
    unsigned int length = 0;
    return EVP_Digest(data, size, out, &length, EVP_sha256(), NULL) == 1 && length == 32 ? 0 : -1;
}

static int run_gridfs(const char *uri_text, size_t mib, const char *database) {
    size_t size = mib * MIB;
    uint8_t *data = malloc(size);
    uint8_t *back = malloc(size);
    if (!data || !back) {
        fprintf(stderr, "gridfs_bench: cannot allocate %zu MiB twice\n", mib);
        return 1;
    }
    fill_random(data, size);
    memset(back, 0, size);
    unsigned char before[32], after[32];
    if (sha256(data, size, before) != 0) return 1;

    mongoc_init();
    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(uri_text, &error);
    if (!uri) {
        fprintf(stderr, "gridfs_bench: bad uri: %s\n", error.message);
        return 2;
    }
    mongoc_client_t *client = mongoc_client_new_from_uri(uri);
    mongoc_database_t *db = mongoc_client_get_database(client, database);
    mongoc_database_drop(db, NULL);
    mongoc_gridfs_bucket_t *bucket = mongoc_gridfs_bucket_new(db, NULL, NULL, &error);
    if (!bucket) {
        fprintf(stderr, "gridfs_bench: bucket: %s\n", error.message);
        return 1;
    }

    /* Upload: timed from opening the stream to its close (the files document is written at close). */
    bson_value_t file_id;
    double started = now_seconds();
    mongoc_stream_t *up = mongoc_gridfs_bucket_open_upload_stream(bucket, "bench.bin", NULL, &file_id, &error);
    if (!up) {
        fprintf(stderr, "gridfs_bench: open upload: %s\n", error.message);
        return 1;
    }
    for (size_t offset = 0; offset < size; offset += 8 * MIB) {
        size_t n = size - offset < 8 * MIB ? size - offset : 8 * MIB;
        ssize_t written = mongoc_stream_write(up, data + offset, n, 0);
        if (written != (ssize_t)n) {
            mongoc_gridfs_bucket_stream_error(up, &error);
            fprintf(stderr, "gridfs_bench: upload write: %s\n", error.message);
            return 1;
        }
    }
    if (mongoc_stream_close(up) != 0) {
        mongoc_gridfs_bucket_stream_error(up, &error);
        fprintf(stderr, "gridfs_bench: upload close: %s\n", error.message);
        return 1;
    }
    double up_seconds = now_seconds() - started;
    mongoc_stream_destroy(up);

    /* Download into a second buffer: timed from opening the stream to the last byte. */
    started = now_seconds();
    mongoc_stream_t *down = mongoc_gridfs_bucket_open_download_stream(bucket, &file_id, &error);
    if (!down) {
        fprintf(stderr, "gridfs_bench: open download: %s\n", error.message);
        return 1;
    }
    size_t got = 0;
    while (got < size) {
        size_t want = size - got < 8 * MIB ? size - got : 8 * MIB;
        ssize_t n = mongoc_stream_read(down, back + got, want, want, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    double down_seconds = now_seconds() - started;
    if (got < size) {
        mongoc_gridfs_bucket_stream_error(down, &error);
        fprintf(stderr, "gridfs_bench: download stopped at %zu of %zu bytes: %s\n", got, size, error.message);
        return 1;
    }
    mongoc_stream_destroy(down);

    int ok = sha256(back, size, after) == 0 && memcmp(before, after, 32) == 0;
    printf("{\"mib\": %zu, \"up_mibs\": %.1f, \"down_mibs\": %.1f, \"sha256_ok\": %s}\n", mib,
           (double)mib / up_seconds, (double)mib / down_seconds, ok ? "true" : "false");
    mongoc_gridfs_bucket_delete_by_id(bucket, &file_id, NULL);
    bson_value_destroy(&file_id);
    mongoc_gridfs_bucket_destroy(bucket);
    mongoc_database_drop(db, NULL);
    mongoc_database_destroy(db);
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    free(data);
    free(back);
    return ok ? 0 : 1;
}

/* Reads until `size` bytes arrived on `fd`, then answers one byte. */
static int loopback_reader(int fd, size_t size) {
    char *buffer = malloc(MIB);
    size_t got = 0;
    while (got < size) {
        ssize_t n = recv(fd, buffer, MIB, 0);
        if (n <= 0) return 1;
        got += (size_t)n;
    }
    char done = 1;
    free(buffer);
    return send(fd, &done, 1, 0) == 1 ? 0 : 1;
}

static int run_loopback(size_t mib) {
    size_t size = mib * MIB;
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        perror("gridfs_bench: listen");
        return 1;
    }
    pid_t child = fork();
    if (child == 0) {
        int fd = accept(listener, NULL, NULL);
        _exit(fd < 0 ? 1 : loopback_reader(fd, size));
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
        perror("gridfs_bench: connect");
        return 1;
    }
    char *buffer = malloc(MIB);
    fill_random((uint8_t *)buffer, MIB);
    double started = now_seconds();
    for (size_t sent = 0; sent < size;) {
        ssize_t n = send(fd, buffer, MIB, 0);
        if (n <= 0) {
            perror("gridfs_bench: send");
            return 1;
        }
        sent += (size_t)n;
    }
    char done = 0;
    if (recv(fd, &done, 1, 0) != 1) return 1;
    double seconds = now_seconds() - started;
    int status = 0;
    waitpid(child, &status, 0);
    printf("{\"mib\": %zu, \"mibs\": %.1f}\n", mib, (double)mib / seconds);
    free(buffer);
    close(fd);
    close(listener);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "gridfs") == 0) {
        return run_gridfs(argv[2], (size_t)strtoul(argv[3], NULL, 10), argc >= 5 ? argv[4] : "gridfs_c_bench");
    }
    if (argc >= 3 && strcmp(argv[1], "loopback") == 0) {
        return run_loopback((size_t)strtoul(argv[2], NULL, 10));
    }
    fprintf(stderr, "usage: gridfs_bench gridfs <uri> <MiB> [database] | gridfs_bench loopback <MiB>\n");
    return 2;
}
