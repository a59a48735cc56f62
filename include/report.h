/*
 * report.h - how a verdict is shown: tlsverify-probe's explanation and JSON
 * (SPEC section 9), and the milter's one log line per verdict.
 *
 * report_text() prints the step-by-step explanation: the trace (DNS answers,
 * connections), then per attempt the presented identifiers, the reference
 * identifiers and every comparison, then the verdict.
 * report_json() prints one JSON object with exactly the keys of SPEC 9
 * (null where a key does not apply), strings escaped.
 * report_logline() writes "domain=... setting=... result=... action=...
 * host=... ip=... reason="..."" into buf (always NUL-terminated); the
 * reason (which holds network text: SMTP replies, names) is the one quoted
 * value, escaped with text_quoted() (\" \\ \xHH, at most 200 source
 * bytes); host is one word without '"', backslash, '=' or spaces. So no
 * peer can add or change a field. 2048 bytes hold any verdict whole;
 * report_logfields() the same without "domain=... setting=... " (what the
 * milter's cache keeps: it knows the domain and setting from its key).
 */
#ifndef TV_REPORT_H
#define TV_REPORT_H

#include <stdio.h>
#include "verdict.h"

void	report_text(FILE *, const struct verdict *);
void	report_json(FILE *, const struct verdict *);
void	report_logline(const struct verdict *, char *buf, size_t len);
void	report_logfields(const struct verdict *, char *buf, size_t len);

#endif
