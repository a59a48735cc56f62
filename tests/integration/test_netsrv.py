"""test_netsrv - the lookup socket server (milter/netsrv*.c) with a test
handler (tests/helpers/netsrv_echo.c: "NAME KEY" -> "OK KEY", the key
"slow" sleeps 3 s, "empty" gets an empty reply).

Socketmap (SPEC 10): framing, pipelining, 200 concurrent connections,
a slow request that does not delay another connection, hostile input
(huge length prefix, garbage, half request, NUL) answered with PERM and a
close while another client keeps getting answers, max_conns, a client
that never reads. Line protocol (SPEC 11): one line, one reply, close;
malformed lines. Listening: unix socket in use / stale / not a socket,
inet6, bad specs. Every server is stopped with SIGTERM at the end of its
test and must exit 0 without a sanitizer report (leaks included).
"""
import os
import re
import socket
import stat
import threading
import time

import tvtest

FAST = 1.0          # "well under the 3 s of a slow request"


def echo_bin(ctx):
    return os.path.join(ctx.build, "tests", "netsrv_echo")


def readlog(p):
    with open(p.log, "r", errors="replace") as f:
        return f.read()


def stop_clean(p):
    rc = tvtest.stop(p)
    tvtest.log_sanitizer_check(p.log)
    log = readlog(p)
    assert rc == 0 and "stopped" in log, "netsrv_echo rc=%r:\n%s" % (
        rc, log[-3000:])


def serve(ctx, proto, *opts, spec=None, **kw):
    """Start netsrv_echo; returns (proc, address to connect to)."""
    addr = None
    if spec is None:
        port = ctx.port()
        spec = "inet:%d@127.0.0.1" % port
        addr = ("127.0.0.1", port)
    p = ctx.spawn([echo_bin(ctx)] + list(opts) + [proto, spec], **kw)
    tvtest.wait_for(lambda: "ready" in readlog(p) or p.poll() is not None,
                    10, what="netsrv_echo ready")
    assert p.poll() is None, "netsrv_echo exited: %s" % readlog(p)
    ctx.cleanup(stop_clean, p)
    return p, addr


def ns(data):
    if isinstance(data, str):
        data = data.encode()
    return b"%d:%s," % (len(data), data)


