/*
 * main_milter.c - tlsverify-milter: the daemon (SPEC section 7).
 *
 *   tlsverify-milter [-c FILE] [-f] [-n] [-V]
 *
 * -c FILE configuration (default CONF_DEFAULT_PATH); -f stay in the
 * foreground and log to stderr as well as syslog (to syslog only when
 * stderr is systemd's journal stream, log_stderr_is_journal()); -n check the
 * configuration (conf_load + engine_new) and exit 0, or 78 after printing
 * "FILE:LINE: message"; -n also prints the revocation mode (and whether it
 * is required) and the HELO name, and warns (still exit 0) when [probe]
 * timeout is 30 s or more (Postfix's milter_command_timeout) or when the
 * HELO name has no dot (not an FQDN: receivers may refuse it with 5xx);
 * the warnings are logged at start-up too. -V print the version.
 *
 * Start-up order, and why:
 *  1. load the configuration and build the engine (errors: exit 78);
 *  2. ignore SIGPIPE; block SIGUSR1, SIGHUP, SIGTERM and SIGINT before any
 *     thread exists, so every thread inherits the mask (libmilter waits for
 *     HUP/TERM/INT in its own thread and stops gracefully; our reload
 *     thread waits for USR1);
 *  3. without -f: fork, setsid, chdir("/"); the parent waits on a pipe and
 *     exits with the child's start-up status, so "started" means listening;
 *  4. write the pid file while still root (its directory need not be
 *     writable by the milter user; it is removed at exit when that is still
 *     allowed, e.g. a directory owned by the milter user), opened without
 *     following a symlink, refused unless it is a regular file with one
 *     link (a hard link planted by the milter user would make root truncate
 *     another file: exit 73), and locked (flock) for the life of the
 *     process: a second instance finds it locked and stops before touching
 *     the socket;
 *  5. umask 007 (the MTA's group may connect to a unix socket), then as root
 *     with [milter] user set: setgid, initgroups, setuid; as OpenSSH does,
 *     getting the old ids back is checked only when they changed, so
 *     user = root works (with a warning);
 *  5b. open the [policy] socket (SPEC 10), the [query] socket (SPEC 11:
 *     Exim) and the [metrics] listen port (SPEC 13) before the drop, so a
 *     port below 1024 or a root-owned directory work too;
 *  6. smfi_setconn, smfi_register, smfi_opensocket(true) (removes a stale
 *     unix socket) as the milter user, so libmilter can unlink it at exit;
 *     an existing unix socket that accepts a connection belongs to a live
 *     daemon (e.g. one started with another pid file): we stop (exit 71)
 *     instead of letting libmilter unlink it; then mlfi_pool_init() finds
 *     libmilter's socket for the hand-offs (mlfi_pool.h);
 *  7. start the reload thread, the policy service (netsrv.h, answering
 *     with policy.h from the same decisions as the milter), the query
 *     service (NETSRV_LINE, query.h) and the metrics server (netsrv.h
 *     HTTP, metrics.h), report success to the parent, smfi_main().
 * [policy] socket, [query] socket and [metrics] listen are read at start
 * only: changing
 * them needs a restart.
 * The configuration file must be readable by the milter user for reloads.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "conf.h"
#include "gen.h"
#include "log.h"
#include "metrics.h"
#include "mlfi.h"
#include "mlfi_pool.h"
#include "netsrv.h"
#include "tlsrpt.h"
#include "policy.h"
#include "query.h"
#include "revoke.h"

#ifndef TV_VERSION
#define TV_VERSION "unknown"
#endif

#define EX_OK_		0
#define EX_USAGE_	64
#define EX_SOFTWARE_	70
#define EX_OSERR_	71
#define EX_CANTCREAT_	73
#define EX_CONFIG_	78
#define PROG		"tlsverify-milter"
#define POSTFIX_MILTER_TIMEOUT	30

static char		 main_conf_path[PATH_MAX];
static volatile int	 main_stopping;
static int		 main_ready_fd = -1;
static int		 main_pid_fd = -1;	/* locked while we run */

