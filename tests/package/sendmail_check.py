#!/usr/bin/env python3
"""sendmail_check.py - Debian's real Sendmail against tlsverify-milter.

Debian's sendmail packages conflict with postfix (both provide
mail-transport-agent), so they are not installed: `apt-get download`
fetches sendmail-bin, sendmail-cf and libwrap0 (a library sendmail-bin
needs that is not otherwise installed), `dpkg -x` extracts them into
WORK/root, and the sendmail binary is copied without its setgid bit so
that LD_LIBRARY_PATH can point at the extracted libwrap. sendmail.cf is
generated with m4 from the extracted cf/ tree and the INPUT_MAIL_FILTER
line the documentation gives. Sendmail runs as `sendmail -bs -odq` (an
SMTP session on stdin, mail only queued) in a UTS namespace whose host name
is the fully qualified relay.test: with an unqualified host name that does
not resolve, sendmail sleeps 60 s per start ("My unqualified host name ...
unknown; sleeping for retry"). The milter socket, queue and sendmail.cf sit
in a directory under /run: sendmail refuses a milter socket below a
world-writable directory such as /tmp.

The milter (MILTER, started here, stopped by PID) gets a configuration in
which accept.test is `none` and defer.test is `required` with an SMTP route
to a closed loopback port: RCPT to accept.test must be accepted (250) and
RCPT to defer.test deferred (451 4.4.1) by the milter, the message queued for
the first recipient only.

Usage: sendmail_check.py MILTER WORKDIR      (as root; prints PASS/FAIL lines)
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEBS = ["sendmail-bin", "sendmail-cf", "libwrap0"]

MC = """divert(-1)
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `relay.test')dnl
define(`QUEUE_DIR', `{d}/queue')dnl
define(`STATUS_FILE', `{d}/statistics')dnl
define(`ALIAS_FILE', `')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confSERVICE_SWITCH_FILE', `{d}/service.switch')dnl
define(`confHOSTS_FILE', `{d}/hosts')dnl
define(`confPID_FILE', `{d}/sendmail.pid')dnl
define(`confDELIVERY_MODE', `queueonly')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`promiscuous_relay')dnl
INPUT_MAIL_FILTER(`tlsverify', `S=local:{d}/milter.sock, F=T, T=C:30s;S:30s;R:60s;E:5m')dnl
MAILER(`smtp')dnl
"""

CONF = """[milter]
socket = local:{d}/milter.sock
on_fail = defer
[probe]
timeout = 5
[destinations]
default = preferred
accept.test = none
defer.test = required
[smtproutes]
defer.test = 127.0.0.1:{port}
"""


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def extract(work):
    root = os.path.join(work, "root")
    dl = os.path.join(work, "debs")
    os.makedirs(dl, exist_ok=True)
    cmd = ["apt-get", "download", "-q"] + DEBS
    if subprocess.run(cmd, cwd=dl, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(cmd, cwd=dl, check=True, stdout=subprocess.DEVNULL)
    for deb in glob.glob(os.path.join(dl, "*.deb")):
        subprocess.run(["dpkg", "-x", deb, root], check=True)
    sm = os.path.join(work, "sendmail")
    shutil.copyfile(os.path.join(root, "usr/libexec/sendmail/sendmail"), sm)
    os.chmod(sm, 0o755)
    return root, sm


class Session:
    """One `sendmail -bs` conversation, a command at a time."""

    def __init__(self, sm, cf, env):
        self.p = subprocess.Popen(
            ["unshare", "-u", "sh", "-c",
             'hostname relay.test && exec "$0" -C "$1" -bs -odq', sm, cf],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def reply(self):
        lines = []
        while True:
            ln = self.p.stdout.readline().decode("ascii", "replace")
            if not ln:
                raise RuntimeError("sendmail closed: %r" % lines)
            lines.append(ln.rstrip("\r\n"))
            if len(ln) < 4 or ln[3] != "-":
                return lines[-1]

    def cmd(self, text):
        self.p.stdin.write(text.encode() + b"\r\n")
        self.p.stdin.flush()
        return self.reply()

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def run(milter, work):
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s sendmail.%s%s" % ("PASS" if ok else "FAIL", name,
                                    "" if ok else ": " + detail), flush=True)

    root, sm = extract(work)
    d = tempfile.mkdtemp(prefix="tlsverify-sm.", dir="/run")
    mpid = None
    try:
        os.chmod(d, 0o700)
        os.mkdir(os.path.join(d, "queue"), 0o700)
        with open(os.path.join(d, "service.switch"), "w") as f:
            f.write("hosts files\n")
        with open(os.path.join(d, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost relay.test\n")
        with open(os.path.join(d, "test.mc"), "w") as f:
            f.write(MC.replace("{d}", d))
        with open(os.path.join(d, "milter.conf"), "w") as f:
            f.write(CONF.replace("{d}", d).replace("{port}",
                                                   str(closed_port())))
        cfdir = os.path.join(root, "usr/share/sendmail/cf")
        cf = os.path.join(d, "sendmail.cf")
        with open(cf, "w") as f:
            subprocess.run(["m4", "-D_CF_DIR_=" + cfdir + "/",
                            os.path.join(cfdir, "m4/cf.m4"),
                            os.path.join(d, "test.mc")], stdout=f,
                           stderr=subprocess.DEVNULL, check=True)
        check("cf_has_filter", "Xtlsverify, S=local:" in open(cf).read())
        mlog = open(os.path.join(work, "milter.log"), "w")
        mp = subprocess.Popen([milter, "-f", "-c",
                               os.path.join(d, "milter.conf")],
                              stdout=mlog, stderr=subprocess.STDOUT)
        mpid = mp.pid
        sock = os.path.join(d, "milter.sock")
        for _ in range(100):
            if os.path.exists(sock) or mp.poll() is not None:
                break
            time.sleep(0.1)
        check("milter_listening", os.path.exists(sock), "no socket")
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = ":".join(
            os.path.join(root, p) for p in ("lib/x86_64-linux-gnu",
                                            "usr/lib/x86_64-linux-gnu"))
        s = Session(sm, cf, env)
        try:
            greet = s.reply()
            check("greeting", greet.startswith("220 "), greet)
            s.cmd("EHLO client.test")
            r = s.cmd("MAIL FROM:<sender@relay.test>")
            check("mail_from", r.startswith("250"), r)
            r = s.cmd("RCPT TO:<user@accept.test>")
            check("rcpt_accepted", r.startswith("250"), r)
            r = s.cmd("RCPT TO:<user@defer.test>")
            check("rcpt_deferred", r.startswith("451 4.4.1") and
                  "defer.test" in r, r)
            r = s.cmd("DATA")
            check("data", r.startswith("354"), r)
            r = s.cmd("Subject: sendmail check\r\n\r\nhello\r\n.")
            check("queued", r.startswith("250"), r)
            s.cmd("QUIT")
        finally:
            s.close()
        qf = glob.glob(os.path.join(d, "queue", "qf*"))
        rcpts = [ln for ln in (open(qf[0], errors="replace").read()
                               if qf else "").splitlines()
                 if ln.startswith("R")]
        check("queue_one_recipient", len(qf) == 1 and len(rcpts) == 1 and
              "user@accept.test" in rcpts[0],
              "queue files %r, recipients %r" % (qf, rcpts))
    finally:
        if mpid is not None:
            try:
                os.kill(mpid, signal.SIGTERM)
                os.waitpid(mpid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if os.environ.get("TV_KEEP"):
            print("kept " + d)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return all(results)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 64
    return 0 if run(sys.argv[1], sys.argv[2]) else 1


if __name__ == "__main__":
    sys.exit(main())
