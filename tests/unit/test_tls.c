/* test_tls.c: what the compiler asks of certificate files (rp/tls_inspect.h,
 * read with the code the proxy loads them with), on the committed test PKI
 * of tests/tls; and which names a certificate covers. Run from the
 * repository's root. */
#include <string.h>
#include <time.h>

#include "rp/tls_inspect.h"
#include "t.h"

#define PKI "tests/tls/"

T_SUITE(tls_names)
{
    T_OK(rp_tls_name_covered("a.test www.a.test", "a.test"));
    T_OK(rp_tls_name_covered("a.test www.a.test", "www.a.test"));
    T_OK(!rp_tls_name_covered("a.test www.a.test", "b.test"));
    T_OK(!rp_tls_name_covered("a.test", "a.tes"));
    T_OK(!rp_tls_name_covered("a.test", "xa.test"));
    /* A wildcard covers one label, not the name itself nor two labels. */
    T_OK(rp_tls_name_covered("*.c.test", "x.c.test"));
    T_OK(!rp_tls_name_covered("*.c.test", "c.test"));
    T_OK(!rp_tls_name_covered("*.c.test", "y.x.c.test"));
    T_OK(!rp_tls_name_covered("*.c.test", ".c.test"));
    T_OK(!rp_tls_name_covered("", "a.test"));
}

T_SUITE(tls_inspect)
{
    struct rp_tls_cert_info info;
    rp_tls_inspect_pair(PKI "a.pem", PKI "a.key", "a.pem", "a.key", &info);
    T_STR(info.error, "");
    T_STR(info.chain_error, "");
    T_STR(info.key_type, "ECDSA P-256");
    T_STR(info.names, "a.test www.a.test");
    T_EQ(info.n_certs, 2);
    T_OK(info.not_after > time(NULL) + 86400L * 365 * 50);

    rp_tls_inspect_pair(PKI "a-rsa.pem", PKI "a-rsa.key", "x", "y", &info);
    T_STR(info.key_type, "RSA 2048");

    rp_tls_inspect_pair(PKI "wild.pem", NULL, "x", NULL, &info);
    T_STR(info.error, "");
    T_STR(info.names, "*.c.test");

    rp_tls_inspect_pair(PKI "a.pem", PKI "b.key", "a.pem", "b.key", &info);
    T_STR(info.error, "the key in 'b.key' does not match the certificate in 'a.pem'");

    rp_tls_inspect_pair(PKI "bad-chain.pem", PKI "bad-chain.key", "bad.pem", "k", &info);
    T_STR(info.error, "");
    T_OK(strstr(info.chain_error, "certificate 2 in 'bad.pem' is not the issuer") != NULL);

    rp_tls_inspect_pair(PKI "expired.pem", PKI "expired.key", "e", "k", &info);
    T_STR(info.error, "");
    T_OK(info.not_after < time(NULL));
    T_EQ(info.not_after, 1609459200); /* 2021-01-01 00:00 UTC */

    rp_tls_inspect_pair(PKI "a.key", PKI "a.key", "a.key", "a.key", &info);
    T_STR(info.error, "'a.key' holds no PEM certificate");
    rp_tls_inspect_pair(PKI "nothere.pem", NULL, "nothere.pem", NULL, &info);
    T_STR(info.error, "cannot read 'nothere.pem': No such file or directory");
    rp_tls_inspect_pair(PKI "a.pem", PKI "a.pem", "a.pem", "a.pem", &info);
    T_OK(strstr(info.error, "holds no PEM private key") != NULL);

    char err[512];
    T_OK(rp_tls_inspect_ca(PKI "ca.pem", "ca.pem", err, sizeof err));
    T_OK(!rp_tls_inspect_ca(PKI "ca.key", "ca.key", err, sizeof err));
    T_OK(rp_tls_inspect_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256", err, sizeof err));
    T_OK(!rp_tls_inspect_ciphers("NOPE", err, sizeof err));
    T_OK(rp_tls_inspect_curves("X25519:P-256", err, sizeof err));
    T_OK(!rp_tls_inspect_curves("P-999", err, sizeof err));
}
