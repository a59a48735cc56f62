"""Integration tests of per-attempt limits (SPEC 5, "one dead host never
costs the whole deadline"): [probe] connect_timeout and command_timeout.

MX 10 is a host that never completes the TCP handshake (a listener whose
accept queue is full, so the kernel drops further SYNs) or one that accepts
and never sends a banner (SMTPServer mode "silent"); MX 20 is a STARTTLS
server that verifies. With connect_timeout / command_timeout = 1 and a
20 s deadline, the verdict is "verified by MX 20" well before the
deadline, and the MX 10 attempt is listed as temporary.

Addresses: 127.0.31.2 (SYN drop), 127.0.31.3 (silent), 127.0.31.4 (good),
127.0.31.5 (a second SYN drop).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402

from probecase import (W, dump, expect, make_conf, nconn, run,  # noqa: E402,E501
                       serve)

DROP, SILENT, GOOD, DROP2 = "127.0.31.2", "127.0.31.3", "127.0.31.4", \
    "127.0.31.5"
DEADLINE = 20
BOUND = 8       # seconds: a correctness bound (deadline 20), not a benchmark


def syn_drop_listener(mctx, ip, port):
    """A socket on ip:port with listen(0) that never accept()s, its accept
    queue filled by client connections: the kernel drops the next SYNs
    (net.ipv4.tcp_abort_on_overflow = 0), so connect() hangs. Checked here
    with a 0.5 s connect that must time out."""
    with open("/proc/sys/net/ipv4/tcp_abort_on_overflow") as f:
        assert f.read().strip() == "0", "tcp_abort_on_overflow is not 0"
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((ip, port))
    lst.listen(0)
    socks = [lst]
    mctx.cleanup(lambda: [s.close() for s in socks])
    for _ in range(8):          # fill the queue until a connect hangs
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(0.5)
        socks.append(c)
        try:
            c.connect((ip, port))
        except socket.timeout:
            return lst
    raise AssertionError("connect to a full accept queue did not hang")


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA failover")
    leaf = ca.issue(cn="mx.invalid", sans=("*.f.test",))
    port = mctx.port()
    syn_drop_listener(mctx, DROP, port)
    syn_drop_listener(mctx, DROP2, port)
    W["silent"] = serve(mctx, SILENT, port, mode="silent")
    W["good"] = serve(mctx, GOOD, port, leaf)
    dns = tvtest.DNS(mctx)
    dns.a("mx-drop.f.test", DROP).a("mx-silent.f.test", SILENT)
    dns.a("mx-good.f.test", GOOD).a("mx-drop2.f.test", DROP2)
    dns.mx("syn.f.test", "mx-good.f.test", 20)
    dns.mx("syn.f.test", "mx-drop.f.test", 10)
    dns.mx("banner.f.test", "mx-good.f.test", 20)
    dns.mx("banner.f.test", "mx-silent.f.test", 10)
    dns.mx("dead.f.test", "mx-drop.f.test", 10)
    dns.mx("dead.f.test", "mx-drop2.f.test", 20)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    dests = {".f.test": "required-verify"}
    limits = {"connect_timeout": 1, "command_timeout": 1}
    W.update(port=port, conf=make_conf(mctx, dport, port, bundle, dests,
                                       probe=limits, timeout=DEADLINE))


def verified_by_mx20(ctx, domain):
    t0 = time.monotonic()
    rc, d, _ = run(ctx, W["conf"], domain)
    took = time.monotonic() - t0
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", host="mx-good.f.test", ip=GOOD,
           setting="required-verify")
    assert took < BOUND, "took %.1f s (deadline %d s)\n%s" % (
        took, DEADLINE, dump(d))
    assert len(d["attempts"]) == 2, dump(d)
    return d["attempts"][0], took


def test_failover_syn_drop_connect_timeout(ctx):
    a, took = verified_by_mx20(ctx, "syn.f.test")
    assert a["host"] == "mx-drop.f.test" and a["ip"] == DROP, dump(a)
    assert a["stage"] == "connect" and a["temporary"] is True, dump(a)
    assert a["tls"] is False, dump(a)
    assert "timed out (connect_timeout 1 s)" in a["reason"], dump(a)
    assert took >= 0.9, "took %.2f s: MX 10 was not waited for" % took


def test_failover_silent_banner_command_timeout(ctx):
    n0 = nconn(W["silent"])
    a, took = verified_by_mx20(ctx, "banner.f.test")
    assert nconn(W["silent"]) > n0, "MX 10 was not contacted"
    assert a["host"] == "mx-silent.f.test" and a["ip"] == SILENT, dump(a)
    assert a["stage"] == "banner" and a["temporary"] is True, dump(a)
    assert a["tls"] is False, dump(a)
    assert "waiting for the banner (command_timeout 1 s)" in a["reason"], \
        dump(a)
    assert took >= 0.9, "took %.2f s: MX 10 was not waited for" % took


def test_failover_all_dead_is_temporary(ctx):
    t0 = time.monotonic()
    rc, d, _ = run(ctx, W["conf"], "dead.f.test")
    took = time.monotonic() - t0
    expect(d, rc, 75, tls=False, verified=False, action="defer",
           temporary=True, setting="required-verify")
    assert d["code"] == "451", dump(d)
    assert [a["host"] for a in d["attempts"]] == \
        ["mx-drop.f.test", "mx-drop2.f.test"], dump(d)
    for a in d["attempts"]:
        assert a["stage"] == "connect" and a["temporary"] is True, dump(d)
        assert "connect_timeout 1 s" in a["reason"], dump(d)
    assert took < BOUND, "took %.1f s\n%s" % (took, dump(d))


def bad_conf(ctx, text, line):
    path = os.path.join(ctx.tmp, "bad.conf")
    with open(path, "w") as f:
        f.write(text)
    argv = [os.path.join(ctx.build, "tlsverify-probe"), "-c", path,
            "--json", "example.com"]
    cp = ctx.run(argv)
    assert cp.returncode == 78, (cp.returncode, cp.stdout, cp.stderr)
    want = "%s:%d:" % (path, line)
    assert want in cp.stderr, "stderr lacks %r: %r" % (want, cp.stderr)
    return cp.stderr


def test_failover_config_errors(ctx):
    for key in ("connect_timeout", "command_timeout"):
        for bad in ("0", "-1", "soon", "1.5", "", "3601", "99999999999"):
            err = bad_conf(ctx, "[probe]\ntimeout = 20\n%s = %s\n" % (
                key, bad), 3)
            assert key in err, err
        err = bad_conf(ctx, "[probe]\n%s = 2\n%s = 3\n" % (key, key), 3)
        assert "duplicate" in err, err
        good = os.path.join(ctx.tmp, "good.conf")
        with open(good, "w") as f:
            f.write("[probe]\n%s = 1\n" % key)
        cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-n",
                      "-c", good])
        assert cp.returncode == 0, (cp.returncode, cp.stdout, cp.stderr)