static void
main_usage(void)
{
	fprintf(stderr, "usage: %s [-c FILE] [-f] [-n] [-V]\n", PROG);
	exit(EX_USAGE_);
}

static void
main_timeout_warning(const struct conf *c, int to_stderr)
{
	if (c->probe_timeout < POSTFIX_MILTER_TIMEOUT)
		return;
	if (to_stderr)
		fprintf(stderr, "%s: warning: [probe] timeout = %u s is not "
		    "below Postfix's milter_command_timeout (30 s by "
		    "default): the MTA may give up before the verdict\n",
		    c->path != NULL ? c->path : main_conf_path,
		    c->probe_timeout);
	else
		log_warn("[probe] timeout = %u s is not below Postfix's "
		    "milter_command_timeout (30 s by default)",
		    c->probe_timeout);
}

/* A HELO name without a dot (not "[address]") is not an FQDN. */
static void
main_helo_warning(const struct conf *c, int to_stderr)
{
	if (c->helo == NULL || c->helo[0] == '[' ||
	    strchr(c->helo, '.') != NULL)
		return;
	if (to_stderr)
		fprintf(stderr, "%s: warning: HELO name '%s' is not a fully "
		    "qualified domain name: receivers may refuse EHLO with a "
		    "5xx reply; set [probe] helo\n",
		    c->path != NULL ? c->path : main_conf_path, c->helo);
	else
		log_warn("HELO name '%s' is not a fully qualified domain name; "
		    "set [probe] helo", c->helo);
}

/* -n: what the defaults made of a few keys. */
static void
main_check_print(const char *path, const struct conf *c)
{
	printf("%s: revocation %s%s\n", path, revoke_mode_str(c->revocation),
	    c->revocation == REVOCATION_NONE ? "" : c->revocation_required ?
	    ", required (no answer defers)" : ", not required (no answer "
	    "passes)");
	printf("%s: helo %s\n", path, c->helo != NULL ? c->helo : "?");
}

