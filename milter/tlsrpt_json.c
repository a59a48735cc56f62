/*
 * tlsrpt_json.c - the RFC 8460 report of one policy domain and day, its
 * gzip form, and the rua URIs of a _smtp._tls TXT answer (tlsrpt_int.h).
 *
 * tlsrpt_json(rep, r, n, &buf, &len): the report object of RFC 8460 4.4:
 * organization-name, date-range (the UTC day, 00:00:00Z to 23:59:59Z),
 * contact-info, report-id, and one "policies" entry per row: policy
 * (policy-type, policy-domain, policy-string only when known: the TLSA
 * record that matched), summary, failure-details (result-type,
 * sending-mta-ip, receiving-mx-hostname, receiving-ip when known,
 * failed-session-count, failure-reason-code). Every string is printable
 * ASCII already; '"' and '\' are escaped. 0, or -1 (out of memory).
 *
 * tlsrpt_gzip(): deflate with a gzip header (zlib, windowBits 31) into
 * *out (free()); 0 or -1.
 *
 * tlsrpt_rua_parse(txt, n, out, max) (RFC 8460 3): records that do not
 * start with "v=TLSRPTv1" are discarded; unless exactly one remains there
 * is no policy (0). Its fields are "key=value" separated by ';' (white
 * space around them ignored); "rua" is a comma-separated list of URIs of
 * which "mailto:ADDR" (ADDR printable, no space, '<', '>', '"' or ',', one
 * '@'; a "?query" is dropped) and "https://HOST[:PORT]/PATH" (HOST a host
 * name, PORT 1-65535, PATH printable without space) are kept, at most max
 * and TLSRPT_URILEN - 1 bytes each; anything else is skipped. Returns the
 * number kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <zlib.h>

#include "tlsrpt_int.h"
#include "xalloc.h"

static void
jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
jkey(FILE *f, const char *key, const char *val, int comma)
{
	fprintf(f, "%s\"%s\": ", comma ? ", " : "", key);
	jstr(f, val);
}

static void
json_detail(FILE *f, const struct tlsrpt_detail *d, int comma)
{
	fputs(comma ? ",\n        {" : "\n        {", f);
	jkey(f, "result-type", d->result, 0);
	if (d->sip[0] != '\0')
		jkey(f, "sending-mta-ip", d->sip, 1);
	if (d->mx[0] != '\0')
		jkey(f, "receiving-mx-hostname", d->mx, 1);
	if (d->ip[0] != '\0')
		jkey(f, "receiving-ip", d->ip, 1);
	fprintf(f, ", \"failed-session-count\": %lu", d->count);
	if (d->reason[0] != '\0')
		jkey(f, "failure-reason-code", d->reason, 1);
	fputc('}', f);
}

static void
json_policy(FILE *f, const struct tlsrpt_row *r, int comma)
{
	size_t	i;

	fputs(comma ? ",\n    {" : "\n    {", f);
	fputs("\"policy\": {", f);
	jkey(f, "policy-type", tlsrpt_ptype_str(r->type), 0);
	if (r->pstr[0] != '\0') {
		fputs(", \"policy-string\": [", f);
		jstr(f, r->pstr);
		fputc(']', f);
	}
	jkey(f, "policy-domain", r->domain, 1);
	fprintf(f, "},\n      \"summary\": {\"total-successful-session-count\": "
	    "%lu, \"total-failure-session-count\": %lu},\n"
	    "      \"failure-details\": [", r->ok, r->fail);
	for (i = 0; i < r->nd; i++)
		json_detail(f, &r->d[i], i > 0);
	fputs(r->nd ? "\n      ]}" : "]}", f);
}

int
tlsrpt_json(const struct tlsrpt_report *rep, const struct tlsrpt_row *r,
    size_t n, char **buf, size_t *len)
{
	FILE		*f;
	struct tm	 tm;
	time_t		 t = (time_t)rep->day;
	char		 start[32], end[32];
	size_t		 i;

	*buf = NULL;
	if ((f = open_memstream(buf, len)) == NULL)
		return -1;
	(void)gmtime_r(&t, &tm);
	(void)strftime(start, sizeof(start), "%Y-%m-%dT00:00:00Z", &tm);
	(void)strftime(end, sizeof(end), "%Y-%m-%dT23:59:59Z", &tm);
	fputc('{', f);
	jkey(f, "organization-name", rep->org, 0);
	fprintf(f, ",\n  \"date-range\": {\"start-datetime\": \"%s\", "
	    "\"end-datetime\": \"%s\"}", start, end);
	fputs(",\n  ", f);
	jkey(f, "contact-info", rep->contact, 0);
	fputs(",\n  ", f);
	jkey(f, "report-id", rep->id, 0);
	fputs(",\n  \"policies\": [", f);
	for (i = 0; i < n; i++)
		json_policy(f, &r[i], i > 0);
	fputs("\n  ]\n}\n", f);
	if (fclose(f) != 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

int
tlsrpt_gzip(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	z_stream	z;
	uLong		cap;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	cap = deflateBound(&z, (uLong)len) + 64;
	*out = xmalloc(cap);
	z.next_in = (Bytef *)(void *)in;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(*out);
		*out = NULL;
		return -1;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return 0;
}

/* --- rua ------------------------------------------------------------------ */

