/*
 * report.c - how a verdict is shown (see report.h): tlsverify-probe's
 * step-by-step explanation, its JSON object (SPEC 9), and the milter's
 * one log line per verdict.
 *
 * JSON keys are those of SPEC 9, always present (null where they do not
 * apply: tls and certificate are null when no host was tried; verified is
 * a boolean under every *-verify setting, false for a null MX or when no
 * host was reached, and under required once TLS was negotiated),
 * plus "result", "temporary", "code", "xcode", "text", "reason" at
 * the top and "stage", "temporary", "via" per attempt. SPEC 12's keys are
 * always present: "policy" ("dane", "pkix" or null), "tlsa" (the record
 * that authenticated the top host, "U S M hex", or null; per attempt too),
 * "sts" ({"mode", "id", "mx": [patterns]} of the MTA-STS policy found for
 * the domain under mta-sts and auto, also in mode none; null when none was
 * found or asked for) and "reply" ("CODE XCODE
 * TEXT" as the milter would answer, null for accept and tag). Strings are escaped
 * (control bytes as \u00XX; bytes >= 0x80 are passed through only as part
 * of the input domain, every other string is ASCII by construction).
 */
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "text.h"

#define REPORT_LOG_REASON	200	/* bytes of the reason in a log line */

static void
report_jstr(FILE *f, const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
report_jkey(FILE *f, const char *key, const char *val, int comma)
{
	fprintf(f, "%s\"%s\": ", comma ? ", " : "", key);
	report_jstr(f, val);
}

static void
report_jbool(FILE *f, const char *key, int probed, int val)
{
	fprintf(f, ", \"%s\": %s", key, !probed ? "null" : val ? "true" :
	    "false");
}

static void
report_jmatch(FILE *f, const struct attempt *a)
{
	const struct ident_cmp *m;

	fputs(", \"matched\": ", f);
	if (a == NULL || !a->ident_checked || !a->id.matched) {
		fputs("null", f);
		return;
	}
	m = &a->id.match;
	fputc('{', f);
	report_jkey(f, "presented", m->presented, 0);
	report_jkey(f, "type", ident_type_str(m->type), 1);
	report_jkey(f, "reference", m->reference, 1);
	report_jkey(f, "source", ident_source_str(m->source), 1);
	fputc('}', f);
}

static void
report_jattempt(FILE *f, const struct attempt *a, int comma)
{
	fputs(comma ? ", {" : "{", f);
	report_jkey(f, "host", a->host, 0);
	report_jkey(f, "ip", a->ip[0] ? a->ip : NULL, 1);
	fprintf(f, ", \"port\": %u", a->port);
	report_jkey(f, "via", target_via_str(a->via), 1);
	report_jbool(f, "tls", 1, a->tls);
	report_jkey(f, "certificate", a->cert_checked ? a->cert.reason :
	    NULL, 1);
	report_jbool(f, "verified", 1, a->verified);
	report_jkey(f, "tlsa", a->tlsa[0] ? a->tlsa : NULL, 1);
	report_jkey(f, "stage", smtp_stage_str(a->stage), 1);
	report_jbool(f, "temporary", 1, a->temporary);
	report_jkey(f, "reason", a->reason, 1);
	fputc('}', f);
}

/* A setting that verifies: "verified" is a boolean whatever happened. */
static int
report_verifies(enum tls_setting s)
{
	return s == TLS_PREFERRED_VERIFY || s == TLS_REQUIRED_VERIFY ||
	    s == TLS_REQUIRED_VERIFY_HOSTED || s == TLS_DANE ||
	    s == TLS_DANE_ONLY || s == TLS_MTA_STS || s == TLS_AUTO;
}

/* "sts": the MTA-STS policy found for the domain, or null. */
static void
report_jsts(FILE *f, const struct verdict *v)
{
	size_t	i;

	if (!v->sts_found) {
		fputs(", \"sts\": null", f);
		return;
	}
	fputs(", \"sts\": {", f);
	report_jkey(f, "mode", mtasts_mode_str(v->sts.mode), 0);
	report_jkey(f, "id", v->sts_id, 1);
	fputs(", \"mx\": [", f);
	for (i = 0; i < v->sts.nmx; i++) {
		if (i > 0)
			fputs(", ", f);
		report_jstr(f, v->sts.mx[i]);
	}
	fputs("]}", f);
}

/* SPEC 12's keys: policy, tlsa, sts, reply. */
static void
report_jpolicy(FILE *f, const struct verdict *v, const struct attempt *b)
{
	char	reply[VERDICT_TEXTLEN + 32];

	report_jkey(f, "policy", v->policy, 1);
	report_jkey(f, "tlsa", b != NULL && b->tlsa[0] ? b->tlsa : NULL, 1);
	report_jsts(f, v);
	(void)snprintf(reply, sizeof(reply), "%s %s %s", v->code, v->xcode,
	    v->text);	/* fits */
	report_jkey(f, "reply", v->code[0] ? reply : NULL, 1);
}

void
report_json(FILE *f, const struct verdict *v)
{
	const struct attempt *b = v->best >= 0 ? &v->attempts[v->best] : NULL;
	int	probed = v->outcome != OUTCOME_NOT_PROBED && b != NULL;
	size_t	i;

	fputc('{', f);
	report_jkey(f, "domain", v->domain, 0);
	report_jkey(f, "setting", conf_setting_name(v->setting), 1);
	report_jbool(f, "tls", probed, b != NULL && b->tls);
	report_jkey(f, "certificate", b && b->cert_checked ? b->cert.reason :
	    NULL, 1);
	report_jkey(f, "revocation", b && b->cert_checked ?
	    b->cert.revocation : NULL, 1);
	report_jbool(f, "verified", report_verifies(v->setting) ||
	    (v->setting == TLS_REQUIRED && b != NULL && b->tls),
	    b != NULL && b->verified);
	report_jkey(f, "action", verdict_action_str(v->action), 1);
	report_jkey(f, "host", b ? b->host : NULL, 1);
	report_jkey(f, "ip", b && b->ip[0] ? b->ip : NULL, 1);
	if (b)
		fprintf(f, ", \"port\": %u", b->port);
	else
		fputs(", \"port\": null", f);
	report_jmatch(f, b);
	report_jpolicy(f, v, b);
	fputs(", \"attempts\": [", f);
	for (i = 0; i < v->n_attempts; i++)
		report_jattempt(f, &v->attempts[i], i > 0);
	fputc(']', f);
	report_jkey(f, "result", v->result, 1);
	report_jbool(f, "temporary", 1, v->temporary);
	report_jkey(f, "code", v->code[0] ? v->code : NULL, 1);
	report_jkey(f, "xcode", v->xcode[0] ? v->xcode : NULL, 1);
	report_jkey(f, "text", v->text[0] ? v->text : NULL, 1);
	report_jkey(f, "reason", v->reason[0] ? v->reason : NULL, 1);
	fputs("}\n", f);
}

void
report_logfields(const struct verdict *v, char *buf, size_t len)
{
	const struct attempt *b = v->best >= 0 ? &v->attempts[v->best] : NULL;
	char	host[NAME_BUFLEN], reason[4 * REPORT_LOG_REASON + 1];

	/* host: a checked host name or IP text; one word all the same */
	(void)text_printable(host, sizeof(host), b ? b->host : "-",
	    strlen(b ? b->host : "-"), " \"\\=");
	(void)text_quoted(reason, sizeof(reason), v->reason,
	    REPORT_LOG_REASON);
	(void)snprintf(buf, len, "result=%s action=%s host=%s ip=%s%s%s%s%s"
	    "%s%s%s%s"
	    " reason=\"%s\" ms=%ld", v->result,
	    verdict_action_str(v->action), host,
	    b && b->ip[0] ? b->ip : "-", v->code[0] ? " code=" : "", v->code,
	    v->xcode[0] ? " xcode=" : "", v->xcode,
	    v->policy != NULL && strcmp(v->policy, "dane") == 0 ?
	    " policy=dane" : "", v->policy != NULL &&
	    strcmp(v->policy, "sts") == 0 ? " policy=sts" : "",
	    v->sts_rpt != NULL ? " sts_rpt=" : "",
	    v->sts_rpt != NULL ? v->sts_rpt : "", reason, v->elapsed_ms);
}

void
report_logline(const struct verdict *v, char *buf, size_t len)
{
	char	fields[2048];

	report_logfields(v, fields, sizeof(fields));
	(void)snprintf(buf, len, "domain=%s setting=%s %s", v->domain,
	    conf_setting_name(v->setting), fields);
}