/* -n: check and exit. */
static int
main_check(const char *path)
{
	struct gen	*g;
	char		 err[1024];

	if ((g = gen_load(path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG_;
	}
	main_timeout_warning(g->conf, 1);
	main_helo_warning(g->conf, 1);
	printf("%s: configuration OK\n", path);
	main_check_print(path, g->conf);
	gen_unref(g);
	return EX_OK_;
}

static void
main_signals(void)
{
	sigset_t	set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Fork into the background; the parent exits with the child's status. */
static void
main_daemonise(void)
{
	int		p[2];
	pid_t		pid;
	unsigned char	st = EX_SOFTWARE_;

	if (pipe(p) != 0 || (pid = fork()) < 0) {
		perror(PROG ": fork");
		exit(EX_OSERR_);
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &st, 1) != 1)
			st = EX_SOFTWARE_;
		_exit(st);
	}
	close(p[0]);
	main_ready_fd = p[1];
	if (setsid() < 0 || chdir("/") != 0) {
		perror(PROG ": setsid/chdir");
		exit(EX_OSERR_);
	}
}

/* Tell the waiting parent (if any) how start-up went. */
static void
main_ready(unsigned char status)
{
	int	fd;

	if (main_ready_fd < 0)
		return;
	if (write(main_ready_fd, &status, 1) != 1)
		log_warn("cannot report start-up status: %s",
		    strerror(errno));
	close(main_ready_fd);
	main_ready_fd = -1;
	if (status == 0 && (fd = open("/dev/null", O_RDWR)) >= 0) {
		(void)dup2(fd, 0);
		(void)dup2(fd, 1);
		(void)dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* A pid file we may write: a regular file with one link (fd open). */
static int
main_pidfile_ok(const char *path, int fd)
{
	struct stat	st;

	if (fstat(fd, &st) != 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_err("pid file %s is not a regular file with exactly one "
		    "link (%s, %lu links): not written", path,
		    S_ISREG(st.st_mode) ? "a regular file" : "another type",
		    (unsigned long)st.st_nlink);
		return -1;
	}
	return 0;
}

/* 0 or an exit status. */
static int
main_pidfile(const char *path)
{
	char	buf[32];
	int	fd, n;

	if (path == NULL || *path == '\0')
		return 0;
	/* no symlink followed (the directory may belong to the milter
	 * user); O_RDWR | O_NONBLOCK opens a FIFO without waiting for a
	 * reader, so the check below refuses it; the lock, held while the
	 * process lives, keeps a second instance from taking over the pid
	 * file and the socket */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("pid file %s: %s", path, strerror(errno));
		return EX_OSERR_;
	}
	if (main_pidfile_ok(path, fd) != 0) {
		close(fd);
		return EX_CANTCREAT_;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_err("pid file %s is locked: tlsverify-milter is already "
		    "running", path);
		close(fd);
		return EX_OSERR_;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, buf, (size_t)n) != n) {
		log_err("pid file %s: cannot write: %s", path,
		    strerror(errno));
		close(fd);
		return EX_OSERR_;
	}
	main_pid_fd = fd;
	return 0;
}

/*
 * After the change, as OpenSSH's permanently_set_uid(): the old ids must
 * not come back, checked only for ids that actually changed (user = root
 * changes nothing, and setuid(0) as root always succeeds).
 */
static int
main_drop_check(uid_t old_uid, gid_t old_gid, const struct passwd *pw)
{
	if (old_gid != pw->pw_gid && pw->pw_uid != 0 &&
	    (setgid(old_gid) == 0 || setegid(old_gid) == 0)) {
		log_err("privileges could be regained after dropping them "
		    "(group %lu)", (unsigned long)old_gid);
		return -1;
	}
	if (old_uid != pw->pw_uid &&
	    (setuid(old_uid) == 0 || seteuid(old_uid) == 0)) {
		log_err("privileges could be regained after dropping them "
		    "(user %lu)", (unsigned long)old_uid);
		return -1;
	}
	return 0;
}

static int
main_drop(const char *user)
{
	struct passwd	*pw;
	uid_t		 old_uid = getuid();
	gid_t		 old_gid = getgid();

	if (user == NULL || *user == '\0') {
		if (geteuid() == 0)
			log_warn("running as root: set [milter] user to drop "
			    "privileges");
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL) {
		log_err("[milter] user %s: no such user", user);
		return -1;
	}
	if (geteuid() != 0) {		/* e.g. systemd's User= did it */
		if (geteuid() != pw->pw_uid)
			log_warn("[milter] user = %s ignored: not started as "
			    "root", user);
		return 0;
	}
	if (pw->pw_uid == 0)
		log_warn("[milter] user = %s has uid 0: running as root is "
		    "discouraged, choose an unprivileged user", user);
	if (setgid(pw->pw_gid) != 0 || initgroups(user, pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		log_err("cannot become user %s: %s", user, strerror(errno));
		return -1;
	}
	return main_drop_check(old_uid, old_gid, pw);
}

/*
 * TCP_NODELAY on the listening TCP socket (accepted connections inherit it
 * on Linux). At end of message the milter sends "add header" and then
 * "continue" as two small writes; with Nagle the second waits for the MTA's
 * delayed ACK, about 40 ms a message (docs/BENCHMARKS.md). libmilter does
 * not hand out its descriptor, so the listening TCP socket is found among
 * the open descriptors right after smfi_opensocket().
 */
static void
main_nodelay(void)
{
	int		fd, on = 1, val;
	socklen_t	len;

	for (fd = 3; fd < 64; fd++) {
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) != 0 ||
		    !val)
			continue;
		len = sizeof(val);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) != 0 ||
		    (val != AF_INET && val != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) != 0)
			log_warn("TCP_NODELAY on the milter socket: %s",
			    strerror(errno));
	}
}

