/*
 * conf.h - the configuration file (SPEC section 8), read with libinih.
 *
 * conf_load(path, &conf, err, errlen) reads the whole file. On success it
 * returns 0 and *conf (free with conf_free()). On any error it returns -1,
 * *conf is NULL and err holds "FILE:LINE: message" (LINE 0 when the file
 * cannot be opened). Nothing is guessed: an unknown section, key or TLS
 * setting, a malformed route or number, a duplicate domain or key, and a line
 * longer than libinih's buffer are all errors. Values may continue on
 * indented lines (libinih calls the handler once per line; long route lists
 * are written that way).
 *
 * After loading, every domain key (destinations and smtproutes) is stored as
 * a lower-case A-label without a trailing dot; ".parent" keys keep their
 * leading dot. conf_lookup_setting() and conf_lookup_routes() take a domain
 * already converted with name_to_alabel().
 *
 * A struct conf is immutable after conf_load(); any number of threads may
 * read it at once.
 */
#ifndef TV_CONF_H
#define TV_CONF_H

#include <stddef.h>
#include <netinet/in.h>

#define CONF_DEFAULT_PATH	"/etc/tlsverify-milter/tlsverify-milter.conf"
#define MTASTS_CACHE_DEFAULT	"/var/lib/tlsverify-milter/mta-sts.cache"
#define CONF_RPT_MAIL		1	/* [tlsrpt] send = mail (or both) */
#define CONF_RPT_HTTPS		2	/* [tlsrpt] send = https (or both) */
#define CONF_TEXTMAX		128	/* bytes of a free-text value */

enum tls_setting {
	TLS_NONE = 0,
	TLS_PREFERRED,
	TLS_REQUIRED,
	TLS_PREFERRED_VERIFY,
	TLS_REQUIRED_VERIFY,
	TLS_REQUIRED_VERIFY_HOSTED,
	TLS_DANE,		/* SPEC 12: DANE where secure TLSA, else preferred */
	TLS_DANE_ONLY,		/* SPEC 12: a host without usable TLSA fails */
	TLS_MTA_STS,		/* SPEC 12: the domain's MTA-STS policy */
	TLS_AUTO,		/* SPEC 12: DANE, else MTA-STS, else preferred */
	TLS_SETTING_COUNT
};

/* [probe] revocation: which revocation sources count (SPEC 3). */
enum revocation {
	REVOCATION_AUTO = 0,	/* not set: conf_load() makes it CRL when
				   crl_file or crl_path is set, else NONE */
	REVOCATION_NONE,
	REVOCATION_CRL,		/* crl_file/crl_path + the leaf's CDP URLs */
	REVOCATION_OCSP,	/* stapled response, else the AIA responder */
	REVOCATION_ANY		/* OCSP first, then CRL */
};

enum on_fail {
	ON_FAIL_DEFER = 0,
	ON_FAIL_REJECT
};

/* An IP address in binary form. */
struct ipaddr {
	int		family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	} u;
};

/* One SMTP route: HOST[:PORT][/PRIO] or [IPv6][:PORT][/PRIO] or IPv4. */
struct route {
	char		*host;		/* A-label host name, or IP text */
	int		 is_ip;		/* 1: addr is valid, host is its text */
	struct ipaddr	 addr;
	unsigned	 port;		/* 0: use conf->probe_port */
	unsigned	 prio;		/* 0 is highest */
	unsigned	 order;		/* position in the configuration */
};

/* All routes of one [smtproutes] key, sorted by (prio, order). */
struct route_list {
	char		*key;		/* "partner.org" or ".partner.org" */
	int		 line;
	struct route	*routes;
	size_t		 n;
};

struct dest_entry {
	char		*key;		/* "example.com", ".partner.org" */
	enum tls_setting setting;
	int		 line;
};

struct conf {
	char		*path;

	/* [milter] */
	char		*socket;	/* default inet:8895@127.0.0.1 */
	char		*user;		/* default NULL: do not change user */
	char		*pidfile;	/* default NULL: no pid file */
	enum on_fail	 on_fail;	/* default defer */
	int		 monitor;	/* [milter] mode = monitor (SPEC 13):
					   nothing deferred or rejected */
	char		*header;	/* default X-TLS-Verify */
	char		**skip_mailers;	/* default local virtual lmtp error */
	size_t		 n_skip_mailers;

