"""Shared verdicts in Redis (SPEC 13): two daemons sharing one real
redis-server (started here on loopback with its own port and directory,
stopped by PID). One probe across the fleet for a cold domain; a verdict
probed through relay A answered by relay B from Redis; Redis killed ->
both answer from memory and probe cold domains themselves; Redis back ->
shared again; a malformed value in Redis is ignored and re-probed; a
password from a file, and a group/world-readable one refused by -n.

The test world needs no DNS: [smtproutes] send *.fleet.test to
STARTTLS test servers by IP address (the probe's Phase II matches the
recipient domain against the leaf's *.fleet.test names); the name server
is a closed port.
"""
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402

FAST_IP, SLOW_IP = "127.0.31.2", "127.0.31.3"
SMTP = {"{rcpt_mailer}": "smtp"}


class Redis:
    """A redis-server of the test's own; stopped by PID."""

    def __init__(self, ctx, password=None, unix=None):
        self.ctx, self.password, self.unix = ctx, password, unix
        self.port = ctx.port()
        self.dir = os.path.join(ctx.tmp, "redis-%d" % self.port)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind",
                "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "no", "--daemonize", "no",
                "--protected-mode", "no"]
        if self.password:
            args += ["--requirepass", self.password]
        if self.unix:
            args += ["--unixsocket", self.unix, "--unixsocketperm", "700"]
        self.proc = self.ctx.spawn(args)
        self.ctx.cleanup(self.stop, self.proc)
        tvtest.wait_tcp("127.0.0.1", self.port, timeout=15)
        return self

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            tvtest.stop(proc)

    def kill(self):
        """SIGKILL by PID: Redis dies mid-run."""
        self.proc.kill()
        self.proc.wait(timeout=10)
        tvtest.stop(self.proc)

    def cli(self, *args):
        cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)]
        env = dict(os.environ)
        if self.password:
            env["REDISCLI_AUTH"] = self.password
        cp = subprocess.run(cmd + list(args), capture_output=True,
                            text=True, timeout=30, env=env)
        assert cp.returncode == 0, cp.stderr
        return cp.stdout.rstrip("\n")

    def key(self, domain, db=0):
        keys = self.cli("-n", str(db), "--scan", "--pattern",
                        "tlsverify:v2:*:%s:*" % domain).split()
        assert len(keys) == 1, keys
        return keys[0]


class World:
    def __init__(self, ctx):
        self.ctx = ctx
        ca = tvtest.CA(ctx, cn="tlsverify test CA fleet")
        leaf = ca.issue("mx.fleet.test",
                        sans=["*.fleet.test", "*.slow.fleet.test"])
        self.ca = ca
        self.sport = ctx.port()
        self.fast = tvtest.SMTPServer(ctx, FAST_IP, self.sport,
                                      leaf=leaf).start()
        self.slow = tvtest.SMTPServer(ctx, SLOW_IP, self.sport, leaf=leaf,
                                      delay=1).start()
        ctx.cleanup(self.fast.stop)
        ctx.cleanup(self.slow.stop)
        self.closed = ctx.port()

    def relay(self, name, backend, **cache):
        ppol = self.ctx.port()
        c = {"backend": backend}
        c.update(cache)
        m = miltersvc.start(
            self.ctx, name=name + ".conf",
            probe={"port": self.sport, "ca_file": self.ca.cert,
                   "timeout": 10, "helo": "relay.fleet.test"},
            dns={"nameserver": "127.0.0.1:%d" % self.closed, "timeout": 1},
            cache=c,
            destinations={"default": "none",
                          ".fleet.test": "required-verify"},
            smtproutes={".fleet.test": FAST_IP,
                        ".slow.fleet.test": SLOW_IP,
                        ".bad.fleet.test": "127.0.31.9:%d" % self.closed},
            extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol}})
        tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
        m.policy = ppol
        return m


def policy(m, domain):
    c = SockmapClient(m.policy, timeout=60)
    try:
        return c.query("tlspolicy " + domain)
    finally:
        c.close()


def rcpt(port, rcpt):
    c = MilterClient("127.0.0.1", port, timeout=60)
    try:
        c.negotiate()
        c.mail("<sender@relay.test>")
        out = c.rcpt(rcpt, macros=SMTP)
        c.abort()
        c.quit()
    finally:
        c.close()
    return out


def verified(answer):
    return answer.startswith("OK secure match=")


