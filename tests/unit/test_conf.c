/*
 * test_conf.c - conf_load() and the lookups (conf.h), run from the repo
 * root: good files from tests/conf/ with every parsed value checked, one
 * bad file per error kind with the exact "FILE:LINE:" prefix, more cases
 * written to temporary files, and a 10,000-entry table for lookup speed.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "t.h"

#define DIR	"tests/conf/"

static char	errbuf[1024];

static struct conf *
load(const char *path)
{
	struct conf	*c = NULL;

	errbuf[0] = '\0';
	if (conf_load(path, &c, errbuf, sizeof(errbuf)) != 0) {
		if (c != NULL)
			printf("# conf_load failed but set *out\n");
		return NULL;
	}
	return c;
}

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *
ipstr(const struct ipaddr *a)
{
	static char	buf[INET6_ADDRSTRLEN];

	return conf_ipaddr_str(a, buf, sizeof(buf));
}

static void
test_full(void)
{
	struct conf	*c = load(DIR "good-full.conf");

	T_OK(c != NULL, "good-full.conf loads (%s)", errbuf);
	if (c == NULL)
		return;
	T_OK(streq(c->socket, "unix:/run/tlsverify-milter/milter.sock"),
	    "socket %s", c->socket);
	T_OK(streq(c->user, "tlsverify-milter"), "user");
	T_OK(streq(c->pidfile, "/run/tlsverify-milter/tlsverify-milter.pid"),
	    "pidfile");
	T_OK(c->on_fail == ON_FAIL_REJECT, "on_fail reject (inline comment)");
	T_OK(streq(c->header, "X-TLS-Check"), "header");
	T_OK(c->n_skip_mailers == 4 && streq(c->skip_mailers[0], "local") &&
	    streq(c->skip_mailers[1], "virtual") &&
	    streq(c->skip_mailers[2], "lmtp") &&
	    streq(c->skip_mailers[3], "error"),
	    "skip_mailers over a continuation line (%zu)", c->n_skip_mailers);
	T_OK(c->probe_port == 2525, "probe port");
	T_OK(streq(c->helo, "Relay.Example.org"), "helo %s", c->helo);
	T_OK(c->probe_timeout == 30, "probe timeout");
	T_OK(streq(c->ca_file, "/etc/ssl/certs/ca-certificates.crt"),
	    "ca_file");
	T_OK(c->ca_path == NULL, "empty ca_path with comment is unset");
	T_OK(streq(c->crl_file, "/etc/tlsverify/crl.pem"), "crl_file");
	T_OK(streq(c->crl_path, "/etc/tlsverify/crls"), "crl_path");
	T_OK(c->revocation == REVOCATION_ANY && c->revocation_required == 0 &&
	    c->http_timeout == 3 && c->max_crl_size == 2048,
	    "revocation, revocation_required, http_timeout, max_crl_size");
	T_OK(c->has_nameserver && c->nameserver.family == AF_INET &&
	    streq(ipstr(&c->nameserver), "127.0.0.1") &&
	    c->nameserver_port == 5353, "nameserver 127.0.0.1:5353");
	T_OK(c->dns_timeout == 3, "dns timeout");
	T_OK(c->verified_ttl == 7200 && c->failed_ttl == 0 &&
	    c->tempfail_ttl == 30 && c->max_entries == 500, "cache values");
	T_OK(c->has_default && c->default_setting == TLS_PREFERRED,
	    "default = preferred");
	T_OK(c->n_dests == 7, "7 destinations (%zu)", c->n_dests);
	T_OK(c->n_routes == 3, "3 route lists (%zu)", c->n_routes);
	T_OK(streq(c->path, DIR "good-full.conf"), "path kept");
	conf_free(c);
}

/* The canonical name of host when it has a dot, else host. */
static const char *
fqdn(const char *host)
{
	static char	 buf[256];
	struct addrinfo	 hints, *ai = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	(void)snprintf(buf, sizeof(buf), "%s", host);
	if (getaddrinfo(host, NULL, &hints, &ai) == 0 &&
	    ai->ai_canonname != NULL && strchr(ai->ai_canonname, '.'))
		(void)snprintf(buf, sizeof(buf), "%s", ai->ai_canonname);
	if (ai != NULL)
		freeaddrinfo(ai);
	return buf;
}

