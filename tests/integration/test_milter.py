"""Integration tests of the daemon tlsverify-milter (SPEC 7) with real
clients: miltertest scripts (tests/milter/*.lua) and a small milter-protocol
client written here (miltertest cannot show a reply's text at RCPT).

Test world (one port for every test MX, on its own loopback address):
  127.0.3.2  STARTTLS, CN=*.emailhosted.not, DNS-IDs *.emailhosted.not and
             emailhosted.not (the seed's certificate); MX of example.com
             (mx01.subd.emailhosted.not, PTR mx0a.emailhosted.not confirmed)
             and of hosted.test.
  127.0.3.3  no STARTTLS (plain): MX of plain.test and norequired.test.
  127.0.3.4  STARTTLS for cold.test, 2 s before the banner (single flight).
  127.0.3.5  STARTTLS for slow.test, 3 s before the banner (> [probe]
             timeout 2 s, < the background deadline 6 s).
  127.0.3.6  silent (accepts, never speaks): MX of silent.test.
  nullmx.test has a null MX.
The milter runs in the foreground on inet:PORT@127.0.0.1 (miltertest does
not speak inet6) and is stopped by its PID.
"""
import os
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
from miltersvc import stop as stop_milter  # noqa: E402
from milterclient import MilterClient, NOHDRS, NR_HDR  # noqa: E402

SCRIPT = os.path.join(tvtest.ROOT, "tests", "milter", "rcpt.lua")
FORGED = os.path.join(tvtest.ROOT, "tests", "milter", "forged.lua")
IP_SEED, IP_PLAIN, IP_COLD, IP_SLOW, IP_SILENT = (
    "127.0.3.2", "127.0.3.3", "127.0.3.4", "127.0.3.5", "127.0.3.6")
MX1 = "mx01.subd.emailhosted.not"
W = {}

DESTS = {
    "default": "none",
    "example.com": "required-verify",
    "hosted.test": "required-verify-hosted",
    "plain.test": "preferred-verify",
    "norequired.test": "required",
    "pref.test": "preferred",
    "nullmx.test": "required-verify",
    "cold.test": "required-verify",
    "slow.test": "required-verify",
    "silent.test": "required-verify",
}
HDR_EXAMPLE = ("example.com=verified (required-verify; host=%s; "
               "matched=CN:*.emailhosted.not~ptr:mx0a.emailhosted.not)" % MX1)
HDR_PLAIN = "plain.test=plain (preferred-verify; host=mx.plain.test)"


# --------------------------------------------------------------------------
# set-up

def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA milter")
    seed = ca.issue(cn="*.emailhosted.not",
                    sans=("*.emailhosted.not", "emailhosted.not"))
    cold = ca.issue(cn="mx.cold.test", sans=("cold.test",))
    slow = ca.issue(cn="mx.slow.test", sans=("slow.test",))
    dns = tvtest.DNS(mctx)
    for d in ("example.com", "hosted.test"):
        dns.mx(d, MX1, 10)
    dns.a(MX1, IP_SEED)
    dns.ptr(IP_SEED, "mx0a.emailhosted.not")
    dns.a("mx0a.emailhosted.not", IP_SEED)
    for d in ("plain.test", "norequired.test"):
        dns.mx(d, "mx.plain.test", 10)
    dns.a("mx.plain.test", IP_PLAIN)
    dns.mx("cold.test", "mx.cold.test", 10)
    dns.a("mx.cold.test", IP_COLD)
    dns.mx("slow.test", "mx.slow.test", 10)
    dns.a("mx.slow.test", IP_SLOW)
    dns.mx("silent.test", "mx.silent.test", 10)
    dns.a("mx.silent.test", IP_SILENT)
    dns.nullmx("nullmx.test")
    dport = dns.start()
    mctx.cleanup(dns.stop)
    port = mctx.port()
    srv = {}
    for name, ip, leaf, mode, delay in (
            ("seed", IP_SEED, seed, "starttls", 0),
            ("plain", IP_PLAIN, None, "plain", 0),
            ("cold", IP_COLD, cold, "starttls", 2),
            ("slow", IP_SLOW, slow, "starttls", 3),
            ("silent", IP_SILENT, None, "silent", 0)):
        s = tvtest.SMTPServer(mctx, ip, port, leaf=leaf, mode=mode,
                              delay=delay)
        s.start()
        mctx.cleanup(s.stop)
        srv[name] = s
    W.update(srv=srv, port=port, dport=dport,
             bundle=tvtest.ca_bundle(mctx, ca))


