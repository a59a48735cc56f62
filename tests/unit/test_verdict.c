/*
 * test_verdict.c - every row of SPEC 2's table, and the reply codes.
 */
#include <string.h>

#include "t.h"
#include "verdict.h"

static const struct {
	enum tls_setting s;
	enum outcome	 o;
	enum action	 defer, reject;	/* with on_fail defer / reject */
} rows[] = {
	/* none and preferred never probe and always accept */
	{ TLS_NONE, OUTCOME_NOT_PROBED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_PREFERRED, OUTCOME_NOT_PROBED, ACTION_ACCEPT, ACTION_ACCEPT },
	/* required: TLS only */
	{ TLS_REQUIRED, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_REQUIRED, OUTCOME_UNVERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_REQUIRED, OUTCOME_NO_TLS, ACTION_DEFER, ACTION_REJECT },
	{ TLS_REQUIRED, OUTCOME_TEMP, ACTION_DEFER, ACTION_DEFER },
	{ TLS_REQUIRED, OUTCOME_NULL_MX, ACTION_REJECT, ACTION_REJECT },
	{ TLS_REQUIRED, OUTCOME_NO_HOST, ACTION_DEFER, ACTION_REJECT },
	/* preferred-verify: tag whatever fails */
	{ TLS_PREFERRED_VERIFY, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_PREFERRED_VERIFY, OUTCOME_UNVERIFIED, ACTION_TAG, ACTION_TAG },
	{ TLS_PREFERRED_VERIFY, OUTCOME_NO_TLS, ACTION_TAG, ACTION_TAG },
	{ TLS_PREFERRED_VERIFY, OUTCOME_TEMP, ACTION_TAG, ACTION_TAG },
	{ TLS_PREFERRED_VERIFY, OUTCOME_NO_HOST, ACTION_TAG, ACTION_TAG },
	{ TLS_PREFERRED_VERIFY, OUTCOME_NULL_MX, ACTION_REJECT, ACTION_REJECT },
	/* required-verify and required-verify-hosted */
	{ TLS_REQUIRED_VERIFY, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_REQUIRED_VERIFY, OUTCOME_UNVERIFIED, ACTION_DEFER, ACTION_REJECT },
	{ TLS_REQUIRED_VERIFY, OUTCOME_NO_TLS, ACTION_DEFER, ACTION_REJECT },
	{ TLS_REQUIRED_VERIFY, OUTCOME_TEMP, ACTION_DEFER, ACTION_DEFER },
	{ TLS_REQUIRED_VERIFY, OUTCOME_NULL_MX, ACTION_REJECT, ACTION_REJECT },
	{ TLS_REQUIRED_VERIFY, OUTCOME_NO_HOST, ACTION_DEFER, ACTION_REJECT },
	{ TLS_REQUIRED_VERIFY_HOSTED, OUTCOME_VERIFIED, ACTION_ACCEPT,
	    ACTION_ACCEPT },
	{ TLS_REQUIRED_VERIFY_HOSTED, OUTCOME_UNVERIFIED, ACTION_DEFER,
	    ACTION_REJECT },
	{ TLS_REQUIRED_VERIFY_HOSTED, OUTCOME_NO_TLS, ACTION_DEFER,
	    ACTION_REJECT },
	{ TLS_REQUIRED_VERIFY_HOSTED, OUTCOME_TEMP, ACTION_DEFER,
	    ACTION_DEFER },
	{ TLS_REQUIRED_VERIFY_HOSTED, OUTCOME_NULL_MX, ACTION_REJECT,
	    ACTION_REJECT },
	/* an unprobed outcome under a probing setting is never accepted */
	{ TLS_REQUIRED_VERIFY, OUTCOME_NOT_PROBED, ACTION_DEFER, ACTION_DEFER },
	/* SPEC 12: dane and dane-only fail like a required setting */
	{ TLS_DANE, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_DANE, OUTCOME_NO_POLICY, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_DANE, OUTCOME_ENCRYPTED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_DANE, OUTCOME_UNVERIFIED, ACTION_DEFER, ACTION_REJECT },
	{ TLS_DANE, OUTCOME_NO_TLS, ACTION_DEFER, ACTION_REJECT },
	{ TLS_DANE, OUTCOME_TEMP, ACTION_DEFER, ACTION_DEFER },
	{ TLS_DANE, OUTCOME_NULL_MX, ACTION_REJECT, ACTION_REJECT },
	{ TLS_DANE_ONLY, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_DANE_ONLY, OUTCOME_ENCRYPTED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_DANE_ONLY, OUTCOME_UNVERIFIED, ACTION_DEFER, ACTION_REJECT },
	{ TLS_DANE_ONLY, OUTCOME_NO_HOST, ACTION_DEFER, ACTION_REJECT },
	{ TLS_DANE_ONLY, OUTCOME_TEMP, ACTION_DEFER, ACTION_DEFER },
	{ TLS_DANE_ONLY, OUTCOME_NOT_PROBED, ACTION_DEFER, ACTION_DEFER },
	/* SPEC 12: mta-sts and auto decide as dane does */
	{ TLS_MTA_STS, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_MTA_STS, OUTCOME_NO_POLICY, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_MTA_STS, OUTCOME_UNVERIFIED, ACTION_DEFER, ACTION_REJECT },
	{ TLS_MTA_STS, OUTCOME_NO_TLS, ACTION_DEFER, ACTION_REJECT },
	{ TLS_MTA_STS, OUTCOME_TEMP, ACTION_DEFER, ACTION_DEFER },
	{ TLS_MTA_STS, OUTCOME_NULL_MX, ACTION_REJECT, ACTION_REJECT },
	{ TLS_MTA_STS, OUTCOME_NOT_PROBED, ACTION_DEFER, ACTION_DEFER },
	{ TLS_AUTO, OUTCOME_VERIFIED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_AUTO, OUTCOME_ENCRYPTED, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_AUTO, OUTCOME_NO_POLICY, ACTION_ACCEPT, ACTION_ACCEPT },
	{ TLS_AUTO, OUTCOME_UNVERIFIED, ACTION_DEFER, ACTION_REJECT },
	{ TLS_AUTO, OUTCOME_NO_HOST, ACTION_DEFER, ACTION_REJECT },
	{ TLS_AUTO, OUTCOME_TEMP, ACTION_DEFER, ACTION_DEFER },
	/* dane's outcomes never accept under the seed's settings */
	{ TLS_REQUIRED_VERIFY, OUTCOME_NO_POLICY, ACTION_DEFER, ACTION_DEFER },
	{ TLS_REQUIRED, OUTCOME_ENCRYPTED, ACTION_DEFER, ACTION_DEFER },
};

