/*
 * verdict.c - from a probe's outcome to what the MTA is told (SPEC 2).
 *
 * verdict_action() is SPEC 2's table as a pure function; verdict_decide()
 * adds the SMTP code, the enhanced status code (RFC 3463) and the reply
 * text; verdict_free() releases a verdict made by the engine.
 *
 * Choices where SPEC is silent (documented in README "Limits"):
 *  - a permanent failure under on_fail = defer answers 450, under reject 550;
 *    a temporary verdict always answers 451, whatever on_fail says;
 *  - a domain that does not exist (or whose hosts have no address) is a
 *    permanent failure with x.1.2 under a required setting, and is tagged
 *    (result "no-host") under preferred-verify;
 *  - a null MX is rejected (556 5.1.10) under every setting that probes;
 *  - under mta-sts and auto, a verdict whose top host was judged by an
 *    MTA-STS policy in testing mode is tagged, whatever its outcome (the
 *    sender delivers and reports, RFC 8461 5), but a null MX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"
#include "text.h"
#include "xalloc.h"

enum action
verdict_action(enum tls_setting s, enum outcome o, enum on_fail f)
{
	enum action	fail = f == ON_FAIL_REJECT ? ACTION_REJECT : ACTION_DEFER;

	if (s == TLS_NONE || s == TLS_PREFERRED)
		return ACTION_ACCEPT;
	if (s == TLS_DANE || s == TLS_DANE_ONLY || s == TLS_MTA_STS ||
	    s == TLS_AUTO) {				/* SPEC 12 */
		if (o == OUTCOME_VERIFIED || o == OUTCOME_NO_POLICY ||
		    o == OUTCOME_ENCRYPTED)
			return ACTION_ACCEPT;
		if (o == OUTCOME_NULL_MX)
			return ACTION_REJECT;
		return o == OUTCOME_TEMP || o == OUTCOME_NOT_PROBED ?
		    ACTION_DEFER : fail;
	}
	if (o == OUTCOME_NO_POLICY || o == OUTCOME_ENCRYPTED)
		return ACTION_DEFER;		/* cannot happen: be safe */
	if (o == OUTCOME_VERIFIED)
		return ACTION_ACCEPT;
	if (o == OUTCOME_NULL_MX)
		return ACTION_REJECT;
	if (o == OUTCOME_NOT_PROBED)		/* cannot happen: be safe */
		return ACTION_DEFER;
	if (s == TLS_PREFERRED_VERIFY)
		return ACTION_TAG;
	if (o == OUTCOME_TEMP)
		return ACTION_DEFER;
	if (s == TLS_REQUIRED && o == OUTCOME_UNVERIFIED)
		return ACTION_ACCEPT;
	return fail;
}

static const char *
verdict_result_word(enum outcome o)
{
	switch (o) {
	case OUTCOME_VERIFIED:		return "verified";
	case OUTCOME_UNVERIFIED:	return "unverified";
	case OUTCOME_NO_TLS:		return "plain";
	case OUTCOME_NO_HOST:		return "no-host";
	case OUTCOME_NULL_MX:		return "null-mx";
	case OUTCOME_TEMP:		return "unknown";
	case OUTCOME_NO_POLICY:		return "no-policy";
	case OUTCOME_ENCRYPTED:		return "encrypted";
	default:			return "not-probed";
	}
}

/* Enhanced status code detail ("7.5") for a failed or temporary verdict. */
static const char *
verdict_xdetail(const struct verdict *v)
{
	const struct attempt *a = v->best >= 0 ? &v->attempts[v->best] : NULL;

	switch (v->outcome) {
	case OUTCOME_NO_TLS:	return "7.10";
	case OUTCOME_UNVERIFIED: return "7.5";
	case OUTCOME_NO_HOST:	return "1.2";
	case OUTCOME_NULL_MX:	return "1.10";
	default:		break;
	}
	if (a == NULL || a->stage == STAGE_DNS)
		return "4.3";
	if (a->tls)
		return "7.5";
	if (a->connected && a->stage >= STAGE_STARTTLS && !a->temporary)
		return "7.10";
	return "4.1";
}

static void
verdict_text(struct verdict *v)
{
	const struct attempt *a = v->best >= 0 ? &v->attempts[v->best] : NULL;
	char	 where[NAME_BUFLEN + 80] = "";
	char	 buf[VERDICT_TEXTLEN];
	const char *what;

	if (a != NULL)
		(void)snprintf(where, sizeof(where), "%s [%s]: ", a->host,
		    a->ip[0] ? a->ip : "no address");
	switch (v->outcome) {
	case OUTCOME_NULL_MX:
		(void)snprintf(buf, sizeof(buf),
		    "%s does not accept mail (null MX)", v->domain);
		(void)text_printable(v->text, sizeof(v->text), buf, strlen(buf), "%");
		return;
	case OUTCOME_NO_TLS:	what = "TLS required"; break;
	case OUTCOME_UNVERIFIED:
		what = a != NULL && a->sts ? "MTA-STS policy not met" :
		    v->setting == TLS_DANE || v->setting == TLS_DANE_ONLY ||
		    (a != NULL && a->tlsa_secure) ?
		    "DANE authentication failed" : "TLS verification failed";
		break;
	case OUTCOME_NO_HOST:	what = "no destination"; break;
	default:		what = "TLS policy check incomplete"; break;
	}
	(void)snprintf(buf, sizeof(buf), "%s for %s (%s): %s%s", what,
	    v->domain, conf_setting_name(v->setting), where, v->reason);
	(void)text_printable(v->text, sizeof(v->text), buf, strlen(buf), "%");
}

void
verdict_decide(struct verdict *v, enum on_fail f)
{
	char	cls;

	v->action = verdict_action(v->setting, v->outcome, f);
	if (v->sts_testing && v->outcome != OUTCOME_NULL_MX &&
	    (v->action == ACTION_DEFER || v->action == ACTION_REJECT))
		v->action = ACTION_TAG;		/* RFC 8461 5: report only */
	v->result = verdict_result_word(v->outcome);
	v->temporary = v->outcome == OUTCOME_TEMP;
	v->code[0] = v->xcode[0] = v->text[0] = '\0';
	if (v->action == ACTION_ACCEPT || v->action == ACTION_TAG)
		return;
	if (v->outcome == OUTCOME_NULL_MX) {
		(void)snprintf(v->code, sizeof(v->code), "556");
		(void)snprintf(v->xcode, sizeof(v->xcode), "5.1.10");
	} else {
		cls = v->action == ACTION_REJECT ? '5' : '4';
		(void)snprintf(v->code, sizeof(v->code), "%c5%c", cls,
		    v->temporary ? '1' : '0');
		(void)snprintf(v->xcode, sizeof(v->xcode), "%c.%s", cls,
		    verdict_xdetail(v));
	}
	verdict_text(v);
}

static void
verdict_attempt_free(struct attempt *a)
{
	size_t	i;

	if (a->ident_checked)
		ident_presented_free(&a->pres);
	for (i = 0; i < a->n_refs; i++)
		free(a->refs[i].name);
	free(a->refs);
}

void
verdict_free(struct verdict *v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n_attempts; i++)
		verdict_attempt_free(&v->attempts[i]);
	free(v->attempts);
	mtasts_policy_free(&v->sts);
	trace_free(&v->trace);
	free(v);
}

const char *
verdict_action_str(enum action a)
{
	static const char *const names[] = { "accept", "tag", "defer",
	    "reject" };

	return (unsigned)a < 4 ? names[a] : "defer";
}

const char *
verdict_outcome_str(enum outcome o)
{
	return verdict_result_word(o);
}