def conf_sections(mport, dests=None, **over):
    s = dict(
        milter={"socket": "inet:%d@127.0.0.1" % mport},
        probe={"port": W["port"], "ca_file": W["bundle"], "timeout": 2,
               "helo": "relay.test"},
        dns={"nameserver": "127.0.0.1:%d" % W["dport"], "timeout": 1},
        cache={"verified_ttl": 600, "failed_ttl": 600, "tempfail_ttl": 600,
               "max_entries": 100},
        destinations=dict(dests or DESTS))
    for k, v in over.items():
        s[k].update(v)
    return s


def start_milter(ctx, name="milter.conf", dests=None, **over):
    mport = ctx.port()
    conf = tvtest.write_conf(ctx, name=name,
                             **conf_sections(mport, dests, **over))
    proc = ctx.spawn([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf])
    ctx.cleanup(stop_milter, proc)
    tvtest.wait_tcp("127.0.0.1", mport, timeout=15)
    return proc, conf, "inet:%d@127.0.0.1" % mport, mport


def log_of(proc):
    with open(proc.log, errors="replace") as f:
        return f.read()


def session(ctx, sock, rcpts, header=None, qid=None, timeout=60):
    """Run rcpt.lua; rcpts: [(addr, mailer, expect)]."""
    env = {"MILTER_SOCK": sock,
           "RCPTS": " ".join("%s|%s|%s" % r for r in rcpts),
           "TIMEOUT": 30}
    if header is not None:
        env["HEADER"] = header
    if qid is not None:
        env["QUEUE_ID"] = qid
    cp = tvtest.miltertest(ctx, SCRIPT, env, timeout=timeout)
    assert cp.returncode == 0, "miltertest rc %d:\n%s\n%s" % (
        cp.returncode, cp.stdout[-2000:], cp.stderr[-2000:])
    return cp


def counts():
    return {k: s.connections() for k, s in W["srv"].items()}


# --------------------------------------------------------------------------
# a minimal MTA side of the milter protocol, to read reply texts

class Milter:
    def __init__(self, port, host="127.0.0.1"):
        self.s = socket.create_connection((host, port), timeout=30)
        # version 6, offer every action and step
        self.send(b"O", struct.pack("!III", 6, 0x1FF, 0x1FFFFF))
        cmd, data = self.recv()
        assert cmd == b"O", cmd
        self.version, self.actions, self.steps = struct.unpack(
            "!III", data[:12])

    def send(self, cmd, data=b""):
        self.s.sendall(struct.pack("!I", len(data) + 1) + cmd + data)

    def recv(self):
        hdr = self._read(4)
        n = struct.unpack("!I", hdr)[0]
        body = self._read(n)
        return body[:1], body[1:]

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise AssertionError("milter closed the connection")
            buf += chunk
        return buf

    def mail(self, addr):
        self.send(b"M", addr.encode() + b"\0")
        return self.recv()

    def rcpt(self, addr, mailer="smtp"):
        macros = b"R{rcpt_addr}\0" + addr.strip("<>").encode() + b"\0"
        macros += b"{rcpt_mailer}\0" + mailer.encode() + b"\0"
        self.send(b"D", macros)
        self.send(b"R", addr.encode() + b"\0")
        return self.recv()

    def close(self):
        try:
            self.send(b"Q")
        finally:
            self.s.close()


def reply_of(port, addr, mailer="smtp", host="127.0.0.1"):
    m = Milter(port, host)
    try:
        assert m.mail("<sender@relay.test>")[0] == b"c"
        cmd, data = m.rcpt(addr, mailer)
    finally:
        m.close()
    return cmd.decode(), data.rstrip(b"\0").decode()


# --------------------------------------------------------------------------
# tests

