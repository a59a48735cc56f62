"""Integration tests of tlsverify-probe: Phase I (SPEC 3) - expired,
not-yet-valid, untrusted, self-signed, revoked (CRL file) and incomplete
chains fail whatever the names say, while Phase II is still evaluated and
reported; an intermediate sent by the server makes a valid chain. Also the
settings table (SPEC 2) for required, preferred-verify, none and preferred.

Each domain has one IP route to its own server on 127.0.5.x whose
certificate names the domain in its SAN (so Phase II would match).
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

DOMS = {
    "exp.test": "127.0.5.2",
    "nyv.test": "127.0.5.3",
    "untr.test": "127.0.5.4",
    "self.test": "127.0.5.5",
    "rev.test": "127.0.5.6",
    "good.test": "127.0.5.7",
    "inter.test": "127.0.5.8",
    "plain.test": "127.0.5.9",
    "nochain.test": "127.0.5.10",
    "icaexp.test": "127.0.5.11",
}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA phase1")
    other = tvtest.CA(mctx, cn="tlsverify unknown CA")
    ica = ca.intermediate("tlsverify test intermediate")
    leaves = {
        "exp.test": ca.issue(cn="exp.test", sans=("exp.test",),
                             not_before_days=-30, not_after_days=-1),
        "nyv.test": ca.issue(cn="nyv.test", sans=("nyv.test",),
                             not_before_days=10, not_after_days=365),
        "untr.test": other.issue(cn="untr.test", sans=("untr.test",)),
        "self.test": tvtest.self_signed(mctx, cn="self.test",
                                        sans=("self.test",)),
        "rev.test": ca.issue(cn="rev.test", sans=("rev.test",)),
        "good.test": ca.issue(cn="good.test", sans=("good.test",)),
        "inter.test": ica.issue(cn="inter.test", sans=("inter.test",)),
        "plain.test": ca.issue(cn="plain.test", sans=("plain.test",)),
    }
    nc = ica.issue(cn="nochain.test", sans=("nochain.test",))
    # the server sends the leaf only, without its intermediate
    leaves["nochain.test"] = tvtest.Leaf(nc.cert, nc.key, nc.cert, nc.serial,
                                         nc.cn, nc.sans, nc.ca)
    old = ca.intermediate("tlsverify expired intermediate",
                          not_before_days=-60, not_after_days=-1)
    leaves["icaexp.test"] = old.issue(cn="icaexp.test", sans=("icaexp.test",),
                                      not_before_days=-30)
    ca.revoke(leaves["rev.test"])
    crl = ca.crl()
    port = mctx.port()
    servers = {}
    for dom, ip in DOMS.items():
        mode = "plain" if dom == "plain.test" else "starttls"
        servers[dom] = serve(mctx, ip, port, leaves[dom], mode=mode)
    dns = tvtest.DNS(mctx)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    routes = dict(DOMS)
    dests = {d: "required-verify" for d in DOMS}
    W.update(port=port, servers=servers,
             conf=make_conf(mctx, dport, port, bundle, dests, routes=routes),
             conf_crl=make_conf(mctx, dport, port, bundle, dests,
                                routes=routes, probe={"crl_file": crl}),
             conf_othercrl=make_conf(mctx, dport, port, bundle, dests,
                                     routes=routes,
                                     probe={"crl_file": other.crl()}),
             conf_reject=make_conf(mctx, dport, port, bundle, dests,
                                   routes=routes,
                                   milter={"on_fail": "reject"}))


def phase1_fail(ctx, dom, word, conf=None):
    rc, d, _ = run(ctx, conf or W["conf"], dom)
    expect(d, rc, 1, domain=dom, tls=True, certificate=word, verified=False,
           action="defer", ip=DOMS[dom], port=W["port"])
    assert (d.get("code"), d.get("xcode")) == ("450", "4.7.5"), dump(d)
    assert d.get("result") == "unverified", dump(d)
    # Phase II is still evaluated and shows the name that would match
    matched(d, dom, "dNSName", dom, "domain")
    a = d["attempts"]
    assert len(a) == 1 and a[0]["certificate"] == word, dump(d)
    assert a[0]["verified"] is False, dump(d)
    return d


def test_phase1_valid_certificate_is_verified(ctx):
    rc, d, _ = run(ctx, W["conf"], "good.test")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", ip="127.0.5.7")
    matched(d, "good.test", "dNSName", "good.test", "domain")


def test_phase1_expired(ctx):
    phase1_fail(ctx, "exp.test", "expired")


def test_phase1_not_yet_valid(ctx):
    phase1_fail(ctx, "nyv.test", "not-yet-valid")


def test_phase1_untrusted_issuer(ctx):
    phase1_fail(ctx, "untr.test", "untrusted")


def test_phase1_self_signed(ctx):
    phase1_fail(ctx, "self.test", "untrusted")


def test_phase1_revoked_with_crl_file(ctx):
    phase1_fail(ctx, "rev.test", "revoked", conf=W["conf_crl"])


def test_phase1_not_revoked_with_crl_file(ctx):
    rc, d, _ = run(ctx, W["conf_crl"], "good.test")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept")


def test_phase1_revoked_but_no_crl_configured_is_valid(ctx):
    # without revocation checking the revoked leaf is an ordinary valid one
    rc, d, _ = run(ctx, W["conf"], "rev.test")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True)


def test_phase1_intermediate_sent_by_server(ctx):
    rc, d, _ = run(ctx, W["conf"], "inter.test")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", ip="127.0.5.8")
    matched(d, "inter.test", "dNSName", "inter.test", "domain")


def test_phase1_missing_intermediate_is_untrusted(ctx):
    phase1_fail(ctx, "nochain.test", "untrusted")


def test_phase1_reject_gives_550_575(ctx):
    rc, d, _ = run(ctx, W["conf_reject"], "exp.test")
    expect(d, rc, 1, certificate="expired", verified=False, action="reject")
    assert (d.get("code"), d.get("xcode")) == ("550", "5.7.5"), dump(d)


# SPEC 2: required - TLS is enough
def test_required_untrusted_tls_is_accepted(ctx):
    rc, d, _ = run(ctx, W["conf"], "untr.test", setting="required")
    expect(d, rc, 0, setting="required", tls=True, certificate="untrusted",
           verified=False, action="accept", ip="127.0.5.4")
    assert d.get("code") is None, dump(d)


def test_required_expired_tls_is_accepted(ctx):
    rc, d, _ = run(ctx, W["conf"], "exp.test", setting="required")
    expect(d, rc, 0, tls=True, certificate="expired", action="accept")


def test_required_without_starttls_is_deferred(ctx):
    # SPEC 9: under required, "verified" is a boolean once a TLS session
    # was made, null otherwise
    rc, d, _ = run(ctx, W["conf"], "plain.test", setting="required")
    expect(d, rc, 1, tls=False, certificate=None, verified=None,
           action="defer", ip="127.0.5.9", matched=None)
    assert (d.get("code"), d.get("xcode")) == ("450", "4.7.10"), dump(d)
    assert d.get("result") == "plain", dump(d)


def test_required_without_starttls_rejected(ctx):
    rc, d, _ = run(ctx, W["conf_reject"], "plain.test", setting="required")
    expect(d, rc, 1, tls=False, action="reject")
    assert (d.get("code"), d.get("xcode")) == ("550", "5.7.10"), dump(d)


def test_required_verify_without_starttls_is_4710(ctx):
    rc, d, _ = run(ctx, W["conf"], "plain.test")
    expect(d, rc, 1, tls=False, verified=False, action="defer")
    assert (d.get("code"), d.get("xcode")) == ("450", "4.7.10"), dump(d)


# SPEC 2: preferred-verify - never fails
def test_preferred_verify_verified_accepts(ctx):
    rc, d, _ = run(ctx, W["conf"], "good.test", setting="preferred-verify")
    expect(d, rc, 0, verified=True, action="accept")
    assert d.get("result") == "verified", dump(d)


def test_preferred_verify_untrusted_tags(ctx):
    rc, d, _ = run(ctx, W["conf"], "untr.test", setting="preferred-verify")
    expect(d, rc, 0, tls=True, certificate="untrusted", verified=False,
           action="tag")
    assert d.get("result") == "unverified" and d.get("code") is None, dump(d)


def test_preferred_verify_without_starttls_tags_plain(ctx):
    rc, d, _ = run(ctx, W["conf"], "plain.test", setting="preferred-verify")
    expect(d, rc, 0, tls=False, verified=False, action="tag")
    assert d.get("result") == "plain" and d.get("code") is None, dump(d)


# SPEC 2 and 9: none and preferred never connect
def not_probed(ctx, setting):
    s = W["servers"]["good.test"]
    before = nconn(s)
    rc, d, _ = run(ctx, W["conf"], "good.test", setting=setting)
    expect(d, rc, 0, setting=setting, action="accept", tls=None,
           certificate=None, verified=None, host=None, ip=None, port=None,
           matched=None)
    assert d["attempts"] in ([], None), dump(d)
    assert d.get("result") == "not-probed" and d.get("code") is None, dump(d)
    assert nconn(s) == before, "a connection was made under " + setting


def test_none_makes_no_connection(ctx):
    not_probed(ctx, "none")


def test_preferred_makes_no_connection(ctx):
    not_probed(ctx, "preferred")


def test_phase1_expired_intermediate(ctx):
    phase1_fail(ctx, "icaexp.test", "expired")


def test_phase1_crl_missing_for_issuer_is_temporary(ctx):
    # revocation checking is configured but no CRL covers the issuer: the
    # revocation status cannot be known - temporary, never a pass (SPEC 3)
    rc, d, _ = run(ctx, W["conf_othercrl"], "good.test")
    expect(d, rc, 75, tls=True, verified=False, action="defer",
           temporary=True)
    assert d["certificate"] != "valid", dump(d)
    assert d.get("code") == "451", dump(d)
