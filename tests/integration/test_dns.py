"""test_dns - milter/dns.c and milter/target.c against a real dnsmasq.

One dnsmasq (tvtest.DNS) serves the records below for the whole module;
tests/helpers/dnsq (built into BUILD/tests/dnsq) asks it through the
project's own code and prints one line per record plus "STATUS WORD ...".
Extra servers made here: a UDP responder that answers every query with a
fixed RCODE (SERVFAIL, REFUSED) used directly as the nameserver, and a
second dnsmasq (on [::1] for the IPv6 nameserver path; on 127.0.0.1
forwarding dead.test to a closed port, which it never answers, for the
timeout and deadline cases). All on loopback; every
process is stopped by its PID (tvtest registry / cleanups).
"""

import os
import socket
import struct
import threading
import time

import tvtest

DNS = None          # the module's tvtest.DNS

# ex.test: MX order given on purpose; equal preferences must keep the
# answer order (checked against the raw answer, not assumed).
EX_MX = [("mx-b.ex.test", 10), ("mx-a.ex.test", 10), ("mx-c.ex.test", 5),
         ("mx-d.ex.test", 20), ("mx-e.ex.test", 10)]


def setup_module(mctx):
    global DNS
    d = tvtest.DNS(mctx)
    for host, pref in EX_MX:
        d.mx("ex.test", host, pref)
    d.a("mx-a.ex.test", "127.0.0.2")
    d.a("mx-b.ex.test", "127.0.0.3")
    d.a("mx-c.ex.test", "127.0.0.4").aaaa("mx-c.ex.test", "::1")
    # mx-d.ex.test: no address at all
    d.a("mx-e.ex.test", "127.0.0.2")          # same address as mx-a
    for i in range(40):                         # more MX than TARGET_MAX
        d.mx("many.test", "m%02d.many.test" % i, 10 + i)
        d.a("m%02d.many.test" % i, "127.0.1.%d" % (i + 1))
    d.aaaa("v6.test", "2001:db8::5").aaaa("v6.test", "::1")
    # PTR: forward-confirmed, not confirmed, v6
    d.ptr("127.0.0.2", "mx0a.emailhosted.test")
    d.a("mx0a.emailhosted.test", "127.0.0.2")
    d.ptr("127.0.0.3", "liar.test")
    d.a("liar.test", "127.0.0.9")
    d.ptr("2001:db8::5", "v6host.test")
    d.aaaa("v6host.test", "2001:db8::5")
    # null MX, and a "." mixed with a real host
    d.nullmx("null.test")
    d.nullmx("mixed.test").mx("mixed.test", "mx-a.ex.test", 10)
    # implicit MX: a domain with only an address, and one through a CNAME
    d.a("imp.test", "127.0.0.5")
    d.cname("imp2.test", "mx-a.ex.test")
    d.txt("txtonly.test", "hello")
    # routes
    d.a("rt1.test", "127.0.0.6").a("rt2.test", "127.0.0.6")
    d.a("rtlow.test", "127.0.0.7").a("rtport.test", "127.0.0.8")
    d.mx("routed.test", "mx-b.ex.test", 10)
    d.servfail("fail.test")
    d.start()
    DNS = d


# --------------------------------------------------------------------------
# helpers

def conf(ctx, timeout=2, nameserver=None, routes=None, port=2600):
    return tvtest.write_conf(
        ctx, probe={"port": port},
        dns={"nameserver": nameserver or DNS.nameserver, "timeout": timeout},
        smtproutes=routes)


def dnsq(ctx, cfg, *args, deadline_ms=None, want_mx=False, timeout=60):
    """Run dnsq; returns (stdout lines, stderr text, seconds taken)."""
    argv = [os.path.join(ctx.build, "tests", "dnsq"), "-c", cfg]
    if deadline_ms is not None:
        argv += ["-d", str(deadline_ms)]
    if want_mx:
        argv.append("-m")
    argv += list(args)
    t = time.monotonic()
    cp = ctx.run(argv, timeout=timeout, expect_rc=0)
    return cp.stdout.splitlines(), cp.stderr, time.monotonic() - t


def status(lines):
    last = lines[-1]
    assert last.startswith("STATUS "), lines
    return last.split()[1]


def records(lines, kind):
    return [ln.split(None, 1)[1] for ln in lines if ln.split()[0] == kind]


