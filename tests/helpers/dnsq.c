/*
 * dnsq.c - a tiny DNS query tool over milter/dns.c and milter/target.c,
 * used by tests/integration/test_dns.py.
 *
 *   dnsq [-d MS] [-m] -c CONF mx|a|aaaa|ptr|fcrdns|targets NAME [IP]
 *
 * -d MS sets a deadline MS milliseconds from the start; -m asks target_build
 * for the MX names of a domain with routes. Output, one item per line:
 *   MX PREF NAME | NULLMX | A ADDR | AAAA ADDR | PTR NAME | FCRDNS yes|no
 *   TARGET VIA HOST IP|- PORT PREF NAME,NAME|- STATUS   (targets)
 *   MXNAMES NAME,...|-  MXSTATUS WORD  DROPPED N        (targets)
 * and last "STATUS WORD[ reason]" (WORD from dns_status_str()). The
 * trace goes to stderr, one "TRACE line" each. Exit 0 after any DNS
 * answer (the status is in the output), 2 for usage or setup errors.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "deadline.h"
#include "dns.h"
#include "target.h"
#include "trace.h"

static void
dnsq_status(enum dns_status st, struct dns_ctx *dns)
{
	if (st == DNS_OK)
		printf("STATUS OK\n");
	else
		printf("STATUS %s %s\n", dns_status_str(st),
		    dns_last_error(dns));
}

static int
dnsq_ip(const char *s, struct ipaddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->u.v4) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &ip->u.v6) == 1)
		ip->family = AF_INET6;
	else
		return -1;
	return 0;
}

static void
dnsq_mx(struct dns_ctx *dns, const char *name)
{
	struct dns_mx	*mx;
	size_t		 n, i;
	int		 null_mx;
	enum dns_status	 st;

	st = dns_mx(dns, name, &mx, &n, &null_mx);
	for (i = 0; i < n; i++)
		printf("MX %u %s\n", mx[i].pref, mx[i].name);
	if (null_mx)
		printf("NULLMX\n");
	free(mx);
	dnsq_status(st, dns);
}

static void
dnsq_addrs(struct dns_ctx *dns, const char *name, int family)
{
	struct ipaddr	*a;
	char		 buf[INET6_ADDRSTRLEN];
	size_t		 n, i;
	enum dns_status	 st;

	st = dns_addrs(dns, name, family, &a, &n);
	for (i = 0; i < n; i++)
		printf("%s %s\n", family == AF_INET ? "A" : "AAAA",
		    inet_ntop(family, &a[i].u, buf, sizeof(buf)));
	free(a);
	dnsq_status(st, dns);
}

static void
dnsq_ptr(struct dns_ctx *dns, const struct ipaddr *ip)
{
	char		**names;
	size_t		  n, i;
	enum dns_status	  st;

	st = dns_ptr(dns, ip, &names, &n);
	for (i = 0; i < n; i++)
		printf("PTR %s\n", names[i]);
	dns_names_free(names, n);
	dnsq_status(st, dns);
}

static void
dnsq_list(const char *label, char **names, size_t n)
{
	size_t	i;

	printf("%s", label);
	for (i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", names[i]);
	if (n == 0)
		printf("-");
}

static void
dnsq_targets(struct dns_ctx *dns, const struct conf *conf, const char *name,
    int want_mx)
{
	struct target_list	 tl;
	struct target		*t;
	char			 buf[INET6_ADDRSTRLEN];
	size_t			 i;
	int			 rv;

	rv = target_build(dns, conf, name, want_mx, &tl);
	for (i = 0; i < tl.n; i++) {
		t = &tl.t[i];
		printf("TARGET %s %s %s %u %u ", target_via_str(t->via),
		    t->host, t->resolved ? inet_ntop(t->ip.family, &t->ip.u,
		    buf, sizeof(buf)) : "-", t->port, t->pref);
		dnsq_list("", t->names, t->n_names);
		printf(" %s\n", t->resolved ? "OK" :
		    dns_status_str(t->dns_status));
	}
	if (tl.null_mx)
		printf("NULLMX\n");
	dnsq_list("MXNAMES ", tl.mx_names, tl.n_mx);
	printf("\nMXSTATUS %s\nDROPPED %zu\n", dns_status_str(tl.mx_status),
	    tl.n_dropped);
	if (rv == 0)
		printf("STATUS OK\n");
	else
		printf("STATUS %s %s\n", dns_status_str(tl.status), tl.reason);
	target_list_free(&tl);
}

static int
dnsq_usage(void)
{
	fprintf(stderr, "usage: dnsq [-d MS] [-m] -c CONF "
	    "mx|a|aaaa|ptr|fcrdns|targets NAME [IP]\n");
	return 2;
}

static int
dnsq_run(struct dns_ctx *dns, const struct conf *conf, const char *cmd,
    const char *name, const char *ipt, int want_mx)
{
	struct ipaddr	ip;
	int		ok = 0;

	if (strcmp(cmd, "mx") == 0)
		dnsq_mx(dns, name);
	else if (strcmp(cmd, "a") == 0 || strcmp(cmd, "aaaa") == 0)
		dnsq_addrs(dns, name, cmd[1] == 'a' ? AF_INET6 : AF_INET);
	else if (strcmp(cmd, "ptr") == 0 && dnsq_ip(name, &ip) == 0)
		dnsq_ptr(dns, &ip);
	else if (strcmp(cmd, "fcrdns") == 0 && ipt != NULL &&
	    dnsq_ip(ipt, &ip) == 0) {
		enum dns_status st = dns_forward_confirm(dns, name, &ip, &ok);
		printf("FCRDNS %s\n", ok ? "yes" : "no");
		dnsq_status(st, dns);
	} else if (strcmp(cmd, "targets") == 0)
		dnsq_targets(dns, conf, name, want_mx);
	else
		return dnsq_usage();
	return 0;
}

int
main(int argc, char **argv)
{
	struct conf	*conf = NULL;
	struct dns_ctx	*dns = NULL;
	struct deadline	 dl;
	struct trace	 tr = { NULL, 0, 0 };
	const char	*path = NULL;
	char		 err[512];
	long		 ms = -1;
	int		 c, want_mx = 0, rv = 2;
	size_t		 i;

	while ((c = getopt(argc, argv, "c:d:m")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'd': ms = strtol(optarg, NULL, 10); break;
		case 'm': want_mx = 1; break;
		default: return dnsq_usage();
		}
	}
	if (path == NULL || argc - optind < 2)
		return dnsq_usage();
	if (ms >= 0)
		deadline_init(&dl, ms);
	if (conf_load(path, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "dnsq: %s\n", err);
		goto out;
	}
	if ((dns = dns_open(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "dnsq: %s\n", err);
		goto out;
	}
	if (ms >= 0)
		dns_set_deadline(dns, &dl);
	dns_set_trace(dns, &tr);
	rv = dnsq_run(dns, conf, argv[optind], argv[optind + 1],
	    argv[optind + 2], want_mx);
	for (i = 0; i < tr.n; i++)
		fprintf(stderr, "TRACE %s\n", tr.lines[i]);
out:
	trace_free(&tr);
	dns_close(dns);
	if (conf != NULL)
		conf_free(conf);
	return rv;
}
