/*
 * policy.c - the policy service's maps (see policy.h): parse the socketmap
 * request, find what decides it, and write the decision in Postfix's
 * words. It judges nothing itself: every answer comes from the domain's
 * setting or from decide_domain().
 *
 * Limits: a KEY is at most NAME_BUFLEN - 1 bytes (a longer one is
 * "NOTFOUND "); a "[host]:port" port is 1..65535; a "+CN:" name is at
 * most NAME_BUFLEN - 1 bytes of letters, digits, '-', '.' and '*'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "metrics.h"
#include "name.h"
#include "policy.h"
#include "xalloc.h"

#define SM_TAG	"tls_rcpt:"	/* Sendmail folds keys to lower case; a
				   map with -f keeps it: compared anyway */
#define SM_BITS	128		/* cipher bits: Postfix's "medium" grade */

static const char *const policy_words[] = {
	"none", "may", "dane", "encrypt", "dane-only", "secure",
	"fingerprint", "defer"
};

static int
policy_nokey(const char *key)
{
	return *key == '\0' || *key == '.' || strchr(key, '@') != NULL ||
	    strlen(key) >= NAME_BUFLEN;
}

const char *
policy_word(enum policy_level lvl)
{
	return policy_words[lvl];
}

/*
 * SPEC 12's decided settings: the level decide.c stored in the answer's
 * pol. "may" also for a tag (an MTA-STS policy in testing mode); every
 * other level only for an accepted verdict; anything else is TEMP.
 */
static void
policy_level(const struct decision *d, struct policy_res *pr)
{
	const char	*pol;

	pr->lvl = POL_TEMP;
	if (d->a == NULL || (d->action != ACTION_ACCEPT &&
	    d->action != ACTION_TAG))
		return;
	pol = d->a->pol;
	if (strcmp(pol, "may") == 0)
		pr->lvl = POL_MAY;
	else if (d->action != ACTION_ACCEPT || d->a->kind != CACHE_OK)
		return;
	else if (strcmp(pol, "dane-only") == 0)
		pr->lvl = POL_DANE_ONLY;
	else if (strcmp(pol, "dane") == 0)
		pr->lvl = POL_DANE;
	else if (strcmp(pol, "secure") == 0 && d->a->match[0] != '\0') {
		pr->lvl = POL_SECURE;	/* an enforced MTA-STS policy */
		(void)snprintf(pr->arg, sizeof(pr->arg), "match=%s "
		    "servername=hostname", d->a->match);
		if (strlen(pr->arg) + 1 >= sizeof(pr->arg))	/* cut */
			pr->lvl = POL_TEMP;
	}
}

void
policy_decide(struct gen *g, const char *raw, const char *via, int nowait,
    struct policy_res *pr)
{
	struct decision		 d;
	enum tls_setting	 s;

	memset(pr, 0, sizeof(*pr));
	(void)decide_setting(g, raw, pr->domain, sizeof(pr->domain), &s);
	switch (s) {
	case TLS_NONE:
		pr->lvl = POL_NONE;
		return;
	case TLS_PREFERRED:
	case TLS_PREFERRED_VERIFY:
		pr->lvl = POL_MAY;
		return;
	case TLS_REQUIRED:
		pr->lvl = POL_ENCRYPT;
		return;
	case TLS_DANE:		/* SPEC 12: Postfix's own opportunistic DANE */
		pr->lvl = POL_DANE;
		return;
	default:
		break;
	}
	if (!nowait)
		decide_domain(g, raw, NULL, via, NULL, &d);
	else if (decide_cached(g, raw, via, &d) != 0) {
		pr->lvl = POL_WAIT;
		return;
	}
	(void)snprintf(pr->domain, sizeof(pr->domain), "%s", d.domain);
	if (d.would)		/* monitor mode: never hold the mail */
		pr->lvl = POL_MAY;
	else if (s == TLS_DANE_ONLY || s == TLS_MTA_STS || s == TLS_AUTO)
		policy_level(&d, pr);
	else if (d.action == ACTION_ACCEPT && d.a != NULL &&
	    d.a->match[0] != '\0'
	    && d.a->kind == CACHE_OK) {
		if (d.a->fpr[0] != '\0') {
			pr->lvl = POL_FPR;
			(void)snprintf(pr->arg, sizeof(pr->arg), "match=%s",
			    d.a->fpr);
		} else {
			pr->lvl = POL_SECURE;
			(void)snprintf(pr->arg, sizeof(pr->arg), "match=%s "
			    "servername=hostname", d.a->match);
		}
		if (strlen(pr->arg) + 1 >= sizeof(pr->arg))	/* cut */
			pr->lvl = POL_TEMP;
		(void)snprintf(pr->cn, sizeof(pr->cn), "%s", d.a->cn);
	} else
		pr->lvl = POL_TEMP;
	if (pr->lvl == POL_TEMP && d.code[0] == '4') {
		(void)snprintf(pr->code, sizeof(pr->code), "%s", d.code);
		(void)snprintf(pr->xcode, sizeof(pr->xcode), "%s", d.xcode);
	} else if (pr->lvl == POL_TEMP) {	/* a 5xx verdict, or none */
		(void)snprintf(pr->code, sizeof(pr->code), "450");
		(void)snprintf(pr->xcode, sizeof(pr->xcode), "4.7.5");
	}
	(void)snprintf(pr->text, sizeof(pr->text), "%s", d.text[0] != '\0' ?
	    d.text : "destination not verified");
	decide_release(&d);
}

