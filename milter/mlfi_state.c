/*
 * mlfi_state.c - what the milter callbacks dispatch to (see mlfi.h):
 * per-connection and per-message state, and the translation of each
 * recipient's decision (decide.h) into a libmilter reply and a header
 * entry. The milter judges nothing itself.
 *
 * Recipient rules (SPEC 7): the domain is the part of {rcpt_addr} (or of
 * the RCPT argument) after the last '@', without <>; no '@' or an empty
 * domain is local: not judged. A {rcpt_mailer} in skip_mailers is not
 * judged. Everything else is decided by decide_domain() (when that will
 * wait for a probe, libmilter's pool is handed a worker first:
 * mlfi_pool.h): accept and tag continue (SMFIS_CONTINUE) with the header
 * entry, defer and reject give the decision's code and text.
 *
 * The header lists the domains of accepted recipients only (a deferred or
 * rejected recipient does not receive this copy of the message), once each.
 * Copies of the header already in the message are counted (mlfi_hdr_seen)
 * for mlfi.c to remove at end of message, whatever the milter adds.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "header.h"
#include "log.h"
#include "mlfi.h"
#include "mlfi_pool.h"
#include "xalloc.h"

#define MLFI_MAXDOMAINS	1000
#define MLFI_HDRMAX	16384	/* bytes of header entries; libmilter sends
				   at most 64 KiB in one packet */

struct mlfi_conn {
	struct gen	*g;		/* the message's generation */
	char		**doms;		/* header entries' domains */
	char		**hdrs;		/* header entries */
	size_t		 n;
	size_t		 bytes;		/* of the entries */
	size_t		 omitted;	/* domains left out (MLFI_HDRMAX) */
	size_t		 forged;	/* copies of our header in the message */
};

/* --- generations --------------------------------------------------------- */

void
mlfi_start(struct gen *g)
{
	decide_start(g);
}

int
mlfi_reload(const char *path)
{
	return decide_reload(path);
}

void
mlfi_stop(void)
{
	decide_stop();
}

/* --- per connection and message ----------------------------------------- */

struct mlfi_conn *
mlfi_conn_new(void)
{
	return xcalloc(1, sizeof(struct mlfi_conn));
}

void
mlfi_msg_end(struct mlfi_conn *mc)
{
	size_t	i;

	if (mc == NULL)
		return;
	for (i = 0; i < mc->n; i++) {
		free(mc->doms[i]);
		free(mc->hdrs[i]);
	}
	free(mc->doms);
	free(mc->hdrs);
	mc->doms = mc->hdrs = NULL;
	mc->n = mc->bytes = mc->omitted = mc->forged = 0;
	gen_unref(mc->g);
	mc->g = NULL;
}

void
mlfi_conn_free(struct mlfi_conn *mc)
{
	mlfi_msg_end(mc);
	free(mc);
}

void
mlfi_msg_begin(struct mlfi_conn *mc)
{
	mlfi_msg_end(mc);
	mc->g = gen_current();
}

static void
mlfi_add_hdr(struct mlfi_conn *mc, const char *domain, const char *entry)
{
	size_t	i;

	if (entry == NULL || *entry == '\0')
		return;
	for (i = 0; i < mc->n; i++)
		if (strcmp(mc->doms[i], domain) == 0)
			return;
	if (mc->n >= MLFI_MAXDOMAINS ||
	    mc->bytes + strlen(entry) > MLFI_HDRMAX) {
		mc->omitted++;	/* may count a domain twice: "at least" */
		return;
	}
	mc->bytes += strlen(entry);
	mc->doms = xreallocarray(mc->doms, mc->n + 1, sizeof(char *));
	mc->hdrs = xreallocarray(mc->hdrs, mc->n + 1, sizeof(char *));
	mc->doms[mc->n] = xstrdup(domain);
	mc->hdrs[mc->n] = xstrdup(entry);
	mc->n++;
}

static const char *
mlfi_hdr_name(const struct mlfi_conn *mc)
{
	return mc->g->conf->header != NULL ? mc->g->conf->header :
	    "X-TLS-Verify";
}

/* A header of the message as received: count the copies of ours (any
 * case, as the MTA matches names for smfi_chgheader). */
void
mlfi_hdr_seen(struct mlfi_conn *mc, const char *name)
{
	if (mc != NULL && mc->g != NULL && name != NULL &&
	    strcasecmp(name, mlfi_hdr_name(mc)) == 0 && mc->forged < INT_MAX)
		mc->forged++;
}