def test_check_config(ctx):
    mport = ctx.port()
    good = tvtest.write_conf(ctx, name="good.conf", **conf_sections(mport))
    milter = os.path.join(ctx.build, "tlsverify-milter")
    cp = ctx.run([milter, "-n", "-c", good])
    assert cp.returncode == 0 and "warning" not in cp.stderr, cp.stderr
    slow = tvtest.write_conf(ctx, name="slow.conf", **conf_sections(
        mport, probe={"timeout": 30}))
    cp = ctx.run([milter, "-n", "-c", slow])
    assert cp.returncode == 0, cp.stderr
    assert "milter_command_timeout" in cp.stderr, cp.stderr
    bad = ctx.path("bad.conf")
    with open(good) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace("plain.test = preferred-verify",
                             "plain.test = maybe-verify"))
    cp = ctx.run([milter, "-n", "-c", bad])
    assert cp.returncode == 78, (cp.returncode, cp.stderr)
    assert cp.stderr.startswith(bad + ":"), cp.stderr
    cp = ctx.run([milter, "-f", "-c", bad], timeout=20)
    assert cp.returncode == 78, "a bad configuration must stop the start"
    cp = ctx.run([milter, "-n", "-c", ctx.path("missing.conf")])
    assert cp.returncode == 78, cp.stderr
    cp = ctx.run([milter, "-V"])
    assert cp.returncode == 0 and "tlsverify-milter" in cp.stdout
    cp = ctx.run([milter, "-x"])
    assert cp.returncode == 64


RCPTS_ALL = [
    ("<a@example.com>", "smtp", "continue"),
    ("<b@hosted.test>", "smtp", "tempfail"),
    ("<c@plain.test>", "smtp", "continue"),
    ("<d@norequired.test>", "smtp", "tempfail"),
    ("<e@none.test>", "smtp", "continue"),
    ("<f@pref.test>", "smtp", "continue"),
    ("<g@nullmx.test>", "smtp", "reject"),
    ("<h@hosted.test>", "local", "continue"),   # skipped mailer
    ("<postmaster>", "-", "continue"),           # no domain: local
    ("<A2@EXAMPLE.COM>", "-", "continue"),       # same domain, no mailer
]


def test_message_each_setting(ctx):
    proc, conf, sock, mport = start_milter(ctx)
    before = counts()
    session(ctx, sock, RCPTS_ALL, header=HDR_EXAMPLE + ", " + HDR_PLAIN,
            qid="4XyZ12abcd")
    after = counts()
    assert after["seed"] - before["seed"] >= 2, (before, after)
    assert after["plain"] - before["plain"] >= 2, (before, after)
    # the second message to the same domains: all from the cache
    session(ctx, sock, RCPTS_ALL, header=HDR_EXAMPLE + ", " + HDR_PLAIN)
    assert counts() == after, ("new connections for cached domains",
                               after, counts())
    # nothing probed: no header at all
    session(ctx, sock, [("<x@none.test>", "smtp", "continue"),
                        ("<y@pref.test>", "smtp", "continue")],
            header="none")
    log = log_of(proc)
    assert "queue_id=4XyZ12abcd domain=plain.test" in log, log[-3000:]
    assert "domain=example.com" in log and "cached=yes" in log, log[-3000:]
    assert proc.poll() is None


def test_forged_header_removed(ctx):
    """SPEC 7: copies of X-TLS-Verify the message came with (any case) are
    removed at end of message, also when the milter adds none."""
    proc, conf, sock, mport = start_milter(ctx)
    for rcpt, added in (("a@example.com", "yes"), ("x@none.test", "no")):
        cp = tvtest.miltertest(ctx, FORGED, {"MILTER_SOCK": sock,
                                             "RCPT": rcpt, "ADDED": added})
        assert cp.returncode == 0, "forged.lua (%s) rc %d:\n%s\n%s" % (
            rcpt, cp.returncode, cp.stdout[-2000:], cp.stderr[-2000:])


