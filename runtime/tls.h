/* tls.h: TLS with BoringSSL, as a transport (transport.h).
 *
 * A listener with `tls { }` gets one SSL_CTX, shared by every worker thread,
 * so session tickets and the session cache work across workers. Its
 * certificate pairs are loaded at start and again on SIGHUP; each
 * handshake picks one by the client's SNI (exact names, then wildcards, from
 * the certificates' SAN), ECDSA before RSA when the client can take it.
 *
 * This file and tls.c are the only ones that know BoringSSL: the rest of the
 * runtime sees a transport, a handshake to drive, and text values.
 *
 * rp/tls_inspect.h, implemented in tls.c too, serves the compiler, which
 * checks a policy's certificate files when it compiles.
 */
#ifndef RP_TLS_H
#define RP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "transport.h"
#include "rp/program.h"
#include "rp/tls_inspect.h"

/* What a handshake waits for (rp_tls_handshake's *want): libev's EV_READ
 * and EV_WRITE, which worker.h checks they equal, so callers hand *want to
 * their watcher as it is. */
#define RP_TLS_WANT_READ 1
#define RP_TLS_WANT_WRITE 2

/* Loads the TLS listeners' certificates and settings. Returns 0, or -1
 * after logging why (a file that went missing since the build, a key that
 * does not match). */
int rp_tls_setup(const struct rp_program *prog);

/* Reads every listener's certificates, keys and staples again (SIGHUP). A
 * listener whose files fail keeps its old ones, and the reason is logged.
 * New handshakes use the new pairs; connections keep what they had. */
void rp_tls_reload(void);

/* How many listeners have TLS. */
unsigned rp_tls_listeners(void);

/* Session ticket keys this process made (not read from a file) for
 * policy listener `listener`, as handed to a successor (upgrade.h): with
 * them, tickets issued before an upgrade still resume after it. Each key
 * is the 80 bytes of nginx's key files (name, HMAC, AES) and when it was
 * made (rotation goes on from there). */
#define RP_TLS_KEYS_MAX 3
struct rp_tls_ticket_keys {
    uint32_t n;
    struct {
        uint8_t bytes[80];
        int64_t made;
    } key[RP_TLS_KEYS_MAX];
};
/* 0 and the keys, or -1: no TLS there, tickets off, or keys from a file. */
int rp_tls_ticket_keys_get(uint32_t listener, struct rp_tls_ticket_keys *out);
/* Takes a predecessor's keys (before any handshake); ignored where keys
 * come from a file or tickets are off. */
void rp_tls_ticket_keys_set(uint32_t listener, const struct rp_tls_ticket_keys *in);

/* Frees the buffer the calling thread keeps for the next connection's
 * records (at the end of a worker thread). */
void rp_tls_clear_kept(void);

/* Frees what rp_tls_setup made (at exit). */
void rp_tls_teardown(void);

/* Makes `t` (initialized on its socket) the server side of TLS for listener
 * `listener`; `pre` holds bytes read from the socket already (after a
 * PROXY header), TLS's first. Returns -1 when no memory is left. */
int rp_tls_server(struct rp_transport *t, unsigned listener, const char *pre, size_t pre_len);

/* Makes `t` the client side of TLS to server `server` of backend
 * `backend` (its `tls { }`: SNI, verification, a session to resume).
 * Returns -1 when no memory is left. */
int rp_tls_client(struct rp_transport *t, uint32_t backend, uint32_t server);

/* Drives the handshake. Returns 1 when it is done, 0 to be called again when
 * the socket is ready for *want (RP_TLS_WANT_*), -1 when it failed (*why
 * says how: "client closed", the alert's reason). */
int rp_tls_handshake(struct rp_transport *t, int *want, const char **why);

/* A TLS value of the connection (RP_VAL_TLS: "sni", "version", "cipher",
 * "alpn", "client_cert.subject", ...): false when absent. The text lives
 * as long as the connection. */
bool rp_tls_value(const struct rp_tls_conn *tc, const char *name, size_t name_len,
                  const char **v, uint32_t *len);

/* ---- signatures for JSON Web Tokens (jwt.c) ---------------------------------- */

/* A key that verifies signatures: a PEM public key (or certificate) of
 * RSA, EC or Ed25519, or an HMAC secret. */
struct rp_jws_key;
struct rp_jws_key *rp_jws_key_pem(const char *pem, size_t len, char *err, size_t cap);
struct rp_jws_key *rp_jws_key_secret(const void *secret, size_t len);
/* A JWK's public key from its parts (big-endian bytes, as base64url decoded):
 * RSA n and e, an EC point (bits 256 or 384: P-256, P-384), an Ed25519 x. */
struct rp_jws_key *rp_jws_key_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len);
struct rp_jws_key *rp_jws_key_ec(unsigned bits, const uint8_t *x, size_t x_len, const uint8_t *y,
                                 size_t y_len);
struct rp_jws_key *rp_jws_key_ed25519(const uint8_t *x, size_t x_len);
void rp_jws_key_free(struct rp_jws_key *k);
/* Whether alg is one this key can verify (an RSA key: RS and PS; an EC
 * key: the ES of its curve; ...). */
bool rp_jws_key_fits(const struct rp_jws_key *k, enum rp_jws_alg alg);
/* Verifies sig (as JWS encodes it: raw r||s for ECDSA) over data. */
bool rp_jws_verify(const struct rp_jws_key *k, enum rp_jws_alg alg, const void *data, size_t n,
                   const uint8_t *sig, size_t sig_len);

#endif
