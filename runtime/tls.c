/* tls.c: TLS with BoringSSL (see tls.h): the listeners' contexts and their
 * certificates, the transport, session tickets, the connection's values,
 * and the inspection calls the compiler checks certificate files with.
 *
 * Records go to the socket through a BIO of our own: what BoringSSL writes
 * is queued in the connection's `out` and sent in one write per call, so
 * SSL_write never waits (no WANT_WRITE to replay with the same buffer) and
 * a full socket looks to the caller like a full socket (tls_writev). Reads come from the socket (or the chaos
 * transport beneath) record by record; BoringSSL reads no further than the
 * record it needs, so the kernel still signals the rest. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/pool.h>
#include <openssl/rsa.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"
#include "rp/tls_inspect.h"

/* The defaults: Mozilla's "intermediate" TLS 1.2 suites (forward secret,
 * AEAD only); TLS 1.3's are BoringSSL's, which are all good. */
#define RP_TLS_CIPHERS                                                                     \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define RP_TLS_CURVES "X25519:P-256:P-384"

/* How much ciphertext one write call queues before it sends. */
#define RP_TLS_OUT_BATCH (48 * 1024)
#define RP_TLS_RECORD 16384

/* ---- certificate pairs ------------------------------------------------------------- */

struct tls_pair {
    CRYPTO_BUFFER **chain; /* leaf first */
    size_t n_chain;
    EVP_PKEY *key;
    bool ecdsa;
    uint8_t *ocsp;
    size_t ocsp_len;
    char **names; /* lower case DNS names: SAN, else the CN */
    size_t n_names;
};

/* One generation of a listener's pairs: replaced whole on reload. */
struct tls_pairs {
    struct tls_pair *p;
    size_t n;
};

/* Session ticket keys: name, HMAC-SHA256 key, AES-256-CBC key (the 80-byte
 * layout nginx's ssl_session_ticket_key files use). */
struct tls_ticket_key {
    uint8_t name[16];
    uint8_t hmac[32];
    uint8_t aes[32];
    time_t made;
};

#define RP_TLS_TICKET_KEYS 3 /* the current key and those before it, still accepted */

struct tls_listener {
    const struct rp_tls_def *def;
    SSL_CTX *ctx;
    _Atomic(struct tls_pairs *) pairs;
    struct tls_pairs *old; /* the generation before: freed at the next reload */
    pthread_mutex_t ticket_lock;
    struct tls_ticket_key keys[RP_TLS_TICKET_KEYS]; /* [0] encrypts */
    unsigned n_keys;
    bool keys_from_file;
};

struct rp_tls_conn {
    SSL *ssl;
    struct rp_transport *t;
    char *out; /* ciphertext not yet on the socket */
    size_t out_len, out_off, out_cap;
    size_t held;         /* plaintext in `out`'s records, not yet reported written */
    char *pre;           /* bytes read from the socket ahead of BoringSSL (read-ahead,
                            or those after a PROXY header) ... */
    size_t pre_len, pre_off; /* ... which it reads first */
    bool pre_ahead;      /* `pre` is a read-ahead buffer (RP_TLS_READ_AHEAD bytes) */
    bool shut;           /* our close_notify is queued: what comes is discarded raw */
    bool fin_sent;       /* ... and the socket's sending side is shut */
    bool end_pending;    /* a read returned bytes and met the end (or an error)
                            after them: the next read reports it */
    bool handshake_done;
    unsigned dry_turn;   /* 1 + the loop turn (rp_transport_iteration)
                            in which a read of the socket came back short or
                            empty: none until the next poll; 0: none */
    char *values[12];    /* the values asked for, made once (rp_tls_value) */
};

/* TLS to one server: its context (shared by the workers) and the last
 * session it gave, which new connections resume. */
struct tls_client {
    const struct rp_tls_client_def *def;
    SSL_CTX *ctx;
    pthread_mutex_t lock;
    SSL_SESSION *session;
};

static struct tls_listener *listeners;
static unsigned n_listeners;
static struct tls_listener **listener_of; /* [program listener]: its TLS, or NULL */
static struct tls_client **clients; /* [backend][server]; NULL: plain */
static int ex_client = -1;          /* SSL_CTX ex_data: its tls_client */
static const struct rp_program *program;
static BIO_METHOD *bio_method;
static int ex_listener = -1; /* SSL_CTX ex_data: its tls_listener */
static CRYPTO_BUFFER_POOL *buffer_pool;

static const char *ssl_error_text(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown error";
}

static void pair_free(struct tls_pair *p)
{
    for (size_t i = 0; i < p->n_chain; i++)
        CRYPTO_BUFFER_free(p->chain[i]);
    free(p->chain);
    EVP_PKEY_free(p->key);
    free(p->ocsp);
    for (size_t i = 0; i < p->n_names; i++)
        free(p->names[i]);
    free(p->names);
}

static void pairs_free(struct tls_pairs *ps)
{
    if (!ps)
        return;
    for (size_t i = 0; i < ps->n; i++)
        pair_free(&ps->p[i]);
    free(ps->p);
    free(ps);
}

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
        if (n == cap) {
            uint8_t *nb = cap < (16u << 20) ? realloc(b, cap * 2) : NULL;
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (!b || bad) {
        free(b);
        errno = bad ? EIO : ENOMEM;
        return -1;
    }
    *data = b;
    *len = n;
    return 0;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s + 32);
}

/* The leaf's DNS names: its SAN's, or its CN when it has no SAN. */
static int cert_names(X509 *x, char ***out, size_t *n_out)
{
    char **names = NULL;
    size_t n = 0;
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (san) {
        for (size_t i = 0; i < sk_GENERAL_NAME_num(san); i++) {
            const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
            if (g->type != GEN_DNS)
                continue;
            const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
            int len = ASN1_STRING_length(g->d.dNSName);
            char **nn = realloc(names, (n + 1) * sizeof *names);
            char *name = len > 0 && len < 256 ? strndup((const char *)s, (size_t)len) : NULL;
            if (!nn || !name) {
                free(name);
                names = nn ? nn : names;
                continue;
            }
            names = nn;
            lower(name);
            names[n++] = name;
        }
        GENERAL_NAMES_free(san);
    }
    if (n == 0) {
        char cn[256];
        int len = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                                            sizeof cn);
        if (len > 0 && (names = malloc(sizeof *names)) && (names[0] = strdup(cn))) {
            lower(names[0]);
            n = 1;
        }
    }
    *out = names;
    *n_out = n;
    return 0;
}

/* Loads one pair. Returns -1 with the reason in err. */
static int pair_load(const struct rp_tls_pair *def, struct tls_pair *p, char *err, size_t err_size)
{
    memset(p, 0, sizeof *p);
    BIO *bio = BIO_new_file(def->cert, "r");
    if (!bio) {
        snprintf(err, err_size, "%s: %s", def->cert, strerror(errno));
        return -1;
    }
    X509 *leaf = NULL;
    for (;;) {
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!x)
            break;
        uint8_t *der = NULL;
        int len = i2d_X509(x, &der);
        CRYPTO_BUFFER *cb = len > 0 ? CRYPTO_BUFFER_new(der, (size_t)len, buffer_pool) : NULL;
        OPENSSL_free(der);
        CRYPTO_BUFFER **nc = cb ? realloc(p->chain, (p->n_chain + 1) * sizeof *nc) : NULL;
        if (!nc) {
            CRYPTO_BUFFER_free(cb);
            X509_free(x);
            break;
        }
        p->chain = nc;
        p->chain[p->n_chain++] = cb;
        if (!leaf)
            leaf = x;
        else
            X509_free(x);
    }
    ERR_clear_error();
    BIO_free(bio);
    if (!leaf) {
        snprintf(err, err_size, "%s: no PEM certificate in it", def->cert);
        pair_free(p);
        return -1;
    }
    bio = BIO_new_file(def->key, "r");
    p->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!p->key) {
        snprintf(err, err_size, "%s: %s", def->key,
                 bio ? "no PEM private key in it" : strerror(errno));
        ERR_clear_error();
        X509_free(leaf);
        pair_free(p);
        return -1;
    }
    if (!X509_check_private_key(leaf, p->key)) {
        ERR_clear_error();
        snprintf(err, err_size, "%s: the key does not match the certificate %s", def->key,
                 def->cert);
        X509_free(leaf);
        pair_free(p);
        return -1;
    }
    p->ecdsa = EVP_PKEY_id(p->key) == EVP_PKEY_EC;
    cert_names(leaf, &p->names, &p->n_names);
    X509_free(leaf);
    if (def->ocsp && read_file(def->ocsp, &p->ocsp, &p->ocsp_len) < 0) {
        snprintf(err, err_size, "%s: %s", def->ocsp, strerror(errno));
        pair_free(p);
        return -1;
    }
    return 0;
}

