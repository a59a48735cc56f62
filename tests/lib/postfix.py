"""postfix - a private Postfix instance for end-to-end tests.

Postfix(ctx, port, milter=..., transports={domain: "smtp:[IP]:PORT"})
writes its own configuration directory (main.cf, master.cf, a texthash
transport map, a copy of ca_file), with its own queue_directory and
data_directory, and runs it with `postfix -c DIR start|stop`. All of it
lives in ctx.shared_dir(name) (under /tmp, reachable by the postfix user
even when the checkout is in a 0700 directory); its regular files are
copied to ctx.tmp/<name>/ when the test ends. Only loopback: inet_interfaces
= 127.0.0.1, smtpd on 127.0.0.1:PORT, and every domain not in the transport
map goes to the error transport (`*` entry), so the instance never contacts
anything but the test servers. Logging goes to DIR/maillog through postlogd
(Postfix >= 3.4; Debian 12 has 3.7).

stop() runs `postfix -c DIR stop`, then makes sure the master PID (from the
queue directory's pid/master.pid) and the daemons it had started are gone,
killing the remaining ones by PID. Needs root (Postfix's master does) and
the `postfix` user from the Debian package.
"""

import os
import shutil
import signal
import time

import tvtest

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"

# name type private unpriv chroot wakeup maxproc command
_MASTER = """\
{smtpd_addr} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    """A Postfix instance in ctx.shared_dir(name): etc/ (config),
    queue/, data/, maillog."""

    def __init__(self, ctx, port, milter, transports, name="postfix",
                 ca_file=None, tls_level="encrypt", extra=None):
        self.ctx, self.port, self.milter = ctx, int(port), milter
        self.transports = dict(transports)
        self.base = ctx.shared_dir(name)
        self.dir = os.path.join(self.base, "etc")
        self.queue = os.path.join(self.base, "queue")
        self.data = os.path.join(self.base, "data")
        self.maillog = os.path.join(self.base, "maillog")
        self.ca_file, self.tls_level = ca_file, tls_level
        self.extra = dict(extra or {})
        self.master_pid = None
        self._children = set()
        self.started = False

    # ---------------------------------------------------------------- config

    def main_cf(self):
        """The main.cf settings, in order (a list of (name, value))."""
        s = [
            ("compatibility_level", "3.6"),
            ("queue_directory", self.queue),
            ("data_directory", self.data),
            ("mail_owner", "postfix"),
            ("setgid_group", "postdrop"),
            ("myhostname", "relay.tvtest.invalid"),
            ("mydomain", "tvtest.invalid"),
            ("myorigin", "$myhostname"),
            ("mydestination", ""),
            ("local_transport", "error:5.1.1 local delivery disabled"),
            ("inet_interfaces", "127.0.0.1"),
            ("inet_protocols", "ipv4"),
            ("mynetworks", "127.0.0.0/8"),
            ("mynetworks_style", "host"),
            ("relay_domains", ""),
            ("smtpd_relay_restrictions",
             "permit_mynetworks, reject_unauth_destination"),
            ("smtpd_recipient_restrictions", ""),
            ("smtpd_peername_lookup", "no"),
            ("smtpd_banner", "$myhostname ESMTP tvtest-postfix"),
            ("default_transport", "smtp"),
            ("relay_transport", "smtp"),
            ("transport_maps", "texthash:" + os.path.join(self.dir, "transport")),
            ("smtp_dns_support_level", "disabled"),
            ("smtp_host_lookup", "native"),
            ("smtp_tls_security_level", self.tls_level),
            ("smtp_tls_loglevel", "1"),
            ("smtp_tls_CAfile", self.ca_file or ""),
            ("smtp_tls_session_cache_database", ""),
            ("smtpd_milters", self.milter),
            ("non_smtpd_milters", ""),
            ("milter_default_action", "tempfail"),
            ("milter_protocol", "6"),
            ("milter_rcpt_macros", "i {rcpt_addr} {rcpt_host} {rcpt_mailer}"),
            ("milter_command_timeout", "30s"),
            ("maillog_file", self.maillog),
            ("maillog_file_prefixes", self.base),
            ("biff", "no"),
            ("append_dot_mydomain", "no"),
            ("notify_classes", ""),
            ("queue_run_delay", "5s"),
            ("minimal_backoff_time", "5s"),
            ("maximal_backoff_time", "10s"),
            ("alias_maps", ""),
            ("alias_database", ""),
        ]
        names = [k for k, _ in s]
        for k, v in self.extra.items():
            if k in names:
                s[names.index(k)] = (k, v)
            else:
                s.append((k, v))
        return s

    def write(self):
        for d in (self.dir, self.queue, self.data):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        import pwd
        pw = pwd.getpwnam("postfix")
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        ca = os.path.join(self.dir, "ca.pem")
        if self.ca_file and self.ca_file != ca:  # smtp(8) reads it as postfix
            shutil.copyfile(self.ca_file, ca)
            os.chmod(ca, 0o644)
            self.ca_file = ca
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            for k, v in self.main_cf():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.dir, "master.cf"), "w") as f:
            f.write(_MASTER.format(smtpd_addr="127.0.0.1:%d" % self.port))
        with open(os.path.join(self.dir, "transport"), "w") as f:
            for dom, tr in self.transports.items():
                f.write("%s %s\n" % (dom, tr))
            # everything else: never leave the machine
            f.write("* error:5.7.1 not a test destination\n")
        return self.dir

    # ------------------------------------------------------------ lifecycle

    def _cmd(self, *args, timeout=60, check=True):
        cp = self.ctx.run([POSTFIX, "-c", self.dir] + list(args),
                          timeout=timeout)
        if check and cp.returncode != 0:
            raise AssertionError("postfix %s: exit %d\n%s\n%s\n%s" % (
                " ".join(args), cp.returncode, cp.stdout[-2000:],
                cp.stderr[-2000:], self.logtext()[-3000:]))
        return cp

    def start(self):
        """Write the configuration, start master, wait for smtpd."""
        if os.geteuid() != 0:
            raise AssertionError("a private Postfix instance needs root "
                                 "(master runs its daemons as mail_owner)")
        if not os.access(POSTFIX, os.X_OK):
            raise AssertionError("%s not found: install postfix" % POSTFIX)
        self.write()
        self.ctx.cleanup(self.stop)
        self._cmd("start")
        self.started = True
        pidfile = os.path.join(self.queue, "pid", "master.pid")
        tvtest.wait_for(lambda: _read_pid(pidfile), timeout=15,
                        what="Postfix master.pid")
        pid = _read_pid(pidfile)
        self.master_pid = (pid, _stat(pid)[2]) if _stat(pid) else (pid, None)
        tvtest.wait_tcp("127.0.0.1", self.port, timeout=15)
        return self

    def stop(self):
        """postfix stop, then make sure master and its daemons are gone."""
        if not self.started:
            return
        self.started = False
        self._children |= _children_of(self.master_pid)
        cp = self._cmd("stop", check=False)
        left = _wait_gone([self.master_pid] + sorted(self._children), 10)
        for pid, _start in left:
            if alive((pid, _start)):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        left = _wait_gone(left, 5)
        if cp.returncode != 0 or left:
            raise AssertionError("postfix stop: exit %d, still alive: %s\n%s"
                                 % (cp.returncode, left, cp.stderr[-1000:]))

    def running(self):
        return self.master_pid is not None and alive(self.master_pid)

    def procs(self):
        """[(pid, starttime)] of master and its current children."""
        if not self.running():
            return []
        return [self.master_pid] + sorted(_children_of(self.master_pid))

    def flush(self):
        """postqueue -f: attempt delivery of every queued message now."""
        return self.ctx.run([POSTQUEUE, "-c", self.dir, "-f"], timeout=30)

    def queue_listing(self):
        return self.ctx.run([POSTQUEUE, "-c", self.dir, "-p"], timeout=30).stdout

    def logtext(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


# ------------------------------------------------------------------ helpers

def _read_pid(path):
    try:
        with open(path) as f:
            return int(f.read().strip() or 0) or None
    except (FileNotFoundError, ValueError):
        return None


def _stat(pid):
    """(state, ppid, starttime) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return rest[0], int(rest[1]), rest[19]


def alive(proc):
    """proc: (pid, starttime); a PID reused by another process is not it."""
    pid, start = proc
    st = _stat(pid)
    return st is not None and st[0] != "Z" and (start is None or st[2] == start)


def _children_of(parent):
    """{(pid, starttime)} of the live children of parent (pid, starttime)."""
    out = set()
    if not parent or not alive(parent):
        return out
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None and st[1] == parent[0]:
                out.add((int(name), st[2]))
    return out


def _wait_gone(pids, timeout):
    end = time.monotonic() + timeout
    while True:
        left = [p for p in pids if p and alive(p)]
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.1)
