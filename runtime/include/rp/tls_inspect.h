/* rp/tls_inspect.h: what the compiler asks of certificate files when it
 * checks a policy (rpx check, rpx build). Implemented in tls.c, the one
 * file that knows BoringSSL, so the compiler and the proxy read
 * certificates the same way. */
#ifndef RP_TLS_INSPECT_H
#define RP_TLS_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* What a certificate file holds. */
struct rp_tls_cert_info {
    char error[256];       /* why it is unusable, or "" */
    unsigned n_certs;      /* certificates in the file (leaf, then chain) */
    char key_type[16];     /* "RSA 2048", "ECDSA P-256" ... */
    time_t not_before, not_after;
    char names[1024];      /* the leaf's DNS names (SAN, else CN), space-separated */
    char chain_error[256]; /* a chain out of order, or "" */
};

/* Reads the certificate file `cert` and, when `key` is not NULL, its key,
 * and says what is wrong with them (info->error) or what they hold.
 * Messages name the files as `cert_shown` and `key_shown`. */
void rp_tls_inspect_pair(const char *cert, const char *key, const char *cert_shown,
                         const char *key_shown, struct rp_tls_cert_info *info);

/* Whether a PEM file holds at least one CA certificate (error: why not,
 * naming the file as `shown`). */
bool rp_tls_inspect_ca(const char *path, const char *shown, char *error, size_t error_size);

/* Whether `ciphers` is a TLS 1.2 suite list BoringSSL takes (error: why not). */
bool rp_tls_inspect_ciphers(const char *ciphers, char *error, size_t error_size);

/* Whether `curves` is a group list BoringSSL takes. */
bool rp_tls_inspect_curves(const char *curves, char *error, size_t error_size);

/* Whether `name` is covered by one of the space-separated `names`
 * (wildcards cover one label). */
bool rp_tls_name_covered(const char *names, const char *name);

/* `auth jwt`'s key file: whether it verifies tokens of each algorithm in
 * algs (1u << enum rp_jws_alg, rp/program.h): a PEM public key or
 * certificate of the right kind, or (HMAC) a secret of at least 32 bytes.
 * False with error (naming the file as shown) when not. */
bool rp_tls_inspect_jws_key(const char *path, const char *shown, unsigned algs, char *error,
                            size_t error_size);

#endif
