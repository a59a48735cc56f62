/*
 * tlsrpt_spool.c - the counts file in [tlsrpt] spool, shared by the
 * daemon and tlsverify-probe: the lock, the defensive read and the atomic
 * write (tlsrpt_int.h), and tlsrpt_save() (tlsrpt.h).
 *
 * Files: SPOOL/tlsrpt.lock (flock, never removed), SPOOL/tlsrpt.counts
 * (mode 0640), SPOOL/tlsrpt.counts.bad (a malformed counts file, kept for
 * inspection, replaced by the next one).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tlsrpt_int.h"
#include "xalloc.h"

#define SPOOL_PATHLEN	4096

static int
spool_path(char *buf, const char *spool, const char *name)
{
	int	n = snprintf(buf, SPOOL_PATHLEN, "%s/%s", spool, name);

	return n < 0 || n >= SPOOL_PATHLEN ? -1 : 0;
}

static int
spool_lock(const char *spool)
{
	char		path[SPOOL_PATHLEN];
	int		fd, waited = 0;
	struct timespec	ts = { 0, 20 * 1000000L };

	if (spool_path(path, spool, "tlsrpt.lock") == -1 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		log_warn("tlsrpt: %s/tlsrpt.lock: %s", spool, strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK || waited >= TLSRPT_LOCK_WAIT_MS) {
			log_warn("tlsrpt: %s/tlsrpt.lock: not locked (%s)",
			    spool, errno == EWOULDBLOCK ? "busy" :
			    strerror(errno));
			close(fd);
			return -1;
		}
		(void)nanosleep(&ts, NULL);
		waited += 20;
	}
	return fd;
}

int
tlsrpt_spool_open(const char *spool, struct tlsrpt_store *st, int *lockfd)
{
	char	 path[SPOOL_PATHLEN], bad[SPOOL_PATHLEN];
	FILE	*fp;

	memset(st, 0, sizeof(*st));
	if ((*lockfd = spool_lock(spool)) < 0)
		return -1;
	if (spool_path(path, spool, "tlsrpt.counts") == -1 ||
	    spool_path(bad, spool, "tlsrpt.counts.bad") == -1 ||
	    (fp = fopen(path, "re")) == NULL)
		return 0;			/* none yet: empty */
	if (tlsrpt_store_read(fp, st) == -1) {
		log_warn("tlsrpt: %s is malformed: moved to %s, counting "
		    "starts again", path, bad);
		(void)rename(path, bad);
	}
	fclose(fp);
	return 0;
}

static int
spool_write(const char *spool, const struct tlsrpt_store *st)
{
	char	 path[SPOOL_PATHLEN], tmp[SPOOL_PATHLEN];
	FILE	*fp = NULL;
	int	 fd = -1, rv = -1;

	if (spool_path(path, spool, "tlsrpt.counts") == -1 ||
	    spool_path(tmp, spool, "tlsrpt.counts.XXXXXX") == -1)
		return -1;
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0640) != 0 ||
	    (fp = fdopen(fd, "w")) == NULL)
		goto out;
	fd = -1;
	if (tlsrpt_store_write(fp, st) == 0 && fflush(fp) == 0 &&
	    fsync(fileno(fp)) == 0 && rename(tmp, path) == 0)
		rv = 0;
out:
	if (rv == -1)
		log_warn("tlsrpt: cannot write %s: %s", path, strerror(errno));
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	if (rv == -1)
		(void)unlink(tmp);
	return rv;
}

int
tlsrpt_spool_close(const char *spool, const struct tlsrpt_store *st,
    int lockfd)
{
	int	rv = st == NULL ? 0 : spool_write(spool, st);

	(void)flock(lockfd, LOCK_UN);
	close(lockfd);
	return rv;
}

int
tlsrpt_save(const struct conf *c)
{
	struct tlsrpt_store	mem, file;
	int			lockfd, rv = -1;

	if (c == NULL || c->tlsrpt_spool == NULL)
		return 0;
	tlsrpt_mem_take(&mem);
	if (mem.n == 0 && mem.dropped == 0) {
		tlsrpt_store_free(&mem);
		return 0;
	}
	if (tlsrpt_spool_open(c->tlsrpt_spool, &file, &lockfd) == 0) {
		tlsrpt_store_merge(&file, &mem);
		if (file.dropped || file.lost_details)
			log_warn("tlsrpt: limits reached: %lu sessions not "
			    "counted, %lu failures without details",
			    file.dropped, file.lost_details);
		rv = tlsrpt_spool_close(c->tlsrpt_spool, &file, lockfd);
		tlsrpt_store_free(&file);
	}
	if (rv == -1)
		tlsrpt_mem_return(&mem);
	tlsrpt_store_free(&mem);
	return rv;
}