static struct tls_pairs *pairs_load(const struct rp_tls_def *def, char *err, size_t err_size)
{
    struct tls_pairs *ps = calloc(1, sizeof *ps);
    if (!ps || !(ps->p = calloc(def->n_pairs, sizeof *ps->p))) {
        free(ps);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < def->n_pairs; i++) {
        if (pair_load(&def->pairs[i], &ps->p[i], err, err_size) < 0) {
            pairs_free(ps);
            return NULL;
        }
        ps->n++;
    }
    return ps;
}

/* ---- choosing a pair: SNI, key type ------------------------------------------ */

static bool name_matches(const char *pattern, const char *name, size_t name_len)
{
    size_t plen = strlen(pattern);
    if (pattern[0] == '*' && pattern[1] == '.') {
        /* A wildcard covers exactly one label: *.example.com covers
         * a.example.com, not example.com nor a.b.example.com. */
        const char *dot = memchr(name, '.', name_len);
        if (!dot || dot == name)
            return false;
        size_t rest = name_len - (size_t)(dot - name);
        return rest == plen - 1 && memcmp(dot, pattern + 1, rest) == 0;
    }
    return plen == name_len && memcmp(pattern, name, name_len) == 0;
}

/* The SNI host name of a ClientHello, lower case, into buf; 0 if none. */
static size_t hello_sni(const SSL_CLIENT_HELLO *ch, char *buf, size_t size)
{
    const uint8_t *data;
    size_t len;
    if (!SSL_early_callback_ctx_extension_get(ch, TLSEXT_TYPE_server_name, &data, &len))
        return 0;
    CBS ext, list, name;
    uint8_t type;
    CBS_init(&ext, data, len);
    if (!CBS_get_u16_length_prefixed(&ext, &list))
        return 0;
    while (CBS_len(&list) > 0) {
        if (!CBS_get_u8(&list, &type) || !CBS_get_u16_length_prefixed(&list, &name))
            return 0;
        if (type != TLSEXT_NAMETYPE_host_name)
            continue;
        size_t n = CBS_len(&name);
        if (n == 0 || n >= size)
            return 0;
        memcpy(buf, CBS_data(&name), n);
        buf[n] = '\0';
        lower(buf);
        if (n > 1 && buf[n - 1] == '.') /* a trailing dot names the same host */
            buf[--n] = '\0';
        return n;
    }
    return 0;
}

static bool u16_list_has(const uint8_t *p, size_t len, bool (*want)(uint16_t))
{
    for (size_t i = 0; i + 1 < len; i += 2)
        if (want((uint16_t)(p[i] << 8 | p[i + 1])))
            return true;
    return false;
}

static bool is_ecdsa_sigalg(uint16_t v)
{
    return v == 0x0403 || v == 0x0503 || v == 0x0603;
}

static bool is_tls13(uint16_t v)
{
    return v == 0x0304;
}

static bool is_ecdsa_suite(uint16_t v)
{
    /* ECDHE_ECDSA with AES-GCM, CHACHA20, AES-CBC */
    return v == 0xc02b || v == 0xc02c || v == 0xcca9 || v == 0xc009 || v == 0xc00a;
}

/* Whether the client can verify an ECDSA certificate: it lists an ECDSA
 * signature algorithm and either speaks TLS 1.3 or offers an ECDSA suite. */
static bool hello_takes_ecdsa(const SSL_CLIENT_HELLO *ch)
{
    const uint8_t *data;
    size_t len;
    if (!SSL_early_callback_ctx_extension_get(ch, TLSEXT_TYPE_signature_algorithms, &data, &len) ||
        len < 2 || !u16_list_has(data + 2, len - 2, is_ecdsa_sigalg))
        return false;
    if (SSL_early_callback_ctx_extension_get(ch, TLSEXT_TYPE_supported_versions, &data, &len) &&
        len >= 1 && u16_list_has(data + 1, len - 1, is_tls13))
        return true;
    return u16_list_has(ch->cipher_suites, ch->cipher_suites_len, is_ecdsa_suite);
}

/* The pair for a name: an exact name first, then a wildcard; among pairs
 * that match equally, ECDSA when the client takes it. NULL: none matches. */
static const struct tls_pair *pick_pair(const struct tls_pairs *ps, const char *sni, size_t n,
                                        bool ecdsa_ok)
{
    const struct tls_pair *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const struct tls_pair *p = &ps->p[i];
        for (size_t k = 0; k < p->n_names; k++) {
            if (!name_matches(p->names[k], sni, n))
                continue;
            int score = (p->names[k][0] == '*' ? 2 : 4) + (p->ecdsa == ecdsa_ok ? 1 : 0);
            if (score > best_score) {
                best = p;
                best_score = score;
            }
        }
    }
    return best;
}

/* The default for clients without SNI or with a name no pair has: the
 * first pair, or its twin of the other key type that has the same names. */
static const struct tls_pair *default_pair(const struct tls_pairs *ps, bool ecdsa_ok)
{
    const struct tls_pair *first = &ps->p[0];
    if (first->ecdsa == ecdsa_ok || first->n_names == 0)
        return first;
    const struct tls_pair *twin = pick_pair(ps, first->names[0], strlen(first->names[0]), ecdsa_ok);
    return twin && twin->ecdsa == ecdsa_ok ? twin : first;
}

static enum ssl_select_cert_result_t select_certificate(const SSL_CLIENT_HELLO *ch)
{
    SSL *ssl = ch->ssl;
    struct tls_listener *l = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_listener);
    const struct tls_pairs *ps = atomic_load_explicit(&l->pairs, memory_order_acquire);
    char sni[256];
    size_t n = hello_sni(ch, sni, sizeof sni);
    bool ecdsa_ok = hello_takes_ecdsa(ch);
    const struct tls_pair *p = n ? pick_pair(ps, sni, n, ecdsa_ok) : NULL;
    if (!p)
        p = default_pair(ps, ecdsa_ok);
    if (!SSL_set_chain_and_key(ssl, p->chain, p->n_chain, p->key, NULL))
        return ssl_select_cert_error;
    if (p->ocsp && !SSL_set_ocsp_response(ssl, p->ocsp, p->ocsp_len))
        return ssl_select_cert_error;
    return ssl_select_cert_success;
}

/* ---- ALPN ---------------------------------------------------------------------------- */

/* The server's order wins (RFC 7301 3.2); a client that offers ALPN with
 * no protocol in common is refused, as nginx does. */
static int alpn_select(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in,
                       unsigned in_len, void *arg)
{
    (void)arg;
    struct tls_listener *l = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_listener);
    const uint8_t *ours = (const uint8_t *)l->def->alpn;
    for (uint32_t i = 0; i < l->def->alpn_len; i += 1u + ours[i]) {
        for (unsigned k = 0; k < in_len; k += 1u + in[k]) {
            if (k + 1u + in[k] > in_len)
                break;
            if (in[k] == ours[i] && memcmp(in + k + 1, ours + i + 1, in[k]) == 0) {
                *out = in + k + 1;
                *out_len = in[k];
                return SSL_TLSEXT_ERR_OK;
            }
        }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* ---- session tickets ---------------------------------------------------------------- */

static int ticket_key_make(struct tls_ticket_key *k, time_t now)
{
    if (!RAND_bytes(k->name, sizeof k->name) || !RAND_bytes(k->hmac, sizeof k->hmac) ||
        !RAND_bytes(k->aes, sizeof k->aes))
        return -1;
    k->made = now;
    return 0;
}

/* Keys made here are replaced every ticket_rotate_s; the ones before stay
 * accepted for a while, so a ticket outlives one rotation. Keys from a file
 * change when the operator replaces the file and sends SIGHUP. */
static void ticket_keys_rotate(struct tls_listener *l, time_t now)
{
    if (l->keys_from_file || !l->def->ticket_rotate_s ||
        now - l->keys[0].made < (time_t)l->def->ticket_rotate_s)
        return;
    memmove(&l->keys[1], &l->keys[0], (RP_TLS_TICKET_KEYS - 1) * sizeof l->keys[0]);
    if (ticket_key_make(&l->keys[0], now) < 0)
        l->keys[0] = l->keys[1];
    else if (l->n_keys < RP_TLS_TICKET_KEYS)
        l->n_keys++;
}

static int ticket_key_cb(SSL *ssl, uint8_t *name, uint8_t *iv, EVP_CIPHER_CTX *cipher,
                         HMAC_CTX *hmac, int encrypt)
{
    struct tls_listener *l = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_listener);
    int rc = 0;
    pthread_mutex_lock(&l->ticket_lock);
    ticket_keys_rotate(l, time(NULL));
    if (encrypt) {
        const struct tls_ticket_key *k = &l->keys[0];
        if (RAND_bytes(iv, 16)) {
            memcpy(name, k->name, 16);
            rc = EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, k->aes, iv) &&
                         HMAC_Init_ex(hmac, k->hmac, sizeof k->hmac, EVP_sha256(), NULL)
                     ? 1
                     : -1;
        } else {
            rc = -1;
        }
    } else {
        for (unsigned i = 0; i < l->n_keys; i++) {
            const struct tls_ticket_key *k = &l->keys[i];
            if (memcmp(name, k->name, 16) != 0)
                continue;
            if (!HMAC_Init_ex(hmac, k->hmac, sizeof k->hmac, EVP_sha256(), NULL) ||
                !EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, k->aes, iv))
                rc = -1;
            else
                rc = i == 0 ? 1 : 2; /* 2: accepted, and a new ticket is issued */
            break;
        }
    }
    pthread_mutex_unlock(&l->ticket_lock);
    return rc;
}

