/*
 * conf_int.h - internals shared by conf.c and conf_route.c; not an API.
 *
 * struct conf_parse is the state of one conf_load(): the line reader's view
 * of the file (line number, whether the current line continues the previous
 * key), the key a continuation line belongs to, and the first error.
 * conf_fail() records an error and returns -1; of several errors the one
 * on the earliest line is kept (errors are found in line order, except
 * duplicate domains, which conf_route_finish() finds after sorting).
 * Internal functions return 0 or -1; conf.c's libinih handler turns that
 * into libinih's 1 (ok) / 0 (error).
 */
#ifndef TV_CONF_INT_H
#define TV_CONF_INT_H

#include <stdio.h>

#include "conf.h"
#include "name.h"

/* Limits stated in conf.h's spirit: more is a configuration error. */
#define CONF_MAX_ROUTES		100	/* routes of one [smtproutes] key */
#define CONF_MAX_MAILERS	64	/* entries of skip_mailers */
#define CONF_MAX_PRIO		65535	/* route priority */
#define CONF_ERRLEN		512

enum conf_sect {
	CONF_SECT_NONE = 0,
	CONF_SECT_MILTER,
	CONF_SECT_PROBE,
	CONF_SECT_DNS,
	CONF_SECT_CACHE,
	CONF_SECT_POLICY,
	CONF_SECT_QUERY,
	CONF_SECT_MTASTS,
	CONF_SECT_METRICS,
	CONF_SECT_TLSRPT,
	CONF_SECT_DEST,
	CONF_SECT_ROUTES,
	CONF_NSECTS
};

/* What an indented (continuation) line would add to. */
enum conf_prev {
	CONF_PREV_NONE = 0,	/* nothing (after an error) */
	CONF_PREV_SCALAR,	/* a single-value key: continuing is an error */
	CONF_PREV_MAILERS,	/* skip_mailers: append */
	CONF_PREV_DEST,		/* a [destinations] entry: error */
	CONF_PREV_ROUTES	/* a [smtproutes] list: append */
};

struct conf_parse {
	struct conf	*c;
	const char	*path;
	FILE		*fp;
	char		*line;		/* getline() buffer */
	size_t		 linecap;
	int		 lineno;	/* line the reader handed to libinih */
	int		 cont;		/* that line is a continuation line */
	int		 have_prev;	/* libinih has a previous key name */
	enum conf_sect	 sect;
	enum conf_prev	 prev;
	char		 prev_key[NAME_BUFLEN + 2]; /* for messages */
	size_t		 prev_idx;	/* route list index (CONF_PREV_ROUTES) */
	int		 prev_line;
	unsigned long	 seen;		/* scalar keys already set (bits) */
	size_t		 dest_cap, route_cap;
	int		 default_line;	/* line of [destinations] default */
	int		 dnssec_line;	/* line of [dns] dnssec, 0: not set */
	int		 has_err;
	int		 err_line;
	char		 err[CONF_ERRLEN];
};

extern const char *const conf_sect_names[CONF_NSECTS];

char	*conf_reader(char *str, int num, void *stream);
int	conf_check_value(struct conf_parse *, const char *v);
int	conf_check_socket(struct conf_parse *, const char *v);
int	conf_check_word(struct conf_parse *, const char *key, const char *v);
int	conf_check_header(struct conf_parse *, const char *v);
int	conf_check_helo(struct conf_parse *, const char *v);
int	conf_has_space(const char *);
int	conf_check_dnssec(struct conf_parse *);
int	conf_fail(struct conf_parse *, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	conf_parse_uint(struct conf_parse *, const char *what, const char *s,
	    unsigned min, unsigned max, unsigned *out);

/* conf_route.c */
int	conf_nameserver(struct conf_parse *, const char *val);
int	conf_route_dest(struct conf_parse *, const char *name, const char *val);
int	conf_route_new(struct conf_parse *, const char *name, const char *val);
int	conf_route_more(struct conf_parse *, const char *val);
void	conf_route_close(struct conf_parse *);
void	conf_route_finish(struct conf_parse *);
void	conf_route_free(struct conf *);

#endif
