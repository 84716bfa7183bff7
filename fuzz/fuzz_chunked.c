/* fuzz_chunked.c: libFuzzer target over rp_chunked_scan, which finds where a
 * chunked body a client or server sends ends. The input is the body as it
 * arrives (and whatever follows it on the connection). Invariants:
 *
 *  - the answer, as (outcome, bytes consumed, where it failed), is the same
 *    whether the input is scanned whole, byte by byte, or in steps of
 *    random sizes (0 included) drawn from a PRNG seeded with the input;
 *  - it is the answer of an independent reference reading of RFC 9112 7.1
 *    with the scanner's documented strictness (ref_scan below): the body
 *    ends right after the CRLF of the empty line after the trailer section,
 *    and fed byte by byte, the scanner fails on exactly the first byte that
 *    no valid body could continue with;
 *  - a step returns all of its bytes unless the body ends inside it (then
 *    the bytes up to the end, with done) or it fails (-1, done false);
 *  - after done, the scanner consumes nothing more and stays done; after an
 *    error it stays failed; an empty step changes nothing.
 */
#include <sys/types.h>

#include "fuzz_http1.h"

enum { OUT_MORE, OUT_DONE, OUT_ERROR };

/* What scanning d[0..n) from the start gives: OUT_DONE with *at the length
 * of the body, OUT_ERROR with *at the index of the first byte no valid body
 * continues with, or OUT_MORE when all n bytes are a valid unfinished body. */