/* Reads the file's 80-byte keys: the first encrypts, all decrypt. */
static int ticket_keys_load(struct tls_listener *l, char *err, size_t err_size)
{
    uint8_t *data;
    size_t len;
    const char *path = l->def->ticket_key_file;
    if (read_file(path, &data, &len) < 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (len == 0 || len % 80 != 0 || len / 80 > RP_TLS_TICKET_KEYS) {
        snprintf(err, err_size, "%s: wants 1 to %d keys of 80 random bytes (openssl rand 80), "
                 "has %zu bytes", path, RP_TLS_TICKET_KEYS, len);
        free(data);
        return -1;
    }
    pthread_mutex_lock(&l->ticket_lock);
    l->n_keys = (unsigned)(len / 80);
    for (unsigned i = 0; i < l->n_keys; i++) {
        memcpy(l->keys[i].name, data + 80 * i, 16);
        memcpy(l->keys[i].hmac, data + 80 * i + 16, 32);
        memcpy(l->keys[i].aes, data + 80 * i + 48, 32);
        l->keys[i].made = time(NULL);
    }
    l->keys_from_file = true;
    pthread_mutex_unlock(&l->ticket_lock);
    OPENSSL_cleanse(data, len);
    free(data);
    return 0;
}

/* ---- contexts --------------------------------------------------------------------------- */

static int verify_cb(int ok, X509_STORE_CTX *store)
{
    (void)store;
    return ok; /* BoringSSL's verdict: a bad certificate fails the handshake */
}

static int listener_init(struct tls_listener *l, const struct rp_tls_def *def, char *err,
                         size_t err_size)
{
    l->def = def;
    pthread_mutex_init(&l->ticket_lock, NULL);
    struct tls_pairs *ps = pairs_load(def, err, err_size);
    if (!ps)
        return -1;
    atomic_store(&l->pairs, ps);
    SSL_CTX *ctx = l->ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, err_size, "%s", ssl_error_text());
        return -1;
    }
    SSL_CTX_set_ex_data(ctx, ex_listener, l);
    SSL_CTX_set_min_proto_version(ctx, def->min_version ? def->min_version : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, def->max_version ? def->max_version : TLS1_3_VERSION);
    if (!SSL_CTX_set_strict_cipher_list(ctx, def->ciphers ? def->ciphers : RP_TLS_CIPHERS)) {
        snprintf(err, err_size, "ciphers: %s", ssl_error_text());
        return -1;
    }
    if (!SSL_CTX_set1_curves_list(ctx, def->curves ? def->curves : RP_TLS_CURVES)) {
        snprintf(err, err_size, "curves: %s", ssl_error_text());
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_select_certificate_cb(ctx, select_certificate);
    if (def->alpn_len)
        SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    /* Sessions: tickets (TLS 1.2 and 1.3) with our keys, and a cache of
     * TLS 1.2 sessions by id for clients without tickets. Early data
     * (0-RTT) stays off: it can be replayed. */
    static const uint8_t sid_ctx[] = "rpx";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_timeout(ctx, def->session_timeout_s ? def->session_timeout_s : 3600);
    SSL_CTX_set_session_psk_dhe_timeout(ctx, def->session_timeout_s ? def->session_timeout_s
                                                                      : 3600);
    if (def->session_cache) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, def->session_cache);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    if (def->no_tickets) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    } else if (def->ticket_key_file) {
        if (ticket_keys_load(l, err, err_size) < 0)
            return -1;
    } else {
        if (ticket_key_make(&l->keys[0], time(NULL)) < 0) {
            snprintf(err, err_size, "no random bytes for ticket keys");
            return -1;
        }
        l->n_keys = 1;
    }
    if (!def->no_tickets)
        SSL_CTX_set_tlsext_ticket_key_cb(ctx, ticket_key_cb);
    if (def->client_ca) {
        if (!SSL_CTX_load_verify_locations(ctx, def->client_ca, NULL)) {
            snprintf(err, err_size, "%s: %s", def->client_ca, ssl_error_text());
            return -1;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(def->client_ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        int mode = SSL_VERIFY_PEER;
        if (def->verify == RP_TLS_VERIFY_REQUIRED)
            mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        if (def->verify != RP_TLS_VERIFY_NONE)
            SSL_CTX_set_verify(ctx, mode, verify_cb);
    }
    ERR_clear_error();
    return 0;
}

/* Our BIO: reads from the transport beneath (the socket, or chaos), and
 * queues writes in the connection's `out` (see the top of this file). */
/* BoringSSL reads a record's 5-byte header, then its body, each with its
 * own read: small reads are served from a read-ahead buffer instead, one
 * system call for what the socket holds (a request's records, usually). A
 * record body of a few KB or more is read straight into BoringSSL's
 * buffer. What the read-ahead holds is readable without the socket
 * (tls_pending). */
#define RP_TLS_READ_AHEAD (RP_TLS_RECORD + 1024)
#define RP_TLS_READ_DIRECT 4096
static _Thread_local char *spare_in;

static void pre_release(struct rp_tls_conn *tc)
{
    if (tc->pre && tc->pre_ahead && !spare_in)
        spare_in = tc->pre; /* the thread's next read-ahead buffer */
    else
        free(tc->pre);
    tc->pre = NULL;
    tc->pre_len = tc->pre_off = 0;
    tc->pre_ahead = false;
}

/* Reads the socket for BoringSSL, unless a read this loop turn already
 * found it drained (a short read): that read would be a wasted EAGAIN, two
 * per handshake (after the ClientHello and after the client's Finished). */
static ssize_t socket_read(struct rp_tls_conn *tc, char *buf, size_t len)
{
    unsigned turn = rp_transport_loop ? rp_transport_iteration(rp_transport_loop) + 1 : 0;
    if (turn && tc->dry_turn == turn) {
        errno = EAGAIN;
        return -1;
    }
    ssize_t n = rp_transport_raw_read(tc->t, buf, len);
    if ((n > 0 && (size_t)n < len) || (n < 0 && errno == EAGAIN))
        tc->dry_turn = turn;
    return n;
}

static int bio_read(BIO *b, char *buf, int len)
{
    struct rp_tls_conn *tc = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!tc->pre && len < RP_TLS_READ_DIRECT) {
        char *ra = spare_in ? spare_in : malloc(RP_TLS_READ_AHEAD);
        spare_in = NULL;
        ssize_t n = ra ? socket_read(tc, ra, RP_TLS_READ_AHEAD) : -1;
        if (n <= 0) {
            if (ra && !spare_in)
                spare_in = ra;
            else
                free(ra);
            if (n < 0 && errno == EAGAIN)
                BIO_set_retry_read(b);
            return (int)n;
        }
        tc->pre = ra;
        tc->pre_len = (size_t)n;
        tc->pre_off = 0;
        tc->pre_ahead = true;
    }
    if (tc->pre) {
        size_t k = tc->pre_len - tc->pre_off < (size_t)len ? tc->pre_len - tc->pre_off : (size_t)len;
        memcpy(buf, tc->pre + tc->pre_off, k);
        if ((tc->pre_off += k) == tc->pre_len)
            pre_release(tc);
        return (int)k;
    }
    ssize_t n = socket_read(tc, buf, (size_t)len);
    if (n < 0 && errno == EAGAIN) {
        BIO_set_retry_read(b);
        return -1;
    }
    return (int)n;
}