static const struct {
	enum tls_setting s;
	enum outcome	 o;
	enum on_fail	 f;
	struct attempt	 a;		/* the top attempt */
	int		 has_a;
	const char	*code, *xcode, *result;
} codes[] = {
	{ TLS_REQUIRED_VERIFY, OUTCOME_VERIFIED, ON_FAIL_DEFER,
	    { .tls = 1, .verified = 1 }, 1, "", "", "verified" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_UNVERIFIED, ON_FAIL_DEFER,
	    { .tls = 1, .connected = 1 }, 1, "450", "4.7.5", "unverified" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_UNVERIFIED, ON_FAIL_REJECT,
	    { .tls = 1, .connected = 1 }, 1, "550", "5.7.5", "unverified" },
	{ TLS_REQUIRED, OUTCOME_NO_TLS, ON_FAIL_DEFER,
	    { .connected = 1, .stage = STAGE_STARTTLS }, 1, "450", "4.7.10",
	    "plain" },
	{ TLS_REQUIRED_VERIFY_HOSTED, OUTCOME_NO_TLS, ON_FAIL_REJECT,
	    { .connected = 1, .stage = STAGE_STARTTLS }, 1, "550", "5.7.10",
	    "plain" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_TEMP, ON_FAIL_REJECT,
	    { .stage = STAGE_DNS, .temporary = 1 }, 1, "451", "4.4.3",
	    "unknown" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_TEMP, ON_FAIL_DEFER,
	    { .port = 0 }, 0, "451", "4.4.3", "unknown" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_TEMP, ON_FAIL_DEFER,
	    { .stage = STAGE_CONNECT, .temporary = 1 }, 1, "451", "4.4.1",
	    "unknown" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_TEMP, ON_FAIL_DEFER,
	    { .connected = 1, .tls = 1, .stage = STAGE_CERTIFICATE,
	    .temporary = 1 }, 1, "451", "4.7.5", "unknown" },
	{ TLS_REQUIRED_VERIFY, OUTCOME_NULL_MX, ON_FAIL_DEFER,
	    { .port = 0 }, 0, "556", "5.1.10", "null-mx" },
	{ TLS_REQUIRED, OUTCOME_NO_HOST, ON_FAIL_DEFER,
	    { .port = 0 }, 0, "450", "4.1.2", "no-host" },
	{ TLS_PREFERRED_VERIFY, OUTCOME_NO_TLS, ON_FAIL_REJECT,
	    { .connected = 1 }, 1, "", "", "plain" },
	{ TLS_PREFERRED_VERIFY, OUTCOME_TEMP, ON_FAIL_REJECT,
	    { .port = 0 }, 0, "", "", "unknown" },
	{ TLS_DANE, OUTCOME_UNVERIFIED, ON_FAIL_DEFER,
	    { .tls = 1, .connected = 1, .dane = 1 }, 1, "450", "4.7.5",
	    "unverified" },
	{ TLS_DANE_ONLY, OUTCOME_UNVERIFIED, ON_FAIL_REJECT,
	    { .no_dane = 1 }, 1, "550", "5.7.5", "unverified" },
	{ TLS_DANE, OUTCOME_TEMP, ON_FAIL_REJECT,
	    { .stage = STAGE_DNS, .temporary = 1 }, 1, "451", "4.4.3",
	    "unknown" },
	{ TLS_DANE, OUTCOME_NO_POLICY, ON_FAIL_DEFER,
	    { .no_policy = 1 }, 1, "", "", "no-policy" },
	{ TLS_DANE_ONLY, OUTCOME_ENCRYPTED, ON_FAIL_DEFER,
	    { .tls = 1, .connected = 1 }, 1, "", "", "encrypted" },
	{ TLS_DANE_ONLY, OUTCOME_NO_TLS, ON_FAIL_DEFER,
	    { .connected = 1, .stage = STAGE_STARTTLS }, 1, "450", "4.7.10",
	    "plain" },
	{ TLS_MTA_STS, OUTCOME_UNVERIFIED, ON_FAIL_DEFER,
	    { .sts = 1, .sts_nomatch = 1, .stage = STAGE_IDENTITY }, 1, "450",
	    "4.7.5", "unverified" },
	{ TLS_MTA_STS, OUTCOME_UNVERIFIED, ON_FAIL_REJECT,
	    { .sts = 1, .tls = 1, .connected = 1 }, 1, "550", "5.7.5",
	    "unverified" },
	{ TLS_AUTO, OUTCOME_NO_TLS, ON_FAIL_DEFER,
	    { .sts = 1, .connected = 1, .stage = STAGE_STARTTLS }, 1, "450",
	    "4.7.10", "plain" },
	{ TLS_MTA_STS, OUTCOME_TEMP, ON_FAIL_REJECT,
	    { .stage = STAGE_DNS, .temporary = 1 }, 1, "451", "4.4.3",
	    "unknown" },
	{ TLS_AUTO, OUTCOME_NO_POLICY, ON_FAIL_DEFER,
	    { .no_policy = 1 }, 1, "", "", "no-policy" },
};

