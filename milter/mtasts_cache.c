/*
 * mtasts_cache.c - MTA-STS policies cached per domain, in memory and in
 * [mtasts] cache_file, which the daemon and tlsverify-probe share (API in
 * mtasts_int.h).
 *
 * File format (text, one entry per line, fields separated by one space):
 *   tlsverify-mta-sts-cache 1
 *   DOMAIN ID FETCHED_AT EXPIRES MAX_AGE MODE [MX ...]
 * times in seconds since the epoch. Reading is defensive: a file over
 * MTASTS_CACHE_MAXFILE bytes, a first line other than the one above, a
 * line over MTASTS_CACHE_LINEMAX bytes, a field that does not parse (a
 * DOMAIN or MX pattern that is no host name, an id that is not 1-32
 * letters and digits, a number that is not 1-19 digits, an unknown mode,
 * more than MTASTS_MAX_MX patterns), or more than MTASTS_CACHE_MAX lines
 * makes the whole file "malformed": it is ignored (traced), never fatal,
 * and replaced at the next write.
 *
 * Writing: under an exclusive flock() of CACHE_FILE.lock (waited for at
 * most MTASTS_LOCK_WAIT_MS, else the write is skipped: the memory copy
 * still holds the entry), the file is read again and merged with memory
 * (for each domain the entry fetched last wins, and the entry being
 * written wins over the file's), entries already expired
 * are dropped, and the result goes to a temporary file in the same
 * directory (mkstemp, mode 0644, fsync) renamed over CACHE_FILE: a reader
 * (which takes no lock) sees the old or the new file, never half of one.
 * Reading for a lookup: when the file's identity (device, inode, size,
 * mtime) changed since it was last read, it is read and merged the same
 * way. At most MTASTS_CACHE_MAX domains are kept: beyond, the entry that
 * expires first is dropped.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "mtasts_int.h"
#include "xalloc.h"

#define CACHE_MAGIC		"tlsverify-mta-sts-cache 1"
#define MTASTS_CACHE_LINEMAX	(MTASTS_MAX_MX * NAME_BUFLEN + 1024)

void
mtasts_entry_free(struct mtasts_entry *e)
{
	if (e != NULL)
		mtasts_policy_free(&e->policy);
}

static void
cache_entry_copy(struct mtasts_entry *dst, const struct mtasts_entry *src)
{
	*dst = *src;
	mtasts_policy_copy(&dst->policy, &src->policy);
}

/* ---- one line --------------------------------------------------------- */

static int
cache_num(const char *s, time_t *out)
{
	long long	x = 0;
	size_t		i, n = strlen(s);

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	*out = (time_t)x;
	return 0;
}

static int
cache_mx(struct mtasts_policy *p, const char *s)
{
	size_t	n = strlen(s), off = strncmp(s, "*.", 2) == 0 ? 2 : 0;
	size_t	i;

	if (n <= off || !name_is_hostname(s + off, n - off) ||
	    s[n - 1] == '.' || p->nmx >= MTASTS_MAX_MX)
		return -1;
	for (i = 0; i < n; i++)
		if (isupper((unsigned char)s[i]))
			return -1;
	p->mx = xreallocarray(p->mx, p->nmx + 1, sizeof(char *));
	p->mx[p->nmx++] = xstrdup(s);
	return 0;
}

static int
cache_mode(const char *s, enum mtasts_mode *m)
{
	if (strcmp(s, "enforce") == 0)
		*m = MTASTS_MODE_ENFORCE;
	else if (strcmp(s, "testing") == 0)
		*m = MTASTS_MODE_TESTING;
	else if (strcmp(s, "none") == 0)
		*m = MTASTS_MODE_NONE;
	else
		return -1;
	return 0;
}

/* Fields 0..5 of a line; -1 when one does not parse. */
static int
cache_field(struct mtasts_entry *e, int k, const char *s)
{
	char	id[MTASTS_ID_MAXLEN + 1];
	time_t	t;
	char	rec[MTASTS_ID_MAXLEN + 16];

	switch (k) {
	case 0:
		if (!name_is_hostname(s, strlen(s)) || strlen(s) >= NAME_BUFLEN)
			return -1;
		(void)snprintf(e->domain, sizeof(e->domain), "%s", s);
		return 0;
	case 1:		/* the id rule of the TXT record */
		(void)snprintf(rec, sizeof(rec), "v=STSv1; id=%.40s", s);
		if (strlen(s) > MTASTS_ID_MAXLEN || mtasts_parse_txt(rec,
		    strlen(rec), id, sizeof(id)) != 1 || strcmp(id, s) != 0)
			return -1;
		(void)snprintf(e->id, sizeof(e->id), "%s", s);
		return 0;
	case 2:
		return cache_num(s, &e->fetched_at);
	case 3:
		return cache_num(s, &e->expires);
	case 4:
		if (cache_num(s, &t) == -1 || (unsigned long)t > MTASTS_MAX_AGE)
			return -1;
		e->policy.max_age = (unsigned long)t;
		return 0;
	case 5:
		return cache_mode(s, &e->policy.mode);
	default:
		return cache_mx(&e->policy, s);
	}
}