class Conn:
    """A client with a receive buffer: netstring or line replies."""

    def __init__(self, addr, timeout=10.0, rcvbuf=None):
        fam = socket.AF_UNIX if isinstance(addr, str) else (
            socket.AF_INET6 if ":" in addr[0] else socket.AF_INET)
        self.s = socket.socket(fam, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.settimeout(timeout)
        self.s.connect(addr)
        self.buf = b""

    def send(self, b):
        self.s.sendall(b)

    def _more(self):
        try:
            chunk = self.s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if chunk:
            self.buf += chunk
        return bool(chunk)

    def reply(self):
        """The next netstring payload (str), None at end of input."""
        while True:
            m = re.match(rb"(\d{1,5}):", self.buf)
            if m:
                end = m.end() + int(m.group(1))
                if len(self.buf) > end:
                    assert self.buf[end:end + 1] == b",", self.buf[:200]
                    data, self.buf = self.buf[m.end():end], self.buf[end + 1:]
                    return data.decode()
            else:
                assert not self.buf or self.buf[:1].isdigit(), self.buf[:200]
            if not self._more():
                assert not self.buf, "partial reply %r" % self.buf[:200]
                return None

    def req(self, data):
        self.send(ns(data))
        return self.reply()

    def line(self):
        """The next line without "\\n", None at end of input."""
        while b"\n" not in self.buf:
            if not self._more():
                assert not self.buf, "partial line %r" % self.buf[:200]
                return None
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.decode()

    def at_eof(self):
        """True when the server closed (no more data)."""
        return not self._more() and not self.buf

    def close(self):
        self.s.close()


def timed(c, key, name="tlspolicy"):
    t0 = time.monotonic()
    r = c.req("%s %s" % (name, key))
    el = time.monotonic() - t0
    assert r == "OK " + key, "%s -> %r" % (key, r)
    assert el < FAST, "reply for %s took %.2fs" % (key, el)
    return el


# ---------------------------------------------------------------- socketmap

def test_socketmap_requests(ctx):
    _, addr = serve(ctx, "socketmap")
    c = Conn(addr)
    assert c.req("tlspolicy example.com") == "OK example.com"
    for i in range(20):     # one connection, requests one after another
        assert c.req("transport d%d.example" % i) == "OK d%d.example" % i
    assert c.req("tlspolicy empty") == "TEMP no answer"
    assert c.req("nokey") == "PERM no key"
    assert c.req("") == "PERM no key"               # 0:, is a netstring
    big = "k" * (10000 - len("tlspolicy "))        # exactly max_req
    assert c.req("tlspolicy " + big) == "OK " + big
    assert c.req("tlspolicy after.big") == "OK after.big"
    c.close()


def test_socketmap_pipelined(ctx):
    _, addr = serve(ctx, "socketmap")
    c = Conn(addr)
    c.send(b"".join(ns("tlspolicy p%03d.example" % i) for i in range(100)))
    got = [c.reply() for _ in range(100)]
    assert got == ["OK p%03d.example" % i for i in range(100)], got[:5]
    # a slow one first: the ones behind it still come back in order
    c.send(ns("tlspolicy slow") + ns("tlspolicy after"))
    assert [c.reply(), c.reply()] == ["OK slow", "OK after"]
    # a request split over many writes, one byte each
    for b in ns("tlspolicy drip.example"):
        c.send(bytes([b]))
    assert c.reply() == "OK drip.example"
    c.close()


def test_socketmap_200_connections(ctx):
    _, addr = serve(ctx, "socketmap")
    conns = [Conn(addr) for _ in range(200)]
    for rnd in range(3):
        for i, c in enumerate(conns):
            c.send(ns("tlspolicy c%d-r%d" % (i, rnd)))
        for i, c in enumerate(conns):
            assert c.reply() == "OK c%d-r%d" % (i, rnd), (i, rnd)
    errs = []

    def worker(lo):
        try:
            for i in range(lo, lo + 40):
                for k in range(5):
                    r = conns[i].req("tlspolicy t%d-%d" % (i, k))
                    assert r == "OK t%d-%d" % (i, k), r
        except Exception as e:      # noqa: BLE001 - reported below
            errs.append(repr(e))
    ts = [threading.Thread(target=worker, args=(lo,))
          for lo in range(0, 200, 40)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errs, errs
    for c in conns:
        c.close()


def test_socketmap_slow_does_not_block(ctx):
    _, addr = serve(ctx, "socketmap")
    slow = Conn(addr)
    fast = Conn(addr)
    t0 = time.monotonic()
    slow.send(ns("tlspolicy slow"))
    worst = max(timed(fast, "f%04d" % i) for i in range(1000))
    fast_total = time.monotonic() - t0
    assert slow.reply() == "OK slow"
    slow_el = time.monotonic() - t0
    print("1000 answers in %.2fs (worst %.3fs) while slow took %.2fs"
          % (fast_total, worst, slow_el))
    assert slow_el >= 2.5, "the slow handler did not run (%.2fs)" % slow_el
    slow.close()
    fast.close()


def threads(p):
    with open("/proc/%d/status" % p.pid) as f:
        return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))


def slow_wave(addr, n):
    """n connections ask "slow" (3 s in a worker) at once: the wall time
    until the last reply."""
    cs = [Conn(addr, timeout=30) for _ in range(n)]
    t0 = time.monotonic()
    for c in cs:
        c.send(ns("tlspolicy slow"))
    for c in cs:
        assert c.reply() == "OK slow"
    el = time.monotonic() - t0
    for c in cs:
        c.close()
    return el