static void
test_defaults(void)
{
	struct conf	*c = load(DIR "good-empty.conf");
	char		 host[256];

	T_OK(c != NULL, "good-empty.conf loads (%s)", errbuf);
	if (c == NULL)
		return;
	T_OK(streq(c->socket, "inet:8895@127.0.0.1"), "default socket");
	T_OK(c->user == NULL && c->pidfile == NULL, "no user, no pidfile");
	T_OK(c->on_fail == ON_FAIL_DEFER, "default on_fail defer");
	T_OK(streq(c->header, "X-TLS-Verify"), "default header");
	T_OK(c->n_skip_mailers == 4 && streq(c->skip_mailers[0], "local") &&
	    streq(c->skip_mailers[3], "error"), "default skip_mailers");
	T_OK(c->probe_port == 25 && c->probe_timeout == 20, "probe defaults");
	T_OK(c->connect_timeout == 5 && c->command_timeout == 10,
	    "connect_timeout 5, command_timeout 10 (got %u %u)",
	    c->connect_timeout, c->command_timeout);
	if (gethostname(host, sizeof(host)) == 0)
		T_OK(streq(c->helo, fqdn(host)), "default helo is the FQDN "
		    "of the host name %s: %s", host, c->helo);
	T_OK(c->ca_file == NULL && c->ca_path == NULL && c->crl_file == NULL &&
	    c->crl_path == NULL, "no CA/CRL paths (system default)");
	T_OK(c->revocation == REVOCATION_NONE && c->revocation_required == 0 &&
	    c->http_timeout == 5 && c->max_crl_size == 10485760,
	    "revocation defaults: none, not required, 5 s, 10 MiB");
	T_OK(!c->has_nameserver && c->nameserver_port == 53 &&
	    c->dns_timeout == 5, "dns defaults");
	T_OK(c->verified_ttl == 3600 && c->failed_ttl == 300 &&
	    c->tempfail_ttl == 60 && c->max_entries == 10000,
	    "cache defaults");
	T_OK(!c->has_default && c->n_dests == 0 && c->n_routes == 0,
	    "empty tables");
	T_OK(c->metrics_listen == NULL, "metrics off by default");
	T_OK(conf_lookup_setting(c, "example.com", NULL) == TLS_NONE,
	    "no default: none");
	conf_free(c);
}

static void
check_setting(const struct conf *c, const char *dom, enum tls_setting want,
    const char *wantkey)
{
	const char		*key = NULL;
	enum tls_setting	 s = conf_lookup_setting(c, dom, &key);

	T_OK(s == want && streq(key, wantkey), "lookup %s -> %s via %s "
	    "(got %s via %s)", dom, conf_setting_name(want), wantkey,
	    conf_setting_name(s), key ? key : "NULL");
}

static void
test_lookup(void)
{
	struct conf	*c = load(DIR "good-full.conf");

	if (c == NULL)
		return;
	check_setting(c, "example.com", TLS_REQUIRED_VERIFY, "example.com");
	check_setting(c, "sub.example.com", TLS_PREFERRED, "default");
	check_setting(c, "partner.org", TLS_PREFERRED, "default");
	check_setting(c, "mx.partner.org", TLS_REQUIRED_VERIFY_HOSTED,
	    ".partner.org");
	check_setting(c, "sub.partner.org", TLS_NONE, "sub.partner.org");
	check_setting(c, "a.sub.partner.org", TLS_REQUIRED_VERIFY_HOSTED,
	    ".partner.org");
	check_setting(c, "deep.partner.org", TLS_REQUIRED_VERIFY_HOSTED,
	    ".partner.org");
	check_setting(c, "x.deep.partner.org", TLS_REQUIRED, ".deep.partner.org");
	check_setting(c, "a.b.x.deep.partner.org", TLS_REQUIRED,
	    ".deep.partner.org");
	check_setting(c, "xn--bcher-kva.example", TLS_PREFERRED_VERIFY,
	    "xn--bcher-kva.example");
	check_setting(c, "xn--mnchen-3ya.de", TLS_REQUIRED_VERIFY,
	    "xn--mnchen-3ya.de");
	check_setting(c, "plain.test", TLS_PREFERRED, "plain.test");
	check_setting(c, "org", TLS_PREFERRED, "default");
	check_setting(c, "", TLS_PREFERRED, "default");
	T_OK(conf_lookup_setting(c, "example.com", NULL) ==
	    TLS_REQUIRED_VERIFY, "key pointer may be NULL");
	conf_free(c);
}