/* Parse line (modified in place) into e; -1 when malformed. */
static int
cache_line(char *line, struct mtasts_entry *e)
{
	char	*f, *save = NULL;
	int	 k = 0;

	memset(e, 0, sizeof(*e));
	for (f = strtok_r(line, " ", &save); f != NULL;
	    f = strtok_r(NULL, " ", &save), k++)
		if (cache_field(e, k, f) == -1)
			goto bad;
	if (k < 6 || e->expires < e->fetched_at ||
	    (e->policy.nmx == 0 && e->policy.mode != MTASTS_MODE_NONE))
		goto bad;
	return 0;
bad:
	mtasts_entry_free(e);
	return -1;
}

/* ---- the file --------------------------------------------------------- */

static void
cache_list_free(struct mtasts_entry *e, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		mtasts_entry_free(&e[i]);
	free(e);
}

static int
cache_read_lines(FILE *fp, struct mtasts_entry **out, size_t *n)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	int	 first = 1, rv = -1;

	while ((len = getline(&line, &cap, fp)) > 0) {
		if ((size_t)len > MTASTS_CACHE_LINEMAX ||
		    line[len - 1] != '\n' || strlen(line) != (size_t)len)
			goto out;
		line[len - 1] = '\0';
		if (first) {
			if (strcmp(line, CACHE_MAGIC) != 0)
				goto out;
			first = 0;
			continue;
		}
		if (*n >= MTASTS_CACHE_MAX)
			goto out;
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		if (cache_line(line, &(*out)[*n]) == -1)
			goto out;
		(*n)++;
	}
	rv = first || ferror(fp) ? -1 : 0;
out:
	free(line);
	return rv;
}

int
mtasts_cache_read(FILE *fp, struct mtasts_entry **out, size_t *n)
{
	struct stat	st;

	*out = NULL;
	*n = 0;
	if (fstat(fileno(fp), &st) == 0 && st.st_size > MTASTS_CACHE_MAXFILE)
		return -1;
	if (cache_read_lines(fp, out, n) == 0)
		return 0;
	cache_list_free(*out, *n);
	*out = NULL;
	*n = 0;
	return -1;
}

/* ---- memory ----------------------------------------------------------- */

/* Put a copy of e into the cache (bounded): always with force, else only
 * when it was fetched after the entry the cache holds for its domain. */
static void
cache_merge(struct mtasts_cache *c, const struct mtasts_entry *e, int force)
{
	size_t	i, soon = 0;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->e[i].domain, e->domain) == 0)
			break;
	if (i < c->n) {
		if (!force && e->fetched_at <= c->e[i].fetched_at)
			return;
		mtasts_entry_free(&c->e[i]);
	} else if (c->n >= MTASTS_CACHE_MAX) {
		for (i = 1; i < c->n; i++)
			if (c->e[i].expires < c->e[soon].expires)
				soon = i;
		i = soon;
		mtasts_entry_free(&c->e[i]);
	} else {
		c->e = xreallocarray(c->e, c->n + 1, sizeof(*c->e));
		i = c->n++;
	}
	cache_entry_copy(&c->e[i], e);
}

static int
cache_same_file(const struct mtasts_cache *c, const struct stat *st)
{
	return c->have_stat && c->dev == st->st_dev && c->ino == st->st_ino &&
	    c->size == st->st_size && c->mtim.tv_sec == st->st_mtim.tv_sec &&
	    c->mtim.tv_nsec == st->st_mtim.tv_nsec;
}

static void
cache_note_file(struct mtasts_cache *c, const struct stat *st)
{
	c->have_stat = 1;
	c->dev = st->st_dev;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtim = st->st_mtim;
}