def test_socketmap_pool_grows_with_waiting_requests(ctx):
    """Requests that wait (a cold probe) hold their worker: 40 of them at
    once all run at once (the pool grows past the 4 it starts with), not in
    rounds; a warm request still gets its answer meanwhile."""
    p, addr = serve(ctx, "socketmap")
    start = threads(p)
    t = threading.Thread(target=lambda: W40.append(slow_wave(addr, 40)))
    W40 = []
    t.start()
    time.sleep(0.5)
    c = Conn(addr)
    timed(c, "during")
    c.close()
    t.join(60)
    assert W40 and W40[0] < 5.5, "40 waiting requests took %.2fs (in " \
        "rounds, not at once)" % W40[0]
    assert threads(p) >= 40 + 2, "pool did not grow: %d threads (%d at " \
        "start)" % (threads(p), start)
    assert start <= 4 + 2, "pool started with %d threads" % start


def test_socketmap_pool_keeps_its_limit(ctx):
    """-w 4: never more than 4 workers; 8 waiting requests take two
    rounds of 3 s."""
    p, addr = serve(ctx, "socketmap", "-w", "4")
    el = slow_wave(addr, 8)
    assert el >= 5.5, "8 requests on 4 workers took %.2fs" % el
    assert threads(p) <= 4 + 2, "%d threads with -w 4" % threads(p)


def test_socketmap_fast_path(ctx):
    """netsrv_start_fast: what the fast handler answers comes back from the
    I/O thread even while the only worker is busy; what it leaves goes to
    the pool; a connection's replies stay in request order."""
    _, addr = serve(ctx, "socketmap", "-w", "1", "-f")
    slow = Conn(addr)
    slow.send(ns("tlspolicy slow"))         # the one worker: 3 s
    time.sleep(0.2)
    c = Conn(addr)
    t0 = time.monotonic()
    for i in range(200):
        assert c.req("tlspolicy fast%d.example" % i) == \
            "FAST fast%d.example" % i
    el = time.monotonic() - t0
    assert el < 2.0, "fast answers waited for the busy worker: %.2fs" % el
    # pipelined, mixed: fast, pool (behind the slow one), fast
    c.send(ns("tlspolicy fast.a") + ns("tlspolicy b") + ns("tlspolicy fast.c")
           + ns("tlspolicy fast.d"))
    assert [c.reply() for _ in range(4)] == [
        "FAST fast.a", "OK b", "FAST fast.c", "FAST fast.d"]
    assert slow.reply() == "OK slow"
    assert time.monotonic() - t0 < 6
    # hostile input still gets PERM and a close, fast path or not
    bad = Conn(addr)
    bad.send(ns("tlspolicy fast.ok") + b"garbage")
    assert bad.reply() == "FAST fast.ok"
    r = bad.reply()
    assert r is not None and r.startswith("PERM "), r
    assert bad.at_eof()
    assert c.req("tlspolicy fast.after") == "FAST fast.after"
    for x in (slow, c, bad):
        x.close()


def test_line_fast_path(ctx):
    _, addr = serve(ctx, "line", "-w", "1", "-f")
    slow = Conn(addr)
    slow.send(b"rcpt slow\n")
    time.sleep(0.2)
    t0 = time.monotonic()
    for i in range(50):
        assert line_query(addr, b"rcpt fast%d.example\n" % i) == \
            "FAST fast%d.example" % i
    assert time.monotonic() - t0 < 2.0
    assert line_query(addr, b"rcpt fast.x\nrcpt fast.y\n") == "FAST fast.x"
    assert slow.line() == "OK slow"
    assert slow.at_eof()


# hostile requests: (bytes sent, PERM reason expected)
HOSTILE = [
    (b"99999999999999999999:x,", "request too long"),
    (b"10001:", "request too long"),          # body never sent
    (b"20000:" + b"x" * 20001, "request too long"),
    (b"123456:x", "request too long"),       # 5-digit limit: unit test
    (b"01:x,", "leading zero"),
    (b"GET / HTTP/1.0\r\n\r\n", "length is not a number"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "length is not a number"),
    (b"3x:abc,", "missing ':'"),
    (b"3:abcd", "missing ','"),
    (b"3:a\x00c,", "NUL byte"),
    (ns("tlspolicy ok.example") + b"garbage", "length is not a number"),
]


