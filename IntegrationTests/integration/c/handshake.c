/*
 * handshake: connect to a MongoDB URI with libmongoc, run one command on the admin database, print the
 * reply as relaxed extended JSON on stdout.
 *
 *   handshake <uri> [command]      command defaults to "ping"; the command is {<command>: 1}
 *
 * libmongoc sends its handshake (isMaster) as OP_QUERY and the command itself as OP_MSG, so this
 * exercises both paths of a server. Exit status: 0 on success, 1 on a failed command, 2 on bad usage.
 */
#include <mongoc/mongoc.h>
#include <stdio.h>

int main(int argc, char *argv[]) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s <mongodb-uri> [command]\n", argv[0]);
        return 2;
    }
    const char *command_name = argc == 3 ? argv[2] : "ping";

    mongoc_init();

    bson_error_t error;
    mongoc_uri_t *uri = mongoc_uri_new_with_error(argv[1], &error);
    if (uri == NULL) {
        fprintf(stderr, "handshake: invalid URI %s: %s\n", argv[1], error.message);
        mongoc_cleanup();
        return 2;
    }

    mongoc_client_t *client = mongoc_client_new_from_uri(uri);
    if (client == NULL) {
        fprintf(stderr, "handshake: cannot create a client for %s\n", argv[1]);
        mongoc_uri_destroy(uri);
        mongoc_cleanup();
        return 1;
    }
    mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_set_appname(client, "gridlite-handshake-test");

    bson_t *command = BCON_NEW(command_name, BCON_INT32(1));
    bson_t reply;
    bool ok = mongoc_client_command_simple(client, "admin", command, NULL, &reply, &error);
    if (ok) {
        char *json = bson_as_relaxed_extended_json(&reply, NULL);
        printf("%s\n", json);
        bson_free(json);
    } else {
        fprintf(stderr, "handshake: %s failed: %s (domain %u, code %u)\n",
                command_name, error.message, error.domain, error.code);
    }

    bson_destroy(&reply);
    bson_destroy(command);
    mongoc_client_destroy(client);
    mongoc_uri_destroy(uri);
    mongoc_cleanup();
    return ok ? 0 : 1;
}
