/*
 * xalloc.h - allocation that never returns NULL.
 *
 * xmalloc(), xcalloc(), xrealloc(), xstrdup(), xstrndup(), xasprintf():
 * like their libc namesakes, but on failure they log "out of memory" and
 * abort the process (the daemon is restarted by its supervisor; a milter
 * that cannot allocate cannot give any verdict, and the MTA's
 * milter_default_action = tempfail keeps the mail safe).
 * The caller frees the result with free().
 */
#ifndef TV_XALLOC_H
#define TV_XALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
