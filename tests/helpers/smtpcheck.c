/*
 * smtpcheck.c - run one SMTP/STARTTLS probe (smtp_probe + cert_check) and
 * print what happened: a test helper for the SMTP client.
 *
 *   smtpcheck [-p PORT] [-t MS] [-s SNI] [-H HELO] [-C CAFILE] [-R CRLFILE]
 *             IP
 *
 * Prints the trace, then one "result:" line (rc, stage, tls, temporary,
 * reason, elapsed ms) and, when TLS was negotiated, one "cert:" line.
 * Exit status: 0 TLS negotiated, 1 not, 2 usage or setup error.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cert.h"
#include "conf.h"
#include "deadline.h"
#include "smtp.h"
#include "tlsctx.h"
#include "trace.h"

static int
parse_ip(const char *s, struct ipaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &a->u.v4) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a->u.v6) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
report(SSL_CTX *ctx, struct trace *tr, struct smtp_result *res, int rc,
    long ms)
{
	struct cert_result cr;
	size_t		   i;

	for (i = 0; i < tr->n; i++)
		printf("trace: %s\n", tr->lines[i]);
	printf("result: rc=%d stage=%s tls=%d temporary=%d elapsed=%ld "
	    "reason=%s\n", rc, smtp_stage_str(res->stage), res->tls,
	    res->temporary, ms, res->reason);
	if (!res->tls)
		return;
	cert_check(ctx, res->leaf, res->chain, &cr);
	printf("cert: %s valid=%d temporary=%d version=%s cipher=%s "
	    "subject=\"%s\" issuer=\"%s\" notAfter=%s detail=%s\n",
	    cr.reason, cr.valid, cr.temporary, res->tls_version, res->cipher,
	    cr.subject, cr.issuer, cr.not_after, cr.detail);
}

int
main(int argc, char **argv)
{
	struct smtp_result res;
	struct trace	   tr = { NULL, 0, 0 };
	struct deadline	   dl;
	struct ipaddr	   ip;
	struct conf	   c;
	SSL_CTX		  *ctx;
	const char	  *sni = NULL, *helo = "smtpcheck.test";
	char		   err[256];
	unsigned	   port = 25;
	long		   ms = 5000, t0;
	int		   ch, rc;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt(argc, argv, "p:t:s:H:C:R:")) != -1) {
		switch (ch) {
		case 'p': port = (unsigned)atoi(optarg); break;
		case 't': ms = atol(optarg); break;
		case 's': sni = optarg; break;
		case 'H': helo = optarg; break;
		case 'C': c.ca_file = optarg; break;
		case 'R': c.crl_file = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || parse_ip(argv[optind], &ip) != 0) {
		fprintf(stderr, "usage: smtpcheck [-p PORT] [-t MS] [-s SNI] "
		    "[-H HELO] [-C CAFILE] [-R CRLFILE] IP\n");
		return 2;
	}
	if ((ctx = tlsctx_new(&c, err, sizeof(err))) == NULL) {
		fprintf(stderr, "smtpcheck: %s\n", err);
		return 2;
	}
	t0 = now_ms();
	deadline_init(&dl, ms);
	rc = smtp_probe(ctx, &ip, port, sni, helo, NULL, &dl, &tr, &res);
	report(ctx, &tr, &res, rc, now_ms() - t0);
	smtp_result_free(&res);
	trace_free(&tr);
	SSL_CTX_free(ctx);
	return rc == 0 ? 0 : 1;
}
