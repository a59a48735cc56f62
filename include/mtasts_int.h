/*
 * mtasts_int.h - what mtasts.c, mtasts_fetch.c and mtasts_cache.c share;
 * not an API (mtasts.h is).
 *
 * The cache (mtasts_cache.c): entries per domain behind one mutex, and
 * the file they persist in (NULL path: memory only). mtasts_cache_get()
 * copies the entry of a domain (expired or not: the caller judges) into
 * *out, reloading the file first when it changed on disk (another
 * process wrote it); 1 found, 0 not. mtasts_cache_put() stores an entry
 * in memory and in the file (under the file lock, merged with what the
 * file holds now, written to a temporary file and renamed over it);
 * 0, or -1 with a reason when the file could not be written (the memory
 * copy is kept). mtasts_entry_free() frees an entry's policy.
 * mtasts_cache_read() parses a cache file (for the tests): 0 and entries
 * (free each, then the array), or -1 for a malformed file.
 *
 * The fetch (mtasts_fetch.c): mtasts_fetch() gets the policy body of
 * domain over HTTPS; 0 and out->body (free()), or -1 with out->rpt,
 * out->reason and out->temp (1 when the caller's deadline, not
 * [mtasts] timeout, ended it).
 */
#ifndef TV_MTASTS_INT_H
#define TV_MTASTS_INT_H

#include <sys/types.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <openssl/ssl.h>

#include "mtasts.h"
#include "name.h"

#define MTASTS_CACHE_MAXFILE	(64L * 1024 * 1024)	/* bytes */
#define MTASTS_LOCK_WAIT_MS	2000	/* for the cache file's lock */

struct mtasts_entry {
	char			 domain[NAME_BUFLEN];
	char			 id[MTASTS_ID_MAXLEN + 1];
	time_t			 fetched_at;
	time_t			 expires;
	struct mtasts_policy	 policy;
};

struct mtasts_cache {
	pthread_mutex_t		 lock;
	struct mtasts_entry	*e;
	size_t			 n;
	char			*path;		/* NULL: memory only */
	int			 have_stat;	/* the file as last read */
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtim;
};

struct mtasts_ctx {
	const struct conf	*conf;
	SSL_CTX			*ssl;
	unsigned		 port;		/* [mtasts] port */
	unsigned		 timeout;	/* [mtasts] timeout, seconds */
	struct mtasts_cache	 cache;
};

struct mtasts_fetched {
	char		*body;
	size_t		 len;
	const char	*rpt;
	int		 temp;
	char		 reason[384];
};

/* mtasts_http.c: the head of an HTTP response (see there). */
struct mtasts_http {
	int		 status;
	char		 ctype[64];	/* media type, lower case; "" if none */
	long		 clen;		/* Content-Length, -1: none */
	int		 coded;		/* a Transfer-Encoding was sent */
};
int	mtasts_http_head(const char *, size_t, struct mtasts_http *,
	    char *err, size_t errlen);

void	mtasts_cache_init(struct mtasts_cache *, const char *path);
void	mtasts_cache_done(struct mtasts_cache *);
int	mtasts_cache_get(struct mtasts_cache *, const char *domain,
	    struct mtasts_entry *out, struct trace *);
int	mtasts_cache_put(struct mtasts_cache *, const struct mtasts_entry *,
	    char *err, size_t errlen);
int	mtasts_cache_read(FILE *, struct mtasts_entry **out, size_t *n);
void	mtasts_entry_free(struct mtasts_entry *);

int	mtasts_fetch(struct mtasts_ctx *, struct dns_ctx *,
	    const char *domain, const struct deadline *, struct trace *,
	    struct mtasts_fetched *out);

#endif
