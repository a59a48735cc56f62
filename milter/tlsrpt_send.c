/*
 * tlsrpt_send.c - handing a TLS-RPT report over (tlsrpt_int.h).
 *
 * tlsrpt_mail(conf, rep, rua, n, err, errlen): one message to every
 * mailto: URI of rua[0..n) through the local MTA: `sendmail -t -oi`
 * (found on PATH, else /usr/sbin/sendmail), the message on its standard
 * input, waited for at most TLSRPT_MAIL_WAIT seconds (then killed). The
 * message is RFC 8460 5.3's: From the contact when it holds an '@', else
 * postmaster@SENDER; Subject "Report Domain: D Submitter: S Report-ID:
 * <ID>"; TLS-Report-Domain and TLS-Report-Submitter; Content-Type
 * multipart/report; report-type="tlsrpt", a text/plain part and the
 * report as application/tlsrpt+gzip in base64, named as the file.
 * 0 when sendmail exited 0, else -1 with a reason.
 *
 * tlsrpt_post(conf, rep, rua, err, errlen): POST the gzipped report to an
 * https: URI (Content-Type application/tlsrpt+gzip) with httpc.h; the
 * server's certificate is checked as MTA-STS policy hosts' are ([mtasts]
 * ca_file, else [probe] ca_file / ca_path, else the system store) and the
 * exchange is bounded by [mtasts] timeout. 0 for a 2xx answer, else -1.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "httpc.h"
#include "tlsrpt_int.h"
#include "xalloc.h"

#define TLSRPT_MAIL_WAIT	60	/* seconds for sendmail */

static void
mail_b64(FILE *f, const unsigned char *p, size_t len)
{
	unsigned char	line[80];
	size_t		n;

	while (len > 0) {
		n = len > 57 ? 57 : len;	/* 76 characters a line */
		(void)EVP_EncodeBlock(line, p, (int)n);
		fprintf(f, "%s\r\n", line);
		p += n;
		len -= n;
	}
}

