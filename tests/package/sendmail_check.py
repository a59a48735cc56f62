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

The mc file's milter, access-map and CA lines are README's "Plugging it
into Sendmail" m4 blocks, word for word but for the ports and the CA
(the test CA's file and directory); all mail goes to a test SMTP server
(tests/lib/smtpd.py, STARTTLS) at 127.0.28.2 through SMART_HOST.

The milter (MILTER, started here, stopped by PID) gets a configuration in
which accept.test is `none` and defer.test is `required` with an SMTP route
to a closed loopback port: RCPT to accept.test must be accepted (250) and
RCPT to defer.test deferred (451 4.4.1) by the milter, the message queued for
the first recipient only.

Binding (SPEC 10, Sendmail): bind.test is `required-verify`, routed to the
test server, whose certificate (CN=bind.test, no dNSName, from the test
CA) verifies: RCPT is accepted and the message queued; the policy socket
answers `TLS_Rcpt:bind.test` with VERIFY:128+CN:bind.test. The server then
shows a self-signed certificate with the same CN: a queue run (sendmail
-qf) connects but does not deliver it (tls_rcpt: authentication failed;
the accept.test message, without requirement, is delivered by the same
run); it stays queued. With the CA's certificate back, the next queue run
delivers it over TLS. Last, `sendmail -bt` against the live daemon: the
tls_rcpt ruleset for temp.test (required-verify, route closed: the map
answers TEMP) returns a 4.3.0 error, i.e. Sendmail defers the recipient.

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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import tvtest  # noqa: E402

README = os.path.join(HERE, "..", "..", "README.md")
SRV_IP = "127.0.28.2"
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
define(`SMART_HOST', `[{srv}]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {sport}')dnl
FEATURE(`nocanonify')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`promiscuous_relay')dnl
{readme}MAILER(`smtp')dnl
"""

CONF = """[milter]
socket = inet:{mport}@127.0.0.1
on_fail = defer
[probe]
timeout = 5
ca_file = {ca}
[policy]
socket = inet:{pport}@127.0.0.1
[destinations]
default = preferred
accept.test = none
defer.test = required
bind.test = required-verify
temp.test = required-verify
[smtproutes]
defer.test = 127.0.0.1:{port}
bind.test = {srv}:{sport}
temp.test = 127.0.0.1:{port}
"""


def readme_m4(mport, pport, cafile, cadir):
    """README's m4 blocks of "Plugging it into Sendmail", for this test:
    the ports and the CA replaced, nothing else."""
    with open(README) as f:
        text = f.read()
    sect = text.split("\n## Plugging it into Sendmail\n", 1)[1]
    sect = sect.split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in sect.split("```m4\n")[1:]]
    m4 = "".join(blocks)
    for old, new in (("inet:8895@127.0.0.1", "inet:%d@127.0.0.1" % mport),
                     ("inet:8896@127.0.0.1", "inet:%d@127.0.0.1" % pport),
                     ("/etc/ssl/certs/ca-certificates.crt", cafile),
                     ("`/etc/ssl/certs'", "`%s'" % cadir)):
        if old not in m4:
            raise AssertionError("README m4 lacks %r: %r" % (old, m4))
        m4 = m4.replace(old, new)
    return m4


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


def in_queue(d, needle):
    """The queue files (qf*) whose text contains needle."""
    out = []
    for qf in glob.glob(os.path.join(d, "queue", "qf*")):
        with open(qf, errors="replace") as f:
            if needle in f.read():
                out.append(qf)
    return out


def queue_run(sm, cf, env):
    """One foreground queue run (sendmail -qf); its output."""
    cp = subprocess.run(["unshare", "-u", "sh", "-c",
                         'hostname relay.test && exec "$0" -C "$1" -qf -v',
                         sm, cf], env=env, capture_output=True, timeout=120)
    return (cp.stdout + cp.stderr).decode("ascii", "replace")


def for_rcpt(srv, rcpt):
    return [e for e in srv.envelopes() if any(rcpt in r for r in e["rcpt"])]


def send(sm, cf, env, rcpt, subject):
    """An SMTP session on stdin: the RCPT reply and the end-of-DATA one."""
    s = Session(sm, cf, env)
    try:
        s.reply()
        s.cmd("EHLO client.test")
        s.cmd("MAIL FROM:<sender@relay.test>")
        r = s.cmd("RCPT TO:<%s>" % rcpt)
        q = ""
        if r.startswith("250"):
            s.cmd("DATA")
            q = s.cmd("Subject: %s\r\n\r\nhello\r\n." % subject)
        s.cmd("QUIT")
    finally:
        s.close()
    return r, q


def binding(check, ctx, d, sm, cf, env, srv, selfsigned, pport):
    """SPEC 10 with Sendmail: a verdict found at RCPT time binds delivery."""
    r, q = send(sm, cf, env, "bob@bind.test", "sendmail binding")
    check("bind_rcpt_accepted", r.startswith("250") and
          q.startswith("250"), "%s / %s" % (r, q))
    check("bind_queued", len(in_queue(d, "bob@bind.test")) == 1,
          glob.glob(os.path.join(d, "queue", "*")))
    from sockmapclient import SockmapClient
    c = SockmapClient(pport)
    try:
        ans = c.query("access tls_rcpt:bind.test")
    finally:
        c.close()
    check("bind_map_answer", ans == "OK VERIFY:128+CN:bind.test", ans)
    # the destination stops verifying: same CN, no trusted CA
    srv["s"].stop()
    srv["s"] = tvtest.SMTPServer(ctx, SRV_IP, srv["port"],
                                 leaf=selfsigned).start()
    out = queue_run(sm, cf, env)
    check("bind_connected", srv["s"].connections() > 0, out[-600:])
    check("bind_not_delivered", not for_rcpt(srv["s"], "bind.test"),
          out[-600:])
    check("bind_still_queued", len(in_queue(d, "bob@bind.test")) == 1,
          out[-600:])
    check("bind_deferred_by_tls_rcpt", "authentication failed" in out,
          out[-800:])
    check("none_domain_delivered", len(for_rcpt(srv["s"], "accept.test"))
          == 1, out[-600:])
    # fixed: the next queue run delivers it, over TLS
    srv["s"].stop()
    srv["s"] = tvtest.SMTPServer(ctx, SRV_IP, srv["port"],
                                 leaf=srv["leaf"]).start()
    out = queue_run(sm, cf, env)
    env_ = for_rcpt(srv["s"], "bind.test")
    check("bind_delivered_when_fixed", len(env_) == 1 and
          env_[0]["tls"] is True, out[-800:])
    check("bind_queue_empty", not in_queue(d, "bob@bind.test"), out[-400:])


def temp_answer_defers(check, sm, cf, env):
    """tls_rcpt with the live map's TEMP answer: a 4.3.0 error."""
    cp = subprocess.run(["unshare", "-u", "sh", "-c",
                         'hostname relay.test && exec "$0" -C "$1" -bt',
                         sm, cf], env=env, capture_output=True, timeout=60,
                        input=b".D{verify}OK\n.D{cipher_bits}256\n"
                        b"tls_rcpt user@temp.test\ntls_rcpt user@accept.test\n")
    lines = [ln for ln in cp.stdout.decode("ascii", "replace").splitlines()
             if ln.startswith("tls_rcpt") and "returns:" in ln]
    check("temp_answer_defers", len(lines) == 2 and
          "$# error $@ 4 . 3 . 0" in lines[0] and
          lines[1].endswith("returns: OK"), lines)


def setup(d, work, ctx):
    """Directories, CA, test server, mc/cf and milter configuration."""
    os.chmod(d, 0o700)
    os.mkdir(os.path.join(d, "queue"), 0o700)
    with open(os.path.join(d, "service.switch"), "w") as f:
        f.write("hosts files\n")
    with open(os.path.join(d, "hosts"), "w") as f:
        f.write("127.0.0.1 localhost relay.test\n")
    ca = tvtest.CA(ctx, cn="tlsverify sendmail check CA")
    leaf = ca.issue("bind.test", name="bind")
    selfsigned = tvtest.self_signed(ctx, "bind.test")
    cadir = os.path.join(d, "certs")
    os.mkdir(cadir, 0o755)
    cafile = os.path.join(cadir, "ca.crt")
    shutil.copyfile(ca.cert, cafile)
    subprocess.run(["openssl", "rehash", cadir], check=True,
                   capture_output=True)
    sport, mport, pport = ctx.port(), ctx.port(), ctx.port()
    srv = {"port": sport, "leaf": leaf,
           "s": tvtest.SMTPServer(ctx, SRV_IP, sport, leaf=leaf).start()}
    mc = MC.replace("{readme}", readme_m4(mport, pport, cafile, cadir))
    mc = mc.replace("{srv}", SRV_IP).replace("{sport}", str(sport))
    with open(os.path.join(d, "test.mc"), "w") as f:
        f.write(mc.replace("{d}", d))
    conf = CONF
    for k, v in (("{d}", d), ("{port}", str(closed_port())),
                 ("{mport}", str(mport)), ("{pport}", str(pport)),
                 ("{ca}", cafile), ("{srv}", SRV_IP),
                 ("{sport}", str(sport))):
        conf = conf.replace(k, v)
    with open(os.path.join(d, "milter.conf"), "w") as f:
        f.write(conf)
    return srv, selfsigned, mport, pport


def run(milter, work):
    results = []

    def check(name, ok, detail=""):
        results.append(bool(ok))
        print("%s sendmail.%s%s" % ("PASS" if ok else "FAIL", name,
                                    "" if ok else ": " + str(detail)[:800]),
              flush=True)

    root, sm = extract(work)
    d = tempfile.mkdtemp(prefix="tlsverify-sm.", dir="/run")
    ctx = tvtest.Context(build=work, tmp=os.path.join(work, "t"))
    mp = None
    try:
        srv, selfsigned, mport, pport = setup(d, work, ctx)
        cfdir = os.path.join(root, "usr/share/sendmail/cf")
        cf = os.path.join(d, "sendmail.cf")
        with open(cf, "w") as f:
            subprocess.run(["m4", "-D_CF_DIR_=" + cfdir + "/",
                            os.path.join(cfdir, "m4/cf.m4"),
                            os.path.join(d, "test.mc")], stdout=f,
                           stderr=subprocess.DEVNULL, check=True)
        cftext = open(cf).read()
        check("cf_has_filter", "Xtlsverify, S=inet:%d@127.0.0.1" % mport
              in cftext)
        check("cf_has_access_socket", "Kaccess socket -T<TMPF> inet:%d@"
              "127.0.0.1" % pport in cftext)
        mlog = open(os.path.join(work, "milter.log"), "w")
        mp = subprocess.Popen([milter, "-f", "-c",
                               os.path.join(d, "milter.conf")],
                              stdout=mlog, stderr=subprocess.STDOUT)
        up = True
        try:
            tvtest.wait_tcp("127.0.0.1", pport, timeout=15)
            tvtest.wait_tcp("127.0.0.1", mport, timeout=15)
        except Exception:  # noqa: BLE001 - reported below
            up = False
        check("milter_listening", up and mp.poll() is None, "no socket")
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
        binding(check, ctx, d, sm, cf, env, srv, selfsigned, pport)
        temp_answer_defers(check, sm, cf, env)
    except Exception as e:  # noqa: BLE001 - report as a failed check
        check("error", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if mp is not None and mp.poll() is None:
            mp.send_signal(signal.SIGTERM)
            try:
                mp.wait(timeout=10)
            except subprocess.TimeoutExpired:
                mp.kill()
                mp.wait()
        for err in ctx.run_cleanups():
            check("cleanup", False, err)
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