def forged_mods(mport, rcpt, headers):
    """One message through the wire client: the eom modifications."""
    c = MilterClient("127.0.0.1", mport)
    try:
        actions, proto = c.negotiate()
        assert proto & NOHDRS == 0 and proto & NR_HDR, hex(proto)
        assert c.mail("<s@relay.test>")[0] == "continue"
        assert c.rcpt("<%s>" % rcpt, macros={"{rcpt_mailer}": "smtp"})[0] \
            == "continue"
        for name, value in headers:
            c.header(name, value)   # NR_HDR: no reply is read
        mods, final = c.eom()
    finally:
        c.quit()
    assert final[0] == "continue", final
    out = []
    for kind, data in mods:
        if kind == "chgheader":
            idx = struct.unpack(">I", data[:4])[0]
            name, value = data[4:].split(b"\0")[:2]
            out.append((kind, idx, name.decode(), value.decode()))
        else:
            out.append((kind, data.split(b"\0")[0].decode()))
    return out


def test_forged_header_indexes(ctx):
    """Each copy removed once, by its index among headers of that name,
    the last first; then the milter's own header is added."""
    proc, conf, sock, mport = start_milter(ctx)
    hdrs = [("Received", "from x"), ("x-tls-verify", "example.com=verified"),
            ("Subject", "s"), ("X-TLS-VERIFY", "b"), ("X-Other", "o"),
            ("X-TLS-Verify", "c")]
    mods = forged_mods(mport, "a@example.com", hdrs)
    assert mods == [("chgheader", 3, "X-TLS-Verify", ""),
                    ("chgheader", 2, "X-TLS-Verify", ""),
                    ("chgheader", 1, "X-TLS-Verify", ""),
                    ("addheader", "X-TLS-Verify")], mods
    # nothing probed: removed all the same, nothing added
    assert forged_mods(mport, "x@none.test", hdrs[:2]) == [
        ("chgheader", 1, "X-TLS-Verify", "")]
    # no copy: nothing removed
    assert forged_mods(mport, "x@none.test", [("Subject", "s")]) == []
    assert proc.poll() is None


def test_reply_texts(ctx):
    proc, conf, sock, mport = start_milter(ctx)
    cmd, text = reply_of(mport, "<b@hosted.test>")
    assert cmd == "y" and text.startswith("450 4.7.5 "), (cmd, text)
    assert "hosted.test" in text, text
    cmd, text = reply_of(mport, "<d@norequired.test>")
    assert cmd == "y" and text.startswith("450 4.7.10 "), (cmd, text)
    cmd, text = reply_of(mport, "<g@nullmx.test>")
    assert cmd == "y" and text.startswith("556 5.1.10 "), (cmd, text)
    assert reply_of(mport, "<a@example.com>")[0] == "c"
    for cmd, text in [reply_of(mport, "<b@hosted.test>")]:
        assert "\r" not in text and "\n" not in text and len(text) < 1000


def test_reject_on_fail(ctx):
    proc, conf, sock, mport = start_milter(ctx, milter={"on_fail": "reject"})
    cmd, text = reply_of(mport, "<b@hosted.test>")
    assert cmd == "y" and text.startswith("550 5.7.5 "), (cmd, text)
    session(ctx, sock, [("<b@hosted.test>", "smtp", "reject"),
                        ("<a@example.com>", "smtp", "continue")],
            header=HDR_EXAMPLE)


