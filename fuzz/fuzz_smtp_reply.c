/*
 * fuzz_smtp_reply.c - libFuzzer target: the SMTP reply parser
 * (smtp_reply.c) on arbitrary bytes.
 *
 * The input is split into lines at '\n' (a '\r' before it is dropped), the
 * way the client hands lines to smtp_reply_line(); a complete or refused
 * reply starts a new one. Checked after every line: the return value is
 * -1, 0 or 1, a refusal has a reason, the code is 200..599 once set, and
 * r.text is NUL-terminated printable ASCII (abort() otherwise).
 * Built with clang -fsanitize=fuzzer (mk/fuzz.mk) and, without libFuzzer,
 * by tests/unit/test_fuzz_corpus.c, which replays tests/fuzz/smtp_reply/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_smtp_reply_check(const struct smtp_reply *r, int rc)
{
	size_t	i, n;

	if (rc < -1 || rc > 1 || (rc == -1 && r->error == NULL))
		abort();
	if (r->code != 0 && (r->code < 200 || r->code > 599))
		abort();
	n = strnlen(r->text, sizeof(r->text));
	if (n == sizeof(r->text))
		abort();
	for (i = 0; i < n; i++)
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply	 r;
	const char		*p = (const char *)data, *end = p + size, *nl;
	size_t			 len;
	int			 rc;

	smtp_reply_init(&r);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = (size_t)((nl ? nl : end) - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		rc = smtp_reply_line(&r, p, len);
		fuzz_smtp_reply_check(&r, rc);
		if (rc != 0)
			smtp_reply_init(&r);
		p = nl ? nl + 1 : end;
	}
	return 0;
}
