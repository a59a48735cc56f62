/*
 * log.c - logging to syslog (facility mail) and/or stderr (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

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
