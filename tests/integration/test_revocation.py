"""Integration tests of revocation checking (SPEC 3, issue 5): CRLs fetched
from the certificate's distribution point, OCSP from the AIA responder
(`openssl ocsp`) and stapled by the server, the responder down with
revocation_required yes (defer, exit 75) and no (pass, reported unknown),
and a crl_file as before.

Everything runs in one private network namespace with only loopback
(tests/lib/pki.py): `openssl ocsp` listens on all interfaces. Each domain
has one IP route to its own STARTTLS server (tests/helpers/ocsp_smtpd) on
127.0.6.x; its certificate names the domain (Phase II matches).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import pki  # noqa: E402

W = {}

DOMS = {
    "crlgood.test": "127.0.6.1", "crlrev.test": "127.0.6.2",
    "ocspgood.test": "127.0.6.3", "ocsprev.test": "127.0.6.4",
    "staplerev.test": "127.0.6.5", "staplegood.test": "127.0.6.6",
    "down.test": "127.0.6.7", "anyrev.test": "127.0.6.8",
    "filerev.test": "127.0.6.9",
}


def dump(d):
    return json.dumps(d, indent=1, sort_keys=True)


def setup_module(mctx):
    ns = pki.Netns(mctx)
    hport, oport, dead, sport, dnsport = (mctx.port() for _ in range(5))
    crl_url = "http://127.0.0.1:%d/ca.crl" % hport
    ocsp_url = "http://127.0.0.1:%d/" % oport
    dead_url = "http://127.0.0.1:%d/" % dead
    ca = tvtest.CA(mctx, cn="tlsverify revocation CA")
    urls = {
        "crlgood.test": dict(crl_url=crl_url),
        "crlrev.test": dict(crl_url=crl_url),
        "ocspgood.test": dict(ocsp_url=ocsp_url),
        "ocsprev.test": dict(ocsp_url=ocsp_url),
        "staplerev.test": dict(ocsp_url=dead_url),
        "staplegood.test": dict(ocsp_url=dead_url),
        "down.test": dict(ocsp_url=dead_url),
        "anyrev.test": dict(ocsp_url=dead_url, crl_url=crl_url),
        "filerev.test": {},
    }
    leaves = {d: ca.issue(cn=d, sans=(d,), **urls[d]) for d in DOMS}
    for d in ("crlrev.test", "ocsprev.test", "staplerev.test",
              "anyrev.test", "filerev.test"):
        ca.revoke(leaves[d])
    crldir = mctx.path("crls")
    os.makedirs(crldir)
    der = ca.crl_der()
    os.rename(der, os.path.join(crldir, "ca.crl"))
    staples = {d: pki.ocsp_response(ca, leaves[d], mctx.path(d + ".ocsp"))
               for d in ("staplerev.test", "staplegood.test")}
    W["http"] = pki.CRLServer(ns, "127.0.0.1", hport, crldir)
    W["ocsp"] = pki.OCSPResponder(ns, ca, oport)
    for d, ip in DOMS.items():
        pki.StaplingSMTPServer(ns, ip, sport, leaves[d],
                               staple=staples.get(d))
    W.update(ns=ns, ca=ca, sport=sport, dnsport=dnsport, crl=ca.crl())


def conf(ctx, name, **probe):
    p = {"port": W["sport"], "ca_file": W["ca"].cert, "timeout": 8,
         "helo": "probe.test", "http_timeout": 2}
    p.update(probe)
    dests = {"default": "none"}
    dests.update({d: "required-verify" for d in DOMS})
    # no DNS server: a closed port answers at once (PTR lookups fail,
    # the DNS-ID matches the domain anyway)
    return tvtest.write_conf(ctx, probe=p, destinations=dests,
                             dns={"nameserver": "127.0.0.1:%d" % W["dnsport"],
                                  "timeout": 1},
                             smtproutes=dict(DOMS), name=name + ".conf")


def probe(ctx, cfg, dom):
    rc, d, err = W["ns"].probe(cfg, dom)
    assert isinstance(d, dict), err
    return rc, d


def trace(ctx, cfg, dom):
    rc, text, _ = W["ns"].probe(cfg, dom, json=False)
    return text


def expect(d, rc, want_rc, **kw):
    bad = ["exit status: want %r, got %r" % (want_rc, rc)] \
        if rc != want_rc else []
    for k, v in kw.items():
        if d.get(k) != v:
            bad.append("%s: want %r, got %r" % (k, v, d.get(k)))
    assert not bad, "; ".join(bad) + "\n" + dump(d)


def test_crl_distribution_point_good(ctx):
    cfg = conf(ctx, "crl", revocation="crl", revocation_required=True)
    n0 = len(W["http"].requests())
    rc, d = probe(ctx, cfg, "crlgood.test")
    expect(d, rc, 0, certificate="valid", verified=True, action="accept",
           revocation="good")
    assert W["http"].requests()[n0:] == ["/ca.crl"], W["http"].requests()


def test_crl_distribution_point_revoked(ctx):
    cfg = conf(ctx, "crl", revocation="crl")
    rc, d = probe(ctx, cfg, "crlrev.test")
    expect(d, rc, 1, certificate="revoked", verified=False, action="defer",
           revocation="revoked", temporary=False)
    assert "CRL" in d["attempts"][0]["reason"], dump(d)


def test_ocsp_responder_good_and_revoked(ctx):
    cfg = conf(ctx, "ocsp", revocation="ocsp", revocation_required=True)
    rc, d = probe(ctx, cfg, "ocspgood.test")
    expect(d, rc, 0, certificate="valid", verified=True, revocation="good")
    rc, d = probe(ctx, cfg, "ocsprev.test")
    expect(d, rc, 1, certificate="revoked", verified=False,
           revocation="revoked", action="defer")
    assert "OCSP responder" in d["attempts"][0]["reason"], dump(d)
    assert "keyCompromise" in d["attempts"][0]["reason"], dump(d)


def test_ocsp_stapled_revoked(ctx):
    cfg = conf(ctx, "ocsp", revocation="ocsp", revocation_required=True)
    rc, d = probe(ctx, cfg, "staplerev.test")
    expect(d, rc, 1, certificate="revoked", revocation="revoked",
           verified=False)
    assert "stapled" in d["attempts"][0]["reason"], dump(d)
    # the good staple answers although the responder is down
    rc, d = probe(ctx, cfg, "staplegood.test")
    expect(d, rc, 0, certificate="valid", revocation="good", verified=True)
    text = trace(ctx, cfg, "staplegood.test")
    assert "OCSP response stapled" in text, text
    assert "revocation (ocsp): good: the stapled OCSP response" in text, text


def test_ocsp_responder_down_required_defers(ctx):
    cfg = conf(ctx, "ocspreq", revocation="ocsp", revocation_required=True)
    rc, d = probe(ctx, cfg, "down.test")
    expect(d, rc, 75, certificate="revocation-unknown", verified=False,
           action="defer", temporary=True, revocation="unknown")
    assert d.get("code") == "451", dump(d)


def test_ocsp_responder_down_not_required_passes(ctx):
    cfg = conf(ctx, "ocspopt", revocation="ocsp", revocation_required=False)
    rc, d = probe(ctx, cfg, "down.test")
    expect(d, rc, 0, certificate="valid", verified=True, action="accept",
           revocation="unknown")
    text = trace(ctx, cfg, "down.test")
    assert "revocation (ocsp): unknown" in text, text


def test_any_falls_back_from_ocsp_to_crl(ctx):
    cfg = conf(ctx, "any", revocation="any", revocation_required=True)
    rc, d = probe(ctx, cfg, "anyrev.test")
    expect(d, rc, 1, certificate="revoked", revocation="revoked")
    # OCSP first: the CRL-only leaf is judged by its CRL
    rc, d = probe(ctx, cfg, "crlgood.test")
    expect(d, rc, 0, certificate="valid", revocation="good")


def test_revocation_none_does_not_check(ctx):
    cfg = conf(ctx, "none", revocation="none")
    rc, d = probe(ctx, cfg, "ocsprev.test")
    expect(d, rc, 0, certificate="valid", verified=True,
           revocation="not-checked")


def test_crl_file_still_revokes(ctx):
    cfg = conf(ctx, "file", crl_file=W["crl"])
    rc, d = probe(ctx, cfg, "filerev.test")
    expect(d, rc, 1, certificate="revoked", revocation="revoked")
    rc, d = probe(ctx, cfg, "ocspgood.test")
    expect(d, rc, 0, certificate="valid", revocation="good")