static void
check_route(const struct route *r, const char *host, int is_ip,
    unsigned port, unsigned prio, const char *what)
{
	T_OK(streq(r->host, host) && r->is_ip == is_ip && r->port == port &&
	    r->prio == prio, "route %s: %s ip=%d port=%u prio=%u (got %s "
	    "ip=%d port=%u prio=%u)", what, host, is_ip, port, prio, r->host,
	    r->is_ip, r->port, r->prio);
}

static void
test_routes(void)
{
	struct conf		*c = load(DIR "good-full.conf");
	const struct route_list	*rl;

	if (c == NULL)
		return;
	rl = conf_lookup_routes(c, "partner.org");
	T_OK(rl != NULL && rl->n == 3 && streq(rl->key, "partner.org"),
	    "partner.org has 3 routes");
	if (rl != NULL && rl->n == 3) {
		check_route(&rl->routes[0], "smtp1.partner.net", 0, 0, 0, "0");
		check_route(&rl->routes[1], "192.0.2.10", 1, 0, 0, "1");
		check_route(&rl->routes[2], "smtp2.partner.net", 0, 2525, 1,
		    "2");
		T_OK(rl->routes[1].addr.family == AF_INET &&
		    streq(ipstr(&rl->routes[1].addr), "192.0.2.10"),
		    "IPv4 route address");
	}
	T_OK(conf_lookup_routes(c, "mx.partner.org") == NULL,
	    "routes: exact key does not cover subdomains");
	rl = conf_lookup_routes(c, "a.b.routed.test");
	T_OK(rl != NULL && rl->n == 6 && streq(rl->key, ".routed.test"),
	    ".routed.test covers a.b.routed.test");
	if (rl != NULL && rl->n == 6) {
		check_route(&rl->routes[0], "192.0.2.7", 1, 0, 0,
		    "[IPv4], prio 0 first");
		check_route(&rl->routes[1], "a.relay.test", 0, 0, 1, "p1 a");
		check_route(&rl->routes[2], "2001:db8::25", 1, 2526, 1,
		    "[IPv6]:port/1 after a.relay.test/1");
		T_OK(rl->routes[2].addr.family == AF_INET6, "IPv6 family");
		check_route(&rl->routes[3], "b.relay.test", 0, 0, 5, "p5 a");
		check_route(&rl->routes[4], "c.relay.test", 0, 0, 5, "p5 b");
		check_route(&rl->routes[5], "xn--bcher-kva.example", 0, 26, 5,
		    "U-label route host, p5 c");
		T_OK(rl->routes[3].order < rl->routes[4].order &&
		    rl->routes[4].order < rl->routes[5].order,
		    "equal priorities keep file order");
	}
	T_OK(conf_lookup_routes(c, "routed.test") == NULL,
	    ".routed.test does not cover routed.test");
	rl = conf_lookup_routes(c, "single.test");
	T_OK(rl != NULL && rl->n == 1, "single.test has one route");
	if (rl != NULL && rl->n == 1)
		check_route(&rl->routes[0], "198.51.100.1", 1, 587, 0,
		    "IPv4:port");
	T_OK(conf_lookup_routes(c, "example.com") == NULL, "no route: NULL");
	conf_free(c);
}

static void
test_longroutes(void)
{
	struct conf		*c = load(DIR "good-longroutes.conf");
	const struct route_list	*rl;
	char			 want[64];
	size_t			 i;
	int			 ok = 1;

	T_OK(c != NULL, "good-longroutes.conf loads (%s)", errbuf);
	if (c == NULL)
		return;
	T_OK(c->n_routes == 2, "two route lists, no bogus key (%zu)",
	    c->n_routes);
	rl = conf_lookup_routes(c, "longlist.test");
	T_OK(rl != NULL && rl->n == 24, "all 24 routes over 8 lines (%zu)",
	    rl ? rl->n : 0);
	for (i = 0; rl != NULL && i < rl->n; i++) {
		/* prio i % 3: 0,3,6,..21 then 1,4,..22 then 2,5,..23 */
		unsigned idx = (unsigned)((i % 8) * 3 + i / 8);

		(void)snprintf(want, sizeof(want),
		    "mx%02u.long-relay-name.example.net", idx);
		if (!streq(rl->routes[i].host, want) ||
		    rl->routes[i].port != 2500 + idx ||
		    rl->routes[i].prio != idx % 3)
			ok = 0;
	}
	T_OK(ok, "long list sorted by (prio, order) with ports");
	rl = conf_lookup_routes(c, "after.test");
	T_OK(rl != NULL && rl->n == 1 && rl->routes[0].is_ip &&
	    rl->routes[0].addr.family == AF_INET6 &&
	    streq(rl->routes[0].host, "::1"), "[::1] after the long list");
	conf_free(c);
}

