/*
 * mlfi.h - the milter's libmilter side: callbacks (mlfi.c) and the state
 * they dispatch to (mlfi_state.c).
 *
 * mlfi_desc() is the struct smfiDesc to pass to smfi_register().
 *
 * mlfi_start(g), mlfi_reload(path) and mlfi_stop() are decide_start(),
 * decide_reload() and decide_stop() (decide.h: the generations and the
 * verdict cache, shared with the policy service).
 *
 * The rest is the per-connection state used by mlfi.c:
 * mlfi_msg_begin() starts a message (takes the current generation),
 * mlfi_rcpt() asks decide_domain() about one recipient and fills the
 * reply to give,
 * mlfi_hdr_value() returns the folded header value (free it; NULL when no
 * domain was probed) and its name, mlfi_msg_end() frees the message's
 * state, mlfi_conn_free() the connection's.
 * mlfi_hdr_seen(mc, name) is called for each header of the message as
 * received; mlfi_hdr_forged(mc, &name) returns how many of them carried
 * the tag header's name (ASCII case ignored) and that name (NULL and 0
 * before MAIL FROM). mlfi.c removes them all at end of message.
 */
#ifndef TV_MLFI_H
#define TV_MLFI_H

#include <libmilter/mfapi.h>
#include "gen.h"

#define MLFI_TEXTLEN	981		/* libmilter: text <= 980 chars */

struct mlfi_conn;

struct mlfi_reply {
	sfsistat	 rc;		/* CONTINUE, TEMPFAIL or REJECT */
	char		 code[4];
	char		 xcode[16];
	char		 text[MLFI_TEXTLEN];	/* not yet %-escaped */
};

struct smfiDesc	*mlfi_desc(void);

void		 mlfi_start(struct gen *);
int		 mlfi_reload(const char *path);
void		 mlfi_stop(void);

struct mlfi_conn *mlfi_conn_new(void);
void		 mlfi_conn_free(struct mlfi_conn *);
void		 mlfi_msg_begin(struct mlfi_conn *);
void		 mlfi_msg_end(struct mlfi_conn *);
void		 mlfi_rcpt(struct mlfi_conn *, const char *rcpt_addr,
		    const char *arg, const char *mailer, const char *qid,
		    struct mlfi_reply *);
char		*mlfi_hdr_value(struct mlfi_conn *, const char **name);
void		 mlfi_hdr_seen(struct mlfi_conn *, const char *name);
size_t		 mlfi_hdr_forged(struct mlfi_conn *, const char **name);
/* '%' doubled, CR/LF and other controls made spaces, cut to 980 chars. */
void		 mlfi_escape(const char *in, char *out, size_t outlen);

#endif