/* An MTA-STS policy in testing mode: a failure is tagged (never deferred
 * nor rejected), a null MX still rejected. */
static void
testing_tags(void)
{
	static const enum outcome	 o[] = { OUTCOME_UNVERIFIED,
					    OUTCOME_NO_TLS, OUTCOME_TEMP,
					    OUTCOME_NO_HOST, OUTCOME_NULL_MX };
	struct attempt			 a;
	struct verdict			 v;
	size_t				 i;

	for (i = 0; i < sizeof(o) / sizeof(o[0]); i++) {
		memset(&v, 0, sizeof(v));
		memset(&a, 0, sizeof(a));
		a.sts = a.tls = a.connected = 1;
		strcpy(v.domain, "example.com");
		v.setting = i % 2 ? TLS_AUTO : TLS_MTA_STS;
		v.outcome = o[i];
		v.attempts = &a;
		v.n_attempts = 1;
		v.sts_testing = 1;
		verdict_decide(&v, ON_FAIL_REJECT);
		if (o[i] == OUTCOME_NULL_MX)
			T_OK(v.action == ACTION_REJECT &&
			    strcmp(v.code, "556") == 0, "testing: null MX "
			    "still rejected (%s)", v.code);
		else
			T_OK(v.action == ACTION_TAG && v.code[0] == '\0' &&
			    v.text[0] == '\0', "testing: %s is tagged (%s)",
			    verdict_outcome_str(o[i]),
			    verdict_action_str(v.action));
		v.sts_testing = 0;
		verdict_decide(&v, ON_FAIL_REJECT);
		T_OK(v.action != ACTION_TAG, "enforce: %s is not tagged",
		    verdict_outcome_str(o[i]));
	}
}

