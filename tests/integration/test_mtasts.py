"""MTA-STS policies (SPEC 12, RFC 8461) through mtasts_policy(), driven by
tests/helpers/mtasts_get.c, against dnsmasq (TXT _mta-sts.DOMAIN and A
mta-sts.DOMAIN on 127.0.61.x) and an HTTPS server on loopback
(tests/lib/stsserver.py) with a test CA.

Each test has its own DNS, server and cache file; the certificates are
made once. The server logs every request it gets, so "the cache was used"
is checked on the server's side too (no second request).
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import stsctl  # noqa: E402

IP = "127.0.61.2"
DOM = "sts.example"
HOST = "mta-sts." + DOM
W = {}

ENFORCE = ("version: STSv1\r\nmode: enforce\r\nmx: mx1.sts.example\r\n"
           "mx: *.mx.sts.example\r\nmax_age: 86400\r\n")
TESTING = "version: STSv1\nmode: testing\nmx: mx9.sts.example\nmax_age: 600\n"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA mtasts")
    W["ca"] = ca
    W["good"] = ca.issue(HOST, sans=[HOST], name="good")
    W["wrong"] = ca.issue("mta-sts.other.example",
                          sans=["mta-sts.other.example"], name="wrong")
    W["self"] = tvtest.self_signed(mctx, HOST, sans=[HOST])
    W["multi"] = ca.issue("mta-sts.d0.example",
                          sans=["mta-sts.d%d.example" % i for i in range(8)],
                          name="multi")


def STSServer(ctx, port, leaf=None, mode="ok", policy=ENFORCE, ip=IP):
    """stsserver.py in a child process; .requests() lists what it got."""
    return stsctl.STSServer(ctx, ip, port, leaf or W["good"], policy, mode)


def make_dns(ctx, ids=("20240101",), port=None, servfail=False, extra=()):
    dns = tvtest.DNS(ctx, port=port)
    for i in ids:
        dns.txt("_mta-sts." + DOM, "v=STSv1; id=%s" % i)
    for t in extra:
        dns.txt("_mta-sts." + DOM, t)
    dns.a(HOST, IP)
    if servfail:
        dns.servfail("_mta-sts." + DOM)
    dns.start()
    return dns


def make_conf(ctx, dns, port, timeout=5, cache=None):
    return tvtest.write_conf(
        ctx, probe={"timeout": 20},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        extra={"mtasts": {"port": port, "ca_file": W["ca"].cert,
                          "timeout": timeout,
                          "cache_file": cache or ctx.path("sts.cache")}})


def get(ctx, conf, domain=DOM, mx=(), deadline=None):
    argv = [os.path.join(ctx.build, "tests", "mtasts_get"), "-c", conf]
    if deadline is not None:
        argv += ["-d", str(deadline)]
    for m in mx:
        argv += ["-m", m]
    argv.append(domain)
    cp = ctx.run(argv, timeout=60, expect_rc=0)
    try:
        return json.loads(cp.stdout)
    except ValueError:
        raise AssertionError("not JSON: %r\n%s" % (cp.stdout, cp.stderr))


def world(ctx, mode="ok", policy=ENFORCE, leaf=None, timeout=5, **kw):
    port = ctx.port()
    srv = STSServer(ctx, port, leaf=leaf, mode=mode, policy=policy).start()
    dns = make_dns(ctx, **kw)
    return srv, dns, make_conf(ctx, dns, port, timeout=timeout)


def no_policy(r, rpt, words):
    assert r["status"] == "none", r
    assert r["rpt"] == rpt, r
    assert words in r["reason"], r
    assert r["mode"] is None and r["mx"] is None, r


# ---- a policy is fetched ----------------------------------------------------

def test_mtasts_enforce(ctx):
    srv, dns, conf = world(ctx)
    r = get(ctx, conf, mx=("mx1.sts.example", "MX1.STS.EXAMPLE.",
                           "a.mx.sts.example", "a.b.mx.sts.example",
                           "mx.sts.example", "mx2.sts.example"))
    assert r["status"] == "policy" and r["mode"] == "enforce", r
    assert r["id"] == "20240101" and r["from_cache"] is False, r
    assert r["mx"] == ["mx1.sts.example", "*.mx.sts.example"], r
    assert r["max_age"] == 86400 and r["rpt"] is None, r
    assert r["expires"] - r["fetched_at"] == 86400, r
    assert r["match"] == {"mx1.sts.example": True, "MX1.STS.EXAMPLE.": True,
                          "a.mx.sts.example": True,
                          "a.b.mx.sts.example": False,
                          "mx.sts.example": False,
                          "mx2.sts.example": False}, r
    reqs = srv.requests()
    port = srv.port
    assert reqs == [["GET", "/.well-known/mta-sts.txt",
                     "%s:%d" % (HOST, port)]], reqs


def test_mtasts_testing(ctx):
    srv, dns, conf = world(ctx, policy=TESTING)
    r = get(ctx, conf, mx=("mx9.sts.example",))
    assert r["status"] == "policy" and r["mode"] == "testing", r
    assert r["mx"] == ["mx9.sts.example"] and r["max_age"] == 600, r
    assert r["match"] == {"mx9.sts.example": True}, r


def test_mtasts_no_txt(ctx):
    srv, dns, conf = world(ctx, ids=())
    r = get(ctx, conf)
    no_policy(r, None, "no TXT record")
    assert srv.requests() == [], "fetched without a TXT record"


def test_mtasts_close_notify_without_length(ctx):
    """No Content-Length: the body ends with the TLS close_notify."""
    srv, dns, conf = world(ctx, mode="nolen")
    r = get(ctx, conf)
    assert r["status"] == "policy" and r["mode"] == "enforce", r


# ---- the cache --------------------------------------------------------------

def test_mtasts_same_id_uses_cache_across_runs(ctx):
    """The second run is a new process: the cache file survived."""
    srv, dns, conf = world(ctx)
    r1 = get(ctx, conf)
    r2 = get(ctx, conf)
    assert r1["from_cache"] is False and r2["from_cache"] is True, (r1, r2)
    assert r2["status"] == "policy" and r2["id"] == "20240101", r2
    assert r2["mx"] == r1["mx"] and r2["expires"] == r1["expires"], (r1, r2)
    assert len(srv.requests()) == 1, srv.requests()
    with open(ctx.path("sts.cache")) as f:
        text = f.read()
    assert text.startswith("tlsverify-mta-sts-cache 1\n"), text
    assert "%s 20240101 " % DOM in text, text


def test_mtasts_changed_id_refetches(ctx):
    srv, dns, conf = world(ctx)
    r1 = get(ctx, conf)
    dns.stop()
    make_dns(ctx, ids=("20250202",), port=dns.port)
    srv.set_policy(TESTING)
    r2 = get(ctx, conf)
    assert r1["id"] == "20240101" and r1["mode"] == "enforce", r1
    assert r2["id"] == "20250202" and r2["mode"] == "testing", r2
    assert r2["from_cache"] is False, r2
    assert len(srv.requests()) == 2, srv.requests()
    r3 = get(ctx, conf)
    assert r3["from_cache"] is True and r3["id"] == "20250202", r3
    assert len(srv.requests()) == 2, srv.requests()


def test_mtasts_failed_refetch_keeps_cached(ctx):
    srv, dns, conf = world(ctx)
    get(ctx, conf)
    srv.stop()
    dns.stop()
    make_dns(ctx, ids=("20250202",), port=dns.port)
    r = get(ctx, conf)
    assert r["status"] == "policy" and r["from_cache"] is True, r
    assert r["id"] == "20240101" and r["mode"] == "enforce", r
    assert r["rpt"] == "sts-policy-fetch-error", r
    assert "cached policy id 20240101 used" in r["reason"], r


def test_mtasts_txt_gone_keeps_cached(ctx):
    """A TXT record that disappears does not evict the cached policy."""
    srv, dns, conf = world(ctx)
    get(ctx, conf)
    dns.stop()
    make_dns(ctx, ids=(), port=dns.port)
    r = get(ctx, conf)
    assert r["status"] == "policy" and r["from_cache"] is True, r
    assert "no TXT record" in r["reason"] and r["rpt"] is None, r
    assert len(srv.requests()) == 1, srv.requests()


def test_mtasts_expired_and_server_down(ctx):
    srv, dns, conf = world(ctx, policy=ENFORCE.replace("86400", "1"))
    r1 = get(ctx, conf)
    assert r1["status"] == "policy" and r1["max_age"] == 1, r1
    srv.stop()
    time.sleep(1.5)
    r = get(ctx, conf)
    no_policy(r, "sts-policy-fetch-error", "cannot connect")
    assert "no cached policy" in r["reason"], r


def test_mtasts_corrupt_cache_ignored(ctx):
    srv, dns, conf = world(ctx)
    for junk in ("garbage\x00\xff\n" * 3,
                 "tlsverify-mta-sts-cache 1\n%s 20240101 1 99999999999 "
                 "86400 enforce MX.BAD..\n" % DOM,
                 "tlsverify-mta-sts-cache 1\n%s 20240101 1 99999999999 "
                 "86400 enforce" % DOM):
        with open(ctx.path("sts.cache"), "w", errors="surrogateescape") as f:
            f.write(junk)
        n = len(srv.requests())
        r = get(ctx, conf)
        assert r["status"] == "policy" and r["from_cache"] is False, r
        assert len(srv.requests()) == n + 1, srv.requests()
    with open(ctx.path("sts.cache")) as f:
        assert f.read().startswith("tlsverify-mta-sts-cache 1\n")


def test_mtasts_cache_concurrent_writers(ctx):
    """Eight processes fetch eight domains at once into one cache file:
    the lock and the merge keep every entry."""
    port = ctx.port()
    srv = STSServer(ctx, port, leaf=W["multi"]).start()
    dns = tvtest.DNS(ctx)
    doms = ["d%d.example" % i for i in range(8)]
    for d in doms:
        dns.txt("_mta-sts." + d, "v=STSv1; id=7")
        dns.a("mta-sts." + d, IP)
    dns.start()
    conf = make_conf(ctx, dns, port)
    argv = [os.path.join(ctx.build, "tests", "mtasts_get"), "-c", conf]
    procs = [subprocess.Popen(argv + [d], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for d in doms]
    for p in procs:
        out, err = p.communicate(timeout=60)
        tvtest.check_sanitizer(err, p.returncode)
        assert json.loads(out)["status"] == "policy", out + err
    with open(ctx.path("sts.cache")) as f:
        lines = f.read().splitlines()
    assert lines[0] == "tlsverify-mta-sts-cache 1", lines
    assert sorted(ln.split()[0] for ln in lines[1:]) == doms, lines
    for d in doms:
        r = get(ctx, conf, domain=d)
        assert r["from_cache"] is True, r
    assert len(srv.requests()) == 8, srv.requests()


def test_mtasts_cache_file_unwritable(ctx):
    """A cache file that cannot be written is no failure (memory only)."""
    srv, dns, conf0 = world(ctx)
    conf = make_conf(ctx, dns, srv.port,
                     cache=ctx.path("no-such-dir", "sts.cache"))
    r = get(ctx, conf)
    assert r["status"] == "policy" and r["from_cache"] is False, r


# ---- fetch failures ---------------------------------------------------------

def test_mtasts_redirect_refused(ctx):
    srv, dns, conf = world(ctx, mode="redirect")
    no_policy(get(ctx, conf), "sts-policy-fetch-error", "redirect refused")


def test_mtasts_wrong_content_type(ctx):
    srv, dns, conf = world(ctx, mode="ctype")
    no_policy(get(ctx, conf), "sts-policy-fetch-error",
              "Content-Type 'text/html' is not text/plain")


def test_mtasts_policy_host_unresolvable(ctx):
    """TXT present, mta-sts.DOMAIN has no address in [dns] nameserver."""
    port = ctx.port()
    dns = tvtest.DNS(ctx)
    dns.txt("_mta-sts." + DOM, "v=STSv1; id=1")
    dns.start()
    r = get(ctx, make_conf(ctx, dns, port))
    no_policy(r, "sts-policy-fetch-error", "no address for " + HOST)


def test_mtasts_not_found(ctx):
    srv, dns, conf = world(ctx, mode="notfound")
    no_policy(get(ctx, conf), "sts-policy-fetch-error", "HTTP 404")


def test_mtasts_body_too_big(ctx):
    srv, dns, conf = world(ctx, mode="big")
    no_policy(get(ctx, conf), "sts-policy-fetch-error", "over 65536")


def test_mtasts_body_too_big_streamed(ctx):
    srv, dns, conf = world(ctx, mode="bignolen")
    no_policy(get(ctx, conf), "sts-policy-fetch-error", "body over 65536")


def test_mtasts_cert_wrong_name(ctx):
    srv, dns, conf = world(ctx, leaf=W["wrong"])
    no_policy(get(ctx, conf), "sts-webpki-invalid", "hostname mismatch")
    assert srv.requests() == []


def test_mtasts_cert_untrusted(ctx):
    srv, dns, conf = world(ctx, leaf=W["self"])
    no_policy(get(ctx, conf), "sts-webpki-invalid", "certificate not valid")


def test_mtasts_invalid_policy(ctx):
    srv, dns, conf = world(ctx, policy="version: STSv1\nmode: enforce\n"
                           "max_age: 86400\n")
    no_policy(get(ctx, conf), "sts-policy-invalid", "no mx pattern")


def test_mtasts_slow_server_timeout(ctx):
    srv, dns, conf = world(ctx, mode="slow", timeout=2)
    r = get(ctx, conf)
    no_policy(r, "sts-policy-fetch-error", "timed out ([mtasts] timeout)")
    assert 1800 <= r["ms"] < 6000, r


def test_mtasts_slow_server_caller_deadline(ctx):
    """The caller's deadline ends the fetch first: temporary."""
    srv, dns, conf = world(ctx, mode="slow", timeout=30)
    r = get(ctx, conf, deadline=1500)
    assert r["status"] == "temp", r
    assert "timed out (deadline)" in r["reason"], r
    assert r["ms"] < 4000, r


