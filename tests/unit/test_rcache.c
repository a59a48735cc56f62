/*
 * test_rcache.c - the Redis side of shared verdicts without a server:
 * the version-1 value (round trip, and a table of hostile values that must
 * all be refused), the key, [cache] backend and redis_timeout syntax, the
 * password file's checks, and a handle with no server (down, never
 * blocking).
 */
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rcache.h"
#include "trustfp.h"
#include "verdict.h"
#include "t.h"

static struct cache_answer *
answer(enum cache_kind kind, int action, const char *code, const char *xcode,
    const char *hdr)
{
	const char	*str[CA_NSTR] = { "reply text", "result=verified "
			    "action=accept", hdr, "mx.example.com:example.com",
			    "", "cn.example.com", "secure" };

	return cache_answer_new(kind, action, code, xcode, str);
}

static void
roundtrip(void)
{
	struct cache_answer	*a = answer(CACHE_FAILED, ACTION_DEFER, "450",
				    "4.7.5", ""), *b = NULL;
	char			 buf[RCACHE_MAXVAL];
	size_t			 n = rcache_encode(a, "example.com", 300000, buf,
				    sizeof(buf));
	long			 life = 0;

	T_OK(n > 0 && memcmp(buf, "TVV2 1 2 450 4.7.5 300000 11 10 ", 32) ==
	    0, "encode: version-2 header (%.40s)", buf);
	T_OK(rcache_decode(buf, n, "example.com", &b, &life) == 0 &&
	    b != NULL, "decode what was encoded");
	T_OK(b != NULL && b->kind == CACHE_FAILED && b->action ==
	    ACTION_DEFER && strcmp(b->code, "450") == 0 &&
	    strcmp(b->xcode, "4.7.5") == 0 && life == 300000,
	    "kind, action, code, xcode, life survive");
	T_OK(b != NULL && strcmp(b->text, a->text) == 0 &&
	    strcmp(b->logline, a->logline) == 0 &&
	    strcmp(b->match, a->match) == 0 && strcmp(b->fpr, "") == 0 &&
	    strcmp(b->cn, a->cn) == 0 && strcmp(b->pol, "secure") == 0 &&
	    b->max_ttl_ms == 0,
	    "every string survives");
	cache_answer_unref(b);
	T_OK(rcache_decode(buf, n, "example.net", &b, &life) == -1 &&
	    b == NULL, "another domain's value is refused");
	T_OK(rcache_encode(a, "example.com", 300000, buf, 40) == 0,
	    "encode into a small buffer: 0");
	cache_answer_unref(a);
	a = answer(CACHE_OK, ACTION_ACCEPT, "", "", "example.com=verified");
	n = rcache_encode(a, "example.com", 3600000, buf, sizeof(buf));
	T_OK(n > 0 && rcache_decode(buf, n, "example.com", &b, &life) == 0 &&
	    b->code[0] == '\0' && strcmp(b->hdr, "example.com=verified") == 0,
	    "accept with an empty code and a header entry");
	cache_answer_unref(b);
	cache_answer_unref(a);
}

struct hostile {
	const char	*desc;
	const char	*val;		/* NULL: built below */
};