/* A drained `out` is parked here for the thread's next connection to
 * write: a buffer per connection only while its records wait, and no
 * allocation per response. */
#define RP_TLS_OUT_CAP (RP_TLS_OUT_BATCH + 2 * RP_TLS_RECORD)
static _Thread_local char *spare_out;

static void out_release(struct rp_tls_conn *tc)
{
    if (tc->out && tc->out_cap == RP_TLS_OUT_CAP && !spare_out)
        spare_out = tc->out;
    else
        free(tc->out);
    tc->out = NULL;
    tc->out_len = tc->out_off = tc->out_cap = 0;
}

void rp_tls_clear_kept(void)
{
    free(spare_out);
    spare_out = NULL;
    free(spare_in);
    spare_in = NULL;
}

static int bio_write(BIO *b, const char *buf, int len)
{
    struct rp_tls_conn *tc = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t need = tc->out_len + (size_t)len;
    if (!tc->out && need <= RP_TLS_OUT_CAP && spare_out) {
        tc->out = spare_out;
        tc->out_cap = RP_TLS_OUT_CAP;
        spare_out = NULL;
    }
    if (need > tc->out_cap) {
        size_t cap = tc->out_cap ? tc->out_cap : RP_TLS_OUT_CAP;
        while (cap < need)
            cap *= 2;
        char *nb = realloc(tc->out, cap);
        if (!nb)
            return -1;
        tc->out = nb;
        tc->out_cap = cap;
    }
    memcpy(tc->out + tc->out_len, buf, (size_t)len);
    tc->out_len += (size_t)len;
    return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* Sends what `out` holds. Returns 1 when it is empty, 0 when the socket is
 * full, -1 on an error (errno). */
static int out_flush(struct rp_tls_conn *tc)
{
    while (tc->out_off < tc->out_len) {
        ssize_t n = rp_transport_raw_write(tc->t, tc->out + tc->out_off, tc->out_len - tc->out_off);
        if (n < 0)
            return errno == EAGAIN ? 0 : -1;
        tc->out_off += (size_t)n;
    }
    /* Drained: the buffer goes, so a connection that waits holds none. */
    out_release(tc);
    return 1;
}

/* ---- the transport -------------------------------------------------------------------- */

/* An SSL error as errno: EAGAIN to wait, else a failure. */
static ssize_t ssl_fail(struct rp_tls_conn *tc, int r)
{
    int e = SSL_get_error(tc->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0; /* close_notify */
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (r == 0 || errno == 0)
            return 0; /* closed without close_notify: an end all the same */
        return -1;
    default:
        rp_debug("tls: %s", ssl_error_text());
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

/* SSL_read gives one record at a time: records already read (ahead, or
 * decrypted) are taken too, while there is room, so that a caller that
 * reads once per event is not left waiting for an event the socket will
 * not give (a request head in two records, read ahead together). */
static ssize_t tls_read(struct rp_transport *t, void *buf, size_t n)
{
    struct rp_tls_conn *tc = t->tls;
    if (tc->shut)
        return rp_transport_raw_read(t, buf, n);
    size_t got = 0;
    int r = 0;
    tc->end_pending = false;
    while (got < n) {
        size_t want = n - got;
        r = SSL_read(tc->ssl, (char *)buf + got, want > INT_MAX ? INT_MAX : (int)want);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (!tc->pre && SSL_pending(tc->ssl) == 0)
            break;
    }
    /* A read may have made something to send back (a KeyUpdate's answer,
     * an alert): it goes now if it can, else with the next write. */
    if (tc->out_len)
        (void)out_flush(tc);
    if (got) {
        /* The end (or an error) after these bytes shows on the next call,
         * which tls_pending asks for: the socket may not signal again (a
         * close_notify without a FIN). */
        if (r <= 0) {
            int e = SSL_get_error(tc->ssl, r);
            tc->end_pending = e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
            ERR_clear_error();
        }
        return (ssize_t)got;
    }
    return ssl_fail(tc, r);
}

/* Encrypts up to RP_TLS_OUT_BATCH bytes of iov (from byte `skip` on) into
 * `out`. Small pieces (a head, then a bit of body) are gathered into one
 * record; large ones go as full records. Returns the plaintext bytes taken,
 * or -1 when BoringSSL fails. */
static ssize_t encrypt_iov(struct rp_tls_conn *tc, const struct iovec *iov, int n, size_t skip)
{
    char stage[RP_TLS_RECORD];
    size_t staged = 0, done = 0;
    for (int i = 0; i < n && tc->out_len < RP_TLS_OUT_BATCH; i++) {
        const char *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        if (skip >= left) {
            skip -= left;
            continue;
        }
        p += skip;
        left -= skip;
        skip = 0;
        while (left && tc->out_len < RP_TLS_OUT_BATCH) {
            if (staged == 0 && left >= RP_TLS_RECORD) {
                if (SSL_write(tc->ssl, p, RP_TLS_RECORD) != RP_TLS_RECORD)
                    return -1;
                done += RP_TLS_RECORD;
                p += RP_TLS_RECORD;
                left -= RP_TLS_RECORD;
                continue;
            }
            size_t k = left < RP_TLS_RECORD - staged ? left : RP_TLS_RECORD - staged;
            memcpy(stage + staged, p, k);
            staged += k;
            p += k;
            left -= k;
            if (staged == RP_TLS_RECORD) {
                if (SSL_write(tc->ssl, stage, (int)staged) != (int)staged)
                    return -1;
                done += staged;
                staged = 0;
            }
        }
    }
    if (staged) {
        if (SSL_write(tc->ssl, stage, (int)staged) != (int)staged)
            return -1;
        done += staged;
    }
    return (ssize_t)done;
}

/* Our close_notify into `out`, once (after the handshake): nothing is
 * written after it, and what comes from the peer is discarded raw. */
static void queue_close_notify(struct rp_tls_conn *tc)
{
    if (!tc->shut && tc->handshake_done) {
        (void)SSL_shutdown(tc->ssl);
        ERR_clear_error();
    }
    tc->shut = true;
}

/* Bytes count as written only once their records are on the socket, so the
 * caller sees a socket's semantics: what it was told went, went (nothing
 * is lost when it then closes), and what was not, it offers again. Bytes
 * already encrypted whose records wait in `out` are `held`: the caller's
 * next call starts with them (it has not been told they went), and they
 * are skipped and reported once `out` drains. With `end` (the
 * connection's last bytes), once all are in records the close_notify
 * follows them in `out` and goes in the same write. */
static ssize_t tls_write(struct rp_transport *t, const struct iovec *iov, int n, bool end)
{
    struct rp_tls_conn *tc = t->tls;
    if (tc->out_len) {
        int f = out_flush(tc);
        if (f <= 0) {
            if (f == 0)
                errno = EAGAIN;
            return -1;
        }
    }
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    size_t done = tc->held;
    tc->held = 0;
    if (done > total) { /* not the bytes it was offered before: a caller's bug */
        errno = EPROTO;
        return -1;
    }
    ssize_t more = done < total ? encrypt_iov(tc, iov, n, done) : 0;
    if (more < 0) {
        ERR_clear_error();
        tc->out_len = tc->out_off = 0; /* records of a failed write do not go */
        if (done)
            return (ssize_t)done;
        errno = EPIPE;
        return -1;
    }
    if (end && done + (size_t)more == total)
        queue_close_notify(tc);
    int f = more ? out_flush(tc) : 1;
    if (f < 0 && done == 0)
        return -1;
    if (f == 1)
        done += (size_t)more;
    else
        tc->held = (size_t)more;
    if (done == 0) {
        errno = EAGAIN;
        return -1;
    }
    return (ssize_t)done;
}

static ssize_t tls_writev(struct rp_transport *t, const struct iovec *iov, int n)
{
    return tls_write(t, iov, n, false);
}

static ssize_t tls_writev_end(struct rp_transport *t, const struct iovec *iov, int n)
{
    return tls_write(t, iov, n, true);
}

/* Our close_notify, then the socket's FIN once it is out: a shutdown
 * whose close_notify waits for the socket returns 1, and tls_flush
 * finishes it. */
static int tls_flush(struct rp_transport *t)
{
    struct rp_tls_conn *tc = t->tls;
    int f = tc->out_len ? out_flush(tc) : 1;
    if (f == 1 && tc->shut && !tc->fin_sent) {
        tc->fin_sent = true;
        if (shutdown(t->fd, SHUT_WR) < 0)
            return -1;
    }
    return f;
}

/* The close_notify, without the socket's FIN: a close follows when it all
 * went out (as nginx does, and as a plain connection closes), which spares
 * the shutdown and the wait for the client's end. */
static int tls_goodbye(struct rp_transport *t)
{
    struct rp_tls_conn *tc = t->tls;
    queue_close_notify(tc);
    return tc->out_len ? out_flush(tc) : 1;
}

static int tls_shutdown(struct rp_transport *t)
{
    queue_close_notify(t->tls);
    int f = tls_flush(t);
    return f < 0 ? -1 : f == 0 ? 1 : 0;
}

static bool tls_pending(const struct rp_transport *t)
{
    return !t->tls->shut &&
           (t->tls->pre || t->tls->end_pending || SSL_pending(t->tls->ssl) > 0);
}

static void tls_close(struct rp_transport *t)
{
    struct rp_tls_conn *tc = t->tls;
    if (!tc)
        return;
    /* A close_notify first, as far as the socket takes it: without one, a
     * client may take the end for a truncation attack and not resume the
     * session (OpenSSL 3 does so). */
    if (tc->handshake_done && !tc->shut)
        (void)tls_goodbye(t);
    SSL_free(tc->ssl);
    out_release(tc);
    pre_release(tc);
    for (size_t i = 0; i < sizeof tc->values / sizeof tc->values[0]; i++)
        free(tc->values[i]);
    free(tc);
    t->tls = NULL;
}

static const struct rp_transport_ops tls_ops = {
    .name = "tls",
    .read = tls_read,
    .writev = tls_writev,
    .shutdown = tls_shutdown,
    .flush = tls_flush,
    .pending = tls_pending,
    .goodbye = tls_goodbye,
    .writev_end = tls_writev_end,
    .close = tls_close,
};

/* A connection's TLS state on `ctx`, as the transport of `t`. */
static struct rp_tls_conn *conn_new(struct rp_transport *t, SSL_CTX *ctx)
{
    struct rp_tls_conn *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    tc->t = t;
    tc->ssl = SSL_new(ctx);
    BIO *bio = tc->ssl ? BIO_new(bio_method) : NULL;
    if (!bio) {
        SSL_free(tc->ssl);
        free(tc);
        return NULL;
    }
    BIO_set_data(bio, tc);
    BIO_set_init(bio, 1);
    SSL_set_bio(tc->ssl, bio, bio); /* one reference, taken by both ends */
    t->tls = tc;
    t->ops = &tls_ops;
    return tc;
}

int rp_tls_client(struct rp_transport *t, uint32_t backend, uint32_t server)
{
    struct tls_client *cl = clients ? &clients[backend][server] : NULL;
    if (!cl || !cl->ctx)
        return -1;
    struct rp_tls_conn *tc = conn_new(t, cl->ctx);
    if (!tc)
        return -1;
    if (cl->def->sni)
        SSL_set_tlsext_host_name(tc->ssl, cl->def->sni);
    pthread_mutex_lock(&cl->lock);
    if (cl->session)
        SSL_set_session(tc->ssl, cl->session);
    pthread_mutex_unlock(&cl->lock);
    SSL_set_connect_state(tc->ssl);
    return 0;
}

int rp_tls_server(struct rp_transport *t, unsigned listener, const char *pre, size_t pre_len)
{
    struct tls_listener *l = listener_of && listener < program->n_listeners
                                 ? listener_of[listener] : NULL;
    if (!l)
        return -1;
    struct rp_tls_conn *tc = conn_new(t, l->ctx);
    if (!tc)
        return -1;
    if (pre_len) {
        if (!(tc->pre = malloc(pre_len))) {
            tls_close(t);
            t->ops = NULL;
            return -1;
        }
        memcpy(tc->pre, pre, pre_len);
        tc->pre_len = pre_len;
    }
    SSL_set_accept_state(tc->ssl);
    return 0;
}

int rp_tls_handshake(struct rp_transport *t, int *want, const char **why)
{
    struct rp_tls_conn *tc = t->tls;
    *want = 0;
    if (!tc->handshake_done) {
        int r = SSL_do_handshake(tc->ssl);
        if (r == 1) {
            tc->handshake_done = true;
            /* BoringSSL holds TLS 1.3's session tickets until the first
             * write; a zero-byte write sends them now, with the end of the
             * handshake, for a client that reads before it asks. */
            if (SSL_is_server(tc->ssl))
                (void)SSL_write(tc->ssl, "", 0);
            ERR_clear_error();
        } else {
            int e = SSL_get_error(tc->ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                *want = RP_TLS_WANT_READ;
            } else if (e == SSL_ERROR_WANT_WRITE) {
                *want = RP_TLS_WANT_WRITE;
            } else {
                long v = SSL_get_verify_result(tc->ssl);
                if (!SSL_is_server(tc->ssl) && v != X509_V_OK)
                    *why = X509_verify_cert_error_string(v); /* the server's certificate */
                else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
                    *why = errno && r < 0 ? strerror(errno)
                           : SSL_is_server(tc->ssl) ? "the client closed"
                                                    : "the server closed";
                else
                    *why = ssl_error_text();
                (void)out_flush(tc); /* the alert, if any */
                ERR_clear_error();
                return -1;
            }
        }
    }
    int f = tc->out_len ? out_flush(tc) : 1;
    if (f < 0) {
        *why = strerror(errno);
        return -1;
    }
    if (f == 0)
        *want |= RP_TLS_WANT_WRITE;
    return tc->handshake_done && f == 1 ? 1 : 0;
}

/* ---- values ---------------------------------------------------------------------------- */

enum {
    V_SNI, V_VERSION, V_CIPHER, V_ALPN, V_SUBJECT, V_ISSUER, V_SERIAL, V_FINGERPRINT, V_SAN,
    V_VERIFIED, V_RESUMED, V_N
};

static const char *const value_names[V_N] = {
    [V_SNI] = "sni", [V_VERSION] = "version", [V_CIPHER] = "cipher", [V_ALPN] = "alpn",
    [V_SUBJECT] = "client_cert.subject", [V_ISSUER] = "client_cert.issuer",
    [V_SERIAL] = "client_cert.serial", [V_FINGERPRINT] = "client_cert.fingerprint",
    [V_SAN] = "client_cert.san", [V_VERIFIED] = "client_cert.verified",
    [V_RESUMED] = "resumed",
};

static char *name_text(X509_NAME *name)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return NULL;
    char *s = NULL;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        const uint8_t *data;
        size_t len;
        if (BIO_mem_contents(b, &data, &len))
            s = strndup((const char *)data, len);
    }
    BIO_free(b);
    return s;
}

static char *hex_text(const uint8_t *p, size_t n, bool upper)
{
    char *s = malloc(2 * n + 1);
    if (!s)
        return NULL;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return s;
}

/* The SAN of a client certificate: "DNS:a.example, email:x@y, URI:spiffe://..." */
static char *san_text(X509 *x)
{
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (!san)
        return NULL;
    size_t cap = 256, len = 0;
    char *s = malloc(cap);
    for (size_t i = 0; s && i < sk_GENERAL_NAME_num(san); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
        const char *kind;
        const ASN1_STRING *v;
        switch (g->type) {
        case GEN_DNS: kind = "DNS"; v = g->d.dNSName; break;
        case GEN_EMAIL: kind = "email"; v = g->d.rfc822Name; break;
        case GEN_URI: kind = "URI"; v = g->d.uniformResourceIdentifier; break;
        default: continue;
        }
        size_t n = (size_t)ASN1_STRING_length(v);
        while (len + n + 16 > cap) {
            char *ns = realloc(s, cap * 2);
            if (!ns) {
                free(s);
                s = NULL;
                break;
            }
            s = ns;
            cap *= 2;
        }
        if (!s)
            break;
        len += (size_t)snprintf(s + len, cap - len, "%s%s:%.*s", len ? ", " : "", kind, (int)n,
                                (const char *)ASN1_STRING_get0_data(v));
    }
    GENERAL_NAMES_free(san);
    if (s && len == 0) {
        free(s);
        s = NULL;
    }
    return s;
}

static char *value_make(const struct rp_tls_conn *tc, int which)
{
    SSL *ssl = tc->ssl;
    switch (which) {
    case V_SNI: {
        const char *s = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        return s ? strdup(s) : NULL;
    }
    case V_VERSION: return strdup(SSL_get_version(ssl));
    case V_CIPHER: {
        const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
        return c ? strdup(SSL_CIPHER_get_name(c)) : NULL;
    }
    case V_ALPN: {
        const uint8_t *p;
        unsigned n;
        SSL_get0_alpn_selected(ssl, &p, &n);
        return n ? strndup((const char *)p, n) : NULL;
    }
    case V_RESUMED: return SSL_session_reused(ssl) ? strdup("true") : NULL;
    default: break;
    }
    X509 *x = SSL_get_peer_certificate(ssl);
    if (!x)
        return NULL;
    char *s = NULL;
    switch (which) {
    case V_SUBJECT: s = name_text(X509_get_subject_name(x)); break;
    case V_ISSUER: s = name_text(X509_get_issuer_name(x)); break;
    case V_SERIAL: {
        const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
        s = hex_text(ASN1_STRING_get0_data(serial), (size_t)ASN1_STRING_length(serial), true);
        break;
    }
    case V_FINGERPRINT: {
        uint8_t md[SHA256_DIGEST_LENGTH];
        unsigned n = 0;
        if (X509_digest(x, EVP_sha256(), md, &n))
            s = hex_text(md, n, false);
        break;
    }
    case V_SAN: s = san_text(x); break;
    case V_VERIFIED: s = SSL_get_verify_result(ssl) == X509_V_OK ? strdup("true") : NULL; break;
    }
    X509_free(x);
    return s;
}

bool rp_tls_value(const struct rp_tls_conn *tc, const char *name, size_t name_len,
                  const char **v, uint32_t *len)
{
    if (!tc)
        return false;
    for (int i = 0; i < V_N; i++) {
        if (strlen(value_names[i]) != name_len || memcmp(value_names[i], name, name_len) != 0)
            continue;
        /* Made on first use and kept: the connection's TLS does not change. */
        struct rp_tls_conn *m = (struct rp_tls_conn *)tc;
        if (!m->values[i] && !(m->values[i] = value_make(tc, i)))
            return false;
        *v = m->values[i];
        *len = (uint32_t)strlen(m->values[i]);
        return true;
    }
    return false;
}

/* ---- set-up and reload ---------------------------------------------------------------- */

static int library_init(void)
{
    if (bio_method)
        return 0;
    bio_method = BIO_meth_new(BIO_TYPE_SOCKET, "rpx");
    if (!bio_method || !BIO_meth_set_read(bio_method, bio_read) ||
        !BIO_meth_set_write(bio_method, bio_write) || !BIO_meth_set_ctrl(bio_method, bio_ctrl))
        return -1;
    ex_listener = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    ex_client = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    buffer_pool = CRYPTO_BUFFER_POOL_new();
    return ex_listener < 0 || ex_client < 0 || !buffer_pool ? -1 : 0;
}

/* A new session from a server: the one the next connections resume. */
static int client_new_session(SSL *ssl, SSL_SESSION *session)
{
    struct tls_client *cl = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_client);
    pthread_mutex_lock(&cl->lock);
    SSL_SESSION *old = cl->session;
    cl->session = session;
    pthread_mutex_unlock(&cl->lock);
    SSL_SESSION_free(old);
    return 1; /* the reference is ours */
}

