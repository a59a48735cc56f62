/*
 * nullmilter.c - the baseline for `make bench`: a libmilter filter that
 * accepts everything and does nothing else.
 *
 * It asks for the same protocol steps as tlsverify-milter (MAIL, RCPT, end
 * of message; connect, HELO, headers, body and DATA switched off) and
 * answers SMFIS_CONTINUE to each, so the difference between it and
 * tlsverify-milter in the same Postfix is the cost of judging recipients.
 *
 *	nullmilter inet:PORT@127.0.0.1
 *
 * SOCKET is libmilter's spec (inet:PORT@HOST or unix:PATH). A unix socket
 * is made with mode 0777 (umask 0) so that Postfix's smtpd, which runs as
 * user postfix, may connect; put it in a private directory.
 * Stops on SIGTERM/SIGHUP (libmilter's own signal thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <libmilter/mfapi.h>

#define NULL_STEPS_OFF	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOHDRS | \
			 SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | \
			 SMFIP_NODATA)

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = f0 & SMFIF_ADDHDRS;
	*pf1 = f1 & NULL_STEPS_OFF;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
null_envfrom(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
null_envrcpt(SMFICTX *ctx, char **argv)
{
	return SMFIS_CONTINUE;
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static sfsistat
null_close(SMFICTX *ctx)
{
	return SMFIS_CONTINUE;
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_envfrom = null_envfrom,
	.xxfi_envrcpt = null_envrcpt,
	.xxfi_eom = null_eom,
	.xxfi_close = null_close,
	.xxfi_negotiate = null_negotiate,
};

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter SOCKET\n");
		return 64;
	}
	umask(0);
	if (smfi_setconn(argv[1]) != MI_SUCCESS ||
	    smfi_register(null_desc) != MI_SUCCESS ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
		return 71;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
