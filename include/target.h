/*
 * target.h - where the mail for a domain would go (SPEC section 5).
 *
 * target_build() turns a recipient domain into the ordered list of
 * addresses to probe:
 *  - a domain with SMTP routes (conf_lookup_routes() != NULL) uses only its
 *    routes, by (priority, configuration order); host-name routes are
 *    resolved with A then AAAA; the domain itself is never looked up;
 *  - otherwise its MX records by preference (equal preferences in answer
 *    order), each MX host resolved with A then AAAA;
 *  - no MX (NODATA or NXDOMAIN on MX, but the name has A/AAAA): the domain's
 *    own A/AAAA records (implicit MX, RFC 5321 section 5.1);
 *  - a null MX (RFC 7505): null_mx = 1, no targets.
 * IPv4 addresses of a host come before its IPv6 addresses (documented
 * choice). One target is made per distinct (address, port): when several
 * route names (or MX names) lead to the same address, the first one in
 * order makes the target and all of them are listed in names[] (the
 * certificate may match any of them in "hosted" mode). For routes the
 * name set is per address, whatever the port: every target of an address
 * lists every host-name route leading to it, and a target of an IP route
 * whose address a host-name route also names is a host-name target (via
 * VIA_ROUTE_HOST, host = the first such name in route order), whatever
 * the order of the routes.
 *
 * A host name that did not resolve still yields one target with
 * resolved = 0 and its dns_status (DNS_TEMP makes the verdict temporary;
 * NOTFOUND/NODATA is a permanent "no address"), so that every candidate is
 * reported. At most TARGET_MAX targets are kept (further ones are counted in
 * n_dropped and reported).
 *
 * want_mx_names = 1 also fills mx_names[] with every MX host name of the
 * domain when it has routes (needed by "hosted" for connections made through
 * an IP route; SPEC 4.2 c). A temporary failure of that lookup is recorded in
 * mx_status.
 *
 * DNSSEC (SPEC 12, [dns] dnssec = yes): mx_secure = 1 when the domain's MX
 * answer (or, for an implicit MX, its NODATA/NXDOMAIN answer) was
 * validated; a target's secure = 1 when every A/AAAA answer of its host
 * (records or NODATA) was validated. Both stay 0 without dnssec.
 *
 * Returns 0 when the list could be built (possibly empty), -1 when the
 * domain's own lookups failed: then status says why (DNS_TEMP, DNS_NOTFOUND
 * for a domain with neither MX nor address, DNS_INVALID) and reason has the
 * text. Every lookup goes through dns.h and leaves its lines in the trace.
 * target_list_free() frees everything inside (not the struct).
 */
#ifndef TV_TARGET_H
#define TV_TARGET_H

#include <stddef.h>
#include "conf.h"
#include "dns.h"
#include "name.h"

#define TARGET_MAX	32

enum target_via {
	VIA_ROUTE_HOST = 0,	/* an [smtproutes] host name */
	VIA_ROUTE_IP,		/* an [smtproutes] IP address */
	VIA_MX,			/* an MX host */
	VIA_IMPLICIT		/* the domain's own address (no MX) */
};

struct target {
	char		 host[NAME_BUFLEN];	/* name connected through (SNI);
						   IP text for VIA_ROUTE_IP */
	enum target_via	 via;
	unsigned	 pref;		/* MX preference or route priority */
	unsigned	 port;		/* never 0: route port or probe_port */
	int		 resolved;	/* 1: ip is valid */
	enum dns_status	 dns_status;	/* when resolved == 0 */
	char		 dns_reason[128];
	struct ipaddr	 ip;
	int		 secure;	/* the host's A/AAAA answers validated */
	char		**names;	/* route or MX names leading to ip */
	size_t		 n_names;
};

struct target_list {
	enum dns_status	 status;
	char		 reason[256];
	int		 via_routes;	/* 1: built from [smtproutes] */
	int		 null_mx;
	struct target	*t;
	size_t		 n;
	size_t		 n_dropped;
	char		**mx_names;	/* see want_mx_names */
	size_t		 n_mx;
	enum dns_status	 mx_status;
	int		 mx_secure;	/* the MX answer was validated */
};

int	target_build(struct dns_ctx *, const struct conf *, const char *domain,
	    int want_mx_names, struct target_list *out);
void	target_list_free(struct target_list *);
const char *target_via_str(enum target_via);

#endif