#define RP_SYSTEM_CAS "/etc/ssl/certs/ca-certificates.crt"

static int client_init(struct tls_client *cl, const struct rp_server_def *sd, char *err,
                       size_t err_size)
{
    const struct rp_tls_client_def *def = cl->def = sd->tls;
    pthread_mutex_init(&cl->lock, NULL);
    SSL_CTX *ctx = cl->ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, err_size, "%s", ssl_error_text());
        return -1;
    }
    SSL_CTX_set_ex_data(ctx, ex_client, cl);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* What the proxy speaks to it: HTTP/2 is agreed by ALPN (RFC 9113 3.2). */
    static const uint8_t alpn[] = "\x08http/1.1", alpn_h2[] = "\x02h2";
    if (sd->h2)
        SSL_CTX_set_alpn_protos(ctx, alpn_h2, sizeof alpn_h2 - 1);
    else
        SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, client_new_session);
    if (def->verify) {
        const char *ca = def->ca ? def->ca : RP_SYSTEM_CAS;
        if (!SSL_CTX_load_verify_locations(ctx, ca, NULL)) {
            snprintf(err, err_size, "%s: %s", ca, ssl_error_text());
            return -1;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* The certificate must name the server: its SNI name, else its
         * address. */
        X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
        if (def->sni ? !X509_VERIFY_PARAM_set1_host(param, def->sni, strlen(def->sni))
                     : !X509_VERIFY_PARAM_set1_ip_asc(param, sd->host)) {
            snprintf(err, err_size, "cannot check the certificate's name");
            return -1;
        }
    }
    if (def->cert && (!SSL_CTX_use_certificate_chain_file(ctx, def->cert) ||
                      !SSL_CTX_use_PrivateKey_file(ctx, def->key, SSL_FILETYPE_PEM))) {
        snprintf(err, err_size, "%s: %s", def->cert, ssl_error_text());
        return -1;
    }
    return 0;
}

