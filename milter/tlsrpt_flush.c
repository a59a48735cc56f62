/*
 * tlsrpt_flush.c - the daily reports (tlsrpt_flush(), tlsrpt.h) and the
 * daemon's timer thread (tlsrpt_start(), tlsrpt_stop()).
 *
 * Under the spool lock: the counts of memory and file are merged; each
 * (domain, day) before now's UTC day is looked up (TXT _smtp._tls.DOMAIN,
 * tlsrpt_rua_parse()) and, with a usable rua, its report (every policy
 * type of that day in one report) is written to
 * SPOOL/SENDER!DOMAIN!BEGIN!END[!N].json.gz: BEGIN the day's first second,
 * END its last, N from 1 when the name is taken (a day flushed again with
 * counts saved late); report-id "DAY_DOMAIN_SENDER[_N]"; SENDER is
 * [probe] helo when it is a host name, else "localhost"; organization-name
 * is [tlsrpt] organization, else SENDER; contact-info [tlsrpt] contact,
 * else postmaster@SENDER. The file is written to a temporary name, then
 * renamed. The remaining counts are written back and the lock dropped;
 * only then are the reports sent ([tlsrpt] send): a report that could
 * not be sent stays in the spool (no retry: logged).
 *
 * The timer thread wakes every TLSRPT_TICK seconds (or at tlsrpt_stop())
 * and calls tlsrpt_flush(conf, tlsrpt_now()) with the current generation's
 * configuration; a flush with nothing older than today only saves.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decide.h"
#include "log.h"
#include "tlsrpt_int.h"
#include "xalloc.h"

struct pending {
	struct tlsrpt_report	 rep;
	char			 domain[NAME_BUFLEN];
	struct tlsrpt_rua	 rua[TLSRPT_MAX_RUA];
	size_t			 nrua;
};

struct flush {
	const struct conf	*c;
	long			 today;
	struct dns_ctx		*dns;
	struct tlsrpt_store	 keep;
	struct pending		*p;
	size_t			 np;
	struct tlsrpt_stats	*st;
};

static void
flush_names(const struct conf *c, struct tlsrpt_report *rep)
{
	const char	*h = c->helo;

	(void)snprintf(rep->sender, sizeof(rep->sender), "%s",
	    h != NULL && name_is_hostname(h, strlen(h)) ? h : "localhost");
	(void)snprintf(rep->org, sizeof(rep->org), "%s",
	    c->tlsrpt_org ? c->tlsrpt_org : rep->sender);
	if (c->tlsrpt_contact != NULL)
		(void)snprintf(rep->contact, sizeof(rep->contact), "%s",
		    c->tlsrpt_contact);
	else
		(void)snprintf(rep->contact, sizeof(rep->contact),
		    "postmaster@%.100s", rep->sender);
}

/* A free file name in the spool, and the report id that goes with it. */
static int
flush_file(struct flush *f, struct tlsrpt_report *rep, char *path,
    size_t len)
{
	char		day[32], sfx[8] = "";
	struct tm	tm;
	time_t		t = (time_t)rep->day;
	int		i;

	(void)gmtime_r(&t, &tm);
	(void)strftime(day, sizeof(day), "%Y-%m-%dT00:00:00Z", &tm);
	for (i = 0; i < 100; i++) {
		if (i > 0)
			(void)snprintf(sfx, sizeof(sfx), "!%d", i);
		(void)snprintf(rep->file, sizeof(rep->file), "%s!%s!%ld!%ld%s"
		    ".json.gz", rep->sender, rep->domain, rep->day,
		    rep->day + TLSRPT_DAY - 1, sfx);
		if ((size_t)snprintf(path, len, "%s/%s", f->c->tlsrpt_spool,
		    rep->file) >= len)
			return -1;
		if (access(path, F_OK) != 0 && errno == ENOENT) {
			(void)snprintf(rep->id, sizeof(rep->id), "%s_%s_%s%s%s",
			    day, rep->domain, rep->sender, i ? "_" : "",
			    i ? sfx + 1 : "");
			return 0;
		}
	}
	return -1;
}

static int
flush_write(const char *path, const unsigned char *gz, size_t len)
{
	char	tmp[4200];
	int	fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0)
		return -1;
	ok = write(fd, gz, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	if (!ok)
		(void)unlink(tmp);
	return ok ? 0 : -1;
}

/* The report of rows r[0..n) (one domain and day) into the spool. */
static int
flush_report(struct flush *f, const struct tlsrpt_row *r, size_t n,
    struct pending *p)
{
	char	 path[4096], *json = NULL;
	size_t	 jlen = 0;
	int	 rv = -1;

