/*
 * refs.c - the reference identifiers of one attempt (see refs.h).
 */
#include <string.h>
#include <strings.h>

#include "refs.h"
#include "xalloc.h"

static void
refs_add(struct attempt *a, const char *name, enum ref_source src)
{
	size_t	i;

	for (i = 0; i < a->n_refs; i++)
		if (a->refs[i].source == src && strcmp(a->refs[i].name,
		    name) == 0)
			return;
	a->refs = xreallocarray(a->refs, a->n_refs + 1, sizeof(*a->refs));
	a->refs[a->n_refs].name = xstrdup(name);
	a->refs[a->n_refs].source = src;
	a->n_refs++;
}

/*
 * 1 when t->ip came from name's own A/AAAA answer in this probe (name is
 * one of the route or MX names that led to it): its forward check is known.
 */
static int
refs_forward_known(const struct target *t, const char *name)
{
	size_t	i;

	if (t->via == VIA_ROUTE_IP || !t->resolved)
		return 0;
	for (i = 0; i < t->n_names; i++)
		if (strcasecmp(t->names[i], name) == 0)
			return 1;
	return 0;
}

int
refs_ptr(struct dns_ctx *dns, const struct target *t, struct attempt *a)
{
	char		**names = NULL;
	size_t		  n = 0, i;
	int		  temp = 0, ok;
	enum dns_status	  st;

	st = dns_ptr(dns, &t->ip, &names, &n);
	if (st == DNS_TEMP || st == DNS_INVALID)
		temp = 1;
	for (i = 0; st == DNS_OK && i < n && i < REFS_MAXPTR; i++) {
		ok = 0;
		if (refs_forward_known(t, names[i])) {
			dns_forward_known(dns, names[i], &t->ip);
			ok = 1;
		} else
			st = dns_forward_confirm(dns, names[i], &t->ip, &ok);
		if (st == DNS_TEMP || st == DNS_INVALID)
			temp = 1;
		if (ok)
			refs_add(a, names[i], REF_PTR);
		st = DNS_OK;
	}
	dns_names_free(names, n);
	return temp;
}

int
refs_build(struct dns_ctx *dns, enum ident_mode mode, const char *domain,
    const struct target *t, const struct target_list *tl, struct attempt *a)
{
	size_t	i;
	int	temp = 0;

	refs_add(a, domain, REF_DOMAIN);
	if (mode == IDENT_VERIFY)
		return 0;
	if (t->via == VIA_ROUTE_HOST || t->via == VIA_ROUTE_IP)
		for (i = 0; i < t->n_names; i++)
			refs_add(a, t->names[i], REF_ROUTE);
	if (t->via == VIA_MX)
		for (i = 0; i < t->n_names; i++)
			refs_add(a, t->names[i], REF_MX);
	if (t->via == VIA_ROUTE_IP) {
		for (i = 0; i < tl->n_mx; i++)
			refs_add(a, tl->mx_names[i], REF_MX);
		if (tl->mx_status == DNS_TEMP || tl->mx_status == DNS_INVALID)
			temp = 1;
	}
	return temp;
}