/* Read the file when it changed (or always with force); merge it. */
static void
cache_reload(struct mtasts_cache *c, int force, struct trace *trace)
{
	struct mtasts_entry	*e;
	struct stat		 st;
	FILE			*fp;
	size_t			 n, i;

	if (c->path == NULL || (fp = fopen(c->path, "r")) == NULL)
		return;
	if (fstat(fileno(fp), &st) != 0 || (!force && cache_same_file(c, &st)))
		goto out;
	cache_note_file(c, &st);
	if (mtasts_cache_read(fp, &e, &n) == -1) {
		trace_add(trace, "MTA-STS cache %s: malformed, ignored",
		    c->path);
		goto out;
	}
	for (i = 0; i < n; i++)
		cache_merge(c, &e[i], 0);
	cache_list_free(e, n);
out:
	fclose(fp);
}

void
mtasts_cache_init(struct mtasts_cache *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->path = path != NULL && *path != '\0' ? xstrdup(path) : NULL;
	cache_reload(c, 1, NULL);
}

void
mtasts_cache_done(struct mtasts_cache *c)
{
	cache_list_free(c->e, c->n);
	free(c->path);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

int
mtasts_cache_get(struct mtasts_cache *c, const char *domain,
    struct mtasts_entry *out, struct trace *trace)
{
	size_t	i;
	int	found = 0;

	pthread_mutex_lock(&c->lock);
	cache_reload(c, 0, trace);
	for (i = 0; i < c->n && !found; i++)
		if (strcmp(c->e[i].domain, domain) == 0) {
			cache_entry_copy(out, &c->e[i]);
			found = 1;
		}
	pthread_mutex_unlock(&c->lock);
	return found;
}

/* ---- writing ---------------------------------------------------------- */

static int
cache_lock(const char *path, char *err, size_t errlen)
{
	char		*lp = xasprintf("%s.lock", path);
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 fd, waited = 0;

	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EACCES)	/* another user's: flock needs no write */
		fd = open(lp, O_RDONLY | O_CLOEXEC);
	free(lp);
	if (fd < 0) {
		(void)snprintf(err, errlen, "lock file: %s", strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    (waited += 10) > MTASTS_LOCK_WAIT_MS) {
			(void)snprintf(err, errlen, "lock file: %s",
			    errno == EWOULDBLOCK ? "busy" : strerror(errno));
			close(fd);
			return -1;
		}
		(void)nanosleep(&ts, NULL);
	}
	return fd;
}

static void
cache_write_entry(FILE *fp, const struct mtasts_entry *e)
{
	size_t	i;

	fprintf(fp, "%s %s %lld %lld %lu %s", e->domain, e->id,
	    (long long)e->fetched_at, (long long)e->expires,
	    e->policy.max_age, mtasts_mode_str(e->policy.mode));
	for (i = 0; i < e->policy.nmx; i++)
		fprintf(fp, " %s", e->policy.mx[i]);
	fputc('\n', fp);
}

/* Write the unexpired entries to a temporary file renamed over path. */
static int
cache_write(struct mtasts_cache *c, char *err, size_t errlen)
{
	char		*tmp = xasprintf("%s.XXXXXX", c->path);
	struct stat	 st;
	time_t		 now = time(NULL);
	FILE		*fp = NULL;
	size_t		 i;
	int		 fd, rv = -1;

	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 ||
	    (fp = fdopen(fd, "w")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fprintf(fp, "%s\n", CACHE_MAGIC);
	for (i = 0; i < c->n; i++)
		if (c->e[i].expires > now)
			cache_write_entry(fp, &c->e[i]);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 ||
	    fstat(fileno(fp), &st) != 0 || rename(tmp, c->path) != 0) {
		(void)snprintf(err, errlen, "%s: %s", c->path, strerror(errno));
		goto out;
	}
	cache_note_file(c, &st);
	rv = 0;
out:
	if (fp != NULL)
		fclose(fp);
	if (rv == -1 && fd >= 0)
		(void)unlink(tmp);
	free(tmp);
	return rv;
}

int
mtasts_cache_put(struct mtasts_cache *c, const struct mtasts_entry *e,
    char *err, size_t errlen)
{
	int	lfd, rv = 0;

	pthread_mutex_lock(&c->lock);
	if (c->path == NULL)
		cache_merge(c, e, 1);
	else {
		if ((lfd = cache_lock(c->path, err, errlen)) < 0) {
			cache_merge(c, e, 1);
			rv = -1;
		} else {
			cache_reload(c, 1, NULL);
			cache_merge(c, e, 1);
			rv = cache_write(c, err, errlen);
			close(lfd);		/* releases the lock */
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rv;
}