int
main(void)
{
	struct verdict	v;
	size_t		i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		T_OK(verdict_action(rows[i].s, rows[i].o, ON_FAIL_DEFER) ==
		    rows[i].defer, "table %s/%s on_fail=defer -> %s",
		    conf_setting_name(rows[i].s),
		    verdict_outcome_str(rows[i].o),
		    verdict_action_str(rows[i].defer));
		T_OK(verdict_action(rows[i].s, rows[i].o, ON_FAIL_REJECT) ==
		    rows[i].reject, "table %s/%s on_fail=reject -> %s",
		    conf_setting_name(rows[i].s),
		    verdict_outcome_str(rows[i].o),
		    verdict_action_str(rows[i].reject));
	}
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		memset(&v, 0, sizeof(v));
		strcpy(v.domain, "example.com");
		strcpy(v.reason, "100% wrong\r\nreason");
		v.setting = codes[i].s;
		v.outcome = codes[i].o;
		v.attempts = (struct attempt *)&codes[i].a;
		v.n_attempts = codes[i].has_a;
		v.best = codes[i].has_a ? 0 : -1;
		verdict_decide(&v, codes[i].f);
		T_OK(strcmp(v.code, codes[i].code) == 0 &&
		    strcmp(v.xcode, codes[i].xcode) == 0 &&
		    strcmp(v.result, codes[i].result) == 0,
		    "codes %s/%s -> '%s' '%s' %s (got '%s' '%s' %s)",
		    conf_setting_name(codes[i].s),
		    verdict_outcome_str(codes[i].o), codes[i].code,
		    codes[i].xcode, codes[i].result, v.code, v.xcode,
		    v.result);
		T_OK(strpbrk(v.text, "%\r\n") == NULL &&
		    (v.code[0] == '\0') == (v.text[0] == '\0') &&
		    (v.code[0] == '\0' || strstr(v.text, "example.com")),
		    "reply text safe and names the domain: '%s'", v.text);
		T_OK(v.temporary == (codes[i].o == OUTCOME_TEMP),
		    "temporary flag for %s", verdict_outcome_str(codes[i].o));
	}
	testing_tags();
	return T_DONE();
}
