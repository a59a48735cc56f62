/*
 * trustfp.c - the digest of what a generation's verdicts depend on (see
 * trustfp.h): settings, then each trust or CRL source as "path\0" followed
 * by its content (files) or by each entry's name and content (directories,
 * names sorted).
 */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "trustfp.h"

struct trustfp {
	EVP_MD_CTX	*md;
	long		 budget;	/* bytes still to read */
};

static void
trustfp_str(struct trustfp *t, const char *s)
{
	s = s != NULL ? s : "";
	(void)EVP_DigestUpdate(t->md, s, strlen(s) + 1);
}

/* A file: its content within the budget, else its size and mtime. */
static void
trustfp_file(struct trustfp *t, const char *path)
{
	char		 buf[16384], meta[96];
	struct stat	 st;
	FILE		*fp;
	size_t		 n;

	trustfp_str(t, path);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		(void)snprintf(meta, sizeof(meta), "missing:%d", errno);
		trustfp_str(t, meta);
		return;
	}
	if (st.st_size > t->budget || (fp = fopen(path, "rb")) == NULL) {
		(void)snprintf(meta, sizeof(meta), "meta:%lld:%lld.%ld",
		    (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		    st.st_mtim.tv_nsec);
		trustfp_str(t, meta);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		(void)EVP_DigestUpdate(t->md, buf, n);
		t->budget -= (long)n;
	}
	(void)fclose(fp);
}

static int
trustfp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: every entry not starting with '.', names sorted. */
static void
trustfp_dir(struct trustfp *t, const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, path[4096];
	size_t		 n = 0, i;

	trustfp_str(t, dir);
	if ((d = opendir(dir)) == NULL) {
		trustfp_str(t, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL && n < TRUSTFP_MAXFILES) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof(*names))) == NULL ||
		    (names[n] = strdup(de->d_name)) == NULL)
			abort();
		n++;
	}
	(void)closedir(d);
	qsort(names, n, sizeof(*names), trustfp_cmp);
	for (i = 0; i < n; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		trustfp_file(t, path);
		free(names[i]);
	}
	free(names);
}

static const char *
trustfp_env(const char *var, const char *dflt)
{
	const char	*v = getenv(var);

	return v != NULL && *v != '\0' ? v : dflt;
}

void
trustfp_compute(const struct conf *c, char out[TRUSTFP_LEN])
{
	struct trustfp	 t;
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned	 dl = 0, i;
	char		 set[512], ns[INET6_ADDRSTRLEN] = "";

	t.md = EVP_MD_CTX_new();
	t.budget = TRUSTFP_MAXBYTES;
	if (t.md == NULL || EVP_DigestInit_ex(t.md, EVP_sha256(), NULL) != 1)
		abort();
	if (c->has_nameserver)
		(void)conf_ipaddr_str(&c->nameserver, ns, sizeof(ns));
	(void)snprintf(set, sizeof(set),
	    "%d|%u|%s|%u|%u|%u|%d|%d|%u|%u|%s|%u|%u", (int)c->on_fail,
	    c->probe_port, c->helo ? c->helo : "", c->probe_timeout,
	    c->connect_timeout, c->command_timeout, (int)c->revocation,
	    c->revocation_required, c->http_timeout, c->max_crl_size, ns,
	    c->nameserver_port, c->dns_timeout);
	trustfp_str(&t, set);
	if (c->ca_file == NULL && c->ca_path == NULL) {
		trustfp_file(&t, trustfp_env(X509_get_default_cert_file_env(),
		    X509_get_default_cert_file()));
		trustfp_dir(&t, trustfp_env(X509_get_default_cert_dir_env(),
		    X509_get_default_cert_dir()));
	}
	if (c->ca_file != NULL)
		trustfp_file(&t, c->ca_file);
	if (c->ca_path != NULL)
		trustfp_dir(&t, c->ca_path);
	if (c->crl_file != NULL)
		trustfp_file(&t, c->crl_file);
	if (c->crl_path != NULL)
		trustfp_dir(&t, c->crl_path);
	(void)EVP_DigestFinal_ex(t.md, d, &dl);
	EVP_MD_CTX_free(t.md);
	for (i = 0; i < dl && i < 32; i++)
		(void)snprintf(out + 2 * i, 3, "%02x", d[i]);
	out[2 * i] = '\0';
}