static void
mail_head(FILE *f, const struct tlsrpt_report *rep,
    const struct tlsrpt_rua *rua, size_t n, const char *bnd)
{
	char		date[64];
	time_t		now = time(NULL);
	struct tm	tm;
	size_t		i, k = 0;

	(void)localtime_r(&now, &tm);
	(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	if (strchr(rep->contact, '@') != NULL && !strchr(rep->contact, ' '))
		fprintf(f, "From: %s\r\n", rep->contact);
	else
		fprintf(f, "From: postmaster@%s\r\n", rep->sender);
	fputs("To: ", f);
	for (i = 0; i < n; i++)
		if (!rua[i].https)
			fprintf(f, "%s%s", k++ ? ",\r\n    " : "", rua[i].addr);
	fprintf(f, "\r\nSubject: Report Domain: %s Submitter: %s Report-ID: "
	    "<%s>\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n"
	    "TLS-Report-Domain: %s\r\nTLS-Report-Submitter: %s\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
	    "report-type=\"tlsrpt\";\r\n    boundary=\"%s\"\r\n\r\n"
	    "This is a MIME-formatted message.\r\n\r\n", rep->domain,
	    rep->sender, rep->id, date, rep->id, rep->sender, rep->domain,
	    rep->sender, bnd);
}

static int
mail_build(const struct tlsrpt_report *rep, const struct tlsrpt_rua *rua,
    size_t n, char **buf, size_t *len)
{
	FILE	*f;
	char	 bnd[64];

	(void)snprintf(bnd, sizeof(bnd), "tlsrpt-%ld-%ld", rep->day,
	    (long)getpid());
	if ((f = open_memstream(buf, len)) == NULL)
		return -1;
	mail_head(f, rep, rua, n, bnd);
	fprintf(f, "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is an aggregate TLS report (RFC 8460) from %s for %s.\r\n"
	    "\r\n--%s\r\nContent-Type: application/tlsrpt+gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\nContent-Disposition: "
	    "attachment;\r\n    filename=\"%s\"\r\n\r\n", bnd, rep->sender,
	    rep->domain, bnd, rep->file);
	mail_b64(f, rep->gz, rep->gzlen);
	fprintf(f, "\r\n--%s--\r\n", bnd);
	return fclose(f) == 0 ? 0 : -1;
}

static void
mail_child(int fd)
{
	char	*argv[] = { "sendmail", "-t", "-oi", NULL };

	if (dup2(fd, 0) < 0)
		_exit(71);
	if (fd != 0)
		close(fd);
	(void)execvp("sendmail", argv);
	(void)execv("/usr/sbin/sendmail", argv);
	_exit(127);
}

/* Waits for pid at most TLSRPT_MAIL_WAIT seconds; its exit status or -1. */
static int
mail_wait(pid_t pid)
{
	struct timespec	ts = { 0, 50 * 1000000L };
	int		st, i;

	for (i = 0; i < TLSRPT_MAIL_WAIT * 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		(void)nanosleep(&ts, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	return -1;
}

int
tlsrpt_mail(const struct conf *c, const struct tlsrpt_report *rep,
    const struct tlsrpt_rua *rua, size_t n, char *err, size_t errlen)
{
	char	*msg = NULL;
	size_t	 len = 0, off = 0;
	ssize_t	 w;
	int	 sv[2], st;
	pid_t	 pid;

	if (mail_build(rep, rua, n, &msg, &len) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		(void)snprintf(err, errlen, "cannot build the message");
		free(msg);
		return -1;
	}
	if ((pid = fork()) == 0) {
		close(sv[0]);
		mail_child(sv[1]);
	}
	close(sv[1]);
	while (pid > 0 && off < len &&
	    (w = send(sv[0], msg + off, len - off, MSG_NOSIGNAL)) > 0)
		off += (size_t)w;
	close(sv[0]);
	free(msg);
	if (pid < 0) {
		(void)snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if ((st = mail_wait(pid)) != 0 || off < len) {
		(void)snprintf(err, errlen, "sendmail -t failed (exit %d)", st);
		return -1;
	}
	return 0;
}

static SSL_CTX *
post_ssl(const struct conf *c)
{
	SSL_CTX	*ssl;
	int	 ok;

	if ((ssl = SSL_CTX_new(TLS_client_method())) == NULL)
		return NULL;
	if (c->mtasts_ca_file != NULL)
		ok = SSL_CTX_load_verify_locations(ssl, c->mtasts_ca_file, NULL);
	else if (c->ca_file != NULL || c->ca_path != NULL)
		ok = SSL_CTX_load_verify_locations(ssl, c->ca_file, c->ca_path);
	else
		ok = SSL_CTX_set_default_verify_paths(ssl);
	if (ok != 1 ||
	    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ssl);
		return NULL;
	}
	SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return ssl;
}

int
tlsrpt_post(const struct conf *c, const struct tlsrpt_report *rep,
    const struct tlsrpt_rua *rua, char *err, size_t errlen)
{
	struct httpc_req	 req;
	struct httpc_resp	 resp;
	struct dns_ctx		*dns;
	char			 head[TLSRPT_URILEN + NAME_BUFLEN + 256];
	int			 rv = -1;

	memset(&req, 0, sizeof(req));
	if ((req.ssl = post_ssl(c)) == NULL) {
		(void)snprintf(err, errlen, "cannot read the trust anchors");
		return -1;
	}
	if ((dns = dns_open(c, err, errlen)) == NULL) {
		SSL_CTX_free(req.ssl);
		return -1;
	}
	(void)snprintf(head, sizeof(head), "POST %s HTTP/1.0\r\nHost: %s:%u\r\n"
	    "User-Agent: tlsverify-milter/%s\r\nContent-Type: "
	    "application/tlsrpt+gzip\r\nContent-Length: %zu\r\nConnection: "
	    "close\r\n\r\n", rua->path, rua->host, rua->port, TV_VERSION,
	    rep->gzlen);
	req.host = rua->host;
	req.port = rua->port;
	req.head = head;
	req.body = rep->gz;
	req.len = rep->gzlen;
	req.timeout_ms = (long)c->mtasts_timeout * 1000L;
	if (httpc_exchange(dns, &req, &resp, err, errlen) == 0) {
		if (resp.status >= 200 && resp.status < 300)
			rv = 0;
		else
			(void)snprintf(err, errlen, "%s answered: %s",
			    rua->host, resp.line);
	}
	dns_close(dns);
	SSL_CTX_free(req.ssl);
	return rv;
}