/* The socketmap answer for one domain; returns its level (nowait:
 * POL_WAIT, and no answer, when it is not at hand). */
static enum policy_level
policy_domain(struct gen *g, const char *raw, int nowait, char *reply,
    size_t len)
{
	struct policy_res	*pr = xmalloc(sizeof(*pr));
	enum policy_level	 lvl;

	policy_decide(g, raw, "policy", nowait, pr);
	if (pr->lvl == POL_WAIT)
		;
	else if (pr->lvl == POL_TEMP)
		(void)snprintf(reply, len, "TEMP %s: %s", pr->domain,
		    pr->text);
	else
		(void)snprintf(reply, len, "OK %s%s%s", policy_word(pr->lvl),
		    pr->arg[0] != '\0' ? " " : "", pr->arg);
	lvl = pr->lvl;
	free(pr);
	return lvl;
}

/* "[host]", "[host]:port" or "host:port" into host (lower case) and
 * port (0: none given). 0, or -1 when key is no host key. */
static int
policy_hostkey(const char *key, char *host, size_t hlen, unsigned *port)
{
	const char	*end, *colon;
	char		*ep;
	unsigned long	 p;

	*port = 0;
	if (*key == '[') {
		if ((end = strchr(key, ']')) == NULL)
			return -1;
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
		key++;
	} else {
		if ((colon = strrchr(key, ':')) == NULL)
			return -1;
		end = colon;
	}
	if (end == key || (size_t)(end - key) >= hlen)
		return -1;
	(void)name_lower(key, (size_t)(end - key), host, hlen);
	if (colon != NULL) {
		p = strtoul(colon + 1, &ep, 10);
		if (colon[1] < '0' || colon[1] > '9' || *ep != '\0' ||
		    p == 0 || p > 65535)
			return -1;
		*port = (unsigned)p;
	}
	return 0;
}

static int
policy_route_has(const struct conf *c, const struct route_list *rl,
    const char *host, unsigned port)
{
	size_t		 i;
	unsigned	 rp;

	for (i = 0; i < rl->n; i++) {
		rp = rl->routes[i].port ? rl->routes[i].port : c->probe_port;
		if (strcasecmp(rl->routes[i].host, host) == 0 && rp == port)
			return 1;
	}
	return 0;
}

/* The strictest answer among the domains routed to host:port; -1 when
 * nowait and one of them is not at hand. */
static int
policy_host(struct gen *g, const char *key, int nowait, char *reply,
    size_t len)
{
	const struct conf	*c = g->conf;
	char			 host[NAME_BUFLEN], one[1024];
	unsigned		 port;
	enum policy_level	 lvl, best = POL_NONE;
	size_t			 i;
	int			 found = 0, parent = 0;

	if (policy_hostkey(key, host, sizeof(host), &port) != 0) {
		(void)snprintf(reply, len, "NOTFOUND ");
		return 0;
	}
	if (port == 0)
		port = c->probe_port;
	for (i = 0; i < c->n_routes; i++) {
		if (!policy_route_has(c, &c->routes[i], host, port))
			continue;
		if (c->routes[i].key[0] == '.') {
			parent = 1;
			continue;
		}
		lvl = policy_domain(g, c->routes[i].key, nowait, one,
		    sizeof(one));
		if (lvl == POL_WAIT)
			return -1;
		if (!found || lvl > best) {
			best = lvl;
			(void)snprintf(reply, len, "%s", one);
		}
		found = 1;
	}
	if (!found && parent)
		(void)snprintf(reply, len, "TEMP %s is a route of a .parent "
		    "[smtproutes] entry only: no verdict names it", key);
	else if (!found)
		(void)snprintf(reply, len, "NOTFOUND ");
	return 0;
}

static void
policy_transport(struct gen *g, const char *key, char *reply, size_t len)
{
	const struct conf	*c = g->conf;
	const struct route_list	*rl;
	char			 dom[NAME_BUFLEN];
	const char		*at = strrchr(key, '@');
	size_t			 i, used;
	unsigned		 port;

	if (at != NULL)		/* trivial-rewrite asks a socketmap with the
				   full address only (a "pattern" table) */
		key = at + 1;
	if (policy_nokey(key) || name_to_alabel(key, dom, sizeof(dom)) != 0 ||
	    (rl = conf_lookup_routes(c, dom)) == NULL || rl->n == 0) {
		(void)snprintf(reply, len, "NOTFOUND ");
		return;
	}
	used = (size_t)snprintf(reply, len, "OK %s:", c->policy_transport);
	for (i = 0; i < rl->n && used < len; i++) {
		port = rl->routes[i].port ? rl->routes[i].port : c->probe_port;
		used += (size_t)snprintf(reply + used, len - used,
		    "%s[%s]:%u", i > 0 ? ", " : "", rl->routes[i].host, port);
	}
	if (used >= len)
		(void)snprintf(reply, len, "TEMP too many routes for %s", dom);
}

