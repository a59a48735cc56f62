/*
 * tlsrpt_store.c - TLS-RPT counts in memory and in the counts file
 * (format, limits and the defensive reader: tlsrpt_int.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsrpt_int.h"
#include "xalloc.h"

#define STORE_MAGIC	"tlsverify-tlsrpt-counts 1"

static const char *const tlsrpt_results[] = {
	"starttls-not-supported", "certificate-host-mismatch",
	"certificate-expired", "certificate-not-trusted", "validation-failure",
	"tlsa-invalid", "dnssec-invalid", "dane-required",
	"sts-policy-invalid", "sts-webpki-invalid", "sts-policy-fetch-error"
};

const char *
tlsrpt_ptype_str(enum tlsrpt_ptype t)
{
	return t == TLSRPT_TLSA ? "tlsa" : t == TLSRPT_STS ? "sts" :
	    "no-policy-found";
}

int
tlsrpt_result_known(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(tlsrpt_results) / sizeof(char *); i++)
		if (strcmp(s, tlsrpt_results[i]) == 0)
			return 1;
	return 0;
}

static struct tlsrpt_row *
store_row(struct tlsrpt_store *st, long day, enum tlsrpt_ptype type,
    const char *domain)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		if (st->r[i].day == day && st->r[i].type == type &&
		    strcmp(st->r[i].domain, domain) == 0)
			return &st->r[i];
	if (st->n >= TLSRPT_MAX_ROWS)
		return NULL;
	st->r = xreallocarray(st->r, st->n + 1, sizeof(*st->r));
	memset(&st->r[st->n], 0, sizeof(st->r[0]));
	st->r[st->n].day = day;
	st->r[st->n].type = type;
	(void)snprintf(st->r[st->n].domain, NAME_BUFLEN, "%s", domain);
	return &st->r[st->n++];
}

static int
detail_eq(const struct tlsrpt_detail *a, const struct tlsrpt_detail *b)
{
	return strcmp(a->result, b->result) == 0 && strcmp(a->mx, b->mx) == 0 &&
	    strcmp(a->ip, b->ip) == 0 && strcmp(a->sip, b->sip) == 0 &&
	    strcmp(a->reason, b->reason) == 0;
}

static void
store_detail(struct tlsrpt_store *st, struct tlsrpt_row *r,
    const struct tlsrpt_detail *d, unsigned long n)
{
	size_t	i;

	for (i = 0; i < r->nd; i++)
		if (detail_eq(&r->d[i], d)) {
			r->d[i].count += n;
			return;
		}
	if (st->ndetails >= TLSRPT_MAX_DETAILS ||
	    r->nd >= TLSRPT_MAX_ROW_DETAILS) {
		st->lost_details += n;
		return;
	}
	r->d = xreallocarray(r->d, r->nd + 1, sizeof(*r->d));
	r->d[r->nd] = *d;
	r->d[r->nd++].count = n;
	st->ndetails++;
}

void
tlsrpt_store_add(struct tlsrpt_store *st, const struct tlsrpt_session *s,
    unsigned long ok, unsigned long fail)
{
	struct tlsrpt_row	*r;

	if ((r = store_row(st, s->day, s->type, s->domain)) == NULL) {
		st->dropped += ok + fail;
		return;
	}
	if (r->pstr[0] == '\0' && s->pstr != NULL)
		(void)snprintf(r->pstr, sizeof(r->pstr), "%s", s->pstr);
	r->ok += ok;
	r->fail += fail;
	if (fail > 0 && s->d.result[0] != '\0')
		store_detail(st, r, &s->d, fail);
}

void
tlsrpt_store_merge(struct tlsrpt_store *dst, const struct tlsrpt_store *src)
{
	struct tlsrpt_session	s;
	size_t			i, j;

	for (i = 0; i < src->n; i++) {
		memset(&s, 0, sizeof(s));
		s.day = src->r[i].day;
		s.type = src->r[i].type;
		s.domain = src->r[i].domain;
		s.pstr = src->r[i].pstr;
		tlsrpt_store_add(dst, &s, src->r[i].ok, 0);
		for (j = 0; j < src->r[i].nd; j++) {
			s.d = src->r[i].d[j];
			tlsrpt_store_add(dst, &s, 0, s.d.count);
		}
		/* failures whose details were lost before */
		memset(&s.d, 0, sizeof(s.d));
		for (j = 0; j < src->r[i].nd; j++)
			s.d.count += src->r[i].d[j].count;
		if (src->r[i].fail > s.d.count)
			tlsrpt_store_add(dst, &s, 0, src->r[i].fail - s.d.count);
	}
	dst->dropped += src->dropped;
	dst->lost_details += src->lost_details;
}

void
tlsrpt_store_free(struct tlsrpt_store *st)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		free(st->r[i].d);
	free(st->r);
	memset(st, 0, sizeof(*st));
}

/* --- the file ------------------------------------------------------------ */

static const char *
dash(const char *s)
{
	return *s == '\0' ? "-" : s;
}

