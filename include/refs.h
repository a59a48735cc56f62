/*
 * refs.h - the reference identifiers of one attempt (SPEC 4.1 and 4.2).
 *
 * refs_build() lists, in order of preference, the names a certificate may
 * match for this connection, without DNS:
 *  IDENT_VERIFY: the recipient domain. MX and route names are never
 *    references here.
 *  IDENT_HOSTED: the recipient domain; for a route target every route name
 *    of the domain leading to the connected address; for a connection
 *    made through an IP route every MX host name of the domain; for a
 *    connection made through MX the MX host names leading to the address.
 *    PTR names are never references here.
 * refs_ptr() adds, for IDENT_VERIFY when the domain did not match and a CN
 * could still match a PTR name, every PTR name of the connected address
 * whose A (IPv4) or AAAA (IPv6) records contain that address
 * (A(PTR(IP)) = IP); at most REFS_MAXPTR PTR names are checked. A PTR
 * name that is one of the route or MX names whose answer gave the address
 * in this probe is confirmed from that answer, without a second query.
 * The names are appended to a->refs (owned by the attempt). Both return 1
 * when a lookup needed for the list failed temporarily (the attempt may
 * then not be judged permanently), else 0. Lookups leave their lines in
 * the trace.
 */
#ifndef TV_REFS_H
#define TV_REFS_H

#include "dns.h"
#include "ident.h"
#include "target.h"
#include "verdict.h"

#define REFS_MAXPTR	8

int	refs_build(struct dns_ctx *, enum ident_mode, const char *domain,
	    const struct target *, const struct target_list *,
	    struct attempt *a);
int	refs_ptr(struct dns_ctx *, const struct target *, struct attempt *a);

#endif