static int clients_setup(const struct rp_program *prog)
{
    bool any = false;
    for (uint32_t b = 0; b < prog->n_backends; b++)
        for (uint32_t i = 0; i < prog->backends[b].n_servers; i++)
            any |= prog->backends[b].servers[i].tls != NULL;
    if (!any)
        return 0;
    if (library_init() < 0 || !(clients = calloc(prog->n_backends, sizeof *clients)))
        return -1;
    for (uint32_t b = 0; b < prog->n_backends; b++) {
        const struct rp_backend_def *be = &prog->backends[b];
        if (!(clients[b] = calloc(be->n_servers ? be->n_servers : 1, sizeof **clients)))
            return -1;
        for (uint32_t i = 0; i < be->n_servers; i++) {
            if (!be->servers[i].tls)
                continue;
            char err[512];
            if (client_init(&clients[b][i], &be->servers[i], err, sizeof err) < 0) {
                rp_error("server %s/%s (%s): tls: %s", be->name, be->servers[i].name,
                         be->servers[i].where, err);
                ERR_clear_error();
                return -1;
            }
        }
    }
    return 0;
}

int rp_tls_setup(const struct rp_program *prog)
{
    program = prog;
    if (clients_setup(prog) < 0)
        return -1;
    unsigned n = 0;
    for (uint32_t i = 0; i < prog->n_listeners; i++)
        n += prog->listeners[i].tls != NULL;
    if (n == 0)
        return 0;
    if (library_init() < 0 || !(listeners = calloc(n, sizeof *listeners)) ||
        !(listener_of = calloc(prog->n_listeners, sizeof *listener_of))) {
        rp_error("tls: cannot set up BoringSSL");
        return -1;
    }
    for (uint32_t i = 0; i < prog->n_listeners; i++) {
        const struct rp_tls_def *def = prog->listeners[i].tls;
        if (!def)
            continue;
        char err[512];
        struct tls_listener *l = listener_of[i] = &listeners[n_listeners++];
        if (listener_init(l, def, err, sizeof err) < 0) {
            rp_error("listener %s: tls: %s", prog->listeners[i].where, err);
            ERR_clear_error();
            return -1;
        }
    }
    return 0;
}

void rp_tls_reload(void)
{
    for (unsigned i = 0; i < n_listeners; i++) {
        struct tls_listener *l = &listeners[i];
        char err[512];
        struct tls_pairs *ps = pairs_load(l->def, err, sizeof err);
        if (!ps) {
            rp_warn("tls %s: reload failed, the certificates in use stay: %s", l->def->where, err);
            ERR_clear_error();
            continue;
        }
        if (l->def->ticket_key_file && ticket_keys_load(l, err, sizeof err) < 0)
            rp_warn("tls %s: ticket keys not reloaded, those in use stay: %s", l->def->where,
                    err);
        /* A handshake holds a generation only inside select_certificate
         * (the SSL takes its own references): the one before the last
         * reload is long out of use. */
        pairs_free(l->old);
        l->old = atomic_exchange(&l->pairs, ps);
        rp_info("tls %s: %zu certificate%s reloaded", l->def->where, ps->n, ps->n == 1 ? "" : "s");
    }
}

static struct tls_listener *made_keys_of(uint32_t listener)
{
    if (!listener_of || listener >= program->n_listeners)
        return NULL;
    struct tls_listener *l = listener_of[listener];
    return l && !l->def->no_tickets && !l->keys_from_file ? l : NULL;
}