static int ref_scan(const uint8_t *d, size_t n, size_t *at)
{
    size_t i = 0, ls;

/* The byte at i does not fit: an error, or the end of what there is. */
#define BAD()                                                                                      \
    do {                                                                                           \
        if (i >= n)                                                                                \
            return OUT_MORE;                                                                       \
        *at = i;                                                                                   \
        return OUT_ERROR;                                                                          \
    } while (0)
/* Takes one byte of a size or trailer line's content, which is bounded. */
#define TAKE_LINE_BYTE()                                                                           \
    do {                                                                                           \
        if (i - ls >= RP_CHUNKED_MAX_LINE) {                                                       \
            *at = i;                                                                               \
            return OUT_ERROR;                                                                      \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
#define EXPECT(ch)                                                                                 \
    do {                                                                                           \
        if (i >= n || d[i] != (ch))                                                                \
            BAD();                                                                                 \
        i++;                                                                                       \
    } while (0)

    /* chunk = chunk-size [ BWS chunk-ext ] CRLF chunk-data CRLF */
    for (;;) {
        ls = i;
        uint64_t size = 0;
        while (i < n && strchr("0123456789abcdefABCDEF", d[i]) && d[i]) {
            unsigned v = d[i] <= '9' ? d[i] - '0' : (d[i] | 0x20) - 'a' + 10;
            if (i - ls < RP_CHUNKED_MAX_LINE && size >= (uint64_t)1 << 59) {
                *at = i; /* 2^63 and more: refused */
                return OUT_ERROR;
            }
            TAKE_LINE_BYTE();
            size = size * 16 + v;
        }
        if (i == ls)
            BAD();
        bool bws = false;
        while (i < n && (d[i] == ' ' || d[i] == '\t')) {
            TAKE_LINE_BYTE();
            bws = true;
        }
        if (i < n && d[i] == ';') {
            TAKE_LINE_BYTE();
            /* Extensions are ignored: any VCHAR, SP or HTAB up to the CR. */
            while (i < n && d[i] != '\r') {
                if (d[i] != '\t' && (d[i] < 0x20 || d[i] > 0x7e))
                    BAD();
                TAKE_LINE_BYTE();
            }
        } else if (bws) {
            BAD(); /* white space is only allowed before an extension */
        }
        EXPECT('\r');
        EXPECT('\n');
        if (size == 0)
            break;
        if (n - i <= size)
            return OUT_MORE; /* the data, and no byte after it */
        i += size;
        EXPECT('\r');
        EXPECT('\n');
    }

    /* trailer-section = *( field-line CRLF ), then CRLF */
    for (;;) {
        ls = i;
        if (i < n && d[i] == '\r') {
            i++;
            EXPECT('\n');
            *at = i;
            return OUT_DONE;
        }
        while (i < n && fz_tchar(d[i]))
            TAKE_LINE_BYTE();
        if (i == ls)
            BAD(); /* an empty name, or white space first (obs-fold) */
        if (i < n && d[i] != ':')
            BAD();
        if (i < n)
            TAKE_LINE_BYTE();
        while (i < n && d[i] != '\r') {
            if (!fz_fvtext(d[i]))
                BAD();
            TAKE_LINE_BYTE();
        }
        EXPECT('\r');
        EXPECT('\n');
    }
#undef BAD
#undef TAKE_LINE_BYTE
#undef EXPECT
}

/* The length of the next step, 0 included: mostly small, sometimes large. */
static size_t step_len(uint64_t *rng, size_t left)
{
    uint64_t r = fz_next(rng);
    size_t k;
    switch (r & 7) {
    case 0:
        k = 0;
        break;
    case 6:
        k = 1 + (r >> 3) % 256;
        break;
    case 7:
        k = 1 + (r >> 3) % 8192;
        break;
    default:
        k = 1 + (r >> 3) % 8;
        break;
    }
    return k < left ? k : left;
}

/* Feeds d[0..n) to a fresh scanner in steps (all of it at once when mode is
 * 0, one byte at a time when 1, random sizes when 2); returns the outcome,
 * with *at the body length (OUT_DONE) or the index of the first byte of the
 * step that failed (OUT_ERROR) and *step_end the end of that step. */
static int feed(const uint8_t *d, size_t n, int mode, uint64_t *rng, size_t *at, size_t *step_end)
{
    struct rp_chunked c = {0};
    size_t off = 0;
    bool done;

    for (;;) {
        size_t k = mode == 0 ? n - off : mode == 1 ? (off < n) : step_len(rng, n - off);
        done = true;
        ssize_t r = rp_chunked_scan(&c, (const char *)d + off, k, &done);
        if (r < 0) {
            CHECK(r == -1 && !done && k > 0);
            *at = off;
            *step_end = off + k;
            /* Failed for good. */
            done = true;
            CHECK(rp_chunked_scan(&c, (const char *)d, n, &done) == -1 && !done);
            CHECK(rp_chunked_scan(&c, (const char *)d, 0, &done) == -1);
            return OUT_ERROR;
        }
        CHECK((size_t)r <= k);
        if (done) {
            CHECK(r > 0);
            off += (size_t)r;
            *at = off;
            /* Done for good: nothing more is consumed, whatever follows. */
            for (int i = 0; i < 3; i++) {
                size_t more = step_len(rng, n - off);
                done = false;
                CHECK(rp_chunked_scan(&c, (const char *)d + off, more, &done) == 0 && done);
                done = false;
                CHECK(rp_chunked_scan(&c, "0\r\n\r\n", 5, &done) == 0 && done);
            }
            return OUT_DONE;
        }
        CHECK((size_t)r == k);
        off += k;
        if (off == n && (mode != 2 || (fz_next(rng) & 1))) {
            /* An empty step at the end changes nothing. */
            done = true;
            CHECK(rp_chunked_scan(&c, (const char *)d + off, 0, &done) == 0 && !done);
            return OUT_MORE;
        }
    }
}

/* rp_trailer_filter on the trailer section of a complete body d[0..n):
 * what it keeps is a subsequence of the section's lines, still a valid
 * trailer section (the scanner accepts it after a last chunk), and
 * filtering again changes nothing. */
static void check_trailer_filter(const uint8_t *d, size_t n)
{
    struct rp_chunked c = {0};
    bool done = false;
    CHECK(rp_chunked_scan(&c, (const char *)d, n, &done) == (ssize_t)n && done);
    CHECK(c.in_trailer && c.trailer_at <= n);
    size_t len = n - c.trailer_at;
    char *sec = malloc(len + 3);
    CHECK(sec != NULL);
    memcpy(sec + 3, d + c.trailer_at, len);
    memcpy(sec, "0\r\n", 3);
    size_t kept = rp_trailer_filter(sec + 3, len);
    CHECK(kept <= len && kept >= 2);
    CHECK(sec[3 + kept - 2] == '\r' && sec[3 + kept - 1] == '\n');
    /* A valid section after "0\r\n", ending exactly at its end. */
    struct rp_chunked c2 = {0};
    done = false;
    CHECK(rp_chunked_scan(&c2, sec, kept + 3, &done) == (ssize_t)(kept + 3) && done);
    /* Each kept line is a line of the original, in order. */
    const char *orig = (const char *)d + c.trailer_at, *oend = orig + len;
    for (size_t i = 3; i < kept + 3;) {
        const char *eol = memchr(sec + i, '\n', kept + 3 - i);
        CHECK(eol != NULL);
        size_t ll = (size_t)(eol - (sec + i)) + 1;
        while (orig < oend) {
            const char *oeol = memchr(orig, '\n', (size_t)(oend - orig));
            size_t ol = (size_t)(oeol - orig) + 1;
            bool same = ol == ll && memcmp(orig, sec + i, ll) == 0;
            orig += ol;
            if (same)
                break;
            CHECK(orig < oend);
        }
        i += ll;
    }
    /* Idempotent. */
    size_t again = rp_trailer_filter(sec + 3, kept);
    CHECK(again == kept);
    free(sec);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    uint64_t rng = fz_hash(d, size);
    size_t want_at = 0, at = 0, step_end = 0;

    int want = ref_scan(d, size, &want_at);

    /* Whole: -1, or the body's length with done, or everything. */
    CHECK(feed(d, size, 0, &rng, &at, &step_end) == want);
    if (want == OUT_DONE)
        CHECK(at == want_at);

    /* Byte by byte: fails on exactly the first bad byte. */
    CHECK(feed(d, size, 1, &rng, &at, &step_end) == want);
    if (want != OUT_MORE)
        CHECK(at == want_at);

    /* Random steps, three different cuttings: fails in the step holding the
     * first bad byte, ends exactly where the body ends. */
    for (int i = 0; i < 3; i++) {
        CHECK(feed(d, size, 2, &rng, &at, &step_end) == want);
        if (want == OUT_DONE)
            CHECK(at == want_at);
        if (want == OUT_ERROR)
            CHECK(at <= want_at && want_at < step_end);
    }
    if (want == OUT_DONE)
        check_trailer_filter(d, want_at);
    return 0;
}