static void
test_sample(void)
{
	struct conf	*c = load("conf/tlsverify-milter.conf");

	T_OK(c != NULL, "sample conf/tlsverify-milter.conf loads (%s)",
	    errbuf);
	if (c == NULL)
		return;
	T_OK(streq(c->socket, "inet:8895@127.0.0.1") && c->user == NULL &&
	    c->pidfile == NULL && c->on_fail == ON_FAIL_DEFER &&
	    streq(c->header, "X-TLS-Verify"), "sample [milter]");
	T_OK(c->probe_port == 25 && c->probe_timeout == 20 &&
	    c->ca_file == NULL, "sample [probe]");
	T_OK(!c->has_nameserver, "sample [dns] uses the system resolver");
	T_OK(c->revocation == REVOCATION_NONE && !c->revocation_required,
	    "sample: no revocation checking");
	T_OK(c->has_default && c->default_setting == TLS_PREFERRED &&
	    c->n_dests == 0 && c->n_routes == 0, "sample tables");
	conf_free(c);
}

struct bad {
	const char	*file;
	int		 line;
	const char	*msg;
};

static const struct bad bad_files[] = {
	{ "bad-section.conf", 4, "unknown section [millter]" },
	{ "bad-key.conf", 3, "unknown key 'timout' in [probe]" },
	{ "bad-setting.conf", 4, "unknown TLS setting 'requird-verify'" },
	{ "bad-route.conf", 3, "IPv6 address must be in brackets" },
	{ "bad-route-port.conf", 3, "route port: 65536 is out of range" },
	{ "bad-route-dot.conf", 3, "not an IPv4 address nor a host name" },
	{ "bad-number.conf", 4, "timeout: '20s' is not a number" },
	{ "bad-range.conf", 3, "timeout: 3601 is out of range (1-3600)" },
	{ "bad-dup-domain.conf", 5, "duplicate domain 'xn--bcher-kva.example'"
	    " in [destinations] (first at line 3)" },
	{ "bad-dup-routes.conf", 4, "duplicate domain '.example.com' in "
	    "[smtproutes] (first at line 3)" },
	{ "bad-dup-key.conf", 5, "duplicate key 'socket' in [milter]" },
	{ "bad-domain.conf", 3, "invalid domain name '-bad-.example.com'" },
	{ "bad-longline.conf", 3, "line longer than 198 bytes" },
	{ "bad-continuation.conf", 4, "continues the value of 'ca_file'" },
	{ "bad-dest-continuation.conf", 4,
	    "continues the setting of 'example.com'" },
	{ "bad-syntax.conf", 3, "expected 'key = value' or '[section]'" },
	{ "bad-nul.conf", 3, "NUL byte" },
	{ "bad-outside.conf", 2, "outside of any [section]" },
	{ "bad-empty-routes.conf", 3, "'example.com': no routes given" },
	{ "bad-onfail.conf", 3, "on_fail: 'tempfail': expected defer or "
	    "reject" },
	{ "bad-nameserver.conf", 3, "nameserver: 'dns.example.net'" },
	{ "bad-hash-comment.conf", 3, "only ';' starts a comment" },
	{ "bad-section-text.conf", 2, "unexpected text after ']'" },
	{ "bad-colon.conf", 3, "expected '=' after the key" },
	{ "bad-default-route.conf", 3, "there is no default route" },
};

/* err must be exactly "PATH:LINE: ..." and contain msg. */
static void
check_err(const char *path, int line, const char *msg, const char *what)
{
	char	pfx[512];

	(void)snprintf(pfx, sizeof(pfx), "%s:%d: ", path, line);
	T_OK(strncmp(errbuf, pfx, strlen(pfx)) == 0 &&
	    strstr(errbuf, msg) != NULL, "%s: \"%s\" (want %s%s)", what,
	    errbuf, pfx, msg);
}

static void
test_bad_files(void)
{
	char	path[256];
	size_t	i;

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		struct conf *c = NULL;
		int rv;

		(void)snprintf(path, sizeof(path), DIR "%s", bad_files[i].file);
		errbuf[0] = '\0';
		rv = conf_load(path, &c, errbuf, sizeof(errbuf));
		T_OK(rv == -1 && c == NULL, "%s refused", bad_files[i].file);
		check_err(path, bad_files[i].line, bad_files[i].msg,
		    bad_files[i].file);
		conf_free(c);
	}
	T_OK(load(DIR "no-such-file.conf") == NULL, "missing file refused");
	check_err(DIR "no-such-file.conf", 0, "cannot open", "missing file");
	T_OK(load(DIR) == NULL, "directory refused");
	check_err(DIR, 0, "directory", "directory");
}