int rp_tls_ticket_keys_get(uint32_t listener, struct rp_tls_ticket_keys *out)
{
    struct tls_listener *l = made_keys_of(listener);
    if (!l)
        return -1;
    _Static_assert(sizeof l->keys[0].name + sizeof l->keys[0].hmac + sizeof l->keys[0].aes == 80,
                   "a ticket key is 80 bytes");
    _Static_assert(RP_TLS_KEYS_MAX == RP_TLS_TICKET_KEYS, "one count of ticket keys");
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&l->ticket_lock);
    out->n = l->n_keys;
    for (unsigned i = 0; i < l->n_keys; i++) {
        memcpy(out->key[i].bytes, l->keys[i].name, 16);
        memcpy(out->key[i].bytes + 16, l->keys[i].hmac, 32);
        memcpy(out->key[i].bytes + 48, l->keys[i].aes, 32);
        out->key[i].made = (int64_t)l->keys[i].made;
    }
    pthread_mutex_unlock(&l->ticket_lock);
    return 0;
}

void rp_tls_ticket_keys_set(uint32_t listener, const struct rp_tls_ticket_keys *in)
{
    struct tls_listener *l = made_keys_of(listener);
    if (!l || in->n == 0 || in->n > RP_TLS_TICKET_KEYS)
        return;
    pthread_mutex_lock(&l->ticket_lock);
    l->n_keys = in->n;
    for (unsigned i = 0; i < in->n; i++) {
        memcpy(l->keys[i].name, in->key[i].bytes, 16);
        memcpy(l->keys[i].hmac, in->key[i].bytes + 16, 32);
        memcpy(l->keys[i].aes, in->key[i].bytes + 48, 32);
        l->keys[i].made = (time_t)in->key[i].made;
    }
    pthread_mutex_unlock(&l->ticket_lock);
}

unsigned rp_tls_listeners(void)
{
    return n_listeners;
}

void rp_tls_teardown(void)
{
    rp_tls_clear_kept(); /* the main thread's (health checks) */
    for (unsigned i = 0; i < n_listeners; i++) {
        SSL_CTX_free(listeners[i].ctx);
        pairs_free(atomic_load(&listeners[i].pairs));
        pairs_free(listeners[i].old);
        pthread_mutex_destroy(&listeners[i].ticket_lock);
    }
    free(listeners);
    listeners = NULL;
    free(listener_of);
    listener_of = NULL;
    n_listeners = 0;
    for (uint32_t b = 0; clients && b < program->n_backends; b++) {
        for (uint32_t i = 0; clients[b] && i < program->backends[b].n_servers; i++) {
            if (!clients[b][i].ctx)
                continue;
            SSL_CTX_free(clients[b][i].ctx);
            SSL_SESSION_free(clients[b][i].session);
            pthread_mutex_destroy(&clients[b][i].lock);
        }
        free(clients[b]);
    }
    free(clients);
    clients = NULL;
    if (bio_method)
        BIO_meth_free(bio_method);
    bio_method = NULL;
    if (buffer_pool)
        CRYPTO_BUFFER_POOL_free(buffer_pool);
    buffer_pool = NULL;
}

/* ---- inspection ------------------------------------------------------------------------ */

static time_t asn1_time(const ASN1_TIME *t)
{
    int days = 0, secs = 0;
    if (!ASN1_TIME_diff(&days, &secs, NULL, t))
        return 0;
    return time(NULL) + (time_t)days * 86400 + secs;
}

static void key_type(EVP_PKEY *key, char *out, size_t size)
{
    switch (EVP_PKEY_id(key)) {
    case EVP_PKEY_RSA: snprintf(out, size, "RSA %d", EVP_PKEY_bits(key)); break;
    case EVP_PKEY_EC: snprintf(out, size, "ECDSA P-%d", EVP_PKEY_bits(key)); break;
    case EVP_PKEY_ED25519: snprintf(out, size, "Ed25519"); break;
    default: snprintf(out, size, "unknown"); break;
    }
}

void rp_tls_inspect_pair(const char *cert, const char *key, const char *cert_shown,
                         const char *key_shown, struct rp_tls_cert_info *info)
{
    memset(info, 0, sizeof *info);
    BIO *bio = BIO_new_file(cert, "r");
    if (!bio) {
        snprintf(info->error, sizeof info->error, "cannot read '%s': %s", cert_shown,
                 strerror(errno));
        return;
    }
    X509 *chain[16];
    unsigned n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        if (n < 16)
            chain[n++] = x;
        else
            X509_free(x);
    }
    ERR_clear_error();
    BIO_free(bio);
    info->n_certs = n;
    if (n == 0) {
        snprintf(info->error, sizeof info->error, "'%s' holds no PEM certificate", cert_shown);
        return;
    }
    info->not_before = asn1_time(X509_get0_notBefore(chain[0]));
    info->not_after = asn1_time(X509_get0_notAfter(chain[0]));
    char **names;
    size_t n_names;
    cert_names(chain[0], &names, &n_names);
    size_t used = 0;
    for (size_t i = 0; i < n_names; i++) {
        if (used + strlen(names[i]) + 2 < sizeof info->names)
            used += (size_t)snprintf(info->names + used, sizeof info->names - used, "%s%s",
                                     used ? " " : "", names[i]);
        free(names[i]);
    }
    free(names);
    /* Each certificate must be issued by the one after it. */
    for (unsigned i = 0; i + 1 < n; i++) {
        if (X509_check_issued(chain[i + 1], chain[i]) != X509_V_OK) {
            snprintf(info->chain_error, sizeof info->chain_error,
                     "certificate %u in '%s' is not the issuer of certificate %u: the file "
                     "must hold the leaf first, then each issuer in turn",
                     i + 2, cert_shown, i + 1);
            break;
        }
    }
    if (key) {
        EVP_PKEY *pk = NULL;
        bio = BIO_new_file(key, "r");
        if (!bio)
            snprintf(info->error, sizeof info->error, "cannot read '%s': %s", key_shown,
                     strerror(errno));
        else if (!(pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)))
            snprintf(info->error, sizeof info->error, "'%s' holds no PEM private key "
                     "(an encrypted key is not supported)", key_shown);
        else if (!X509_check_private_key(chain[0], pk))
            snprintf(info->error, sizeof info->error, "the key in '%s' does not match the "
                     "certificate in '%s'", key_shown, cert_shown);
        else
            key_type(pk, info->key_type, sizeof info->key_type);
        EVP_PKEY_free(pk);
        BIO_free(bio);
        ERR_clear_error();
    }
    for (unsigned i = 0; i < n; i++)
        X509_free(chain[i]);
}

bool rp_tls_inspect_ca(const char *path, const char *shown, char *error, size_t error_size)
{
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) {
        snprintf(error, error_size, "cannot read '%s': %s", shown, strerror(errno));
        return false;
    }
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    if (!x) {
        snprintf(error, error_size, "'%s' holds no PEM certificate", shown);
        return false;
    }
    X509_free(x);
    return true;
}

