/*
 * main_probe.c - tlsverify-probe: run the engine for one domain and explain
 * every step (SPEC 9).
 *
 *   tlsverify-probe [-c FILE] [-s SETTING] [--json] DOMAIN
 *   tlsverify-probe [-c FILE] --policy KEY
 *   tlsverify-probe [-c FILE] [-s SETTING] [--json] [-j N] --all
 *   tlsverify-probe [-c FILE] --tlsrpt-flush
 *
 * --tlsrpt-flush writes (and sends, as [tlsrpt] send says) the TLS-RPT
 * reports of every finished UTC day counted in [tlsrpt] spool (tlsrpt.h;
 * "now" is $TLSVERIFY_TLSRPT_NOW when set) and prints what it did; exit 0,
 * 75 when a report could not be written or sent, 78 when [tlsrpt] spool is
 * empty. --policy counts its probe for TLS-RPT as the daemon does.
 *
 * --all probes every domain of [destinations] (probe_all.h), -j N at a
 * time (default 8), and exits with the worst status (75 > 1 > 0).
 *
 * --policy prints what the policy service (SPEC 10, policy.h) would answer
 * for KEY (a domain, "[host]", "[host]:port" or "host:port"), one line per
 * map, "tlspolicy KEY -> ANSWER" and "transport KEY -> ANSWER", from the
 * same decision code as the daemon (a probe when needed); exit 0, or 75
 * when the tlspolicy answer is TEMP.
 *
 * Exit status (sysexits): 0 the setting is satisfied (accept or tag);
 * 1 it is not, for a permanent reason; 75 (EX_TEMPFAIL) temporary failure
 * under a required setting; 64 (EX_USAGE) usage error; 78 (EX_CONFIG)
 * configuration error (including trust anchors that cannot be read).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "conf.h"
#include "decide.h"
#include "engine.h"
#include "log.h"
#include "policy.h"
#include "probe_all.h"
#include "report.h"
#include "tlsrpt.h"

static void
usage(void)
{
	fprintf(stderr, "usage: tlsverify-probe [-c FILE] [-s SETTING] "
	    "[--json] DOMAIN\n"
	    "       tlsverify-probe [-c FILE] --policy KEY\n"
	    "       tlsverify-probe [-c FILE] [-s SETTING] [--json] [-j N] "
	    "--all\n"
	    "       tlsverify-probe [-c FILE] --tlsrpt-flush\n"
	    "settings: none preferred required preferred-verify "
	    "required-verify required-verify-hosted dane dane-only "
	    "mta-sts auto\n");
	exit(EX_USAGE);
}

static int
probe_policy(const char *path, const char *key)
{
	struct gen	*g;
	char		 err[1024], req[1100], ans[4096];
	int		 rc = 0;

	if ((g = gen_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tlsverify-probe: %s\n", err);
		return EX_CONFIG;
	}
	decide_start(gen_ref(g));
	(void)snprintf(req, sizeof(req), "tlspolicy %s", key);
	policy_answer(g, req, ans, sizeof(ans));
	printf("tlspolicy %s -> %s\n", key, ans);
	if (strncmp(ans, "TEMP", 4) == 0)
		rc = EX_TEMPFAIL;
	(void)snprintf(req, sizeof(req), "transport %s", key);
	policy_answer(g, req, ans, sizeof(ans));
	printf("transport %s -> %s\n", key, ans);
	decide_stop();
	(void)tlsrpt_save(g->conf);	/* its probe counts (SPEC 12) */
	gen_unref(g);
	return rc;
}

static int
probe_tlsrpt_flush(const char *path)
{
	struct conf		*conf = NULL;
	struct tlsrpt_stats	 st;
	char			 err[512];
	int			 rc;

	if (conf_load(path, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "tlsverify-probe: %s\n", err);
		return EX_CONFIG;
	}
	if (conf->tlsrpt_spool == NULL) {
		fprintf(stderr, "tlsverify-probe: %s: [tlsrpt] spool is empty: "
		    "TLS-RPT is off\n", path);
		conf_free(conf);
		return EX_CONFIG;
	}
	rc = tlsrpt_flush(conf, tlsrpt_now(), &st) == 0 ? 0 : EX_TEMPFAIL;
	printf("tlsrpt: %u report(s) written, %u mailed, %u posted, %u "
	    "failed, %u skipped (no _smtp._tls record)\n", st.reports,
	    st.mailed, st.posted, st.failed, st.skipped);
	conf_free(conf);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "policy", no_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "tlsrpt-flush", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = CONF_DEFAULT_PATH;
	enum tls_setting setting;
	int		 c, json = 0, forced = -1, rc, policy = 0, all = 0;
	int		 flush = 0;
	unsigned long	 jobs = 8;
	char		*end;
	struct conf	*conf = NULL;
	struct engine	*e;
	struct verdict	*v;
	char		 err[512];

	log_open("tlsverify-probe", 0, 1);
	while ((c = getopt_long(argc, argv, "c:s:j:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 's':
			if (conf_setting_parse(optarg, &setting) != 0) {
				fprintf(stderr, "tlsverify-probe: unknown "
				    "setting: %s\n", optarg);
				usage();
			}
			forced = (int)setting;
			break;
		case 'J':
			json = 1;
			break;
		case 'p':
			policy = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'T':
			flush = 1;
			break;
		case 'j':
			jobs = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    jobs < 1 || jobs > PROBE_ALL_MAXJOBS) {
				fprintf(stderr, "tlsverify-probe: -j: 1 to %d\n",
				    PROBE_ALL_MAXJOBS);
				usage();
			}
			break;
		case 'V':
			printf("tlsverify-probe %s\n", TV_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (flush && (argc != optind || json || forced >= 0 || all || policy))
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (flush)
		return probe_tlsrpt_flush(path);
	if (argc - optind != (all ? 0 : 1) || (policy && (json ||
	    forced >= 0 || all)))
		usage();
	if (policy)
		return probe_policy(path, argv[optind]);
	if (conf_load(path, &conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "tlsverify-probe: %s\n", err);
		return EX_CONFIG;
	}
	if (forced >= 0 && !conf->dnssec &&
	    conf_setting_needs_dnssec((enum tls_setting)forced)) {
		fprintf(stderr, "tlsverify-probe: %s: -s %s needs [dns] "
		    "dnssec = yes\n", path, conf_setting_name(
		    (enum tls_setting)forced));
		conf_free(conf);
		return EX_CONFIG;
	}
	if ((e = engine_new(conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "tlsverify-probe: %s: %s\n", path, err);
		conf_free(conf);
		return EX_CONFIG;
	}
	if (all)
		rc = probe_all(e, forced, (unsigned)jobs, json);
	else {
		v = engine_probe(e, argv[optind], forced, json ? 0 :
		    ENGINE_TRACE);
		if (json)
			report_json(stdout, v);
		else
			report_text(stdout, v);
		rc = probe_exit_status(v);
		verdict_free(v);
	}
	engine_free(e);
	conf_free(conf);
	return rc;
}