def targets(lines):
    """[(via, host, ip, port, pref, names, status)]"""
    out = []
    for ln in lines:
        f = ln.split()
        if f[0] == "TARGET":
            out.append((f[1], f[2], f[3], int(f[4]), int(f[5]),
                        f[6].split(",") if f[6] != "-" else [], f[7]))
    return out


def rr(rtype, rdata, name=b"\xc0\x0c"):
    """One answer record (owner: the question name by default)."""
    return name + struct.pack("!HHIH", rtype, 1, 60, len(rdata)) + rdata


def wire(name):
    return b"".join(bytes([len(x)]) + x.encode() for x in name.split(".")) + b"\0"


class CraftServer:
    """UDP DNS responder on 127.0.0.1 used directly as [dns] nameserver:
    table maps a lower-case query name to (rcode, [raw answer records],
    raw bytes appended after them); other names get (rcode, [])."""

    def __init__(self, ctx, rcode=0, table=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", ctx.port()))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.ns = "127.0.0.1:%d" % self.port
        self.rcode = rcode
        self.table = table or {}
        self.queries = 0
        self.done = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        ctx.cleanup(self.stop)

    def _answer(self, q):
        qid, flags = struct.unpack("!HH", q[:4])
        off, labels = 12, []
        while q[off] != 0:
            labels.append(q[off + 1:off + 1 + q[off]].decode("ascii", "replace"))
            off += 1 + q[off]
        question = q[12:off + 5]
        rcode, rrs, tail = self.table.get(".".join(labels).lower(),
                                          (self.rcode, [], b""))
        rflags = 0x8000 | (flags & 0x0100) | 0x0080 | rcode
        return (struct.pack("!HHHHHH", qid, rflags, 1, len(rrs), 0, 0)
                + question + b"".join(rrs) + tail)

    def _serve(self):
        while not self.done:
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(q) < 17:
                continue
            self.queries += 1
            self.sock.sendto(self._answer(q), peer)

    def stop(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()


def dnsmasq_log():
    with open(DNS.log, errors="replace") as f:
        return f.read()


# --------------------------------------------------------------------------
# MX

def test_mx_sorted_stable(ctx):
    raw = [v for t, v in DNS.query("ex.test", "MX")["answers"] if t == "MX"]
    assert len(raw) == len(EX_MX), raw
    # expected: stable sort of the raw answer order by preference
    want = ["%d %s" % (p, h) for p, h in sorted(raw, key=lambda r: r[0])]
    lines, err, _ = dnsq(ctx, conf(ctx), "mx", "ex.test")
    assert records(lines, "MX") == want, (lines, raw)
    assert status(lines) == "OK"
    # the tens keep the answer's order, whatever it is
    tens = [h for p, h in raw if p == 10]
    assert [r.split()[1] for r in records(lines, "MX") if r.startswith("10 ")] == tens
    assert "TRACE MX ex.test: 5 mx-c.ex.test, 10 " in err, err


def test_mx_answer_order_is_option_order(ctx):
    # tvtest promises .mx() call order; the stable sort then gives this
    lines, _, _ = dnsq(ctx, conf(ctx), "mx", "ex.test")
    assert records(lines, "MX") == ["5 mx-c.ex.test", "10 mx-b.ex.test",
                                    "10 mx-a.ex.test", "10 mx-e.ex.test",
                                    "20 mx-d.ex.test"], lines


def test_null_mx(ctx):
    raw = DNS.query("null.test", "MX")
    assert raw["answers"] == [("MX", (0, ""))], raw     # what dnsmasq serves
    lines, err, _ = dnsq(ctx, conf(ctx), "mx", "null.test")
    assert "NULLMX" in lines and records(lines, "MX") == [], lines
    assert status(lines) == "OK"
    assert "null MX" in err
    lines, _, _ = dnsq(ctx, conf(ctx), "targets", "null.test")
    assert "NULLMX" in lines and targets(lines) == [], lines
    assert status(lines) == "OK"


def test_null_mx_mixed_is_ignored(ctx):
    lines, err, _ = dnsq(ctx, conf(ctx), "mx", "mixed.test")
    assert records(lines, "MX") == ["10 mx-a.ex.test"], lines
    assert "NULLMX" not in lines
    assert "ignored" in err, err


def test_mx_nxdomain_nodata_temp_distinct(ctx):
    cfg = conf(ctx, timeout=1)
    lines, _, _ = dnsq(ctx, cfg, "mx", "nothere.test")
    assert status(lines) == "NXDOMAIN", lines
    lines, _, _ = dnsq(ctx, cfg, "a", "ex.test")        # MX only
    assert status(lines) == "NODATA", lines
    lines, _, _ = dnsq(ctx, cfg, "mx", "imp2.test")     # CNAME, no MX
    assert status(lines) == "NODATA", lines
    assert records(lines, "MX") == []
    lines, _, _ = dnsq(ctx, cfg, "mx", "x.fail.test")     # SERVFAIL
    assert status(lines) == "TEMP", lines


# --------------------------------------------------------------------------
# A, AAAA, PTR, forward confirmation

def test_a_aaaa(ctx):
    cfg = conf(ctx)
    lines, err, _ = dnsq(ctx, cfg, "a", "mx-c.ex.test")
    assert records(lines, "A") == ["127.0.0.4"] and status(lines) == "OK"
    assert "TRACE A mx-c.ex.test: 127.0.0.4" in err
    lines, _, _ = dnsq(ctx, cfg, "aaaa", "v6.test")
    assert sorted(records(lines, "AAAA")) == ["2001:db8::5", "::1"], lines
    lines, _, _ = dnsq(ctx, cfg, "a", "imp2.test")      # through the CNAME
    assert records(lines, "A") == ["127.0.0.2"], lines
    lines, _, _ = dnsq(ctx, cfg, "a", "MX-A.Ex.Test.")
    assert records(lines, "A") == ["127.0.0.2"], lines


def test_ptr_v4_v6(ctx):
    cfg = conf(ctx)
    lines, err, _ = dnsq(ctx, cfg, "ptr", "127.0.0.2")
    assert records(lines, "PTR") == ["mx0a.emailhosted.test"], lines
    assert "TRACE PTR 127.0.0.2: mx0a.emailhosted.test" in err
    lines, _, _ = dnsq(ctx, cfg, "ptr", "2001:db8::5")
    assert records(lines, "PTR") == ["v6host.test"], lines
    lines, err, _ = dnsq(ctx, cfg, "ptr", "127.0.0.4")
    assert status(lines) == "NXDOMAIN" and records(lines, "PTR") == []
    assert "TRACE PTR 127.0.0.4: NXDOMAIN" in err, err


def test_forward_confirm(ctx):
    cfg = conf(ctx)
    lines, _, _ = dnsq(ctx, cfg, "fcrdns", "mx0a.emailhosted.test", "127.0.0.2")
    assert "FCRDNS yes" in lines and status(lines) == "OK", lines
    lines, _, _ = dnsq(ctx, cfg, "fcrdns", "liar.test", "127.0.0.3")
    assert "FCRDNS no" in lines and status(lines) == "OK", lines
    lines, _, _ = dnsq(ctx, cfg, "fcrdns", "v6host.test", "2001:db8::5")
    assert "FCRDNS yes" in lines, lines
    # IPv4 address: only A counts, never AAAA
    lines, _, _ = dnsq(ctx, cfg, "fcrdns", "v6host.test", "127.0.0.2")
    assert "FCRDNS no" in lines and status(lines) != "OK", lines
    lines, _, _ = dnsq(ctx, cfg, "fcrdns", "nothere.test", "127.0.0.2")
    assert "FCRDNS no" in lines and status(lines) == "NXDOMAIN", lines


# --------------------------------------------------------------------------
# failures: SERVFAIL, REFUSED, server down, deadline

def test_servfail_and_refused_are_temp_fast(ctx):
    for rcode, name in ((2, "SERVFAIL"), (5, "REFUSED")):
        srv = CraftServer(ctx, rcode)
        cfg = conf(ctx, timeout=5, nameserver=srv.ns)
        lines, err, took = dnsq(ctx, cfg, "mx", "ex.test")
        assert status(lines) == "TEMP", (name, lines)
        assert srv.queries >= 1, name
        assert took < 2.5, (name, took)     # an answer, not a timeout
        lines, _, _ = dnsq(ctx, cfg, "targets", "ex.test")
        assert status(lines) == "TEMP" and targets(lines) == [], lines
        srv.stop()


def test_server_down_is_temp_quickly(ctx):
    dead = ctx.port()          # nothing listens there
    cfg = conf(ctx, timeout=5, nameserver="127.0.0.1:%d" % dead)
    lines, err, took = dnsq(ctx, cfg, "mx", "ex.test")
    assert status(lines) == "TEMP", lines
    assert took < 2.5, took
    lines, _, _ = dnsq(ctx, cfg, "a", "mx-a.ex.test")
    assert status(lines) == "TEMP", lines


def own_dnsmasq(ctx, listen, *records):
    """A second dnsmasq (for what tvtest.DNS does not offer): listen is
    "127.0.0.1" or "::1". Returns the [dns] nameserver value."""
    port = ctx.port()
    proc = ctx.spawn(["dnsmasq", "--conf-file=/dev/null",
                      "--keep-in-foreground", "--port=%d" % port,
                      "--listen-address=" + listen, "--bind-interfaces",
                      "--no-resolv", "--no-hosts", "--cache-size=0",
                      "--pid-file=" + ctx.path("dns-own-%d.pid" % port),
                      "--user=" + tvtest._dnsmasq_user(), "--local=/#/",
                      "--log-queries", "--log-facility=-"] + list(records))
    ctx.cleanup(tvtest.stop, proc)
    ns = "[%s]:%d" % (listen, port) if ":" in listen else "%s:%d" % (listen, port)
    end = time.monotonic() + 10
    while True:
        try:
            tvtest.dns_query(port, "ready.invalid", "A", server=listen,
                             timeout=0.2)
            return ns
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise
            time.sleep(0.05)


def silent_dnsmasq(ctx):
    """dnsmasq forwarding dead.test to a closed port: it never answers
    those queries (checked: no reply within 30 s), so they time out."""
    return own_dnsmasq(ctx, "127.0.0.1", "--server=/dead.test/127.0.0.1#%d"
                       % ctx.port(), "--dns-rr=rronly.test,1,7f00000c")


def test_forward_to_closed_port_times_out(ctx):
    cfg = conf(ctx, timeout=1, nameserver=silent_dnsmasq(ctx))
    lines, err, took = dnsq(ctx, cfg, "a", "host.dead.test")
    assert status(lines) == "TEMP", lines
    assert 0.8 < took < 3.5, took       # [dns] timeout = 1 bounds it
    assert "TRACE A host.dead.test: TEMP" in err, err


def test_servfail_zone_is_temp(ctx):
    lines, err, took = dnsq(ctx, conf(ctx, timeout=5), "a", "host.fail.test")
    assert status(lines) == "TEMP", lines
    assert took < 2.5, took
    assert "TRACE A host.fail.test: TEMP" in err, err


def test_deadline_respected(ctx):
    cfg = conf(ctx, timeout=10, nameserver=silent_dnsmasq(ctx))
    lines, _, took = dnsq(ctx, cfg, "mx", "y.dead.test", deadline_ms=1500)
    assert status(lines) == "TEMP", lines
    assert 0.9 < took < 4, took     # not the 10 s of [dns] timeout
    # a passed deadline: TEMP without asking
    cfg = conf(ctx, timeout=10)
    lines, err, took = dnsq(ctx, cfg, "mx", "deadline-gone.test",
                            deadline_ms=0)
    assert status(lines) == "TEMP" and "deadline" in lines[-1], lines
    assert "deadline-gone.test" not in dnsmasq_log()
    # target_build under a deadline: the MX lookup times out, TEMP
    cfg = conf(ctx, timeout=10, nameserver=silent_dnsmasq(ctx))
    lines, _, took = dnsq(ctx, cfg, "targets", "z.dead.test",
                          deadline_ms=1200)
    assert status(lines) == "TEMP" and took < 4, (lines, took)


def test_ipv6_nameserver(ctx):
    ns = own_dnsmasq(ctx, "::1", "--mx-host=six.test,mx.six.test,7")
    lines, _, _ = dnsq(ctx, conf(ctx, nameserver=ns), "mx", "six.test")
    assert records(lines, "MX") == ["7 mx.six.test"], lines


# --------------------------------------------------------------------------
# hostile answers (a crafted server): limits stated in dns.c

def test_hostile_answers(ctx):
    mx = lambda pref, name: rr(15, struct.pack("!H", pref) + wire(name))
    table = {
        "short.test": (0, [rr(15, b"\x00\x0a")], b""),          # MX rdlen 2
        # the MX name runs past its RDATA: rdlen 4 holds pref + label
        # "a", its ending zero is the next record's owner (the root)
        "over.test": (0, [rr(15, b"\x00\x0a\x01a"),
                          rr(1, b"\x7f\x00\x00\x02", name=b"\x00")], b""),
        "badname.test": (0, [mx(10, "bad name.test")], b""),
        "case.test": (0, [mx(20, "MX2.Case.TEST"), mx(10, "Mx1.case.test")], b""),
        "a5.test": (0, [rr(1, b"\x7f\x00\x00\x02\x00")], b""),
        "many.test": (0, [rr(1, bytes([127, 0, i // 256, i % 256]))
                          for i in range(100)], b""),
        "2.0.0.127.in-addr.arpa": (0, [rr(12, wire("bad_-.x y")),
                                       rr(12, wire("good.test"))], b""),
        "3.0.0.127.in-addr.arpa": (0, [rr(12, wire("x y.test"))], b""),
        # CNAME first, then the MX of its target
        "alias.test": (0, [rr(5, wire("real.test")),
                           mx(10, "mx.real.test")], b""),
    }
    srv = CraftServer(ctx, 3, table)
    cfg = conf(ctx, nameserver=srv.ns)
    for name in ("short.test", "over.test", "badname.test"):
        lines, err, _ = dnsq(ctx, cfg, "mx", name)
        assert status(lines) == "INVALID" and records(lines, "MX") == [], (name, lines)
    lines, _, _ = dnsq(ctx, cfg, "mx", "case.test")
    assert records(lines, "MX") == ["10 mx1.case.test", "20 mx2.case.test"], lines
    lines, _, _ = dnsq(ctx, cfg, "a", "a5.test")
    assert status(lines) == "INVALID", lines
    lines, _, _ = dnsq(ctx, cfg, "a", "many.test")
    assert status(lines) == "OK" and len(records(lines, "A")) == 64, lines
    lines, err, _ = dnsq(ctx, cfg, "ptr", "127.0.0.2")
    assert records(lines, "PTR") == ["good.test"], lines
    assert "ignored a name" in err, err
    lines, _, _ = dnsq(ctx, cfg, "ptr", "127.0.0.3")
    assert status(lines) == "INVALID", lines
    lines, _, _ = dnsq(ctx, cfg, "mx", "alias.test")
    assert records(lines, "MX") == ["10 mx.real.test"], lines
    # an invalid MX answer stops target_build (handled like TEMP by callers)
    lines, _, _ = dnsq(ctx, cfg, "targets", "short.test")
    assert status(lines) == "INVALID" and targets(lines) == [], lines


# --------------------------------------------------------------------------
# targets

def test_targets_mx(ctx):
    lines, err, _ = dnsq(ctx, conf(ctx), "targets", "ex.test")
    assert status(lines) == "OK", lines
    t = targets(lines)
    got = [(v, h, ip, port, pref, names, st) for v, h, ip, port, pref, names, st in t]
    assert got == [
        ("mx", "mx-c.ex.test", "127.0.0.4", 2600, 5, ["mx-c.ex.test"], "OK"),
        ("mx", "mx-c.ex.test", "::1", 2600, 5, ["mx-c.ex.test"], "OK"),
        ("mx", "mx-b.ex.test", "127.0.0.3", 2600, 10, ["mx-b.ex.test"], "OK"),
        # mx-e leads to mx-a's address: one target, both names
        ("mx", "mx-a.ex.test", "127.0.0.2", 2600, 10,
         ["mx-a.ex.test", "mx-e.ex.test"], "OK"),
        # mx-d has no address: still listed, unresolved
        ("mx", "mx-d.ex.test", "-", 2600, 20, ["mx-d.ex.test"], "NXDOMAIN"),
    ], got
    assert "MXNAMES mx-c.ex.test,mx-b.ex.test,mx-a.ex.test,mx-e.ex.test," \
        "mx-d.ex.test" in lines, lines
    assert "DROPPED 0" in lines


def test_targets_implicit(ctx):
    cfg = conf(ctx)
    # MX NODATA, the domain's own address
    lines, _, _ = dnsq(ctx, cfg, "targets", "imp.test")
    assert status(lines) == "OK", lines
    assert targets(lines) == [("implicit", "imp.test", "127.0.0.5", 2600, 0,
                               ["imp.test"], "OK")], lines
    # MX NODATA (CNAME only), address through the CNAME
    lines, _, _ = dnsq(ctx, cfg, "targets", "imp2.test")
    assert targets(lines) == [("implicit", "imp2.test", "127.0.0.2", 2600, 0,
                               ["imp2.test"], "OK")], lines


def test_targets_implicit_after_mx_nxdomain(ctx):
    # a bare dnsmasq answers MX of an --dns-rr-only name with NXDOMAIN;
    # target.h: "NODATA or NXDOMAIN on MX, but the name has A/AAAA"
    cfg = conf(ctx, nameserver=silent_dnsmasq(ctx))
    lines, _, _ = dnsq(ctx, cfg, "mx", "rronly.test")
    assert status(lines) == "NXDOMAIN", lines
    lines, _, _ = dnsq(ctx, cfg, "targets", "rronly.test")
    assert targets(lines) == [("implicit", "rronly.test", "127.0.0.12", 2600,
                               0, ["rronly.test"], "OK")], lines


def test_targets_no_mx_no_address(ctx):
    cfg = conf(ctx)
    lines, _, _ = dnsq(ctx, cfg, "targets", "nothere.test")
    assert status(lines) == "NXDOMAIN" and targets(lines) == [], lines
    lines, _, _ = dnsq(ctx, cfg, "targets", "txtonly.test")
    assert status(lines) == "NXDOMAIN" and targets(lines) == [], lines
    assert "no MX and no address" in lines[-1] or "NXDOMAIN" in lines[-1]


def test_targets_routes(ctx):
    routes = {"routed.test": "rtlow.test/5, rt1.test/0, 127.0.0.9:26/1, "
                             "rt2.test, rtport.test:2525/3, rtmissing.test/4",
              ".parent.test": "127.0.0.10"}
    cfg = conf(ctx, routes=routes)
    lines, _, _ = dnsq(ctx, cfg, "targets", "routed.test")
    assert status(lines) == "OK", lines
    assert targets(lines) == [
        ("route", "rt1.test", "127.0.0.6", 2600, 0, ["rt1.test", "rt2.test"], "OK"),
        ("route-ip", "127.0.0.9", "127.0.0.9", 26, 1, [], "OK"),
        ("route", "rtport.test", "127.0.0.8", 2525, 3, ["rtport.test"], "OK"),
        ("route", "rtmissing.test", "-", 2600, 4, ["rtmissing.test"], "NXDOMAIN"),
        ("route", "rtlow.test", "127.0.0.7", 2600, 5, ["rtlow.test"], "OK"),
    ], lines
    # routes replace MX: the domain itself is never asked
    assert "MXNAMES -" in lines
    assert "query[MX] routed.test" not in dnsmasq_log()
    # ... unless the MX names are wanted (hosted mode, IP route)
    lines, _, _ = dnsq(ctx, cfg, "targets", "routed.test", want_mx=True)
    assert "MXNAMES mx-b.ex.test" in lines and "MXSTATUS OK" in lines, lines
    # a subdomain through a ".parent" route, IP only: no DNS at all
    lines, _, _ = dnsq(ctx, cfg, "targets", "a.parent.test")
    assert targets(lines) == [("route-ip", "127.0.0.10", "127.0.0.10", 2600,
                               0, [], "OK")], lines
    assert "parent.test" not in dnsmasq_log()


def test_targets_limit_stops_looking_up(ctx):
    """TARGET_MAX (32) addresses are kept; the hosts past it are counted
    as dropped and not even looked up (no DNS time spent on them)."""
    cfg = conf(ctx)
    lines, _, _ = dnsq(ctx, cfg, "targets", "many.test")
    assert status(lines) == "OK", lines
    t = targets(lines)
    assert len(t) == 32 and t[-1][1] == "m31.many.test", t[-3:]
    assert "DROPPED 8" in lines, lines
    log = dnsmasq_log()
    assert "query[A] m31.many.test" in log
    assert "query[A] m32.many.test" not in log, "looked up past the limit"


def test_targets_route_temp_host(ctx):
    cfg = conf(ctx, timeout=1, routes={"r.test": "h.fail.test, 127.0.0.11"})
    lines, _, _ = dnsq(ctx, cfg, "targets", "r.test")
    assert status(lines) == "OK", lines
    t = targets(lines)
    assert t[0][:3] == ("route", "h.fail.test", "-") and t[0][6] == "TEMP", t
    assert t[1][:3] == ("route-ip", "127.0.0.11", "127.0.0.11"), t
