/*
 * test_fuzz_corpus.c - replays every fuzzing seed and regression input in
 * tests/fuzz/<target>/ (run from the repo root) through the libFuzzer
 * targets in fuzz/, built here by gcc without libFuzzer: each target file
 * is included with LLVMFuzzerTestOneInput renamed. One TAP line per input
 * file: "ok N - <target> <file>" once the target returned for it. A crash,
 * a sanitizer report (make check SANITIZE=1) or an invariant the target
 * checks (abort()) fails the run; tests/run.py counts that. Files whose
 * name starts with '.' or is README* are skipped. Each target must have at
 * least one input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

#define LLVMFuzzerTestOneInput	fuzz_conf_one
#include "../../fuzz/fuzz_conf.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_dns_one
#include "../../fuzz/fuzz_dns.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_smtp_reply_one
#include "../../fuzz/fuzz_smtp_reply.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_ident_one
#include "../../fuzz/fuzz_ident.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput	fuzz_mtasts_one
#include "../../fuzz/fuzz_mtasts.c"
#undef LLVMFuzzerTestOneInput

#define CORPUS_MAXFILE	(1024 * 1024)

struct corpus_target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
};

static int
corpus_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read path into a fresh buffer; -1 when it cannot be read whole. */
static int
corpus_read(const char *path, uint8_t **buf, size_t *len)
{
	FILE	*fp;
	int	 rv = -1;

	*buf = malloc(CORPUS_MAXFILE);
	*len = 0;
	if (*buf == NULL || (fp = fopen(path, "rb")) == NULL)
		return -1;
	*len = fread(*buf, 1, CORPUS_MAXFILE, fp);
	if (!ferror(fp) && feof(fp))
		rv = 0;
	fclose(fp);
	return rv;
}

/* Sorted file names of dir (caller frees); count in *n. */
static char **
corpus_list(const char *dir, size_t *n)
{
	DIR		*d;
	struct dirent	*e;
	char		**v = NULL;

	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "README", 6) == 0)
			continue;
		v = realloc(v, (*n + 1) * sizeof(*v));
		if (v == NULL)
			abort();
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), corpus_cmp);
	return v;
}

static void
corpus_run(const struct corpus_target *t)
{
	char	 dir[256], path[512];
	char	**files;
	uint8_t	*buf;
	size_t	 n, i, len;
	int	 r;

	(void)snprintf(dir, sizeof(dir), "tests/fuzz/%s", t->name);
	files = corpus_list(dir, &n);
	T_OK(n > 0, "%s: corpus %s has inputs (%zu)", t->name, dir, n);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		printf("# %s\n", path);
		fflush(stdout);
		r = corpus_read(path, &buf, &len);
		if (r == 0)
			r = t->one(buf, len);
		T_OK(r == 0, "%s %s", t->name, files[i]);
		free(buf);
		free(files[i]);
	}
	free(files);
}

int
main(void)
{
	static const struct corpus_target targets[] = {
		{ "conf", fuzz_conf_one },
		{ "dns", fuzz_dns_one },
		{ "smtp_reply", fuzz_smtp_reply_one },
		{ "ident", fuzz_ident_one },
		{ "mtasts", fuzz_mtasts_one },
	};
	size_t	i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		corpus_run(&targets[i]);
	if (fuzz_dns_ctx != NULL)
		dns_close(fuzz_dns_ctx);
	return T_DONE();
}