static int
rua_mailto(const char *s, struct tlsrpt_rua *r)
{
	size_t	n = strcspn(s, "?"), i, at = 0;

	if (n == 0 || n >= sizeof(r->addr))
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
		    strchr("<>\",;()\\[]", s[i]) != NULL)
			return -1;
		at += s[i] == '@';
	}
	if (at != 1 || s[0] == '@' || s[n - 1] == '@')
		return -1;
	memcpy(r->addr, s, n);
	r->addr[n] = '\0';
	return 0;
}

static int
rua_https(const char *s, struct tlsrpt_rua *r)
{
	size_t		 h = strcspn(s, ":/"), i;
	char		*end;
	unsigned long	 port = 443;

	if (h == 0 || h >= sizeof(r->host) || !name_is_hostname(s, h))
		return -1;
	memcpy(r->host, s, h);
	r->host[h] = '\0';
	s += h;
	if (*s == ':') {
		port = strtoul(s + 1, &end, 10);
		if (end == s + 1 || port < 1 || port > 65535)
			return -1;
		s = end;
	}
	if (*s != '/' && *s != '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return -1;
	(void)snprintf(r->path, sizeof(r->path), "%s", *s ? s : "/");
	r->port = (unsigned)port;
	return 0;
}

static size_t
rua_list(char *v, struct tlsrpt_rua *out, size_t max)
{
	size_t	 k = 0;
	char	*u, *save = NULL;

	for (u = strtok_r(v, ",", &save); u != NULL && k < max;
	    u = strtok_r(NULL, ",", &save)) {
		u += strspn(u, " \t");
		u[strcspn(u, " \t")] = '\0';
		memset(&out[k], 0, sizeof(out[k]));
		if (strlen(u) >= sizeof(out[k].uri))
			continue;
		(void)snprintf(out[k].uri, sizeof(out[k].uri), "%s", u);
		if (strncasecmp(u, "mailto:", 7) == 0 &&
		    rua_mailto(u + 7, &out[k]) == 0)
			k++;
		else if (strncasecmp(u, "https://", 8) == 0 &&
		    rua_https(u + 8, &out[k]) == 0) {
			out[k].https = 1;
			k++;
		}
	}
	return k;
}

size_t
tlsrpt_rua_parse(const struct dns_txt *txt, size_t n, struct tlsrpt_rua *out,
    size_t max)
{
	const struct dns_txt	*rec = NULL;
	char			*copy, *f, *save = NULL, *eq;
	size_t			 i, k = 0, found = 0;

	for (i = 0; i < n; i++)
		if (txt[i].len >= 10 && strlen(txt[i].text) == txt[i].len &&
		    strncmp(txt[i].text, "v=TLSRPTv1", 10) == 0 &&
		    (txt[i].text[10] == ';' || txt[i].text[10] == ' ' ||
		    txt[i].text[10] == '\t')) {
			rec = &txt[i];
			found++;
		}
	if (found != 1)
		return 0;
	copy = xstrdup(rec->text);
	for (f = strtok_r(copy, ";", &save); f != NULL && k == 0;
	    f = strtok_r(NULL, ";", &save)) {
		f += strspn(f, " \t");
		if ((eq = strchr(f, '=')) == NULL)
			continue;
		*eq = '\0';
		f[strcspn(f, " \t")] = '\0';
		if (strcmp(f, "rua") == 0)
			k = rua_list(eq + 1, out, max);
	}
	free(copy);
	return k;
}