bool rp_tls_inspect_ciphers(const char *ciphers, char *error, size_t error_size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    bool ok = ctx && SSL_CTX_set_strict_cipher_list(ctx, ciphers);
    if (!ok)
        snprintf(error, error_size, "BoringSSL refuses this TLS 1.2 cipher list (%s): write "
                 "suites by their OpenSSL names, separated by ':', such as "
                 "\"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256\"",
                 ssl_error_text());
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

bool rp_tls_inspect_curves(const char *curves, char *error, size_t error_size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    bool ok = ctx && SSL_CTX_set1_curves_list(ctx, curves);
    if (!ok)
        snprintf(error, error_size, "unknown group in the list (try X25519, P-256, P-384)");
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

bool rp_tls_name_covered(const char *names, const char *name)
{
    size_t n = strlen(name);
    const char *p = names;
    while (*p) {
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char pattern[256];
        if (len < sizeof pattern) {
            memcpy(pattern, p, len);
            pattern[len] = '\0';
            if (name_matches(pattern, name, n))
                return true;
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

/* ---- signatures for JSON Web Tokens ----------------------------------------------- */

struct rp_jws_key {
    EVP_PKEY *pkey;        /* RSA, EC, Ed25519; NULL for a secret */
    uint8_t *secret;
    size_t secret_len;
};

struct rp_jws_key *rp_jws_key_pem(const char *pem, size_t len, char *err, size_t cap)
{
    BIO *bio = BIO_new_mem_buf(pem, (long)len);
    EVP_PKEY *pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    if (!pkey && bio) {
        /* a certificate holds one too */
        BIO_free(bio);
        bio = BIO_new_mem_buf(pem, (long)len);
        X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        if (x) {
            pkey = X509_get_pubkey(x);
            X509_free(x);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    int id = pkey ? EVP_PKEY_id(pkey) : 0;
    if (!pkey || (id != EVP_PKEY_RSA && id != EVP_PKEY_EC && id != EVP_PKEY_ED25519)) {
        snprintf(err, cap, "%s", pkey ? "not an RSA, EC or Ed25519 key"
                                      : "not a PEM public key or certificate");
        EVP_PKEY_free(pkey);
        return NULL;
    }
    struct rp_jws_key *k = calloc(1, sizeof *k);
    if (!k) {
        EVP_PKEY_free(pkey);
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    k->pkey = pkey;
    return k;
}

struct rp_jws_key *rp_jws_key_secret(const void *secret, size_t len)
{
    struct rp_jws_key *k = calloc(1, sizeof *k);
    if (!k || !(k->secret = malloc(len ? len : 1))) {
        free(k);
        return NULL;
    }
    memcpy(k->secret, secret, len);
    k->secret_len = len;
    return k;
}

static struct rp_jws_key *jws_key_of(EVP_PKEY *pkey)
{
    struct rp_jws_key *k = pkey ? calloc(1, sizeof *k) : NULL;
    if (!k) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k->pkey = pkey;
    return k;
}

struct rp_jws_key *rp_jws_key_rsa(const uint8_t *n, size_t n_len, const uint8_t *e, size_t e_len)
{
    RSA *rsa = RSA_new();
    BIGNUM *bn = BN_bin2bn(n, n_len, NULL), *be = BN_bin2bn(e, e_len, NULL);
    EVP_PKEY *pkey = NULL;
    if (rsa && bn && be && RSA_set0_key(rsa, bn, be, NULL)) {
        bn = be = NULL; /* the key owns them */
        /* too small a modulus verifies nothing worth trusting */
        if (RSA_bits(rsa) >= 2048 && (pkey = EVP_PKEY_new()) && !EVP_PKEY_assign_RSA(pkey, rsa)) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        } else if (pkey) {
            rsa = NULL;
        }
    }
    BN_free(bn);
    BN_free(be);
    RSA_free(rsa);
    ERR_clear_error();
    return jws_key_of(pkey);
}

struct rp_jws_key *rp_jws_key_ec(unsigned bits, const uint8_t *x, size_t x_len, const uint8_t *y,
                                 size_t y_len)
{
    size_t size = bits / 8;
    if (x_len != size || y_len != size || (bits != 256 && bits != 384))
        return NULL;
    EC_KEY *ec = EC_KEY_new_by_curve_name(bits == 256 ? NID_X9_62_prime256v1 : NID_secp384r1);
    BIGNUM *bx = BN_bin2bn(x, x_len, NULL), *by = BN_bin2bn(y, y_len, NULL);
    EVP_PKEY *pkey = NULL;
    /* the point must be on the curve (checked here) */
    if (ec && bx && by && EC_KEY_set_public_key_affine_coordinates(ec, bx, by) &&
        (pkey = EVP_PKEY_new()) && EVP_PKEY_assign_EC_KEY(pkey, ec))
        ec = NULL;
    else if (pkey) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    BN_free(bx);
    BN_free(by);
    EC_KEY_free(ec);
    ERR_clear_error();
    return jws_key_of(pkey);
}

struct rp_jws_key *rp_jws_key_ed25519(const uint8_t *x, size_t x_len)
{
    EVP_PKEY *pkey = x_len == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, x_len)
                                 : NULL;
    ERR_clear_error();
    return jws_key_of(pkey);
}

void rp_jws_key_free(struct rp_jws_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    if (k->secret)
        OPENSSL_cleanse(k->secret, k->secret_len);
    free(k->secret);
    free(k);
}

static const EVP_MD *jws_md(enum rp_jws_alg alg)
{
    switch (alg) {
    case RP_JWS_HS256: case RP_JWS_RS256: case RP_JWS_PS256: case RP_JWS_ES256: return EVP_sha256();
    case RP_JWS_HS384: case RP_JWS_RS384: case RP_JWS_PS384: case RP_JWS_ES384: return EVP_sha384();
    case RP_JWS_HS512: case RP_JWS_RS512: case RP_JWS_PS512: return EVP_sha512();
    case RP_JWS_EDDSA: return NULL;
    }
    return NULL;
}

/* The curve's size in bytes for ES256 (P-256: 32) and ES384 (P-384: 48). */
static size_t jws_ec_size(const EVP_PKEY *pkey)
{
    const EC_KEY *ec = EVP_PKEY_get0_EC_KEY(pkey);
    int nid = ec ? EC_GROUP_get_curve_name(EC_KEY_get0_group(ec)) : 0;
    return nid == NID_X9_62_prime256v1 ? 32 : nid == NID_secp384r1 ? 48 : 0;
}

bool rp_jws_key_fits(const struct rp_jws_key *k, enum rp_jws_alg alg)
{
    if (alg >= RP_JWS_HS256 && alg <= RP_JWS_HS512)
        return k->secret != NULL;
    if (!k->pkey)
        return false;
    int id = EVP_PKEY_id(k->pkey);
    if (alg >= RP_JWS_RS256 && alg <= RP_JWS_PS512)
        return id == EVP_PKEY_RSA;
    if (alg == RP_JWS_ES256)
        return id == EVP_PKEY_EC && jws_ec_size(k->pkey) == 32;
    if (alg == RP_JWS_ES384)
        return id == EVP_PKEY_EC && jws_ec_size(k->pkey) == 48;
    return alg == RP_JWS_EDDSA && id == EVP_PKEY_ED25519;
}

bool rp_jws_verify(const struct rp_jws_key *k, enum rp_jws_alg alg, const void *data, size_t n,
                   const uint8_t *sig, size_t sig_len)
{
    if (!rp_jws_key_fits(k, alg))
        return false;
    const EVP_MD *md = jws_md(alg);
    if (k->secret) {
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        if (!HMAC(md, k->secret, k->secret_len, data, n, mac, &mac_len))
            return false;
        return mac_len == sig_len && CRYPTO_memcmp(mac, sig, sig_len) == 0;
    }
    bool ok = false;
    if (alg == RP_JWS_ES256 || alg == RP_JWS_ES384) {
        /* JWS gives r || s, each the curve's size; ECDSA wants them apart */
        size_t half = jws_ec_size(k->pkey);
        if (sig_len != 2 * half)
            return false;
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned dlen = 0;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, half, NULL), *s = BN_bin2bn(sig + half, half, NULL);
        if (es && r && s && ECDSA_SIG_set0(es, r, s)) {
            r = s = NULL; /* es owns them */
            if (EVP_Digest(data, n, digest, &dlen, md, NULL))
                ok = ECDSA_do_verify(digest, dlen, es, EVP_PKEY_get0_EC_KEY(k->pkey)) == 1;
        }
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        ERR_clear_error();
        return ok;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k->pkey)) {
        bool pss = alg >= RP_JWS_PS256 && alg <= RP_JWS_PS512;
        if (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) &&
                     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, -1 /* the digest's length */)))
            ok = EVP_DigestVerify(ctx, sig, sig_len, data, n) == 1;
    }
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return ok;
}

static const char *const jws_names[] = {"", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
                                        "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"};

bool rp_tls_inspect_jws_key(const char *path, const char *shown, unsigned algs, char *error,
                            size_t error_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(error, error_size, "cannot read '%s': %s", shown, strerror(errno));
        return false;
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unsigned hmac = (1u << RP_JWS_HS256) | (1u << RP_JWS_HS384) | (1u << RP_JWS_HS512);
    if (algs & hmac) {
        if (algs & ~hmac) {
            snprintf(error, error_size, "an HMAC secret and a public key cannot be one file: "
                     "give HS algorithms and the others their own 'auth jwt'");
            return false;
        }
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        if (n >= 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
            /* a public key used as an HMAC secret is how tokens get forged */
            snprintf(error, error_size, "'%s' is a PEM file: an HMAC secret (HS256...) is random "
                     "bytes known only to the signer and the proxy", shown);
            return false;
        }
        if (n < 32) {
            snprintf(error, error_size, "'%s' holds %zu bytes: an HMAC secret needs at least 32 "
                     "(RFC 7518 3.2)", shown, n);
            return false;
        }
        memset(buf, 0, sizeof buf);
        return true;
    }
    char why[128];
    struct rp_jws_key *k = rp_jws_key_pem(buf, n, why, sizeof why);
    if (!k) {
        snprintf(error, error_size, "'%s': %s", shown, why);
        return false;
    }
    bool ok = true;
    for (unsigned a = RP_JWS_HS256; a <= RP_JWS_EDDSA && ok; a++)
        if ((algs & (1u << a)) && !rp_jws_key_fits(k, (enum rp_jws_alg)a)) {
            snprintf(error, error_size, "the key in '%s' cannot verify %s", shown, jws_names[a]);
            ok = false;
        }
    rp_jws_key_free(k);
    return ok;
}
