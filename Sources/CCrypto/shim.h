// gridlite's window on the system libcrypto (OpenSSL 3): the few primitives SCRAM needs, as
// plain-buffer functions so Swift never sees an OpenSSL type. Only the Auth module imports this.
#ifndef GRIDLITE_CCRYPTO_SHIM_H
#define GRIDLITE_CCRYPTO_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

/// 0: MD5, 1: SHA-1, 2: SHA-256.
static inline const EVP_MD *gridlite_md(int kind) {
    switch (kind) {
    case 0: return EVP_md5();
    case 1: return EVP_sha1();
    case 2: return EVP_sha256();
    default: return NULL;
    }
}

/// The digest of `data` into `out` (at least 32 bytes). Returns the digest length, or 0 on failure.
static inline int gridlite_digest(int kind, const uint8_t *data, size_t length, uint8_t *out) {
    const EVP_MD *md = gridlite_md(kind);
    unsigned int written = 0;
    if (md == NULL) return 0;
    if (EVP_Digest(data, length, out, &written, md, NULL) != 1) return 0;
    return (int)written;
}

/// HMAC(key, data) into `out` (at least 32 bytes). Returns the MAC length, or 0 on failure.
static inline int gridlite_hmac(int kind, const uint8_t *key, size_t keyLength,
                                const uint8_t *data, size_t length, uint8_t *out) {
    const EVP_MD *md = gridlite_md(kind);
    unsigned int written = 0;
    if (md == NULL || keyLength > 0x7fffffff) return 0;
    if (HMAC(md, key, (int)keyLength, data, length, out, &written) == NULL) return 0;
    return (int)written;
}

/// PBKDF2-HMAC(password, salt, iterations) into `out` (`outLength` bytes). Returns 1 on success.
static inline int gridlite_pbkdf2(int kind, const uint8_t *password, size_t passwordLength,
                                  const uint8_t *salt, size_t saltLength, int iterations,
                                  uint8_t *out, size_t outLength) {
    const EVP_MD *md = gridlite_md(kind);
    if (md == NULL || passwordLength > 0x7fffffff || saltLength > 0x7fffffff || outLength > 0x7fffffff) return 0;
    return PKCS5_PBKDF2_HMAC((const char *)password, (int)passwordLength, salt, (int)saltLength,
                             iterations, md, (int)outLength, out);
}

/// `length` bytes from OpenSSL's CSPRNG. Returns 1 on success.
static inline int gridlite_random(uint8_t *out, size_t length) {
    if (length > 0x7fffffff) return 0;
    return RAND_bytes(out, (int)length);
}

#endif
