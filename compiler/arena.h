/* arena.h: one arena per compilation. Every AST node, decoded string and
 * table the compiler builds lives here and is released at once by
 * arena_free. Allocation failure is fatal (exit 70). */
#ifndef RPX_ARENA_H
#define RPX_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head; /* newest chunk first */
};

/* Returns n zeroed bytes aligned for any type, valid until arena_free. */
void *arena_alloc(struct arena *a, size_t n);
/* Returns a NUL-terminated copy of n bytes. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Returns a copy of the array at p (old_n elements of size sz) grown to new_n
 * elements; the new tail is zeroed. The old array is abandoned to the arena. */
void *arena_grow(struct arena *a, const void *p, size_t old_n, size_t new_n, size_t sz);
void arena_free(struct arena *a);

#endif
