/*
 * policy.c - the policy service's maps (see policy.h): parse the socketmap
 * request, find what decides it, and write the decision in Postfix's
 * words. It judges nothing itself: every answer comes from the domain's
 * setting or from decide_domain().
 *
 * Limits: a KEY is at most NAME_BUFLEN - 1 bytes (a longer one is
 * "NOTFOUND "); a "[host]:port" port is 1..65535.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decide.h"
#include "metrics.h"
#include "name.h"
#include "policy.h"

/* Strictness of an answer, for host keys shared by several domains. */
enum policy_level {
	POL_NONE = 0, POL_MAY, POL_ENCRYPT, POL_SECURE, POL_FPR, POL_TEMP
};

static int
policy_nokey(const char *key)
{
	return *key == '\0' || *key == '.' || strchr(key, '@') != NULL ||
	    strlen(key) >= NAME_BUFLEN;
}

/* The answer for one domain; returns its level. */
static enum policy_level
policy_domain(struct gen *g, const char *raw, char *reply, size_t len)
{
	struct decision		 d;
	enum tls_setting	 s;
	enum policy_level	 lvl;
	char			 dom[NAME_BUFLEN];

	(void)decide_setting(g, raw, dom, sizeof(dom), &s);
	switch (s) {
	case TLS_NONE:
		(void)snprintf(reply, len, "OK none");
		return POL_NONE;
	case TLS_PREFERRED:
	case TLS_PREFERRED_VERIFY:
		(void)snprintf(reply, len, "OK may");
		return POL_MAY;
	case TLS_REQUIRED:
		(void)snprintf(reply, len, "OK encrypt");
		return POL_ENCRYPT;
	default:
		break;
	}
	decide_domain(g, raw, NULL, "policy", &d);
	metrics_decision(&d);
	if (d.would) {		/* monitor mode: never hold the mail */
		(void)snprintf(reply, len, "OK may");
		lvl = POL_MAY;
	} else if (d.action == ACTION_ACCEPT && d.a != NULL &&
	    d.a->match[0] != '\0'
	    && d.a->kind == CACHE_OK) {
		if (d.a->fpr[0] != '\0') {
			(void)snprintf(reply, len, "OK fingerprint match=%s",
			    d.a->fpr);
			lvl = POL_FPR;
		} else {
			(void)snprintf(reply, len, "OK secure match=%s "
			    "servername=hostname", d.a->match);
			lvl = POL_SECURE;
		}
	} else {
		(void)snprintf(reply, len, "TEMP %s: %s", d.domain,
		    d.text[0] != '\0' ? d.text : "destination not verified");
		lvl = POL_TEMP;
	}
	decide_release(&d);
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

/* The strictest answer among the domains routed to host:port. */
static void
policy_host(struct gen *g, const char *key, char *reply, size_t len)
{
	const struct conf	*c = g->conf;
	char			 host[NAME_BUFLEN], one[1024];
	unsigned		 port;
	enum policy_level	 lvl, best = POL_NONE;
	size_t			 i;
	int			 found = 0, parent = 0;

	if (policy_hostkey(key, host, sizeof(host), &port) != 0) {
		(void)snprintf(reply, len, "NOTFOUND ");
		return;
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
		lvl = policy_domain(g, c->routes[i].key, one, sizeof(one));
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

void
policy_answer(struct gen *g, const char *req, char *reply, size_t len)
{
	const char	*sp = strchr(req, ' '), *key;

	if (sp == NULL) {
		(void)snprintf(reply, len, "PERM malformed request");
		return;
	}
	key = sp + 1;
	if ((size_t)(sp - req) == 9 && strncmp(req, "tlspolicy", 9) == 0) {
		if (policy_nokey(key))
			(void)snprintf(reply, len, "NOTFOUND ");
		else if (*key == '[' || strchr(key, ':') != NULL)
			policy_host(g, key, reply, len);
		else
			(void)policy_domain(g, key, reply, len);
	} else if ((size_t)(sp - req) == 9 &&
	    strncmp(req, "transport", 9) == 0)
		policy_transport(g, key, reply, len);
	else
		(void)snprintf(reply, len, "PERM unknown map");
}

void
policy_lookup(void *arg, const char *req, size_t reqlen, char *reply,
    size_t replylen)
{
	struct gen	*g = decide_gen();

	if (g == NULL)
		(void)snprintf(reply, replylen, "TEMP no configuration loaded");
	else {
		policy_answer(g, req, reply, replylen);
		gen_unref(g);
	}
	metrics_policy(req, reply);
}