static const struct hostile hostile[] = {
	{ "empty", "" },
	{ "no header line", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 0" },
	{ "another magic", "XVV2 0 0 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "version 1 (no pol)", "TVV1 0 0 - - 1000 1 0 0 0 0 0 0\nx" },
	{ "a token more", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 0 0\nx" },
	{ "a token less", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0\nx" },
	{ "two spaces", "TVV2  0 0 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "trailing space", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 0 \nx" },
	{ "sign in a number", "TVV2 +0 0 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "negative length", "TVV2 0 0 - - 1000 -1 0 0 0 0 0 0 0\nx" },
	{ "huge length", "TVV2 0 0 - - 1000 99999999999 0 0 0 0 0 0 0\nx" },
	{ "token too long", "TVV2 0 0 - - 1000 000000000000000000001 0 0 0 0 "
	    "0 0 0\nx" },
	{ "kind 3", "TVV2 3 0 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "action 4", "TVV2 2 4 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "verified kind that defers", "TVV2 0 2 451 4.7.5 1000 1 0 0 0 0 0 "
	    "0 0\nx" },
	{ "failed kind that accepts", "TVV2 1 0 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "defer without a code", "TVV2 1 2 - - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "accept with a code", "TVV2 0 0 250 2.0.0 1000 1 0 0 0 0 0 0 0\nx" },
	{ "defer with a 5xx code", "TVV2 1 2 550 5.7.1 1000 1 0 0 0 0 0 0 0\nx" },
	{ "reject with a 4xx code", "TVV2 1 3 450 4.7.1 1000 1 0 0 0 0 0 "
	    "0 0\nx" },
	{ "xcode of another class", "TVV2 1 2 450 5.7.1 1000 1 0 0 0 0 0 "
	    "0 0\nx" },
	{ "xcode with an empty part", "TVV2 1 2 450 4..1 1000 1 0 0 0 0 0 "
	    "0 0\nx" },
	{ "xcode part too long", "TVV2 1 2 450 4.7.1234 1000 1 0 0 0 0 0 "
	    "0 0\nx" },
	{ "xcode with a letter", "TVV2 1 2 450 4.7.a 1000 1 0 0 0 0 0 0 0\nx" },
	{ "code 600", "TVV2 1 3 600 6.0.0 1000 1 0 0 0 0 0 0 0\nx" },
	{ "code with only xcode dash", "TVV2 1 2 450 - 1000 1 0 0 0 0 0 0 0\nx" },
	{ "life 0", "TVV2 0 0 - - 0 1 0 0 0 0 0 0 0\nx" },
	{ "life over a week", "TVV2 0 0 - - 604800001 1 0 0 0 0 0 0 0\nx" },
	{ "lengths one short", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 0\nxy" },
	{ "lengths one long", "TVV2 0 0 - - 1000 1 1 0 0 0 0 0 0\nx" },
	{ "CR LF in the header entry", "TVV2 0 0 - - 1000 1 0 0 4 0 0 0 0\n"
	    "xa\r\nb" },
	{ "newline in the reply text", "TVV2 1 2 450 4.7.5 1000 1 3 0 0 0 0 "
	    "0 0\nxa\nb" },
	{ "DEL byte in the log line", "TVV2 0 0 - - 1000 1 0 1 0 0 0 0 0\nx\x7f" },
	{ "another domain", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 0\ny" },
	{ "pol over its bound", "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 17\n"
	    "xsecuresecuresecur" },
	{ "a header line of 300 bytes", NULL },
	{ "a header entry over its bound", NULL },
	{ "a NUL in the reply text", NULL },
	{ "a value over RCACHE_MAXVAL", NULL },
};

static size_t
build(size_t i, char *buf, size_t len)
{
	size_t	n;

	switch (i) {
	case 0:		/* a header line of 300 bytes */
		memset(buf, '1', 300);
		memcpy(buf, "TVV2 0 0 - - 1000 1 0 0 0 0 0 0 ", 32);
		buf[300] = '\n';
		buf[301] = 'x';
		return 302;
	case 1:		/* hdr 1401 bytes */
		n = (size_t)snprintf(buf, len, "TVV2 0 0 - - 1000 1 0 0 1401 0 "
		    "0 0 0\nx");
		memset(buf + n, 'h', 1401);
		return n + 1401;
	case 2:		/* a NUL in the text */
		n = (size_t)snprintf(buf, len, "TVV2 1 2 450 4.7.5 1000 1 3 0 0 "
		    "0 0 0 0\nx");
		memcpy(buf + n, "a\0b", 3);
		return n + 3;
	default:	/* over the bound, well formed otherwise */
		n = (size_t)snprintf(buf, len, "TVV2 0 0 - - 1000 1 0 %d 0 0 0 "
		    "0 0\nx", RCACHE_MAXVAL);
		memset(buf + n, 'l', RCACHE_MAXVAL);
		return n + RCACHE_MAXVAL;
	}
}

static void
hostile_values(void)
{
	static char		 buf[2 * RCACHE_MAXVAL];
	struct cache_answer	*a;
	size_t			 i, n, built = 0;
	long			 life;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		if (hostile[i].val != NULL) {
			n = strlen(hostile[i].val);
			memcpy(buf, hostile[i].val, n);
		} else
			n = build(built++, buf, sizeof(buf));
		a = NULL;
		T_OK(rcache_decode(buf, n, "x", &a, &life) == -1 && a == NULL,
		    "hostile value refused: %s", hostile[i].desc);
		cache_answer_unref(a);
	}
	/* the same frame with sane content is accepted: the table tests
	 * what it says */
	a = NULL;
	n = strlen("TVV2 1 2 450 4.7.5 1000 1 3 0 0 0 0 0 0\nxa b");
	T_OK(rcache_decode("TVV2 1 2 450 4.7.5 1000 1 3 0 0 0 0 0 0\nxa b", n,
	    "x", &a, &life) == 0 && a != NULL && strcmp(a->text, "a b") == 0,
	    "the well-formed neighbour of the table is accepted");
	cache_answer_unref(a);
}

static void
keys(void)
{
	char	fp[TRUSTFP_LEN], k1[RCACHE_KEYLEN], k2[RCACHE_KEYLEN], k3[8];

	memset(fp, 'a', 64);
	fp[64] = '\0';
	T_OK(rcache_key(fp, "example.com|required-verify|", "example.com", k1,
	    sizeof(k1)) == 0 && strncmp(k1, "v2:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ":example.com:", 48) == 0 && strlen(k1) == 48 + 32,
	    "key: v2:FP32:DOMAIN:H32 (%s)", k1);
	(void)rcache_key(fp, "example.com|required-verify|mx:25/0",
	    "example.com", k2, sizeof(k2));
	T_OK(strcmp(k1, k2) != 0, "routes change the key");
	fp[0] = 'b';
	(void)rcache_key(fp, "example.com|required-verify|", "example.com", k2,
	    sizeof(k2));
	T_OK(strcmp(k1, k2) != 0, "trust_fp changes the key");
	T_OK(rcache_key(fp, "k", "example.com", k3, sizeof(k3)) == -1,
	    "key into a small buffer: -1");
}

static void
backends(void)
{
	static const struct {
		const char *v;
		int	    ok;
		const char *desc;
	} t[] = {
		{ "memory", 1, "memory" },
		{ "redis://127.0.0.1", 1, "redis://127.0.0.1:6379/0" },
		{ "redis://r.example:6380/2", 1, "redis://r.example:6380/2" },
		{ "redis://:pw@h", 1, "redis://h:6379/0" },
		{ "redis://:p@ss@h:1/1", 1, "redis://h:1/1" },
		{ "redis://[::1]:7000/15", 1, "redis://[::1]:7000/15" },
		{ "unix:/run/redis/r.sock", 1, "unix:/run/redis/r.sock?db=0" },
		{ "unix:/r.sock?db=3", 1, "unix:/r.sock?db=3" },
		{ "redis://", 0, NULL }, { "redis://:pw@", 0, NULL },
		{ "redis://h:", 0, NULL }, { "redis://h:0", 0, NULL },
		{ "redis://h:65536", 0, NULL }, { "redis://h/", 0, NULL },
		{ "redis://h/65536", 0, NULL }, { "redis://h/-1", 0, NULL },
		{ "redis://[::1", 0, NULL }, { "redis://h x", 0, NULL },
		{ "redis://user@h", 0, NULL }, { "rediss://h", 0, NULL },
		{ "unix:", 0, NULL }, { "unix:r.sock", 0, NULL },
		{ "unix:/r?db=", 0, NULL }, { "unix:/r?x=1", 0, NULL },
		{ "Memory", 0, NULL }, { "h:6379", 0, NULL },
	};
	struct rcache_cfg	c;
	char			err[200];
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		rc = rcache_cfg_parse(t[i].v, &c, err, sizeof(err));
		T_OK(t[i].ok ? rc == 0 && strcmp(c.desc, t[i].desc) == 0 &&
		    strstr(c.desc, "pw") == NULL : rc == -1 &&
		    strstr(err, "backend") != NULL,
		    "backend '%s': %s", t[i].v, t[i].ok ? t[i].desc : "error");
		if (rc == 0) {
			free(c.host);
			free(c.path);
			free(c.password);
		}
	}
	rc = rcache_cfg_parse("redis://:p@ss@h:1/1", &c, err, sizeof(err));
	T_OK(rc == 0 && strcmp(c.password, "p@ss") == 0 && c.port == 1 &&
	    c.db == 1 && c.timeout_ms == 500, "password up to the last '@'; "
	    "timeout 0.5 s by default");
	free(c.host);
	free(c.password);
}

static void
timeouts(void)
{
	static const struct { const char *v; long ms; } t[] = {
		{ "0.5", 500 }, { "2", 2000 }, { "0.001", 1 }, { "60", 60000 },
		{ ".25", 250 }, { "1.05", 1050 },
		{ "0", -1 }, { "60.001", -1 }, { "61", -1 }, { "0.0001", -1 },
		{ "1.", -1 }, { "", -1 }, { ".", -1 }, { "-1", -1 },
		{ "1e3", -1 }, { "0.5s", -1 },
	};
	size_t	i;
	long	ms;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms = -1;
		T_OK(t[i].ms >= 0 ? rcache_timeout_parse(t[i].v, &ms) == 0 &&
		    ms == t[i].ms : rcache_timeout_parse(t[i].v, &ms) == -1,
		    "redis_timeout '%s' -> %ld", t[i].v, t[i].ms);
	}
}

/* A conf naming path as the password file; rcache_cfg_load's result. */
static int
pwload(const char *path, const char *backend, char *err, size_t len,
    struct rcache_cfg **out)
{
	char		 text[512];
	struct conf	*conf = NULL;
	int		 rc;

	(void)snprintf(text, sizeof(text), "[cache]\nbackend = %s\n"
	    "redis_password_file = %s\n", backend, path);
	if (conf_load_mem(text, strlen(text), "t.conf", &conf, err, len) != 0)
		return -2;
	rc = rcache_cfg_load(conf, out, err, len);
	conf_free(conf);
	return rc;
}

static void
password_file(void)
{
	char			 dir[] = "/tmp/tv-rcache-XXXXXX", p[256], l[256];
	char			 err[512];
	struct rcache_cfg	*c = NULL;
	FILE			*fp;

	if (mkdtemp(dir) == NULL) {
		T_OK(0, "mkdtemp");
		return;
	}
	(void)snprintf(p, sizeof(p), "%s/pw", dir);
	(void)snprintf(l, sizeof(l), "%s/link", dir);
	fp = fopen(p, "w");
	fputs("s3cret\nsecond line\n", fp);
	fclose(fp);
	chmod(p, 0600);
	T_OK(pwload(p, "redis://h", err, sizeof(err), &c) == 0 && c != NULL &&
	    strcmp(c->password, "s3cret") == 0, "0600 file of ours: first "
	    "line is the password");
	rcache_cfg_free(c);
	c = NULL;
	T_OK(pwload(p, "memory", err, sizeof(err), &c) == 0 && c == NULL,
	    "memory: no Redis configuration");
	T_OK(pwload(p, "redis://:x@h", err, sizeof(err), &c) == -1 &&
	    strstr(err, "choose one") != NULL, "password twice refused");
	chmod(p, 0640);
	T_OK(pwload(p, "redis://h", err, sizeof(err), &c) == -1 &&
	    strstr(err, "mode 0640") != NULL, "group-readable refused: %s", err);
	chmod(p, 0604);
	T_OK(pwload(p, "redis://h", err, sizeof(err), &c) == -1 &&
	    strstr(err, "mode 0604") != NULL, "world-readable refused");
	chmod(p, 0600);
	T_OK(symlink(p, l) == 0 && pwload(l, "redis://h", err, sizeof(err),
	    &c) == -1, "a symbolic link refused");
	T_OK(pwload(dir, "redis://h", err, sizeof(err), &c) == -1,
	    "a directory refused");
	fp = fopen(p, "w");
	fputs("\nlate\n", fp);
	fclose(fp);
	T_OK(pwload(p, "redis://h", err, sizeof(err), &c) == -1 &&
	    strstr(err, "first line") != NULL, "an empty first line refused");
	if (geteuid() == 0) {
		T_OK(chown(p, 1, 1) == 0 && pwload(p, "redis://h", err,
		    sizeof(err), &c) == -1 && strstr(err, "owned by uid 1") !=
		    NULL, "another owner refused: %s", err);
	} else
		T_OK(1, "another owner: skipped (not root)");
	(void)unlink(l);
	(void)unlink(p);
	(void)rmdir(dir);
}

/* A server that refuses connections: down at once, calls do not wait. */
static void
no_server(void)
{
	struct rcache		*r = rcache_new();
	struct rcache_cfg	 c;
	struct rcache_state	 st;
	struct cache_answer	*a = NULL;
	struct timespec		 t0, t1;
	char			 err[200];
	long			 ttl, life, ms;

	T_OK(rcache_get(r, "k", "d", &a, &ttl, &life) == RCACHE_OFF,
	    "not configured: off");
	(void)rcache_cfg_parse("redis://127.0.0.1:1", &c, err, sizeof(err));
	rcache_configure(r, &c);
	rcache_state(r, &st);
	T_OK(st.configured && !st.up, "refused: configured, down");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	T_OK(rcache_get(r, "k", "d", &a, &ttl, &life) == RCACHE_DOWN &&
	    rcache_lock(r, "k", 1000) == RCACHE_DOWN, "down: get and lock");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	T_OK(ms < 50, "down: answered at once (%ld ms)", ms);
	rcache_configure(r, NULL);
	T_OK(rcache_lock(r, "k", 1000) == RCACHE_OFF, "configured off again");
	free(c.host);
	rcache_free(r);
}

int
main(void)
{
	roundtrip();
	hostile_values();
	keys();
	backends();
	timeouts();
	password_file();
	no_server();
	return T_DONE();
}