def test_single_flight_20_sessions(ctx):
    # the server waits 2 s before its banner; the sessions wait up to 5 s
    proc, conf, sock, mport = start_milter(ctx, probe={"timeout": 5})
    before = W["srv"]["cold"].connections()
    env = {"MILTER_SOCK": sock, "RCPTS": "<u@cold.test>|smtp|continue",
           "TIMEOUT": "30"}
    procs = []
    for i in range(20):
        procs.append(subprocess.Popen(
            ["miltertest", "-s", SCRIPT], env=dict(os.environ, **env),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    bad = []
    for p in procs:
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()            # by its PID
            out, err = p.communicate()
        if p.returncode != 0:
            bad.append(err[-500:])
    assert not bad, "%d of 20 sessions failed: %s" % (len(bad), bad[:3])
    assert W["srv"]["cold"].connections() - before == 1, (
        "20 concurrent sessions made %d connections"
        % (W["srv"]["cold"].connections() - before))


def test_deadline_then_cached(ctx):
    proc, conf, sock, mport = start_milter(ctx)
    t0 = time.monotonic()
    cmd, text = reply_of(mport, "<s@slow.test>")
    took = time.monotonic() - t0
    assert cmd == "y" and text.startswith("451 4.4.1 "), (cmd, text)
    assert took < 3.0, "the reply took %.1f s, [probe] timeout is 2" % took
    # the probe goes on (3 s banner delay, 6 s deadline) and fills the cache
    time.sleep(2.5)
    n = W["srv"]["slow"].connections()
    t0 = time.monotonic()
    session(ctx, sock, [("<s@slow.test>", "smtp", "continue")],
            header="slow.test=verified (required-verify; host=mx.slow.test; "
            "matched=dNSName:slow.test~domain:slow.test)")
    assert time.monotonic() - t0 < 2.0
    assert W["srv"]["slow"].connections() == n, "retry was not cached"


def test_silent_server(ctx):
    proc, conf, sock, mport = start_milter(ctx)
    t0 = time.monotonic()
    cmd, text = reply_of(mport, "<q@silent.test>")
    assert cmd == "y" and text.startswith("451 "), (cmd, text)
    assert time.monotonic() - t0 < 3.0
    n = W["srv"]["silent"].connections()
    assert n >= 1
    # the background probe ends at its own deadline (3 x 2 s) with a
    # temporary verdict, which is cached for the next session
    time.sleep(6.5)
    t0 = time.monotonic()
    cmd, text = reply_of(mport, "<q@silent.test>")
    assert cmd == "y" and text.startswith("451 4."), (cmd, text)
    assert time.monotonic() - t0 < 1.5, "the temporary verdict was not cached"
    assert W["srv"]["silent"].connections() == n


def test_reload(ctx):
    proc, conf, sock, mport = start_milter(ctx)
    session(ctx, sock, [("<c@plain.test>", "smtp", "continue")],
            header=HDR_PLAIN)
    dests = dict(DESTS, **{"plain.test": "required"})
    tvtest.write_conf(ctx, name="milter.conf",
                      **conf_sections(mport, dests))
    os.kill(proc.pid, signal.SIGUSR1)
    tvtest.wait_for(lambda: "generation 2" in log_of(proc), timeout=10,
                    what="reload logged")
    assert proc.poll() is None, "the milter died on SIGUSR1"
    cmd, text = reply_of(mport, "<c@plain.test>")
    assert cmd == "y" and text.startswith("450 4.7.10 "), (cmd, text)
    # a broken configuration at reload keeps the one in force
    with open(conf, "a") as f:
        f.write("\n[nosuchsection]\nkey = value\n")
    os.kill(proc.pid, signal.SIGUSR1)
    tvtest.wait_for(lambda: "reload failed" in log_of(proc), timeout=10,
                    what="failed reload logged")
    assert proc.poll() is None
    cmd, text = reply_of(mport, "<c@plain.test>")
    assert cmd == "y" and text.startswith("450 4.7.10 "), (cmd, text)
    session(ctx, sock, [("<a@example.com>", "smtp", "continue")],
            header=HDR_EXAMPLE)


def test_unix_socket_and_daemon(ctx):
    path = ctx.path("m.sock")
    pidfile = ctx.path("m.pid")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()              # a stale socket file is left behind
    conf = tvtest.write_conf(ctx, name="unix.conf", **conf_sections(
        0, milter={"socket": "unix:" + path, "pidfile": pidfile}))
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-c", conf],
                 timeout=30)
    assert cp.returncode == 0, (cp.returncode, cp.stderr)
    with open(pidfile) as f:
        pid = int(f.read().strip())

    def stop_daemon():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        end = time.monotonic() + 15
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    ctx.cleanup(stop_daemon)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode), "no socket at %s" % path
    assert st.st_mode & 0o007 == 0, "socket open to others: %o" % st.st_mode
    session(ctx, "unix:" + path, [("<a@example.com>", "smtp", "continue")],
            header=HDR_EXAMPLE)
    stop_daemon()
    assert not os.path.exists(pidfile), "pid file left behind"


