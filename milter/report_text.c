/*
 * report_text.c - tlsverify-probe's step-by-step explanation (report.h).
 *
 * The layout follows the seed's worked example: the domain and its setting,
 * the DNS answers, then for every attempt the connection, the TLS session,
 * Phase I, the presented and reference identifiers and every comparison,
 * and last the verdict with what the milter would answer.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

static void
report_lines(FILE *f, const struct trace *t, size_t from, size_t to,
    const char *indent)
{
	size_t	i;

	for (i = from; i < to && i < t->n; i++)
		fprintf(f, "%s%s\n", indent, t->lines[i]);
}

static void
report_presented(FILE *f, const struct attempt *a)
{
	size_t	i;

	fprintf(f, "    presented identifiers:");
	for (i = 0; i < a->pres.n_dns; i++)
		fprintf(f, " dNSName:%s", a->pres.dns[i]);
	for (i = 0; i < a->pres.n_cn; i++)
		fprintf(f, " CN:%s", a->pres.cn[i]);
	if (a->pres.n_dns + a->pres.n_cn == 0)
		fprintf(f, " none");
	fputc('\n', f);
	for (i = 0; i < a->pres.n_rejected; i++)
		fprintf(f, "    ignored (not a valid host name): %s\n",
		    a->pres.rejected[i]);
	fprintf(f, "    reference identifiers:");
	for (i = 0; i < a->n_refs; i++)
		fprintf(f, " %s:%s", ident_source_str(a->refs[i].source),
		    a->refs[i].name);
	fputc('\n', f);
}

static void
report_compared(FILE *f, const struct attempt *a)
{
	const struct ident_cmp *c;
	size_t	i;

	if (a->id.used_cn && a->pres.n_dns > 0)
		fprintf(f, "    no dNSName matched the recipient domain: "
		    "CN-IDs compared\n");
	else if (a->id.used_cn)
		fprintf(f, "    no dNSName in the certificate: CN-IDs "
		    "compared\n");
	for (i = 0; i < a->id.n_cmp; i++) {
		c = &a->id.cmp[i];
		fprintf(f, "    %s %s ~= %s %s: %s\n", ident_type_str(c->type),
		    c->presented, ident_source_str(c->source), c->reference,
		    c->matched ? "MATCH" : "no");
	}
	if (a->id.n_cmp_total > a->id.n_cmp)
		fprintf(f, "    (%zu more comparisons not shown)\n",
		    a->id.n_cmp_total - a->id.n_cmp);
}

static void
report_attempt(FILE *f, const struct verdict *v, size_t i)
{
	const struct attempt *a = &v->attempts[i];

	fprintf(f, "\nAttempt %zu: %s [%s]:%u via %s\n", i + 1, a->host,
	    a->ip[0] ? a->ip : "no address", a->port, target_via_str(a->via));
	report_lines(f, &v->trace, a->trace_from + 1, a->trace_to, "    ");
	if (a->ident_checked) {
		report_presented(f, a);
		report_compared(f, a);
	}
	if (a->tlsa_secure)
		fprintf(f, "    DANE: %zu TLSA record(s), %zu usable%s%s\n",
		    a->n_tlsa, a->n_usable, a->tlsa[0] ? "; matched: " : "",
		    a->tlsa);
	fprintf(f, "    => %s%s%s: %s\n", a->verified ? "VERIFIED" : a->tls ?
	    "TLS, not verified" : "no TLS", a->temporary ? " (temporary)" :
	    "", (int)i == v->best ? " [top attempt]" : "", a->reason);
}

void
report_text(FILE *f, const struct verdict *v)
{
	size_t	i, first;

	fprintf(f, "Domain:  %s", v->domain);
	if (strcmp(v->domain, v->input) != 0)
		fprintf(f, " (given as %s)", v->input);
	fprintf(f, "\nSetting: %s (from %s%s)\n", conf_setting_name(v->setting),
	    strcmp(v->setting_key, "-s") == 0 ? "" : "[destinations] ",
	    strcmp(v->setting_key, "-s") == 0 ? "-s" : v->setting_key);
	if (v->outcome == OUTCOME_NOT_PROBED)
		fprintf(f, "This setting does not probe the destination.\n");
	first = v->n_attempts ? v->attempts[0].trace_from : v->trace.n;
	if (first > 0)
		fprintf(f, "\nDNS:\n");
	report_lines(f, &v->trace, 0, first, "    ");
	for (i = 0; i < v->n_attempts; i++)
		report_attempt(f, v, i);
	if (v->n_attempts)
		report_lines(f, &v->trace, v->attempts[v->n_attempts - 1].
		    trace_to, v->trace.n, "    ");
	if (v->trace.dropped)
		fprintf(f, "    (%zu trace lines dropped)\n", v->trace.dropped);
	fprintf(f, "\nVerdict: %s -> %s", v->result,
	    verdict_action_str(v->action));
	if (v->code[0])
		fprintf(f, " (%s %s %s)", v->code, v->xcode, v->text);
	fputc('\n', f);
	if (v->reason[0])
		fprintf(f, "Reason:  %s\n", v->reason);
	if (v->setting == TLS_DANE || v->setting == TLS_DANE_ONLY)
		fprintf(f, "Policy:  %s\n", v->policy != NULL ? v->policy :
		    "none (no DNSSEC-validated TLSA: opportunistic)");
	if (v->setting == TLS_MTA_STS || v->setting == TLS_AUTO)
		fprintf(f, "Policy:  %s%s%s%s%s\n", v->policy != NULL ?
		    v->policy : "none (no DANE, no MTA-STS policy: "
		    "opportunistic)", v->sts_found ? "; MTA-STS policy id " :
		    "", v->sts_found ? v->sts_id : "", v->sts_found ?
		    " mode " : "", v->sts_found ? mtasts_mode_str(v->sts.mode) :
		    "");
	if (v->sts_rpt != NULL)
		fprintf(f, "TLS-RPT: %s\n", v->sts_rpt);
}