/* ---- more cases, written to a temporary file ----------------------- */

struct tcase {
	const char	*text;
	int		 line;		/* 0: must load */
	const char	*msg;
};

static const struct tcase cases[] = {
	/* numbers and ranges */
	{ "[cache]\nverified_ttl = 604800\nfailed_ttl = 0\n", 0, NULL },
	{ "[cache]\nverified_ttl = 604801\n", 2, "out of range (0-604800)" },
	{ "[cache]\nmax_entries = 0\n", 2, "out of range (1-10000000)" },
	{ "[cache]\nmax_entries = 10000001\n", 2, "out of range" },
	{ "[cache]\nmax_entries = 99999999999999999999\n", 2, "not a number" },
	{ "[probe]\nport = 0\n", 2, "port: 0 is out of range (1-65535)" },
	{ "[probe]\nport = -1\n", 2, "port: '-1' is not a number" },
	{ "[probe]\nport = 25 26\n", 2, "is not a number" },
	{ "[probe]\nport =\n", 2, "port: a number is required" },
	{ "[probe]\ntimeout = 0\n", 2, "out of range (1-3600)" },
	{ "[dns]\ntimeout = 3600\n", 0, NULL },
	/* nameserver forms */
	{ "[dns]\nnameserver =\n", 0, NULL },
	{ "[dns]\nnameserver = ::1\n", 0, NULL },
	{ "[dns]\nnameserver = [::1]:5353\n", 0, NULL },
	{ "[dns]\nnameserver = [::1]\n", 0, NULL },
	{ "[dns]\nnameserver = 127.0.0.1:0\n", 2, "port: 0 is out of range" },
	{ "[dns]\nnameserver = [::1]5353\n", 2, "nameserver: '[::1]5353'" },
	{ "[dns]\nnameserver = 127.0.0.1:53:53\n", 2, "nameserver port" },
	{ "[dns]\nnameserver = 2001:db8::1:53x\n", 2, "expected IPv4, IPv4:PORT" },
	/* [milter] values */
	{ "[milter]\nsocket = inet6:8895@[::1]\n", 0, NULL },
	{ "[milter]\nsocket = local:/tmp/x.sock\n", 0, NULL },
	{ "[milter]\nsocket = /tmp/x.sock\n", 2, "socket: '/tmp/x.sock'" },
	{ "[milter]\nsocket = inet:99999@127.0.0.1\n", 2, "socket port" },
	{ "[milter]\nsocket =\n", 2, "socket: expected" },
	{ "[milter]\nheader = X TLS\n", 2, "is not a header field name" },
	{ "[milter]\nheader = X-TLS:\n", 2, "is not a header field name" },
	{ "[milter]\nheader =\n", 2, "header: a header field name" },
	{ "[milter]\nuser = a b\n", 2, "user: 'a b'" },
	{ "[milter]\nskip_mailers =\n", 0, NULL },
	{ "[milter]\nskip_mailers = local;x\n", 2, "not a mailer name" },
	{ "[milter]\nskip_mailers = local\nheader = X-A\n  b\n", 4,
	    "continues the value of 'header'" },
	{ "[probe]\nhelo = [192.0.2.1]\n", 0, NULL },
	{ "[probe]\nhelo = relay_1.example.org\n", 0, NULL },
	{ "[probe]\nhelo = bad host\n", 2, "helo: 'bad host'" },
	{ "[probe]\nca_file = ; comment only\n", 0, NULL },
	/* line length: 198 bytes fit, 199 do not; CRLF and BOM */
	{ "[smtproutes]\na.test = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
	    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccc.dd.example\n",
	    0, NULL },
	{ "[smtproutes]\na.test = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
	    "cccccccccccccccccccccccccccccccccccccccccccccccccccccccc.ddd.example\n",
	    2, "line longer than 198 bytes" },
	{ "[milter]\r\nheader = X-CRLF\r\n", 0, NULL },
	{ "\xEF\xBB\xBF[milter]\nheader = X-BOM\n", 0, NULL },
	{ "; last line without newline\n[milter]\nheader = X-A", 0, NULL },
	/* sections */
	{ "[Milter]\n", 1, "unknown section [Milter]" },
	{ "[milter\n", 1, "section header without ']'" },
	{ "[milter]\n[probe]\n[dns]\n[cache]\n[destinations]\n[smtproutes]\n",
	    0, NULL },
	{ "[milter]\nSocket = inet:1@127.0.0.1\n", 2, "unknown key 'Socket'" },
	{ "[milter]\n= x\n", 2, "empty key name" },
	/* [destinations] */
	{ "[destinations]\nDEFAULT = Required-Verify\n", 0, NULL },
	{ "[destinations]\ndefault = none\ndefault = none\n", 3,
	    "duplicate key 'default' in [destinations] (first at line 2)" },
	{ "[destinations]\n192.0.2.1 = none\n", 2, "an IP address is not a "
	    "domain" },
	{ "[destinations]\n. = none\n", 2, "invalid domain name '.'" },
	{ "[destinations]\n..example.com = none\n", 2, "invalid domain" },
	{ "[destinations]\nexample..com = none\n", 2, "invalid domain" },
	{ "[destinations]\nexample.com =\n", 2, "unknown TLS setting ''" },
	{ "[destinations]\na.test = none\nb.test = none\na.test = none\n", 4,
	    "duplicate domain 'a.test'" },
	{ "[destinations]\na.test = x\nb.test = none\nb.test = none\n", 2,
	    "unknown TLS setting 'x'" },
	{ "[destinations]\n  example.com = required\n", 0, NULL },
	{ "[destinations]\na.test = none\n  b.test = none\n", 3,
	    "continues the setting of 'a.test'" },
	/* [smtproutes] */
	{ "[smtproutes]\na.test =\n  r1.test, r2.test\n", 0, NULL },
	{ "[smtproutes]\na.test = r1.test, ; comment\n  r2.test ; c\n", 0,
	    NULL },
	{ "[smtproutes]\na.test = r1.test,,r2.test\n", 2, "empty route" },
	{ "[smtproutes]\na.test = , r1.test\n", 2, "empty route" },
	{ "[smtproutes]\na.test = r1.test r2.test\n", 2, "separate routes "
	    "with commas" },
	{ "[smtproutes]\na.test = r1.test/65536\n", 2, "route priority: "
	    "65536 is out of range" },
	{ "[smtproutes]\na.test = r1.test/\n", 2, "route priority: a number" },
	{ "[smtproutes]\na.test = r1.test:\n", 2, "route port: a number" },
	{ "[smtproutes]\na.test = :25\n", 2, "host missing" },
	{ "[smtproutes]\na.test = [2001:db8::1\n", 2, "missing ']'" },
	{ "[smtproutes]\na.test = [mx.example]:25\n", 2, "not an IP address" },
	{ "[smtproutes]\na.test = [fe80::1%eth0]\n", 2, "not an IP address" },
	{ "[smtproutes]\na.test = [::1]x\n", 2, "unexpected text after ']'" },
	{ "[smtproutes]\na.test = 300.1.2.3\n", 2, "not an IPv4 address" },
	{ "[smtproutes]\na.test = -bad.example\n", 2, "invalid host name" },
	{ "[smtproutes]\na.test = r1.test\nb.test =\n[probe]\n", 3,
	    "'b.test': no routes given" },
	{ "[smtproutes]\na.test = r1.test\n  [probe]\nport = 25\n", 3,
	    "route '[probe]': not an IP address" },
	{ "[probe]\nrevocation = sometimes\n", 2,
	    "revocation: 'sometimes': expected none, crl, ocsp or any" },
	{ "[probe]\nrevocation_required = maybe\n", 2,
	    "revocation_required: 'maybe': expected yes or no" },
	{ "[probe]\nhttp_timeout = 0\n", 2, "http_timeout: 0 is out of range" },
	{ "[probe]\nconnect_timeout = 0\n", 2, "connect_timeout: 0 is out of "
	    "range" },
	{ "[probe]\ntimeout = 20\ncommand_timeout = 0\n", 3, "command_timeout: "
	    "0 is out of range" },
	{ "[probe]\nconnect_timeout = 3601\n", 2, "connect_timeout: 3601 is "
	    "out of range" },
	{ "[probe]\ncommand_timeout = soon\n", 2, "command_timeout" },
	{ "[probe]\nconnect_timeout = 1\ncommand_timeout = 3600\n", 0, NULL },
	{ "[probe]\nmax_crl_size = 100\n", 2, "max_crl_size: 100 is out of "
	    "range" },
	{ "[probe]\nrevocation = ocsp\nrevocation = crl\n", 3,
	    "duplicate key 'revocation'" },
	{ "[probe]\nrevocation = OCSP\nrevocation_required = Yes\n", 0, NULL },
	/* [metrics] listen (SPEC 13) */
	{ "[metrics]\nlisten = 127.0.0.1:9732\n", 0, NULL },
	{ "[metrics]\nlisten = [::1]:9732\n", 0, NULL },
	{ "[metrics]\nlisten =\n", 0, NULL },
	{ "[metrics]\nlisten = 127.0.0.1\n", 2, "listen: '127.0.0.1': "
	    "expected ADDR:PORT" },
	{ "[metrics]\nlisten = 127.0.0.1:0\n", 2, "port must be 1..65535" },
	{ "[metrics]\nlisten = ::1:9732\n", 2, "IPv6 address in brackets" },
	{ "[metrics]\nlisten = inet:9732@127.0.0.1\n", 2, "listen: " },
	{ "[metrics]\nport = 9732\n", 2, "unknown key 'port' in [metrics]" },
	{ NULL, 0, NULL }
};

