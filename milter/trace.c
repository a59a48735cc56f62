/*
 * trace.c - the probe's step-by-step explanation (see trace.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"
#include "trace.h"
#include "xalloc.h"

void
trace_add(struct trace *t, const char *fmt, ...)
{
	char	 buf[TRACE_LINELEN];
	va_list	 ap;

	if (t == NULL)
		return;
	if (t->n >= TRACE_MAXLINES) {
		t->dropped++;
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);	/* cut is meant */
	va_end(ap);
	(void)text_safe(buf);		/* no control byte reaches a terminal */
	t->lines = xreallocarray(t->lines, t->n + 1, sizeof(*t->lines));
	t->lines[t->n++] = xstrdup(buf);
}

void
trace_free(struct trace *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	t->lines = NULL;
	t->n = t->dropped = 0;
}
