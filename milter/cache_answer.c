/*
 * cache_answer.c - the verdict cache's answers (cache.h): immutable,
 * reference counted, each made in one allocation with its strings, since
 * 100,000 cached verdicts must stay small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "xalloc.h"

struct cache_answer *
cache_answer_new(enum cache_kind kind, int action, const char *code,
    const char *xcode, const char *const *str)
{
	struct cache_answer	*a;
	size_t			 len[CA_NSTR], total = 0, i;
	char			*p, **dst[CA_NSTR];

	for (i = 0; i < CA_NSTR; i++)
		total += len[i] = (str[i] != NULL ? strlen(str[i]) : 0) + 1;
	/* one allocation: 100,000 cached verdicts must stay small */
	a = xcalloc(1, sizeof(*a) + total);
	a->kind = kind;
	a->action = action;
	(void)snprintf(a->code, sizeof(a->code), "%s", code ? code : "");
	(void)snprintf(a->xcode, sizeof(a->xcode), "%s", xcode ? xcode : "");
	dst[CA_TEXT] = &a->text;
	dst[CA_LOG] = &a->logline;
	dst[CA_HDR] = &a->hdr;
	dst[CA_MATCH] = &a->match;
	dst[CA_FPR] = &a->fpr;
	dst[CA_CN] = &a->cn;
	dst[CA_POL] = &a->pol;
	for (p = (char *)(a + 1), i = 0; i < CA_NSTR; p += len[i], i++)
		*dst[i] = memcpy(p, str[i] != NULL ? str[i] : "", len[i]);
	a->refs = 1;
	return a;
}

struct cache_answer *
cache_answer_ref(struct cache_answer *a)
{
	__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	return a;
}

void
cache_answer_unref(struct cache_answer *a)
{
	if (a == NULL || __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(a);		/* the strings live in the same block */
}