	/* [probe] */
	unsigned	 probe_port;	/* default 25 */
	char		*helo;		/* default: the host's FQDN (getaddrinfo
					   AI_CANONNAME of gethostname()), else
					   gethostname(), else "localhost" */
	unsigned	 probe_timeout;	/* seconds, default 20 */
	unsigned	 connect_timeout; /* seconds per TCP connection, default
					   5 (0 in a struct not made by
					   conf_load(): the deadline only) */
	unsigned	 command_timeout; /* seconds for the banner, one reply
					   or the TLS handshake, default 10
					   (0: the deadline only) */
	char		*ca_file;	/* default: system bundle */
	char		*ca_path;	/* default NULL */
	char		*crl_file;	/* default NULL */
	char		*crl_path;	/* default NULL */
	enum revocation	 revocation;	/* default: see enum revocation */
	int		 revocation_required; /* yes/no; default no, but yes
					   when revocation is not set and
					   crl_file/crl_path are */
	unsigned	 http_timeout;	/* seconds per CRL/OCSP fetch, default 5 */
	unsigned	 max_crl_size;	/* bytes of one fetched CRL, default
					   10485760 (0 in a struct not made by
					   conf_load(): the default) */

	/* [dns] */
	int		 has_nameserver;
	struct ipaddr	 nameserver;	/* valid when has_nameserver */
	unsigned	 nameserver_port; /* default 53 */
	unsigned	 dns_timeout;	/* seconds, default 5 */
	int		 dnssec;	/* yes/no, default no: trust the AD bit
					   of nameserver (SPEC 12); yes needs
					   a loopback nameserver */

	/* [cache] */
	unsigned	 verified_ttl;	/* default 3600 */
	unsigned	 failed_ttl;	/* default 300 */
	unsigned	 tempfail_ttl;	/* default 60 */
	unsigned	 max_entries;	/* default 10000 */
	unsigned	 max_probes;	/* probes at once, default 64 */
	char		*cache_backend;	/* NULL: memory; else redis://... or
					   unix:... (SPEC 13, rcache.h) */
	char		*redis_password_file; /* default NULL */
	long		 redis_timeout_ms; /* default 500 */

	/* [policy] (SPEC 10) */
	char		*policy_socket;	/* default NULL: off */
	char		*policy_transport; /* default "smtp" */

	/* [query] (SPEC 11: Exim's ${readsocket} line protocol) */
	char		*query_socket;	/* default NULL: off */
	/* [mtasts] (SPEC 12) */
	unsigned	 mtasts_port;	/* HTTPS port, default 443 */
	char		*mtasts_ca_file; /* default NULL: [probe] ca_file */
	unsigned	 mtasts_timeout; /* seconds per fetch, default 10 */
	char		*mtasts_cache_file; /* default MTASTS_CACHE_DEFAULT;
					   empty: memory only (NULL) */
	/* [tlsrpt] (SPEC 12, tlsrpt.h) */
	char		*tlsrpt_spool;	/* report directory; default NULL: off */
	char		*tlsrpt_org;	/* organization-name; NULL: the helo */
	char		*tlsrpt_contact; /* contact-info; NULL: postmaster@helo */
	unsigned	 tlsrpt_send;	/* CONF_RPT_MAIL | CONF_RPT_HTTPS bits;
					   default 0 (send = no) */
	/* [metrics] (SPEC 13) */
	char		*metrics_listen; /* ADDR:PORT, default NULL: off */

	/* [destinations] */
	struct dest_entry *dests;
	size_t		 n_dests;
	int		 has_default;
	enum tls_setting default_setting;

	/* [smtproutes] */
	struct route_list *routes;
	size_t		 n_routes;
};

int		 conf_load(const char *path, struct conf **out,
		    char *err, size_t errlen);
/* conf_load() on buf[0..len) (may hold NULs, need not end in a NUL), named
 * name in messages; the same parser (for the fuzzer and tests). */
int		 conf_load_mem(const char *buf, size_t len, const char *name,
		    struct conf **out, char *err, size_t errlen);
void		 conf_free(struct conf *);

/* 1 for the settings that need [dns] dnssec = yes (dane, dane-only,
 * auto; not mta-sts). */
int		 conf_setting_needs_dnssec(enum tls_setting);

/* Exact domain, then closest ".parent", then "default", then none.
 * *key (may be NULL) receives the key that matched, or "default"/"none". */
enum tls_setting conf_lookup_setting(const struct conf *, const char *domain,
		    const char **key);

/* Exact domain, then closest ".parent"; NULL when the domain has no route. */
const struct route_list *conf_lookup_routes(const struct conf *,
		    const char *domain);

const char	*conf_setting_name(enum tls_setting);
/* 0 and *out on success, -1 for an unknown word. */
int		 conf_setting_parse(const char *, enum tls_setting *out);

/* Text form of an address into buf (INET6_ADDRSTRLEN bytes). */
const char	*conf_ipaddr_str(const struct ipaddr *, char *buf, size_t len);
/* 1 when both are the same address (same family), else 0. */
int		 conf_ipaddr_eq(const struct ipaddr *, const struct ipaddr *);

#endif