def test_socketmap_hostile(ctx):
    _, addr = serve(ctx, "socketmap", "-r", "1500")
    good = Conn(addr)
    timed(good, "before.example")
    for i, (data, why) in enumerate(HOSTILE):
        c = Conn(addr)
        c.send(data)
        r = c.reply()
        if data.startswith(ns("tlspolicy ok.example")):
            assert r == "OK ok.example", r
            r = c.reply()
        assert r is not None and r.startswith("PERM ") and why in r, (
            "%r -> %r" % (data[:40], r))
        assert c.at_eof(), "%r: not closed after PERM" % data[:40]
        c.close()
        timed(good, "between%d.example" % i)
    # a half request: PERM after req_ms (1.5 s), the other client unaffected
    half = Conn(addr)
    half.send(b"30:tlspolicy half")
    t0 = time.monotonic()
    for i in range(20):
        timed(good, "during%d.example" % i)
    assert half.reply() == "PERM request timeout"
    el = time.monotonic() - t0
    assert 1.0 < el < 4.0, "half request answered after %.2fs" % el
    assert half.at_eof()
    # a client that sends garbage without end, far beyond max_req
    flood = Conn(addr)
    try:
        flood.send(b"9" * 200000)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = flood.reply()
    assert r is not None and r.startswith("PERM "), r
    timed(good, "after.example")
    good.close()


def test_socketmap_close_delivers_replies(ctx):
    """Replies still queued in the kernel when a refused request closes
    the connection are delivered (shutdown + drain, not a reset), even
    when unread garbage follows."""
    _, addr = serve(ctx, "socketmap")
    c = Conn(addr, rcvbuf=4096, timeout=20)
    key = "r" * 200
    reqs = b"".join(ns("tlspolicy %s%03d" % (key, i)) for i in range(200))
    sender = threading.Thread(target=lambda: _send_quiet(
        c, reqs + b"x" * 300000))
    sender.start()
    time.sleep(1.0)     # let the server queue every reply, then read
    got = []
    while True:
        r = c.reply()
        if r is None:
            break
        got.append(r)
    sender.join(10)
    assert got[:200] == ["OK %s%03d" % (key, i) for i in range(200)], \
        "%d replies, last %r" % (len(got), got[-1:])
    assert len(got) == 201 and got[200].startswith("PERM "), got[200:]


def _send_quiet(c, data):
    try:
        c.send(data)
    except OSError:
        pass


def test_socketmap_half_close(ctx):
    """A client that shuts down its side still gets its replies."""
    _, addr = serve(ctx, "socketmap")
    c = Conn(addr)
    c.send(ns("tlspolicy a.example") + ns("tlspolicy b.example") + b"7:partia")
    c.s.shutdown(socket.SHUT_WR)
    assert [c.reply(), c.reply()] == ["OK a.example", "OK b.example"]
    assert c.at_eof()


def test_socketmap_idle_timeout(ctx):
    _, addr = serve(ctx, "socketmap", "-i", "1000")
    idle = Conn(addr)
    busy = Conn(addr)
    busy.send(ns("tlspolicy slow"))     # a request in a worker is not idle
    t0 = time.monotonic()
    assert idle.at_eof()
    el = time.monotonic() - t0
    assert 0.7 < el < 3.0, "idle connection closed after %.2fs" % el
    assert busy.reply() == "OK slow"
    assert busy.req("tlspolicy again") == "OK again"