# ---- discovery --------------------------------------------------------------

def test_mtasts_two_records_no_policy(ctx):
    srv, dns, conf = world(ctx, ids=("1", "2"))
    r = get(ctx, conf)
    no_policy(r, None, "2 v=STSv1 TXT records")
    assert srv.requests() == []


def test_mtasts_other_txt_ignored(ctx):
    srv, dns, conf = world(ctx, extra=("v=spf1 -all", "v=STSv10; id=9"))
    r = get(ctx, conf)
    assert r["status"] == "policy" and r["id"] == "20240101", r


def test_mtasts_malformed_txt_no_policy(ctx):
    srv, dns, conf = world(ctx, ids=(), extra=("v=STSv1; id=bad-id!",))
    no_policy(get(ctx, conf), None, "malformed v=STSv1 TXT record")


def test_mtasts_txt_servfail_temporary(ctx):
    srv, dns, conf = world(ctx, ids=(), servfail=True)
    r = get(ctx, conf)
    assert r["status"] == "temp" and r["rpt"] is None, r
    assert r["mode"] is None, r
    assert srv.requests() == []


def test_mtasts_txt_servfail_uses_cached(ctx):
    srv, dns, conf = world(ctx)
    get(ctx, conf)
    dns.stop()
    make_dns(ctx, ids=(), port=dns.port, servfail=True)
    r = get(ctx, conf)
    assert r["status"] == "policy" and r["from_cache"] is True, r
    assert r["id"] == "20240101", r
