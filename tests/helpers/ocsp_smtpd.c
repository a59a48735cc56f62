/*
 * ocsp_smtpd.c - a minimal SMTP server with STARTTLS that staples an OCSP
 * response: a test helper for revocation (Python's ssl module cannot
 * staple).
 *
 *   ocsp_smtpd -a IP -p PORT -c CHAIN.pem -k KEY.pem [-s RESP.der]
 *              [-r READYFILE]
 *
 * One connection at a time, forever (stop it by its PID): banner 220,
 * EHLO -> 250 with STARTTLS, STARTTLS -> 220 and the TLS handshake (the
 * response file, read again for every handshake, is stapled when the
 * client asks for it), then EHLO -> 250, QUIT -> 221, anything else ->
 * 250. Every read waits at most 10 s. READYFILE is created once listening.
 * Only loopback addresses are accepted for -a.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static const char *staple_file;

static int
status_cb(SSL *ssl, void *arg)
{
	unsigned char	*buf;
	FILE		*f;
	long		 n;

	if (staple_file == NULL || (f = fopen(staple_file, "rb")) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	buf = OPENSSL_malloc(65536);
	n = buf != NULL ? (long)fread(buf, 1, 65536, f) : 0;
	fclose(f);
	if (n <= 0) {
		OPENSSL_free(buf);
		return SSL_TLSEXT_ERR_NOACK;
	}
	SSL_set_tlsext_status_ocsp_resp(ssl, buf, n);	/* takes buf */
	return SSL_TLSEXT_ERR_OK;
}

/* Read one line (plain fd or SSL) into buf; -1 on EOF/error. */
static int
get_line(int fd, SSL *ssl, char *buf, size_t len)
{
	size_t	i = 0;
	char	c;
	int	n;

	while (i + 1 < len) {
		n = ssl ? SSL_read(ssl, &c, 1) : (int)read(fd, &c, 1);
		if (n <= 0)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[i++] = c;
	}
	buf[i] = '\0';
	return 0;
}

static void
put(int fd, SSL *ssl, const char *s)
{
	if (ssl)
		(void)SSL_write(ssl, s, (int)strlen(s));
	else
		(void)!write(fd, s, strlen(s));
}

static void
session(SSL_CTX *ctx, int fd)
{
	SSL	*ssl = NULL;
	char	 line[1024];

	put(fd, NULL, "220 ocsp-smtpd ESMTP\r\n");
	while (get_line(fd, ssl, line, sizeof(line)) == 0) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			put(fd, ssl, ssl ? "250-ocsp-smtpd\r\n250 8BITMIME\r\n" :
			    "250-ocsp-smtpd\r\n250 STARTTLS\r\n");
		else if (strncasecmp(line, "STARTTLS", 8) == 0 && ssl == NULL) {
			put(fd, NULL, "220 go ahead\r\n");
			if ((ssl = SSL_new(ctx)) == NULL)
				break;
			SSL_set_fd(ssl, fd);
			if (SSL_accept(ssl) != 1) {
				ERR_print_errors_fp(stderr);
				break;
			}
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			put(fd, ssl, "221 bye\r\n");
			break;
		} else
			put(fd, ssl, "250 ok\r\n");
	}
	if (ssl != NULL) {
		(void)SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	ERR_clear_error();
	close(fd);
}

static int
listen_on(const char *ip, int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1 ||
	    (ntohl(sin.sin_addr.s_addr) >> 24) != 127)
		return -1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	const char	*ip = "127.0.0.1", *chain = NULL, *key = NULL;
	const char	*ready = NULL;
	struct timeval	 tv = { 10, 0 };
	SSL_CTX		*ctx;
	FILE		*f;
	int		 ch, port = 0, lfd, fd;

	while ((ch = getopt(argc, argv, "a:p:c:k:s:r:")) != -1) {
		switch (ch) {
		case 'a': ip = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': chain = optarg; break;
		case 'k': key = optarg; break;
		case 's': staple_file = optarg; break;
		case 'r': ready = optarg; break;
		default: return 2;
		}
	}
	if (port <= 0 || chain == NULL || key == NULL) {
		fprintf(stderr, "usage: ocsp_smtpd -a IP -p PORT -c CHAIN -k "
		    "KEY [-s RESP.der] [-r READYFILE]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 2;
	}
	SSL_CTX_set_tlsext_status_cb(ctx, status_cb);
	if ((lfd = listen_on(ip, port)) < 0) {
		perror("ocsp_smtpd: listen (loopback only)");
		return 2;
	}
	if (ready != NULL && (f = fopen(ready, "w")) != NULL)
		fclose(f);
	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		session(ctx, fd);
	}
}