int
tlsrpt_store_write(FILE *fp, const struct tlsrpt_store *st)
{
	const struct tlsrpt_row	*r;
	size_t			 i, j;

	fprintf(fp, "%s\n", STORE_MAGIC);
	for (i = 0; i < st->n; i++) {
		r = &st->r[i];
		fprintf(fp, "R %ld %d %lu %lu %s%s%s\n", r->day, (int)r->type,
		    r->ok, r->fail, r->domain, r->pstr[0] ? " " : "", r->pstr);
		for (j = 0; j < r->nd; j++)
			fprintf(fp, "F %ld %d %lu %s %s %s %s %s %s\n", r->day,
			    (int)r->type, r->d[j].count, r->d[j].result,
			    r->domain, dash(r->d[j].mx), dash(r->d[j].ip),
			    dash(r->d[j].sip), r->d[j].reason);
	}
	return ferror(fp) ? -1 : 0;
}

/* The next space-separated field of *p (NUL-terminated in place). */
static char *
field(char **p)
{
	char	*s = *p, *e;

	if (s == NULL || *s == '\0')
		return NULL;
	if ((e = strchr(s, ' ')) != NULL) {
		*e = '\0';
		*p = e + 1;
	} else
		*p = NULL;
	return s;
}

static int
num(const char *s, unsigned long *out)
{
	size_t	n = s == NULL ? 0 : strspn(s, "0123456789");

	if (n == 0 || n > 15 || s[n] != '\0')
		return -1;
	*out = strtoul(s, NULL, 10);
	return 0;
}

static int
name_ok(const char *s, int dash_ok)
{
	if (s == NULL)
		return 0;
	return (dash_ok && strcmp(s, "-") == 0) ||
	    name_is_hostname(s, strlen(s));
}

static int
ip_ok(const char *s)
{
	unsigned char	buf[sizeof(struct in6_addr)];

	return s != NULL && (strcmp(s, "-") == 0 ||
	    inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static void
undash(char *dst, size_t len, const char *s)
{
	(void)snprintf(dst, len, "%s", strcmp(s, "-") == 0 ? "" : s);
}

/* "DAY TYPE" of an R or F line; 0 or -1. */
static int
day_type(char **p, struct tlsrpt_session *s)
{
	unsigned long	day, type;

	if (num(field(p), &day) == -1 || day % TLSRPT_DAY != 0 ||
	    num(field(p), &type) == -1 || type >= TLSRPT_NTYPES)
		return -1;
	s->day = (long)day;
	s->type = (enum tlsrpt_ptype)type;
	return 0;
}

static int
store_line_r(struct tlsrpt_store *st, char *p)
{
	struct tlsrpt_session	s;
	unsigned long		ok, fail;

	memset(&s, 0, sizeof(s));
	if (day_type(&p, &s) == -1 || num(field(&p), &ok) == -1 ||
	    num(field(&p), &fail) == -1 || !name_ok(s.domain = field(&p), 0))
		return -1;
	s.pstr = p;			/* the rest, or NULL */
	if (s.pstr != NULL && strlen(s.pstr) >= DANE_TEXTLEN)
		return -1;
	tlsrpt_store_add(st, &s, ok, fail);
	return 0;
}

static int
store_line_f(struct tlsrpt_store *st, char *p)
{
	struct tlsrpt_session	s;
	unsigned long		n;
	const char		*res, *mx, *ip, *sip;
	size_t			i;

	memset(&s, 0, sizeof(s));
	if (day_type(&p, &s) == -1 || num(field(&p), &n) == -1 ||
	    (res = field(&p)) == NULL || !tlsrpt_result_known(res) ||
	    !name_ok(s.domain = field(&p), 0) || !name_ok(mx = field(&p), 1) ||
	    !ip_ok(ip = field(&p)) || !ip_ok(sip = field(&p)) ||
	    (p != NULL && strlen(p) >= TLSRPT_REASONLEN))
		return -1;
	for (i = 0; i < st->n; i++)		/* its R line came first */
		if (st->r[i].day == s.day && st->r[i].type == s.type &&
		    strcmp(st->r[i].domain, s.domain) == 0)
			break;
	if (i == st->n)
		return -1;
	(void)snprintf(s.d.result, sizeof(s.d.result), "%s", res);
	undash(s.d.mx, sizeof(s.d.mx), mx);
	undash(s.d.ip, sizeof(s.d.ip), ip);
	undash(s.d.sip, sizeof(s.d.sip), sip);
	(void)snprintf(s.d.reason, sizeof(s.d.reason), "%s", p ? p : "");
	store_detail(st, &st->r[i], &s.d, n);	/* fail already counted */
	return 0;
}

int
tlsrpt_store_read(FILE *fp, struct tlsrpt_store *st)
{
	char	*line = NULL;
	size_t	 cap = 0, total = 0;
	ssize_t	 len;
	int	 rv = -1, first = 1, bad = 0;

	memset(st, 0, sizeof(*st));
	while (!bad && (len = getline(&line, &cap, fp)) >= 0) {
		total += (size_t)len;
		if (len > TLSRPT_LINEMAX || total > (size_t)TLSRPT_FILEMAX ||
		    len == 0 || line[len - 1] != '\n' ||
		    strlen(line) != (size_t)len) {
			bad = 1;
			break;
		}
		line[len - 1] = '\0';
		if (first)
			bad = strcmp(line, STORE_MAGIC) != 0;
		else if (strncmp(line, "R ", 2) == 0)
			bad = store_line_r(st, line + 2) == -1;
		else if (strncmp(line, "F ", 2) == 0)
			bad = store_line_f(st, line + 2) == -1;
		else
			bad = 1;
		first = 0;
	}
	if (!bad && !first && !ferror(fp))
		rv = 0;
	free(line);
	if (rv == -1)
		tlsrpt_store_free(st);
	return rv;
}
