"""The policy service (SPEC 10) against the daemon, over Postfix's
socketmap protocol (tests/lib/sockmapclient.py): every row of the
tlspolicy table, host keys of routes, the transport map, keys Postfix
sends that must be NOTFOUND, pipelining, hostile input while another
client keeps getting answers, 200 concurrent connections, the shared
verdict cache with the milter, and tlsverify-probe --policy.

Test world: the seed's worked example (SPEC 6) on 127.0.26.2/3, plus
  fpr.test       required-verify, route 127.0.26.5: CN=fpr.test with the
                 dNSName other.example (verified through the CN: Postfix
                 would ignore the CN, so the answer is a fingerprint)
  routed.test    required-verify, routes r1.routed.test:PORT/0 (self-
                 signed at 127.0.26.6) and 127.0.26.7:PORT/1 (verifies)
  plain.test     required-verify-hosted -> TEMP (MX names do not match)
"""
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import probecase  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402
from sockmapclient import SockmapClient, netstring  # noqa: E402

IP1, IP2 = "127.0.26.2", "127.0.26.3"
IP_FPR, IP_BAD, IP_GOOD = "127.0.26.5", "127.0.26.6", "127.0.26.7"
MX1, MX2 = "mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not"
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA policy")
    seed = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    fpr = ca.issue("fpr.test", sans=["other.example"], name="fpr")
    routed = ca.issue("routed.test", sans=["routed.test"], name="routed")
    bad = tvtest.self_signed(mctx, "routed.test", sans=["routed.test"])
    dns = probecase.seed_dns(tvtest.DNS(mctx), ("example.com", "example.net"), IP1, IP2)
    dns.a("r1.routed.test", IP_BAD)
    dns.start()
    port = mctx.port()
    srv = {}
    for ip, leaf in ((IP1, seed), (IP2, seed), (IP_FPR, fpr),
                     (IP_BAD, bad), (IP_GOOD, routed)):
        srv[ip] = tvtest.SMTPServer(mctx, ip, port, leaf=leaf).start()
    ppol = mctx.port()
    m = miltersvc.start(
        mctx,
        probe={"port": port, "ca_file": ca.cert, "timeout": 10},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", "pref.test": "preferred",
                      "pv.test": "preferred-verify", "req.test": "required",
                      "example.com": "required-verify",
                      "example.net": "required-verify-hosted",
                      "fpr.test": "required-verify",
                      "routed.test": "required-verify"},
        smtproutes={"fpr.test": IP_FPR,
                    "routed.test": ["r1.routed.test/0", IP_GOOD + "/1"]},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    W.update(srv=srv, m=m, port=port, ppol=ppol, fpr=fpr, ca=ca)


def ask(*reqs):
    c = SockmapClient(W["ppol"])
    try:
        return [c.query(r) for r in reqs]
    finally:
        c.close()


def spki_sha256(ctx, cert):
    pub = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey",
                          "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True).stdout
    import hashlib
    return ":".join("%02X" % b for b in hashlib.sha256(der).digest())


def test_static_rows(ctx):
    assert ask("tlspolicy none.test", "tlspolicy pref.test",
               "tlspolicy pv.test", "tlspolicy req.test") == \
        ["OK none", "OK may", "OK may", "OK encrypt"]
    assert W["srv"][IP1].connections() == 0, "a static row probed"


def test_verified_is_secure_with_the_matched_names(ctx):
    ans, = ask("tlspolicy example.com")
    assert ans == ("OK secure match=example.com:mx0a.emailhosted.not "
                   "servername=hostname"), ans


def test_not_verified_is_temp(ctx):
    ans, = ask("tlspolicy example.net")
    assert ans.startswith("TEMP example.net: ") and "4.7.5" not in ans \
        and "mx01.subd.emailhosted.not" in ans, ans


def test_cn_match_with_other_dnsnames_is_a_fingerprint(ctx):
    ans, = ask("tlspolicy fpr.test")
    assert ans == "OK fingerprint match=" + spki_sha256(ctx, W["fpr"].cert), \
        ans


def test_route_hosts_and_transport(ctx):
    p = W["port"]
    tr, dom, good, bad, other = ask(
        "transport routed.test", "tlspolicy routed.test",
        "tlspolicy [%s]:%d" % (IP_GOOD, p),
        "tlspolicy [r1.routed.test]:%d" % p,
        "tlspolicy [nohost.test]:%d" % p)
    assert tr == "OK smtp:[r1.routed.test]:%d, [%s]:%d" % (p, IP_GOOD, p), tr
    assert dom.startswith("OK secure match=routed.test"), dom
    assert good == dom and bad == dom, (good, bad)
    assert other == "NOTFOUND ", other
    # a host key without a port means [probe] port, as a route does
    assert ask("tlspolicy [%s]" % IP_GOOD) == [dom]
    assert ask("transport example.com") == ["NOTFOUND "]


def test_postfix_parent_and_address_keys(ctx):
    assert ask("tlspolicy .example.com", "tlspolicy u@example.com",
               "transport .routed.test") == ["NOTFOUND "] * 3
    # trivial-rewrite asks a socketmap with the full address only
    assert ask("transport u@routed.test") == ask("transport routed.test")


def test_unknown_map_and_malformed_close(ctx):
    c = SockmapClient(W["ppol"])
    assert c.query("nosuchmap example.com") == "PERM unknown map"
    c.close()
    for raw in (b"99999999:x,", b"abc:def,", b"3:abcX",
                netstring("tlspolicy " + "a" * 10001)):
        c = SockmapClient(W["ppol"])
        c.send_raw(raw)
        ans = c.read_reply()
        assert ans is not None and ans.startswith("PERM"), (raw[:20], ans)
        assert c.closed(), raw[:20]
        c.close()


