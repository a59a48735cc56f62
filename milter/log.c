/*
 * log.c - logging to syslog (facility mail) and/or stderr (see log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include "log.h"

static int	log_syslog;
static int	log_stderr = 1;
static int	log_dbg;

void
log_open(const char *ident, int to_syslog, int to_stderr)
{
	log_syslog = to_syslog;
	log_stderr = to_stderr;
	if (to_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/*
 * One unsigned decimal number, digits only (no sign, no space), no
 * overflow; *end is set past it. 0 or -1.
 */
static int
log_parse_u64(const char *s, unsigned long long *v, const char **end)
{
	char	*e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno != 0)
		return -1;
	*end = e;
	return 0;
}

/*
 * systemd sets JOURNAL_STREAM="DEV:INO" (st_dev and st_ino in decimal) for
 * a service whose stdout or stderr is connected to the journal; stderr is
 * the journal when its fstat() gives the same pair (sd_journal_stream_fd(3),
 * systemd.exec(5)). Anything else, or a value that does not parse: 0.
 */
int
log_stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM"), *p;
	unsigned long long	 dev, ino;
	struct stat		 st;

	if (v == NULL || strnlen(v, 64) == 64)
		return 0;
	if (log_parse_u64(v, &dev, &p) != 0 || *p != ':' ||
	    log_parse_u64(p + 1, &ino, &p) != 0 || *p != '\0')
		return 0;
	if (fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_set_debug(int on)
{
	log_dbg = on;
}

static void
log_vmsg(int pri, const char *tag, const char *fmt, va_list ap)
{
	va_list	 ap2;

	va_copy(ap2, ap);
	if (log_syslog)
		vsyslog(pri, fmt, ap);
	if (log_stderr) {
		flockfile(stderr);
		fprintf(stderr, "%s", tag);
		vfprintf(stderr, fmt, ap2);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap2);
}

#define LOG_FN(name, pri, tag, cond)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	if (!(cond))						\
		return;						\
	va_start(ap, fmt);					\
	log_vmsg(pri, tag, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_info, LOG_INFO, "", 1)
LOG_FN(log_warn, LOG_WARNING, "warning: ", 1)
LOG_FN(log_err, LOG_ERR, "error: ", 1)
LOG_FN(log_debug, LOG_DEBUG, "debug: ", log_dbg)