static void
run_case(const struct tcase *tc, int n)
{
	char		 path[] = "/tmp/test_conf.XXXXXX";
	struct conf	*c;
	FILE		*fp;
	int		 fd;

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		T_OK(0, "case %d: temporary file", n);
		return;
	}
	fputs(tc->text, fp);
	fclose(fp);
	c = load(path);
	if (tc->line == 0)
		T_OK(c != NULL, "case %d loads (%s)", n, errbuf);
	else {
		T_OK(c == NULL, "case %d refused", n);
		check_err(path, tc->line, tc->msg, "case");
	}
	conf_free(c);
	unlink(path);
}

static void
test_cases(void)
{
	int	i;

	for (i = 0; cases[i].text != NULL; i++)
		run_case(&cases[i], i);
}

/* revocation unset or "crl" + a CRL file: "crl", required (as CRL files
 * were); "crl" with no file (distribution points only): not required. */
static void
test_revocation_defaults(void)
{
	static const struct {
		const char	*text;
		enum revocation	 mode;
		int		 required;
	} t[] = {
		{ "[probe]\ncrl_file = /x.pem\n", REVOCATION_CRL, 1 },
		{ "[probe]\ncrl_path = /x\nrevocation_required = no\n",
		    REVOCATION_CRL, 0 },
		{ "[probe]\ncrl_file = /x.pem\nrevocation = any\n",
		    REVOCATION_ANY, 0 },
		{ "[probe]\nrevocation = ocsp\nrevocation_required = yes\n",
		    REVOCATION_OCSP, 1 },
		{ "[probe]\ncrl_file = /x.pem\nrevocation = none\n",
		    REVOCATION_NONE, 0 },
		/* "crl" written means what "crl" implied means */
		{ "[probe]\ncrl_file = /x.pem\nrevocation = crl\n",
		    REVOCATION_CRL, 1 },
		{ "[probe]\nrevocation = CRL\ncrl_path = /x\n",
		    REVOCATION_CRL, 1 },
		{ "[probe]\ncrl_file = /x.pem\nrevocation = crl\n"
		    "revocation_required = no\n", REVOCATION_CRL, 0 },
		{ "[probe]\nrevocation = crl\n", REVOCATION_CRL, 0 },
	};
	struct conf	*c;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = NULL;
		if (conf_load_mem(t[i].text, strlen(t[i].text), "mem", &c,
		    errbuf, sizeof(errbuf)) != 0) {
			T_OK(0, "revocation case %zu loads (%s)", i, errbuf);
			continue;
		}
		T_OK(c->revocation == t[i].mode &&
		    c->revocation_required == t[i].required,
		    "revocation case %zu: mode %d required %d (got %d %d)", i,
		    (int)t[i].mode, t[i].required, (int)c->revocation,
		    c->revocation_required);
		conf_free(c);
	}
}

