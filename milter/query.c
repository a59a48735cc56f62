/*
 * query.c - Exim's line protocol (see query.h): parse "VERB DOMAIN", ask
 * decide_domain() or policy_decide(), write the answer in the protocol's
 * words. It judges nothing itself.
 *
 * Limits: DOMAIN is at most NAME_BUFLEN * 2 - 1 bytes (as the milter
 * takes a recipient domain), non-empty, without spaces or '@', not
 * starting with '.'; netsrv bounds the whole line to 1000 bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decide.h"
#include "name.h"
#include "metrics.h"
#include "policy.h"
#include "query.h"
#include "xalloc.h"

#define QUERY_BAD	"defer 451 4.3.0 "

static int
query_badkey(const char *key)
{
	return *key == '\0' || *key == '.' || strpbrk(key, " \t@") != NULL ||
	    strlen(key) >= NAME_BUFLEN * 2;
}

static void
query_rcpt(struct gen *g, const char *dom, char *reply, size_t len)
{
	struct decision	*d = xmalloc(sizeof(*d));

	decide_domain(g, dom, NULL, "query", NULL, d);
	if (d->action == ACTION_ACCEPT || d->action == ACTION_TAG)
		(void)snprintf(reply, len, "%s%s%s",
		    d->action == ACTION_TAG ? "tag" : "accept",
		    d->hdr[0] != '\0' ? " " : "", d->hdr);
	else			/* the decision's own action and reply */
		(void)snprintf(reply, len, "%s %s %s %s",
		    d->action == ACTION_REJECT ? "reject" : "defer", d->code,
		    d->xcode, d->text);
	decide_release(d);
	free(d);
}

static void
query_tlspolicy(struct gen *g, const char *dom, char *reply, size_t len)
{
	struct policy_res	*pr = xmalloc(sizeof(*pr));

	policy_decide(g, dom, "query", 0, pr);
	if (pr->lvl == POL_TEMP)
		(void)snprintf(reply, len, "defer %s %s %s: %s", pr->code,
		    pr->xcode, pr->domain, pr->text);
	else
		(void)snprintf(reply, len, "%s%s%s", policy_word(pr->lvl),
		    pr->arg[0] != '\0' ? " " : "", pr->arg);
	free(pr);
}

void
query_answer(struct gen *g, const char *req, char *reply, size_t len)
{
	const char	*sp = strchr(req, ' '), *key;

	if (sp == NULL || query_badkey(key = sp + 1)) {
		(void)snprintf(reply, len, QUERY_BAD "malformed request");
		return;
	}
	if ((size_t)(sp - req) == 4 && strncmp(req, "rcpt", 4) == 0)
		query_rcpt(g, key, reply, len);
	else if ((size_t)(sp - req) == 9 && strncmp(req, "tlspolicy", 9) == 0)
		query_tlspolicy(g, key, reply, len);
	else
		(void)snprintf(reply, len, QUERY_BAD "unknown request");
}

void
query_lookup(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	struct gen	*g = decide_gen();

	(void)arg;
	(void)reqlen;
	if (g == NULL)
		(void)snprintf(reply, replylen, QUERY_BAD "internal error: no "
		    "configuration loaded");
	else {
		query_answer(g, req, reply, replylen);
		gen_unref(g);
	}
	metrics_query(reply);
}