	(void)snprintf(p->domain, sizeof(p->domain), "%s", r[0].domain);
	p->rep.domain = p->domain;
	p->rep.day = r[0].day;
	flush_names(f->c, &p->rep);
	if (flush_file(f, &p->rep, path, sizeof(path)) == 0 &&
	    tlsrpt_json(&p->rep, r, n, &json, &jlen) == 0 &&
	    tlsrpt_gzip(json, jlen, &p->rep.gz, &p->rep.gzlen) == 0 &&
	    flush_write(path, p->rep.gz, p->rep.gzlen) == 0)
		rv = 0;
	if (rv == 0)
		log_info("tlsrpt: domain=%s report=%s", p->domain, p->rep.file);
	else
		log_warn("tlsrpt: domain=%s: cannot write the report %s: %s",
		    p->domain, path, strerror(errno));
	free(json);
	return rv;
}

/* The rua of domain: >0 URIs, 0 no (usable) record, -1 try again later. */
static int
flush_rua(struct flush *f, const char *domain, struct tlsrpt_rua *rua)
{
	struct dns_txt	*txt = NULL;
	size_t		 n = 0, k = 0;
	char		 q[NAME_BUFLEN + 16];
	enum dns_status	 s;

	(void)snprintf(q, sizeof(q), "_smtp._tls.%s", domain);
	s = dns_txt(f->dns, q, &txt, &n);
	if (s == DNS_TEMP || s == DNS_INVALID)
		return -1;
	if (s == DNS_OK)
		k = tlsrpt_rua_parse(txt, n, rua, TLSRPT_MAX_RUA);
	dns_txt_free(txt, n);
	return (int)k;
}

static void
flush_keep(struct flush *f, const struct tlsrpt_row *r)
{
	struct tlsrpt_store	one;

	one.r = (struct tlsrpt_row *)(void *)r;
	one.n = 1;
	one.ndetails = r->nd;
	one.dropped = one.lost_details = 0;
	tlsrpt_store_merge(&f->keep, &one);
}

/* One (domain, day): the rows r[idx[0..n)] of the merged store. */
static void
flush_group(struct flush *f, const struct tlsrpt_row *rows, size_t n)
{
	struct pending	p;
	size_t		i;
	int		k;

	memset(&p, 0, sizeof(p));
	if ((k = flush_rua(f, rows[0].domain, p.rua)) < 0) {
		if (f->today - rows[0].day <= TLSRPT_KEEP_DAYS * TLSRPT_DAY)
			for (i = 0; i < n; i++)
				flush_keep(f, &rows[i]);
		log_warn("tlsrpt: domain=%s: _smtp._tls lookup failed: %s",
		    rows[0].domain, dns_last_error(f->dns));
		return;
	}
	if (k == 0) {
		f->st->skipped++;
		return;
	}
	p.nrua = (size_t)k;
	if (flush_report(f, rows, n, &p) == -1) {
		f->st->failed++;
		return;
	}
	f->st->reports++;
	f->p = xreallocarray(f->p, f->np + 1, sizeof(*f->p));
	f->p[f->np] = p;
	f->p[f->np].rep.domain = f->p[f->np].domain;
	f->np++;
}

static void
flush_rows(struct flush *f, const struct tlsrpt_store *all)
{
	struct tlsrpt_row	*g = xcalloc(all->n + 1, sizeof(*g));
	char			*done = xcalloc(all->n + 1, 1);
	size_t			 i, j, n;

	for (i = 0; i < all->n; i++) {
		if (done[i])
			continue;
		if (all->r[i].day >= f->today) {
			flush_keep(f, &all->r[i]);
			continue;
		}
		for (n = 0, j = i; j < all->n; j++)
			if (!done[j] && all->r[j].day == all->r[i].day &&
			    strcmp(all->r[j].domain, all->r[i].domain) == 0) {
				g[n++] = all->r[j];
				done[j] = 1;
			}
		flush_group(f, g, n);
	}
	free(g);
	free(done);
}