/* A CN Sendmail can compare as a "+CN:" extension: host-name characters
 * only (a rewriting-rule operator or a space would change its meaning). */
static int
policy_cn_ok(const char *cn)
{
	const char	*p;

	for (p = cn; *p != '\0'; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '.' &&
		    *p != '*')
			return 0;
	return p != cn;
}

/* Sendmail's access map: "TLS_Rcpt:DOMAIN" for tls_rcpt (SPEC 10), from
 * the same policy_decide() as the other maps. */
static int
policy_sendmail(struct gen *g, const char *key, int nowait, char *reply,
    size_t len)
{
	struct policy_res	*pr;
	int			 rc = 0;

	if (strncasecmp(key, SM_TAG, sizeof(SM_TAG) - 1) != 0 ||
	    policy_nokey(key + sizeof(SM_TAG) - 1)) {
		(void)snprintf(reply, len, "NOTFOUND ");
		return 0;
	}
	pr = xmalloc(sizeof(*pr));
	policy_decide(g, key + sizeof(SM_TAG) - 1, "sendmail", nowait, pr);
	switch (pr->lvl) {
	case POL_WAIT:
		rc = -1;
		break;
	case POL_NONE:
	case POL_MAY:
	case POL_DANE:	/* Sendmail's tls_rcpt cannot ask for TLSA */
		/* found, so no parent entry applies; TLS_connection
		 * accepts any value that is no ENCR/VERIFY requirement */
		(void)snprintf(reply, len, "OK OK");
		break;
	case POL_ENCRYPT:
	case POL_DANE_ONLY:	/* TLS at least; TLSA is not checked */
		(void)snprintf(reply, len, "OK ENCR:%d", SM_BITS);
		break;
	case POL_SECURE:
	case POL_FPR:
		if (pr->cn[0] == '\0') {	/* a dNSName: unchecked */
			(void)snprintf(reply, len, "OK VERIFY:%d", SM_BITS);
			break;
		}
		if (policy_cn_ok(pr->cn)) {
			(void)snprintf(reply, len, "OK VERIFY:%d+CN:%s",
			    SM_BITS, pr->cn);
			break;
		}
		/* a CN Sendmail cannot compare */
		__attribute__((fallthrough));
	default:
		(void)snprintf(reply, len, "TEMP %s: %s", pr->domain,
		    pr->text);
	}
	free(pr);
	return rc;
}

/* 0, or -1 when nowait and the answer is not at hand */
static int
policy_req(struct gen *g, const char *req, int nowait, char *reply,
    size_t len)
{
	const char	*sp = strchr(req, ' '), *key;

	if (sp == NULL) {
		(void)snprintf(reply, len, "PERM malformed request");
		return 0;
	}
	key = sp + 1;
	if ((size_t)(sp - req) == 9 && strncmp(req, "tlspolicy", 9) == 0) {
		if (policy_nokey(key))
			(void)snprintf(reply, len, "NOTFOUND ");
		else if (*key == '[' || strchr(key, ':') != NULL)
			return policy_host(g, key, nowait, reply, len);
		else if (policy_domain(g, key, nowait, reply, len) ==
		    POL_WAIT)
			return -1;
	} else if ((size_t)(sp - req) == 9 &&
	    strncmp(req, "transport", 9) == 0)
		policy_transport(g, key, reply, len);
	else if ((size_t)(sp - req) == 6 && strncmp(req, "access", 6) == 0)
		return policy_sendmail(g, key, nowait, reply, len);
	else
		(void)snprintf(reply, len, "PERM unknown map");
	return 0;
}

void
policy_answer(struct gen *g, const char *req, char *reply, size_t len)
{
	(void)policy_req(g, req, 0, reply, len);
}

void
policy_lookup(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	struct gen	*g = decide_gen();

	if (g == NULL)
		(void)snprintf(reply, replylen, "TEMP no configuration loaded");
	else {
		(void)policy_req(g, req, 0, reply, replylen);
		gen_unref(g);
	}
	metrics_policy(req, reply);
}

int
policy_lookup_nowait(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	struct gen	*g = decide_gen();
	int		 rc;

	if (g == NULL)
		return 0;
	rc = policy_req(g, req, 1, reply, replylen);
	gen_unref(g);
	if (rc == 0)
		metrics_policy(req, reply);
	return rc == 0;
}
