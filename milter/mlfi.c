/*
 * mlfi.c - the libmilter callbacks. They only dispatch to mlfi_state.c
 * (see mlfi.h) and talk to libmilter: negotiation, macros, replies, the
 * header.
 *
 * Negotiation asks only for MAIL, RCPT, headers, end of message, abort and
 * close (connect, HELO, end of headers, body, DATA and unknown commands
 * are switched off when the MTA allows it), requires SMFIF_ADDHDRS and
 * SMFIF_CHGHDRS, asks for SMFIP_NR_HDR (no reply to a header, so headers
 * cost no round trip: libmilter offers it to this callback even when the
 * MTA lacks it, and then answers for the milter) and for the RCPT macros
 * "{rcpt_addr} {rcpt_mailer} i" when the MTA accepts a macro list
 * (SMFIF_SETSYMLIST).
 *
 * The tag header is the milter's own (SPEC 7): at end of message every copy
 * the message already had (any case) is removed, whether or not the milter
 * adds one, before its own is added. smfi_chgheader's index counts the
 * headers of that name (ASCII case ignored, in Postfix and Sendmail); the
 * copies are removed last first, so each index is still right whether or
 * not the MTA renumbers after a removal. A removal that fails defers the
 * message (a copy left behind could pass for the milter's).
 *
 * A connection's state is made at MAIL FROM (connect is not sent) and freed
 * in xxfi_close, which may come with no state at all.
 */
#include <stdlib.h>
#include <string.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "mlfi.h"

#define MLFI_STEPS_OFF	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOEOH | \
			 SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA)
#define MLFI_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define MLFI_RCPT_MACROS "{rcpt_addr} {rcpt_mailer} i"

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	if ((f0 & MLFI_ACTIONS) != MLFI_ACTIONS) {
		log_err("the MTA does not allow adding and removing headers "
		    "(SMFIF_ADDHDRS, SMFIF_CHGHDRS): refusing to filter");
		return SMFIS_REJECT;
	}
	if ((f1 & SMFIP_NR_HDR) == 0) {
		log_err("libmilter does not offer SMFIP_NR_HDR: refusing "
		    "to filter");
		return SMFIS_REJECT;
	}
	*pf0 = MLFI_ACTIONS;
	*pf1 = (f1 & MLFI_STEPS_OFF) | SMFIP_NR_HDR;
	*pf2 = 0;
	*pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0 &&
	    smfi_setsymlist(ctx, SMFIM_ENVRCPT, MLFI_RCPT_MACROS) ==
	    MI_SUCCESS)
		*pf0 |= SMFIF_SETSYMLIST;
	return SMFIS_CONTINUE;
}

static struct mlfi_conn *
mlfi_conn(SMFICTX *ctx)
{
	struct mlfi_conn	*mc = smfi_getpriv(ctx);

	if (mc == NULL) {
		mc = mlfi_conn_new();
		if (smfi_setpriv(ctx, mc) != MI_SUCCESS) {
			mlfi_conn_free(mc);
			return NULL;
		}
	}
	return mc;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct mlfi_conn	*mc = mlfi_conn(ctx);

	if (mc == NULL) {
		log_err("cannot keep per-connection state");
		return SMFIS_TEMPFAIL;
	}
	mlfi_msg_begin(mc);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_reply(SMFICTX *ctx, const struct mlfi_reply *r)
{
	char	text[MLFI_TEXTLEN];

	if (r->rc == SMFIS_CONTINUE)
		return SMFIS_CONTINUE;
	mlfi_escape(r->text, text, sizeof(text));
	if (smfi_setreply(ctx, (char *)r->code, (char *)r->xcode, text) !=
	    MI_SUCCESS) {
		log_err("smfi_setreply(%s %s) failed", r->code, r->xcode);
		return SMFIS_TEMPFAIL;	/* the MTA's own 4xx */
	}
	return r->rc;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mlfi_conn	*mc = mlfi_conn(ctx);
	struct mlfi_reply	 r;

	if (mc == NULL) {
		log_err("cannot keep per-connection state");
		return SMFIS_TEMPFAIL;
	}
	mlfi_rcpt(mc, smfi_getsymval(ctx, "{rcpt_addr}"),
	    argv != NULL ? argv[0] : NULL,
	    smfi_getsymval(ctx, "{rcpt_mailer}"), smfi_getsymval(ctx, "i"),
	    &r);
	return mlfi_reply(ctx, &r);
}

static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	mlfi_hdr_seen(smfi_getpriv(ctx), name);
	return SMFIS_NOREPLY;		/* SMFIP_NR_HDR was negotiated */
}

/* Removes the copies of the tag header the message came with. 0 or -1. */
static int
mlfi_unforge(SMFICTX *ctx, struct mlfi_conn *mc)
{
	const char	*name;
	size_t		 i = mlfi_hdr_forged(mc, &name);

	for (; i > 0; i--)
		if (smfi_chgheader(ctx, (char *)name, (int)i, NULL) !=
		    MI_SUCCESS) {
			log_err("cannot remove copy %zu of the %s header the "
			    "message came with: deferring it", i, name);
			return -1;
		}
	return 0;
}

static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct mlfi_conn	*mc = smfi_getpriv(ctx);
	const char		*name;
	char			*value;

	if (mc == NULL)
		return SMFIS_CONTINUE;
	if (mlfi_unforge(ctx, mc) == -1) {
		mlfi_msg_end(mc);
		return SMFIS_TEMPFAIL;
	}
	if ((value = mlfi_hdr_value(mc, &name)) != NULL) {
		if (smfi_addheader(ctx, (char *)name, value) != MI_SUCCESS)
			log_err("cannot add the %s header; the recipients "
			    "stay as judged", name);
		free(value);
	}
	mlfi_msg_end(mc);
	return SMFIS_CONTINUE;	/* the recipients were judged at RCPT */
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	mlfi_msg_end(smfi_getpriv(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct mlfi_conn	*mc = smfi_getpriv(ctx);

	if (mc != NULL) {
		mlfi_conn_free(mc);
		(void)smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc mlfi_description = {
	.xxfi_name = "tlsverify-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = MLFI_ACTIONS,
	.xxfi_connect = NULL,
	.xxfi_helo = NULL,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = NULL,
	.xxfi_body = NULL,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = mlfi_negotiate,
};

struct smfiDesc *
mlfi_desc(void)
{
	return &mlfi_description;
}