def test_redis_one_probe_across_fleet(ctx):
    w = World(ctx)
    r = Redis(ctx).start()
    backend = "redis://127.0.0.1:%d/3" % r.port
    a, b = w.relay("a", backend), w.relay("b", backend)
    out = [None] * 50

    def one(i):
        try:
            out[i] = rcpt((a, b)[i % 2].port, "<u%d@cold.slow.fleet.test>" % i)
        except Exception as e:      # reported below
            out[i] = ("error", repr(e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert out == [("continue", "")] * 50, [o for o in out if o !=
                                            ("continue", "")][:5]
    assert w.slow.connections() == 1, w.slow.connections()
    # in database 3, with the verified TTL as expiry
    k = r.key("cold.slow.fleet.test", db=3)
    ttl = int(r.cli("-n", "3", "PTTL", k))
    assert 3500 * 1000 < ttl <= 3600 * 1000, ttl
    assert r.cli("-n", "3", "GETRANGE", k, "0", "6") == "TVV2 0 "
    # probed through A, answered by B from Redis: no new connection
    n = w.fast.connections()
    ans = policy(a, "shared.fleet.test")
    assert verified(ans), ans
    assert w.fast.connections() == n + 1
    assert policy(b, "shared.fleet.test") == ans
    assert w.fast.connections() == n + 1, "relay B probed again"
    assert "connected to redis://127.0.0.1:%d/3" % r.port in b.log()


def test_redis_down_then_back(ctx):
    w = World(ctx)
    r = Redis(ctx).start()
    backend = "redis://127.0.0.1:%d" % r.port
    a, b = w.relay("a", backend), w.relay("b", backend)
    assert verified(policy(a, "warm.fleet.test"))
    assert verified(policy(b, "warm.fleet.test"))
    n = w.fast.connections()
    assert n == 1, n
    r.kill()
    # warm: from memory; cold: probed locally by each relay
    for m in (a, b, a, b):
        assert verified(policy(m, "warm.fleet.test"))
        assert rcpt(m.port, "<x@warm.fleet.test>") == ("continue", "")
    assert w.fast.connections() == n
    assert verified(policy(a, "cold1.fleet.test"))
    assert verified(policy(b, "cold1.fleet.test"))
    assert w.fast.connections() == n + 2
    # a failing domain still defers without Redis (never an accept)
    ans = policy(a, "x.bad.fleet.test")
    assert ans.startswith("TEMP"), ans
    for m in (a, b):
        tvtest.wait_for(lambda: "is down" in m.log(), timeout=15,
                        what="redis down line")
    r.start()      # the same port, empty
    for m in (a, b):
        tvtest.wait_for(lambda: "is back after" in m.log(), timeout=40,
                        what="redis back line")
        log = m.log()
        assert log.count(" is down (") == 1, log[-3000:]
        assert log.count("is back after") == 1, log[-3000:]
    n = w.fast.connections()
    ans = policy(b, "cold2.fleet.test")
    assert verified(ans), ans
    assert policy(a, "cold2.fleet.test") == ans
    assert w.fast.connections() == n + 1, "not shared after Redis came back"


def test_redis_hung_counts_as_down(ctx):
    """A Redis that accepts but does not answer (SIGSTOP) within
    redis_timeout is down: the relay probes itself, promptly."""
    w = World(ctx)
    r = Redis(ctx).start()
    a = w.relay("a", "redis://127.0.0.1:%d" % r.port, redis_timeout="0.2")
    assert verified(policy(a, "before.fleet.test"))
    os.kill(r.proc.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        assert verified(policy(a, "hung.fleet.test"))
        took = time.monotonic() - t0
        assert took < 3, took
        assert "is down (no answer within redis_timeout)" in a.log(), \
            a.log()[-2000:]
        time.sleep(2.5)         # reconnect attempts meet the hung server
        assert "is back after" not in a.log(), a.log()[-2000:]
        assert verified(policy(a, "hung2.fleet.test"))
    finally:
        os.kill(r.proc.pid, signal.SIGCONT)
    tvtest.wait_for(lambda: "is back after" in a.log(), timeout=40,
                    what="redis back line")
    assert a.log().count(" is down (") == 1, a.log()[-3000:]


def test_redis_malformed_value_reprobed(ctx):
    w = World(ctx)
    r = Redis(ctx).start()
    backend = "redis://127.0.0.1:%d" % r.port
    a = w.relay("a", backend)
    hostile = {
        "m1": ["SET", None, "garbage", "PX", "600000"],
        "m2": ["SET", None, "TVV2 0 0 - - 3600000 1 0 0 0 0 0 0\nx",
               "PX", "600000"],
        "m3": ["SET", None, "TVV2 0 0 - - 3600000 " + "9" * 30 + "\n",
               "PX", "600000"],
        "m4": ["SET", None, "x" * 20000, "PX", "600000"],
        "m5": ["RPUSH", None, "a"],
        "m6": ["SET", None, None],          # the real value, no expiry
    }
    for d, cmd in hostile.items():
        dom = d + ".fleet.test"
        assert verified(policy(a, dom))
        k = r.key(dom)
        good = r.cli("GET", k)
        r.cli("DEL", k)
        cmd = [k if x is None and i == 1 else x for i, x in enumerate(cmd)]
        if cmd[2] is None:
            cmd[2] = good
        r.cli(*cmd)
    n = w.fast.connections()
    b = w.relay("b", backend)       # a fresh memory cache
    for d in hostile:
        ans = policy(b, d + ".fleet.test")
        assert verified(ans), (d, ans)
    assert w.fast.connections() == n + len(hostile), \
        (w.fast.connections(), n)
    for d in hostile:
        k = r.key(d + ".fleet.test")
        assert r.cli("GETRANGE", k, "0", "6") == "TVV2 0 ", d
        assert int(r.cli("PTTL", k)) > 0, d
    assert b.log().count("ignoring the shared verdict") == len(hostile), \
        b.log()[-3000:]


def test_redis_password_file(ctx):
    w = World(ctx)
    sock = os.path.join(ctx.shared_dir("redis"), "r.sock")
    r = Redis(ctx, password="s3cret-fleet", unix=sock).start()
    pw = os.path.join(ctx.tmp, "redis.pw")
    with open(pw, "w") as f:
        f.write("s3cret-fleet\n")
    os.chmod(pw, 0o600)
    a = w.relay("a", "redis://127.0.0.1:%d" % r.port,
                redis_password_file=pw, redis_timeout="0.25")
    b = w.relay("b", "unix:%s?db=0" % sock, redis_password_file=pw)
    n = w.fast.connections()
    ans = policy(a, "pw.fleet.test")
    assert verified(ans), ans
    assert policy(b, "pw.fleet.test") == ans
    assert w.fast.connections() == n + 1
    assert "connected to unix:%s" % sock in b.log()
    # a wrong password: AUTH refused, memory only, still judged
    with open(pw + "2", "w") as f:
        f.write("wrong\n")
    os.chmod(pw + "2", 0o600)
    c = w.relay("c", "redis://127.0.0.1:%d" % r.port,
                redis_password_file=pw + "2")
    assert verified(policy(c, "pw.fleet.test"))
    assert "AUTH refused" in c.log(), c.log()[-2000:]
    assert w.fast.connections() == n + 2
    # group/world-readable: refused at -n (exit 78)
    exe = os.path.join(ctx.build, "tlsverify-milter")
    ctx.run([exe, "-n", "-c", a.conf], expect_rc=0)
    for mode in (0o644, 0o640, 0o604):
        os.chmod(pw, mode)
        cp = ctx.run([exe, "-n", "-c", a.conf], expect_rc=78)
        assert "redis_password_file" in cp.stderr and \
            "mode %04o" % mode in cp.stderr, cp.stderr
    os.chmod(pw, 0o600)
    os.symlink(pw, pw + ".link")
    conf = open(a.conf).read().replace(pw, pw + ".link")
    bad = os.path.join(ctx.tmp, "link.conf")
    with open(bad, "w") as f:
        f.write(conf)
    ctx.run([exe, "-n", "-c", bad], expect_rc=78)


def test_redis_backend_syntax(ctx):
    exe = os.path.join(ctx.build, "tlsverify-milter")
    for v in ("redis://", "redis://h:0", "redis://h:99999", "redis://h/x",
              "rediss://h", "unix:rel/path", "unix:/x?db=a", "mem"):
        conf = tvtest.write_conf(ctx, name="b.conf",
                                 cache={"backend": v},
                                 destinations={"default": "none"})
        cp = ctx.run([exe, "-n", "-c", conf], expect_rc=78)
        assert "backend" in cp.stderr, (v, cp.stderr)
    for v in ("0", "61", "0.0001", "1.", "x"):
        conf = tvtest.write_conf(ctx, name="t.conf",
                                 cache={"backend": "memory",
                                        "redis_timeout": v},
                                 destinations={"default": "none"})
        cp = ctx.run([exe, "-n", "-c", conf], expect_rc=78)
        assert "redis_timeout" in cp.stderr, (v, cp.stderr)