static int	main_policy_fd = -1, main_query_fd = -1, main_metrics_fd = -1;

/*
 * libmilter unlinks an existing unix socket before it binds (rmsocket).
 * A socket that accepts a connection is a live daemon's (one started with
 * another pid file or none): refuse instead of stealing its path. A
 * refused connection (ECONNREFUSED) is a stale socket: libmilter removes
 * it. Other errors are left to libmilter.
 */
static int
main_socket_in_use(const char *spec)
{
	struct sockaddr_un	 sun;
	const char		*path;
	struct stat		 st;
	int			 fd, rv;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else
		return 0;
	if (strlen(path) >= sizeof(sun.sun_path) || lstat(path, &st) != 0 ||
	    !S_ISSOCK(st.st_mode))
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	rv = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (rv)
		log_err("socket %s is in use: another milter (a second "
		    "tlsverify-milter?) is listening on it; not removing it",
		    path);
	return rv;
}

static int
main_socket(const struct conf *c)
{
	const char	*sock = c->socket != NULL ? c->socket :
			    "inet:8895@127.0.0.1";
	const int	 ours[] = { main_policy_fd, main_query_fd,
			    main_metrics_fd };

	if (smfi_setconn((char *)sock) != MI_SUCCESS ||
	    smfi_register(*mlfi_desc()) != MI_SUCCESS) {
		log_err("cannot set up libmilter for socket %s", sock);
		return -1;
	}
	if (main_socket_in_use(sock))
		return -1;
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_err("cannot open milter socket %s", sock);
		return -1;
	}
	main_nodelay();
	(void)mlfi_pool_init(ours, sizeof(ours) / sizeof(ours[0]));
	log_info("listening on %s", sock);
	return 0;
}

static void *
main_reload_thread(void *arg)
{
	sigset_t	set;
	int		sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (main_stopping)
			break;
		log_info("SIGUSR1: reloading %s", main_conf_path);
		(void)mlfi_reload(main_conf_path);
	}
	return NULL;
}


/* Open one service socket (spec NULL: off); 0 or -1. */
static int
main_service_open(const char *spec, const char *what, int *fd)
{
	char	err[512];

	if (spec == NULL)
		return 0;
	if ((*fd = netsrv_listen(spec, err, sizeof(err))) < 0) {
		log_err("cannot open %s socket %s: %s", what, spec, err);
		return -1;
	}
	log_info("%s service listening on %s", what, spec);
	return 0;
}

static int
main_metrics_open(const struct conf *c)
{
	char	spec[320], err[512];

	if (c->metrics_listen == NULL)
		return 0;
	if (metrics_listen_spec(c->metrics_listen, spec, sizeof(spec)) != 0) {
		log_err("metrics listen %s: %s", c->metrics_listen, spec);
		return -1;
	}
	if ((main_metrics_fd = netsrv_listen(spec, err, sizeof(err))) < 0) {
		log_err("cannot open metrics listener %s: %s",
		    c->metrics_listen, err);
		return -1;
	}
	log_info("metrics served at http://%s/metrics", c->metrics_listen);
	return 0;
}

/* Steps 4-6 of the start-up; 0 or an exit status. */
static int
main_setup(struct gen *g)
{
	int	rv;

	if ((rv = main_pidfile(g->conf->pidfile)) != 0)
		return rv;
	umask(007);
	if (main_service_open(g->conf->policy_socket, "policy",
	    &main_policy_fd) != 0 || main_service_open(g->conf->query_socket,
	    "query", &main_query_fd) != 0 || main_metrics_open(g->conf) != 0)
		return EX_OSERR_;
	if (main_drop(g->conf->user) != 0)
		return EX_OSERR_;
	if (main_socket(g->conf) != 0)
		return EX_OSERR_;
	return 0;
}

