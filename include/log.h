/*
 * log.h - one logging idiom for the daemon, the probe tool and the tests.
 *
 * log_open(ident, to_syslog, to_stderr) chooses the sinks (syslog facility
 * mail; stderr in the foreground). log_info/log_warn/log_err format like
 * printf. log_debug prints only after log_set_debug(1).
 * log_stderr_is_journal() is 1 when JOURNAL_STREAM (set by systemd) names
 * stderr's device and inode: stderr is then the journal, which receives
 * syslog as well, so a daemon logs to one of them only.
 * Peer-supplied text must be capped by the caller ("%.100s").
 */
#ifndef TV_LOG_H
#define TV_LOG_H

void	log_open(const char *ident, int to_syslog, int to_stderr);
void	log_set_debug(int);
int	log_stderr_is_journal(void);
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