static void
flush_send(struct flush *f, struct pending *p)
{
	char	err[512];
	size_t	i, mails = 0;

	for (i = 0; i < p->nrua; i++)
		mails += !p->rua[i].https;
	if ((f->c->tlsrpt_send & CONF_RPT_MAIL) && mails > 0) {
		if (tlsrpt_mail(f->c, &p->rep, p->rua, p->nrua, err,
		    sizeof(err)) == 0) {
			f->st->mailed++;
			log_info("tlsrpt: domain=%s report=%s mailed",
			    p->domain, p->rep.file);
		} else {
			f->st->failed++;
			log_warn("tlsrpt: domain=%s report=%s not mailed: %s",
			    p->domain, p->rep.file, err);
		}
	}
	for (i = 0; i < p->nrua; i++) {
		if (!p->rua[i].https || !(f->c->tlsrpt_send & CONF_RPT_HTTPS))
			continue;
		if (tlsrpt_post(f->c, &p->rep, &p->rua[i], err,
		    sizeof(err)) == 0) {
			f->st->posted++;
			log_info("tlsrpt: domain=%s report=%s posted to %s",
			    p->domain, p->rep.file, p->rua[i].uri);
		} else {
			f->st->failed++;
			log_warn("tlsrpt: domain=%s report=%s not posted to "
			    "%s: %s", p->domain, p->rep.file, p->rua[i].uri,
			    err);
		}
	}
}

int
tlsrpt_flush(const struct conf *c, time_t now, struct tlsrpt_stats *out)
{
	struct flush		f;
	struct tlsrpt_stats	st;
	struct tlsrpt_store	mem, all;
	char			err[256];
	int			lockfd, rv;
	size_t			i;

	memset(&f, 0, sizeof(f));
	memset(&st, 0, sizeof(st));
	f.c = c;
	f.st = &st;
	f.today = (long)now / TLSRPT_DAY * TLSRPT_DAY;
	if (c == NULL || c->tlsrpt_spool == NULL)
		return 0;
	tlsrpt_mem_take(&mem);
	if (tlsrpt_spool_open(c->tlsrpt_spool, &all, &lockfd) == -1) {
		tlsrpt_mem_return(&mem);
		tlsrpt_store_free(&mem);
		return -1;
	}
	tlsrpt_store_merge(&all, &mem);
	tlsrpt_store_free(&mem);
	for (i = 0; i < all.n && all.r[i].day >= f.today; i++)
		;
	if (i < all.n && (f.dns = dns_open(c, err, sizeof(err))) == NULL) {
		log_warn("tlsrpt: %s", err);
		f.today = 0;		/* nothing is old: keep all */
	}
	flush_rows(&f, &all);
	tlsrpt_store_free(&all);
	rv = tlsrpt_spool_close(c->tlsrpt_spool, &f.keep, lockfd);
	tlsrpt_store_free(&f.keep);
	if (f.dns != NULL)
		dns_close(f.dns);
	for (i = 0; i < f.np; i++) {
		flush_send(&f, &f.p[i]);
		free(f.p[i].rep.gz);
	}
	free(f.p);
	if (out != NULL)
		*out = st;
	return rv == 0 && st.failed == 0 ? 0 : -1;
}

/* --- the daemon's timer ---------------------------------------------------- */

static pthread_t	tlsrpt_thr;
static int		tlsrpt_running, tlsrpt_quit;
static pthread_mutex_t	tlsrpt_tmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	tlsrpt_tcv = PTHREAD_COND_INITIALIZER;

static void
tlsrpt_tick(void)
{
	struct gen	*g = decide_gen();

	if (g == NULL)
		return;
	(void)tlsrpt_flush(g->conf, tlsrpt_now(), NULL);
	gen_unref(g);
}

static void *
tlsrpt_main(void *arg)
{
	struct timespec	ts;
	int		quit = 0;

	while (!quit) {
		pthread_mutex_lock(&tlsrpt_tmu);
		(void)clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += TLSRPT_TICK;
		while (!tlsrpt_quit && pthread_cond_timedwait(&tlsrpt_tcv,
		    &tlsrpt_tmu, &ts) == 0)
			;
		quit = tlsrpt_quit;
		pthread_mutex_unlock(&tlsrpt_tmu);
		tlsrpt_tick();
	}
	return NULL;
}

void
tlsrpt_start(void)
{
	int	e;

	if ((e = pthread_create(&tlsrpt_thr, NULL, tlsrpt_main, NULL)) != 0)
		log_err("tlsrpt: cannot start the timer thread: %s",
		    strerror(e));
	else
		tlsrpt_running = 1;
}

void
tlsrpt_stop(void)
{
	if (!tlsrpt_running)
		return;
	pthread_mutex_lock(&tlsrpt_tmu);
	tlsrpt_quit = 1;
	pthread_cond_signal(&tlsrpt_tcv);
	pthread_mutex_unlock(&tlsrpt_tmu);
	pthread_join(tlsrpt_thr, NULL);
	tlsrpt_running = 0;
}