static int
main_run(int foreground)
{
	struct gen	*g;
	struct netsrv	*ps = NULL, *qs = NULL, *ms = NULL;
	struct netsrv_limits ml = { 0, 2, 0, 0, 5000 };	/* 2 workers, 5 s */
	pthread_t	 rt;
	char		 err[1024], *pidfile = NULL;
	int		 rv;

	if ((g = gen_load(main_conf_path, err, sizeof(err))) == NULL) {
		if (!foreground)	/* else log_err reaches stderr */
			fprintf(stderr, "%s\n", err);
		log_err("%s", err);
		return EX_CONFIG_;
	}
	main_timeout_warning(g->conf, 0);
	main_helo_warning(g->conf, 0);
	main_signals();
	if (!foreground)
		main_daemonise();
	if ((rv = main_setup(g)) != 0) {
		if (main_pid_fd >= 0)	/* ours: written by this start */
			(void)unlink(g->conf->pidfile);
		main_ready((unsigned char)rv);
		gen_unref(g);
		return rv;
	}
	if (g->conf->pidfile != NULL)
		pidfile = strdup(g->conf->pidfile);
	mlfi_start(g);
	if ((rv = pthread_create(&rt, NULL, main_reload_thread, NULL)) != 0) {
		log_err("cannot start the reload thread: %s", strerror(rv));
		main_ready(EX_OSERR_);
		return EX_OSERR_;
	}
	if (main_policy_fd >= 0 && (ps = netsrv_start_fast(main_policy_fd,
	    NETSRV_SOCKETMAP, NULL, policy_lookup, policy_lookup_nowait,
	    NULL)) == NULL) {
		log_err("cannot start the policy service");
		main_ready(EX_OSERR_);
		return EX_OSERR_;
	}
	if (main_query_fd >= 0 && (qs = netsrv_start(main_query_fd,
	    NETSRV_LINE, NULL, query_lookup, NULL)) == NULL) {
		log_err("cannot start the query service");
		main_ready(EX_OSERR_);
		return EX_OSERR_;
	}
	if (main_metrics_fd >= 0 && (ms = netsrv_start(main_metrics_fd,
	    NETSRV_HTTP, &ml, metrics_http, NULL)) == NULL) {
		log_err("cannot start the metrics server");
		main_ready(EX_OSERR_);
		return EX_OSERR_;
	}
	tlsrpt_start();			/* SPEC 12: TLS-RPT saves, reports */
	log_info("started, version %s, configuration %s", TV_VERSION,
	    main_conf_path);
	main_ready(0);
	rv = smfi_main() == MI_SUCCESS ? EX_OK_ : EX_SOFTWARE_;
	log_info("stopping");
	main_stopping = 1;
	pthread_kill(rt, SIGUSR1);
	pthread_join(rt, NULL);
	tlsrpt_stop();
	netsrv_stop(ms);
	netsrv_stop(ps);
	netsrv_stop(qs);
	mlfi_stop();
	if (pidfile != NULL && unlink(pidfile) != 0 && errno != ENOENT)
		log_debug("pid file %s not removed: %s", pidfile,
		    strerror(errno));
	free(pidfile);
	return rv;
}

int
main(int argc, char **argv)
{
	const char	*path = CONF_DEFAULT_PATH;
	int		 ch, foreground = 0, check = 0;

	while ((ch = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'V':
			printf("%s %s\n", PROG, TV_VERSION);
			return EX_OK_;
		default: main_usage();
		}
	}
	if (optind != argc)
		main_usage();
	/* under systemd, stderr is the journal, which gets syslog too:
	 * one copy of each line, through syslog (facility mail) */
	log_open(PROG, !check, check || (foreground &&
	    !log_stderr_is_journal()));
	if (check)
		return main_check(path);
	/* reloads happen after chdir("/"): keep an absolute path */
	if (realpath(path, main_conf_path) == NULL)
		(void)snprintf(main_conf_path, sizeof(main_conf_path), "%s",
		    path);
	return main_run(foreground);
}