def test_socketmap_max_conns(ctx):
    p, addr = serve(ctx, "socketmap", "-c", "5")
    conns = [Conn(addr) for _ in range(5)]
    for i, c in enumerate(conns):
        assert c.req("tlspolicy m%d" % i) == "OK m%d" % i
    for _ in range(3):
        x = Conn(addr, timeout=5)
        try:
            x.send(ns("tlspolicy extra"))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert x.at_eof(), "connection beyond max_conns was served"
        x.close()
    for i, c in enumerate(conns):
        timed(c, "still%d" % i)
    assert "5 connections open: new connection closed" in readlog(p)
    conns[0].close()            # a slot frees up

    def served():
        x = Conn(addr, timeout=5)
        try:
            return x.req("tlspolicy later") == "OK later"
        except OSError:
            return False
        finally:
            x.close()
    tvtest.wait_for(served, 5, what="a freed connection slot")
    for c in conns[1:]:
        c.close()


def test_socketmap_never_reads(ctx):
    """100,000 pipelined requests from a client that never reads its
    replies: the server stops answering it and closes it; another client
    keeps getting every answer in well under a second."""
    _, addr = serve(ctx, "socketmap", "-r", "3000")
    good = Conn(addr)
    hog = Conn(addr, rcvbuf=4096, timeout=60)
    key = "h" * 200
    blob = b"".join(ns("tlspolicy %s%06d" % (key, i)) for i in range(100000))
    result = {}

    def flood():
        try:
            hog.send(blob)
            result["sent"] = True
        except OSError as e:
            result["error"] = repr(e)
    t = threading.Thread(target=flood)
    t0 = time.monotonic()
    t.start()
    n = 0
    while t.is_alive() and time.monotonic() - t0 < 60:
        timed(good, "g%d" % n)
        n += 1
    t.join(5)
    el = time.monotonic() - t0
    print("hog ended after %.1fs: %r; %d answers to the other client"
          % (el, result, n))
    assert "error" in result, "the server read 20 MB from a client " \
        "that never reads: %r" % result
    for i in range(50):
        timed(good, "after%d" % i)
    good.close()
    hog.close()


def test_socketmap_stop_busy(ctx):
    """netsrv_stop() with a handler running, a queued request, a partial
    request and idle connections: exit 0, nothing leaked (stop_clean)."""
    p, addr = serve(ctx, "socketmap", "-w", "1")
    a, b, c, d = (Conn(addr) for _ in range(4))
    a.send(ns("tlspolicy slow"))
    b.send(ns("tlspolicy queued"))
    c.send(b"40:tlspolicy part")
    time.sleep(0.3)
    t0 = time.monotonic()
    rc = tvtest.stop(p)
    assert rc == 0, readlog(p)
    assert time.monotonic() - t0 < 4.5
    for x in (a, b, c, d):
        x.close()


# ---------------------------------------------------------------- line

def line_query(addr, data, shut=False):
    c = Conn(addr)
    c.send(data)
    if shut:
        c.s.shutdown(socket.SHUT_WR)
    r = c.line()
    assert c.at_eof(), "%r: connection not closed after the reply" % data
    c.close()
    return r


def test_line_requests(ctx):
    _, addr = serve(ctx, "line")
    assert line_query(addr, b"rcpt a.example\n") == "OK a.example"
    assert line_query(addr, b"rcpt b.example\r\n") == "OK b.example"
    assert line_query(addr, b"rcpt c.example", shut=True) == "OK c.example"
    assert line_query(addr, b"rcpt d.example\nrcpt e.example\n") == \
        "OK d.example"
    assert line_query(addr, b"rcpt empty\n") == "defer 451 4.3.0 no answer"
    x = "x" * (1000 - len("rcpt "))
    assert line_query(addr, b"rcpt %s\n" % x.encode()) == "OK " + x
    c = Conn(addr)
    c.s.shutdown(socket.SHUT_WR)        # nothing sent: closed, no reply
    assert c.at_eof()


def test_line_malformed(ctx):
    _, addr = serve(ctx, "line", "-r", "1000", "-i", "1500")
    bad = "defer 451 4.3.0 malformed request"
    assert line_query(addr, b"rcpt " + b"y" * 996 + b"\n") == bad
    assert line_query(addr, b"z" * 5000) == bad         # no newline at all
    assert line_query(addr, b"rcpt a\x00b.example\n") == bad
    assert line_query(addr, b"rcpt a\x00b", shut=True) == bad
    t0 = time.monotonic()
    assert line_query(addr, b"rcpt half.example") == bad  # req_ms
    el = time.monotonic() - t0
    assert 0.7 < el < 3.0, "half line answered after %.2fs" % el
    c = Conn(addr)                      # nothing sent: idle close
    t0 = time.monotonic()
    assert c.at_eof()
    el = time.monotonic() - t0
    assert 1.0 < el < 4.0, "idle line connection closed after %.2fs" % el