size_t
mlfi_hdr_forged(struct mlfi_conn *mc, const char **name)
{
	*name = NULL;
	if (mc == NULL || mc->g == NULL)
		return 0;
	*name = mlfi_hdr_name(mc);
	return mc->forged;
}

char *
mlfi_hdr_value(struct mlfi_conn *mc, const char **name)
{
	char	more[64];

	*name = NULL;
	if (mc == NULL || mc->n == 0 || mc->g == NULL)
		return NULL;
	*name = mlfi_hdr_name(mc);
	if (mc->omitted > 0) {
		(void)snprintf(more, sizeof(more), "(at least %zu more domains "
		    "not listed)", mc->omitted);
		mc->hdrs = xreallocarray(mc->hdrs, mc->n + 1, sizeof(char *));
		mc->doms = xreallocarray(mc->doms, mc->n + 1, sizeof(char *));
		mc->hdrs[mc->n] = xstrdup(more);
		mc->doms[mc->n] = xstrdup("");
		mc->n++;
		mc->omitted = 0;
	}
	return header_fold(*name, (const char *const *)mc->hdrs, mc->n);
}

/* --- replies --------------------------------------------------------------- */

void
mlfi_escape(const char *in, char *out, size_t outlen)
{
	size_t	o = 0;

	for (; *in != '\0' && o + 3 <= outlen && o < MLFI_TEXTLEN - 2; in++) {
		if (*in == '%') {
			out[o++] = '%';
			out[o++] = '%';
		} else if ((unsigned char)*in < 0x20 || *in == 0x7f)
			out[o++] = ' ';
		else
			out[o++] = *in;
	}
	out[o] = '\0';
}

/* --- one recipient ------------------------------------------------------ */

/* The domain part of an address, into out (raw, not yet an A-label).
 * 0, or -1 when the address has no domain (a local recipient). */
static int
mlfi_domain(const char *addr, char *out, size_t outlen)
{
	const char	*at = strrchr(addr, '@'), *end;

	if (at == NULL)
		return -1;
	at++;
	end = at + strlen(at);
	while (end > at && (end[-1] == '>' || end[-1] == ' '))
		end--;
	if (end == at)
		return -1;
	if ((size_t)(end - at) >= outlen) {	/* not a host name: judged */
		(void)snprintf(out, outlen, "%.*s", (int)(outlen - 1), at);
		return 1;
	}
	memcpy(out, at, (size_t)(end - at));
	out[end - at] = '\0';
	return 0;
}

static int
mlfi_skip_mailer(const struct conf *c, const char *mailer)
{
	size_t	i;

	if (mailer == NULL || *mailer == '\0')
		return 0;
	for (i = 0; i < c->n_skip_mailers; i++)
		if (strcasecmp(c->skip_mailers[i], mailer) == 0)
			return 1;
	return 0;
}


static void
mlfi_set(struct mlfi_reply *r, const struct decision *d)
{
	r->rc = d->code[0] == '5' ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	(void)snprintf(r->code, sizeof(r->code), "%s", d->code);
	(void)snprintf(r->xcode, sizeof(r->xcode), "%s", d->xcode);
	(void)snprintf(r->text, sizeof(r->text), "%s", d->text);
}

void
mlfi_rcpt(struct mlfi_conn *mc, const char *rcpt_addr, const char *arg,
    const char *mailer, const char *qid, struct mlfi_reply *r)
{
	struct decision	 d;
	char		 raw[NAME_BUFLEN * 2];
	const char	*addr = rcpt_addr != NULL && *rcpt_addr != '\0' ?
			    rcpt_addr : arg;

	memset(r, 0, sizeof(*r));
	r->rc = SMFIS_CONTINUE;
	if (mc->g == NULL && (mc->g = gen_current()) == NULL) {
		(void)snprintf(r->code, sizeof(r->code), "451");
		(void)snprintf(r->xcode, sizeof(r->xcode), "4.3.0");
		(void)snprintf(r->text, sizeof(r->text), "internal error: no "
		    "configuration loaded");
		r->rc = SMFIS_TEMPFAIL;
		return;
	}
	if (addr == NULL || mlfi_domain(addr, raw, sizeof(raw)) < 0 ||
	    mlfi_skip_mailer(mc->g->conf, mailer))
		return;
	decide_domain(mc->g, raw, qid, NULL, mlfi_pool_handoff, &d);
	if (d.action == ACTION_ACCEPT || d.action == ACTION_TAG)
		mlfi_add_hdr(mc, d.domain, d.hdr);
	else
		mlfi_set(r, &d);
	decide_release(&d);
}
