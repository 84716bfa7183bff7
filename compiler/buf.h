/* buf.h: a growable byte buffer for building text (the emitter's sections,
 * diagnostics). The buffer owns its bytes; buf_free releases them. Allocation
 * failure is fatal in the compiler (exit 70), so no function here fails. */
#ifndef RPX_BUF_H
#define RPX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
};

void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends n bytes as the inside of a C string literal (no quotes): octal
 * escapes for anything not printable ASCII, and `?` after `?` escaped so no
 * trigraph can form. */
void buf_c_escape(struct buf *b, const void *p, size_t n);
/* Appends text safe inside a C comment: no comment delimiters, no trigraphs,
 * non-printable bytes shown as `?`. */
void buf_comment_safe(struct buf *b, const void *p, size_t n);
void buf_free(struct buf *b);

/* Out-of-memory in the compiler: print and exit 70. */
_Noreturn void rpx_oom(void);

#endif