def test_line_slow_does_not_block(ctx):
    _, addr = serve(ctx, "line")
    slow = Conn(addr)
    slow.send(b"rcpt slow\n")
    t0 = time.monotonic()
    for i in range(200):
        t1 = time.monotonic()
        assert line_query(addr, b"rcpt l%d.example\n" % i) == \
            "OK l%d.example" % i
        assert time.monotonic() - t1 < FAST
    assert slow.line() == "OK slow"
    assert time.monotonic() - t0 >= 2.5
    assert slow.at_eof()


# ---------------------------------------------------------------- listen

def test_unix_socket(ctx):
    path = os.path.join(ctx.tmp, "ns.sock")
    assert len(path) < 100, path
    a, _ = serve(ctx, "socketmap", spec="unix:" + path,
                 preexec_fn=lambda: os.umask(0o077))
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    assert mode & 0o077 == 0, "socket mode %o ignores umask 077" % mode
    c = Conn(path)
    assert c.req("tlspolicy u.example") == "OK u.example"
    # a second server on the live socket is refused; the first keeps it
    cp = ctx.run([echo_bin(ctx), "socketmap", "unix:" + path], timeout=10)
    assert cp.returncode == 2 and "in use" in cp.stdout + cp.stderr, cp
    assert c.req("tlspolicy still.example") == "OK still.example"
    c.close()
    assert tvtest.stop(a) == 0      # leaves its socket file: stale
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    serve(ctx, "line", spec="unix:" + path)
    c = Conn(path)
    c.send(b"rcpt replaced.example\n")
    assert c.line() == "OK replaced.example"
    # a path that is not a socket is never removed
    other = os.path.join(ctx.tmp, "plain")
    with open(other, "w") as f:
        f.write("keep")
    cp = ctx.run([echo_bin(ctx), "line", "unix:" + other], timeout=10)
    assert cp.returncode == 2 and "not a socket" in cp.stdout + cp.stderr
    assert open(other).read() == "keep"


def test_listen_specs(ctx):
    port = ctx.port()
    _, _ = serve(ctx, "socketmap", spec="inet6:%d@::1" % port)
    c = Conn(("::1", port))
    assert c.req("tlspolicy v6.example") == "OK v6.example"
    c.close()
    port = ctx.port()
    serve(ctx, "socketmap", spec="inet:%d@[::1]" % port)
    assert Conn(("::1", port)).req("x y") == "OK y"
    port = ctx.port()
    serve(ctx, "line", spec="inet:%d@localhost" % port)
    c = Conn(("127.0.0.1", port))
    c.send(b"rcpt name.example\n")
    assert c.line() == "OK name.example"
    used = ctx.port()
    serve(ctx, "socketmap", spec="inet:%d@127.0.0.1" % used)
    for spec, why in [("inet:0@127.0.0.1", "bad port"),
                      ("inet:65536@127.0.0.1", "bad port"),
                      ("inet:12x@127.0.0.1", "bad port"),
                      ("inet:%d" % port, "PORT@ADDR"),
                      ("inet:%d@" % port, "bad address"),
                      ("inet:%d@127.0.0.1" % used, "in use"),
                      ("tcp:%d@127.0.0.1" % port, "must be"),
                      ("unix:", "path empty"),
                      ("unix:/" + "p" * 200, "longer than")]:
        cp = ctx.run([echo_bin(ctx), "socketmap", spec], timeout=10)
        out = cp.stdout + cp.stderr
        assert cp.returncode == 2 and why in out, (spec, cp.returncode, out)
