"""Integration tests of tlsverify-probe: MX hosts (SPEC 5): preference
order, failover to the next MX, equal preferences in DNS answer order,
implicit MX (RFC 5321 5.1), null MX (RFC 7505), non-existent domains,
IPv4 before IPv6 per host, and IDN recipient domains (U-labels converted to
A-labels before DNS and matching).

Domains are under m.test; the MX servers (127.0.6.2 mx-a, 127.0.6.3 mx-b)
present SAN *.m.test, so they verify by the recipient domain.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402


from probecase import (W, check_keys, dump, expect, make_conf,  # noqa: E402,F401
                       matched, nconn, not_verified, run, serve)

A, B, DOWN = "127.0.6.2", "127.0.6.3", "127.0.6.9"
IDN_A = "xn--bcher-kva.example"
IDN_U = "b\u00fccher.example"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA mx")
    leaf = ca.issue(cn="mx.invalid", sans=("*.m.test",))
    port = mctx.port()
    servers = {A: serve(mctx, A, port, leaf), B: serve(mctx, B, port, leaf)}
    servers["bad"] = serve(mctx, "127.0.6.4", port,
                           ca.issue(cn="other.invalid",
                                    sans=("other.invalid",)))
    servers["idn"] = serve(mctx, "127.0.6.5", port,
                           ca.issue(cn="idn.invalid", sans=(IDN_A,)))
    dns = tvtest.DNS(mctx)
    dns.a("mx-a.m.test", A).a("mx-b.m.test", B).a("mx-down.m.test", DOWN)
    dns.mx("m1.m.test", "mx-b.m.test", 20).mx("m1.m.test", "mx-a.m.test", 10)
    dns.mx("m2.m.test", "mx-down.m.test", 10)
    dns.mx("m2.m.test", "mx-b.m.test", 20)
    dns.mx("m3.m.test", "mx-b.m.test", 10).mx("m3.m.test", "mx-a.m.test", 10)
    dns.mx("m3r.m.test", "mx-a.m.test", 10)
    dns.mx("m3r.m.test", "mx-b.m.test", 10)
    dns.a("m4.m.test", A)                       # implicit MX
    dns.nullmx("m5.m.test")
    dns.a("mx-bad.m.test", "127.0.6.4")
    dns.servfail("sfm.test")
    dns.mx("m10.m.test", "mx-sf.sfm.test", 10)
    dns.mx("m10.m.test", "mx-bad.m.test", 20)
    dns.mx("m11.m.test", "mx-nx.m.test", 10)
    dns.mx("m11.m.test", "mx-bad.m.test", 20)
    dns.mx("m9.m.test", "mx-bad.m.test", 10).mx("m9.m.test", "mx-a.m.test", 20)
    dns.mx("m6.m.test", "mx-nx.m.test", 10).mx("m6.m.test", "mx-b.m.test", 20)
    dns.mx("m7.m.test", "mx-dual.m.test", 10)
    dns.aaaa("mx-dual.m.test", "::1").a("mx-dual.m.test", DOWN)
    dns.mx(IDN_A, "mx." + IDN_A, 10).a("mx." + IDN_A, "127.0.6.5")
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    dests = {".m.test": "required-verify", IDN_U: "required-verify"}
    W.update(port=port, servers=servers,
             conf=make_conf(mctx, dport, port, bundle, dests),
             conf_reject=make_conf(mctx, dport, port, bundle, dests,
                                   milter={"on_fail": "reject"}))


def ok(d, rc, host, ip):
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", host=host, ip=ip, port=W["port"],
           setting="required-verify")


def test_mx_lower_preference_first(ctx):
    sb = W["servers"][B]
    before = nconn(sb)
    rc, d, _ = run(ctx, W["conf"], "m1.m.test")
    ok(d, rc, "mx-a.m.test", A)
    assert len(d["attempts"]) == 1, dump(d)
    assert nconn(sb) == before, "the preference-20 MX was contacted"


def test_mx_down_preferred_mx_then_next(ctx):
    rc, d, _ = run(ctx, W["conf"], "m2.m.test")
    ok(d, rc, "mx-b.m.test", B)
    a = d["attempts"]
    assert [(x["host"], x["ip"]) for x in a] == [
        ("mx-down.m.test", DOWN), ("mx-b.m.test", B)], dump(d)
    assert a[0]["tls"] is False and a[0]["reason"], dump(d)


def test_mx_equal_preference_in_answer_order(ctx):
    for _ in range(4):
        rc, d, _ = run(ctx, W["conf"], "m3.m.test")
        ok(d, rc, "mx-b.m.test", B)


def test_mx_equal_preference_in_answer_order_reversed(ctx):
    for _ in range(4):
        rc, d, _ = run(ctx, W["conf"], "m3r.m.test")
        ok(d, rc, "mx-a.m.test", A)


def test_mx_implicit_mx_uses_domain_address(ctx):
    rc, d, _ = run(ctx, W["conf"], "m4.m.test")
    ok(d, rc, "m4.m.test", A)
    matched(d, "*.m.test", "dNSName", "m4.m.test", "domain")


def test_mx_null_mx_rejects_556_even_with_defer(ctx):
    rc, d, _ = run(ctx, W["conf"], "m5.m.test")
    expect(d, rc, 1, action="reject", host=None, ip=None, port=None,
           certificate=None, matched=None)
    assert (d.get("code"), d.get("xcode")) == ("556", "5.1.10"), dump(d)
    assert d.get("result") == "null-mx", dump(d)
    assert d.get("temporary") is False, dump(d)
    assert d["attempts"] in ([], None), dump(d)


def test_mx_null_mx_with_reject(ctx):
    rc, d, _ = run(ctx, W["conf_reject"], "m5.m.test")
    expect(d, rc, 1, action="reject")
    assert (d.get("code"), d.get("xcode")) == ("556", "5.1.10"), dump(d)


def test_mx_nonexistent_domain_450_412(ctx):
    rc, d, _ = run(ctx, W["conf"], "nx.m.test")
    expect(d, rc, 1, action="defer", host=None, ip=None, port=None,
           certificate=None, matched=None)
    assert (d.get("code"), d.get("xcode")) == ("450", "4.1.2"), dump(d)
    assert d.get("result") == "no-host", dump(d)
    assert d.get("temporary") is False, dump(d)


def test_mx_nonexistent_domain_rejected_550_512(ctx):
    rc, d, _ = run(ctx, W["conf_reject"], "nx.m.test")
    expect(d, rc, 1, action="reject")
    assert (d.get("code"), d.get("xcode")) == ("550", "5.1.2"), dump(d)


def test_mx_host_without_address_then_next(ctx):
    rc, d, _ = run(ctx, W["conf"], "m6.m.test")
    ok(d, rc, "mx-b.m.test", B)
    a = d["attempts"]
    assert len(a) == 2 and a[0]["host"] == "mx-nx.m.test", dump(d)
    assert not a[0]["ip"] and a[0]["tls"] is False, dump(d)


def test_mx_ipv4_before_ipv6_all_down_is_temporary(ctx):
    t0 = time.monotonic()
    rc, d, _ = run(ctx, W["conf"], "m7.m.test")
    assert time.monotonic() - t0 < 8 + 3, "took %.1fs" % (
        time.monotonic() - t0)
    assert [x["ip"] for x in d["attempts"]] == [DOWN, "::1"], dump(d)
    expect(d, rc, 75, action="defer", certificate=None, matched=None)
    assert (d.get("code"), d.get("xcode")) == ("451", "4.4.1"), dump(d)
    assert d.get("temporary") is True and d.get("result") == "unknown", \
        dump(d)


def test_mx_idn_domain_converted_to_alabel(ctx):
    rc, d, _ = run(ctx, W["conf"], IDN_U)
    expect(d, rc, 0, domain=IDN_A, setting="required-verify", tls=True,
           certificate="valid", verified=True, action="accept",
           host="mx." + IDN_A, ip="127.0.6.5")
    matched(d, IDN_A, "dNSName", IDN_A, "domain")


def test_mx_idn_domain_given_as_alabel(ctx):
    rc, d, _ = run(ctx, W["conf"], IDN_A)
    expect(d, rc, 0, domain=IDN_A, setting="required-verify", verified=True)


def test_mx_no_host_per_host_keys_are_null(ctx):
    # SPEC 9: every key is present, null where it does not apply; with no
    # host at all (null MX, non-existent domain) "tls" describes no session
    for dom in ("m5.m.test", "nx.m.test"):
        rc, d, _ = run(ctx, W["conf"], dom)
        assert d["attempts"] in ([], None), dump(d)
        expect(d, rc, 1, host=None, ip=None, port=None, tls=None,
               certificate=None, matched=None)


def test_mx_unverified_host_then_next_verified(ctx):
    rc, d, _ = run(ctx, W["conf"], "m9.m.test")
    ok(d, rc, "mx-a.m.test", A)
    got = [(a["ip"], a["tls"], a["certificate"], a["verified"])
           for a in d["attempts"]]
    assert got == [("127.0.6.4", True, "valid", False),
                   (A, True, "valid", True)], dump(d)


def test_mx_preferred_verify_goes_on_looking_for_a_verified_host(ctx):
    rc, d, _ = run(ctx, W["conf"], "m9.m.test", setting="preferred-verify")
    expect(d, rc, 0, verified=True, action="accept", ip=A)
    assert len(d["attempts"]) == 2, dump(d)


def test_mx_host_address_servfail_plus_unverified_is_temporary(ctx):
    # SPEC 2: permanent only when every host was judged; mx-sf's address
    # lookup failed temporarily, mx-bad presents the wrong name
    rc, d, _ = run(ctx, W["conf"], "m10.m.test")
    expect(d, rc, 75, action="defer", temporary=True, verified=False)
    assert d.get("code") == "451", dump(d)
    assert [a["host"] for a in d["attempts"]] == [
        "mx-sf.sfm.test", "mx-bad.m.test"], dump(d)


def test_mx_host_without_address_plus_unverified_is_permanent(ctx):
    # a host name that does not exist is a permanent "no address"
    rc, d, _ = run(ctx, W["conf"], "m11.m.test")
    not_verified(d, rc)
    assert d["ip"] == "127.0.6.4", dump(d)


def test_mx_null_mx_verified_is_false_under_every_verify_setting(ctx):
    # SPEC 9: "verified" is a boolean under every setting that verifies,
    # false for a null MX or when no host was reached; null only where
    # nothing is verified (none, preferred) and under required without TLS
    for setting in ("required-verify", "preferred-verify",
                    "required-verify-hosted"):
        for dom in ("m5.m.test", "nx.m.test"):
            rc, d, _ = run(ctx, W["conf"], dom, setting=setting)
            assert d["verified"] is False, "%s %s:\n%s" % (
                setting, dom, dump(d))
            assert d["tls"] is None and d["host"] is None, dump(d)
    for setting in ("none", "preferred", "required"):
        rc, d, _ = run(ctx, W["conf"], "m5.m.test", setting=setting)
        assert d["verified"] is None, "%s:\n%s" % (setting, dump(d))