/* 10,000 destinations: all found, and lookups do not scan the table. */
static void
test_big_table(void)
{
	char		 path[] = "/tmp/test_conf.XXXXXX", dom[64];
	struct conf	*c = NULL;
	struct timespec	 t0, t1;
	FILE		*fp;
	double		 secs;
	int		 fd, i, ok = 1;

	if ((fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		return;
	fprintf(fp, "[destinations]\ndefault = preferred\n");
	for (i = 0; i < 10000; i++)
		fprintf(fp, "%sd%05d.example = %s\n", i % 2 ? "." : "", i,
		    i % 3 ? "required-verify" : "none");
	fclose(fp);
	c = load(path);
	unlink(path);
	T_OK(c != NULL && c->n_dests == 10000, "10,000 destinations load "
	    "(%s)", errbuf);
	if (c == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 200000; i++) {
		int k = i % 10000;
		enum tls_setting want = k % 3 ? TLS_REQUIRED_VERIFY : TLS_NONE;

		(void)snprintf(dom, sizeof(dom), "%sd%05d.example",
		    k % 2 ? "mx.a.b." : "", k);
		if (conf_lookup_setting(c, dom, NULL) != want)
			ok = 0;
		if (conf_lookup_setting(c, "nomatch.x.y.z.example", NULL) !=
		    TLS_PREFERRED)
			ok = 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	T_OK(ok, "400,000 lookups give the right settings");
	T_OK(secs < 3.0, "400,000 lookups in %.3f s (a linear scan would "
	    "take minutes)", secs);
	conf_free(c);
}

/* [tlsrpt] (SPEC 12): defaults, values, refusals. */
static void
test_tlsrpt(void)
{
	static const char ok[] = "[tlsrpt]\nspool = /var/spool/t\n"
	    "organization = Example Org\ncontact = tlsrpt@example.org\n"
	    "send = both\n";
	static const struct tcase bad[] = {
		{ "[tlsrpt]\nsend = yes\n", 2, "send: 'yes': expected no, mail, "
		    "https or both" },
		{ "[tlsrpt]\norganization = Caf\xc3\xa9\n", 2, "organization: "
		    "only printable ASCII" },
		{ "[tlsrpt]\ncontact = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", 2,
		    "contact: longer than 128 bytes" },
		{ "[tlsrpt]\nspoll = /x\n", 2, "unknown key 'spoll' in [tlsrpt]" },
	};
	struct conf	*c = NULL;
	size_t		 i;

	T_OK(conf_load_mem("", 0, "mem", &c, errbuf, sizeof(errbuf)) == 0 &&
	    c->tlsrpt_spool == NULL && c->tlsrpt_org == NULL &&
	    c->tlsrpt_contact == NULL && c->tlsrpt_send == 0,
	    "[tlsrpt] defaults: off, send = no");
	conf_free(c);
	c = NULL;
	T_OK(conf_load_mem(ok, strlen(ok), "mem", &c, errbuf, sizeof(errbuf))
	    == 0 && streq(c->tlsrpt_spool, "/var/spool/t") &&
	    streq(c->tlsrpt_org, "Example Org") &&
	    streq(c->tlsrpt_contact, "tlsrpt@example.org") &&
	    c->tlsrpt_send == (CONF_RPT_MAIL | CONF_RPT_HTTPS),
	    "[tlsrpt] keys read (%s)", errbuf);
	conf_free(c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = NULL;
		T_OK(conf_load_mem(bad[i].text, strlen(bad[i].text), "mem", &c,
		    errbuf, sizeof(errbuf)) == -1 && c == NULL,
		    "[tlsrpt] case %zu refused", i);
		check_err("mem", bad[i].line, bad[i].msg, "[tlsrpt] case");
	}
}

static void
test_api(void)
{
	enum tls_setting	s;
	struct ipaddr		a;
	char			buf[INET6_ADDRSTRLEN];
	int			i, ok = 1;

	for (i = 0; i < TLS_SETTING_COUNT; i++)
		if (conf_setting_parse(conf_setting_name((enum tls_setting)i),
		    &s) != 0 || s != (enum tls_setting)i)
			ok = 0;
	T_OK(ok, "every setting name parses back");
	T_OK(streq(conf_setting_name(TLS_REQUIRED_VERIFY_HOSTED),
	    "required-verify-hosted"), "setting name");
	T_OK(conf_setting_parse("required-verify-host", &s) == -1 &&
	    conf_setting_parse("", &s) == -1 &&
	    conf_setting_parse("verify", &s) == -1, "unknown words refused");
	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &a.u.v6);
	T_OK(streq(conf_ipaddr_str(&a, buf, sizeof(buf)), "2001:db8::1"),
	    "conf_ipaddr_str IPv6");
	a.family = 0;
	T_OK(streq(conf_ipaddr_str(&a, buf, sizeof(buf)), "(invalid)"),
	    "conf_ipaddr_str bad family");
}

int
main(void)
{
	test_full();
	test_defaults();
	test_lookup();
	test_routes();
	test_longroutes();
	test_sample();
	test_bad_files();
	test_cases();
	test_revocation_defaults();
	test_big_table();
	test_tlsrpt();
	test_api();
	return T_DONE();
}