def test_many_sessions_stay_up(ctx):
    """Abort/close paths: many short sessions, some without a message."""
    proc, conf, sock, mport = start_milter(ctx)
    for i in range(300):
        m = Milter(mport)
        if i % 3:
            m.mail("<s@relay.test>")
            m.rcpt("<a@example.com>")
            if i % 3 == 2:
                m.send(b"A")     # abort
        m.close()
    assert reply_of(mport, "<a@example.com>")[0] == "c"
    assert proc.poll() is None


def test_privilege_drop(ctx):
    """As root with [milter] user: the socket is made by that user with
    umask 007, the pid file is written before the drop, both are removed
    at exit (the run directory belongs to the milter user). What the
    milter user opens (configuration and CA file on reload, the run
    directory) is in ctx.shared_dir: the checkout may be in a 0700
    directory."""
    if os.geteuid() != 0:
        print("skipped: not root")
        return
    import pwd
    import shutil
    pw = pwd.getpwnam("nobody")
    shared = ctx.shared_dir("drop")
    rundir = os.path.join(shared, "run")
    os.makedirs(rundir)
    os.chown(rundir, pw.pw_uid, pw.pw_gid)
    path = os.path.join(rundir, "m.sock")
    pidfile = os.path.join(rundir, "m.pid")
    bundle = os.path.join(shared, "ca.pem")
    shutil.copyfile(W["bundle"], bundle)
    os.chmod(bundle, 0o644)
    secs = conf_sections(0, milter={"socket": "local:" + path,
                                    "pidfile": pidfile, "user": "nobody"},
                         probe={"ca_file": bundle})
    conf = os.path.join(shared, "drop.conf")
    shutil.copyfile(tvtest.write_conf(ctx, name="drop.conf", **secs), conf)
    os.chmod(conf, 0o644)
    proc = ctx.spawn([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf])
    ctx.cleanup(stop_milter, proc)
    tvtest.wait_for(lambda: os.path.exists(path) or proc.poll() is not None,
                    timeout=15, what="unix socket")
    assert proc.poll() is None, log_of(proc)
    with open("/proc/%d/status" % proc.pid) as f:
        status = f.read()
    uids = [l.split()[1:] for l in status.splitlines()
            if l.startswith(("Uid:", "Gid:"))]
    assert uids == [[str(pw.pw_uid)] * 4, [str(pw.pw_gid)] * 4], uids
    with open(pidfile) as f:
        assert int(f.read()) == proc.pid
    st = os.stat(path)
    assert st.st_uid == pw.pw_uid and st.st_mode & 0o007 == 0, (
        st.st_uid, oct(st.st_mode))
    session(ctx, "unix:" + path, [("<a@example.com>", "smtp", "continue")],
            header=HDR_EXAMPLE)
    os.kill(proc.pid, signal.SIGUSR1)
    tvtest.wait_for(lambda: "generation 2" in log_of(proc), timeout=10,
                    what="reload as the milter user")
    stop_milter(proc)
    assert not os.path.exists(path), "socket left behind"
    assert not os.path.exists(pidfile), "pid file left behind"


def test_inet6_socket(ctx):
    """miltertest cannot connect to inet6: the protocol client above does."""
    if not socket.has_ipv6:
        print("skipped: no IPv6")
        return
    mport = ctx.port()
    conf = tvtest.write_conf(ctx, name="v6.conf", **conf_sections(
        0, milter={"socket": "inet6:%d@::1" % mport}))
    proc = ctx.spawn([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf])
    ctx.cleanup(stop_milter, proc)
    tvtest.wait_for(lambda: "listening on" in log_of(proc) or
                    proc.poll() is not None, timeout=15, what="listening")
    assert proc.poll() is None, log_of(proc)
    assert reply_of(mport, "<a@example.com>", host="::1")[0] == "c"
    cmd, text = reply_of(mport, "<b@hosted.test>", host="::1")
    assert cmd == "y" and text.startswith("450 4.7.5 "), (cmd, text)