def test_pipelined(ctx):
    c = SockmapClient(W["ppol"])
    reqs = ["tlspolicy req.test", "tlspolicy none.test",
            "tlspolicy example.com", "tlspolicy pref.test"] * 25
    c.send_raw(b"".join(netstring(r) for r in reqs))
    got = [c.read_reply() for _ in reqs]
    c.close()
    want = {"tlspolicy req.test": "OK encrypt",
            "tlspolicy none.test": "OK none",
            "tlspolicy pref.test": "OK may"}
    for r, a in zip(reqs, got):
        if r in want:
            assert a == want[r], (r, a)
        else:
            assert a.startswith("OK secure match=example.com:"), (r, a)


def test_hostile_clients_do_not_stall_others(ctx):
    hostile = []
    for raw in (b"5", b"10000:" + b"x" * 5000, b"\x00\xff garbage"):
        s = socket.create_connection(("127.0.0.1", W["ppol"]))
        s.sendall(raw)
        hostile.append(s)
    try:
        c = SockmapClient(W["ppol"])
        t0 = time.monotonic()
        for _ in range(200):
            assert c.query("tlspolicy req.test") == "OK encrypt"
        took = time.monotonic() - t0
        c.close()
        assert took < 5, "200 answers took %.1f s next to hostile clients" \
            % took
    finally:
        for s in hostile:
            s.close()


def test_200_concurrent_connections(ctx):
    conns = [SockmapClient(W["ppol"]) for _ in range(200)]
    errors = []

    def one(c, i):
        try:
            key = ("tlspolicy req.test", "tlspolicy example.com")[i % 2]
            a = c.query(key)
            ok = a == "OK encrypt" if i % 2 == 0 else \
                a.startswith("OK secure match=example.com:")
            if not ok:
                errors.append((i, a))
        except Exception as e:          # noqa: BLE001
            errors.append((i, repr(e)))

    th = [threading.Thread(target=one, args=(c, i))
          for i, c in enumerate(conns)]
    for t in th:
        t.start()
    for t in th:
        t.join(60)
    for c in conns:
        c.close()
    assert not errors, errors[:5]


def test_verdict_shared_with_the_milter(ctx):
    """A domain first judged at RCPT time is answered from that verdict:
    no second connection to its server. That cached answer comes from the
    I/O thread (netsrv_start_fast): at once even while every worker waits
    for a probe, and not logged at info (the verdict was; docs/
    BENCHMARKS.md item 6); a lookup that probes is logged."""
    ca = W["ca"]
    leaf = ca.issue("shared.test", sans=["shared.test"], name="shared")
    port = ctx.port()
    ip = "127.0.26.9"
    srv = tvtest.SMTPServer(ctx, ip, port, leaf=leaf).start()
    ctx.cleanup(srv.stop)
    silent = socket.socket()            # accepts no connection, says nothing
    silent.bind(("127.0.26.10", 0))
    silent.listen(128)
    ctx.cleanup(silent.close)
    ppol = ctx.port()
    m = miltersvc.start(
        ctx, probe={"port": port, "ca_file": ca.cert, "timeout": 2},
        dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
        destinations={"default": "none", "shared.test": "required-verify",
                      ".stuck.test": "required-verify"},
        smtproutes={"shared.test": ip,
                    ".stuck.test": "127.0.26.10:%d" %
                    silent.getsockname()[1]},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    mc = MilterClient("127.0.0.1", m.port, timeout=60)
    mc.negotiate()
    mc.mail("<s@relay.test>")
    assert mc.rcpt("<u@shared.test>", macros={"{rcpt_mailer}": "smtp"}) \
        == ("continue", "")
    mc.quit()
    mc.close()
    stuck = [SockmapClient(ppol) for _ in range(40)]    # 40 lookups held in workers
    for i, sc in enumerate(stuck):
        sc.send_raw(netstring("tlspolicy s%d.stuck.test" % i))
    time.sleep(0.5)
    c = SockmapClient(ppol)
    t0 = time.monotonic()
    assert c.query("tlspolicy shared.test") == \
        "OK secure match=shared.test servername=hostname"
    assert c.query("tlspolicy nothing.test") == "OK none"
    el = time.monotonic() - t0
    c.close()
    assert el < 1.0, "cached answers waited for the workers: %.2fs" % el
    for sc in stuck:
        r = sc.read_reply()
        assert r.startswith("TEMP s") and "stuck.test" in r, r
        sc.close()
    assert srv.connections() == 1, srv.connections()
    log = m.log()
    assert "via=policy domain=shared.test" not in log, log[-2000:]
    assert "via=policy domain=s0.stuck.test setting=required-verify" in log \
        and "cached=no" in log, log[-2000:]


def test_probe_tool_policy(ctx):
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c",
                  W["m"].conf, "--policy", "routed.test"], timeout=60)
    assert cp.returncode == 0, cp.stderr
    p = W["port"]
    assert cp.stdout.splitlines() == [
        "tlspolicy routed.test -> " + ask("tlspolicy routed.test")[0],
        "transport routed.test -> OK smtp:[r1.routed.test]:%d, [%s]:%d"
        % (p, IP_GOOD, p)], cp.stdout
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c",
                  W["m"].conf, "--policy", "example.net"], timeout=60)
    assert cp.returncode == 75 and "-> TEMP example.net: " in cp.stdout, \
        (cp.returncode, cp.stdout)
