"""DANE (SPEC 12) with real DNSSEC: a zone signed with ldns-signzone, served
by NSD on a loopback port, validated by Unbound with the zone's DS as its
only trust anchor; [dns] nameserver = that Unbound, dnssec = yes.

Zone dane.test (signed), MX hosts on 127.0.12.x, all on one probe port P:
  ee      MX mx-ee     TLSA _P._tcp 3 1 1 of an expired, untrusted leaf
  ta      MX mx-ta     TLSA 2 1 1 of an intermediate CA; leaf = mx-ta name
  taname  MX mx-tan    TLSA 2 1 1 of that CA; leaf names another host
  wrong   MX mx-wrong  TLSA 3 1 1 of another key
  bogus   MX mx-bogus  TLSA changed after signing (Unbound: SERVFAIL)
  pkix    MX mx-pkix   TLSA 0 1 1 and 1 1 1 only (unusable for SMTP)
  pkixpl  MX mx-pkixpl same, the server offers no STARTTLS
  notlsa  MX mx-notlsa no TLSA (secure denial)
  mxbogus MX changed after signing (Unbound: SERVFAIL)
Zone plain.test (unsigned: insecure): MX mx.plain.test, no DANE.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import dnssec  # noqa: E402
import miltersvc  # noqa: E402
import tvtest  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402
from probecase import dump, expect, run  # noqa: E402

W = {}
HOSTS = {"ee": "127.0.12.2", "ta": "127.0.12.3", "tan": "127.0.12.4",
         "wrong": "127.0.12.5", "bogus": "127.0.12.6", "pkix": "127.0.12.7",
         "pkixpl": "127.0.12.8", "notlsa": "127.0.12.9", "plain": "127.0.12.10"}


def _tlsa(port, host, data):
    return "_%d._tcp.%s. 300 IN TLSA %s" % (port, host, data)


def setup_module(mctx):
    port = mctx.port()
    pkix_ca = tvtest.CA(mctx, cn="DANE test PKIX CA")     # the trust store
    dane_ca = tvtest.CA(mctx, cn="DANE test root")         # not trusted
    sub = dane_ca.intermediate("DANE test TA")
    other = tvtest.CA(mctx, cn="DANE other CA")
    leaves = {
        "ee": other.issue("somewhere.else", sans=["somewhere.else"],
                          not_before_days=-30, not_after_days=-1),
        "ta": sub.issue("mx-ta.dane.test", sans=["mx-ta.dane.test"]),
        "tan": sub.issue("mx-other.dane.test", sans=["mx-other.dane.test"]),
        "wrong": other.issue("mx-wrong.dane.test",
                             sans=["mx-wrong.dane.test"]),
        "bogus": other.issue("mx-bogus.dane.test",
                             sans=["mx-bogus.dane.test"]),
        "pkix": other.issue("mx-pkix.dane.test", sans=["mx-pkix.dane.test"]),
        "notlsa": pkix_ca.issue("mx-notlsa.dane.test",
                                sans=["mx-notlsa.dane.test"]),
        "plain": pkix_ca.issue("mx.plain.test", sans=["mx.plain.test"]),
    }
    z = dnssec.Zones(mctx, ["dane.test"], unsigned=["plain.test"])
    names = {"ee": "ee", "ta": "ta", "tan": "taname", "wrong": "wrong",
             "bogus": "bogus", "pkix": "pkix", "pkixpl": "pkixpl",
             "notlsa": "notlsa"}
    for k, dom in names.items():
        mx = "mx-%s.dane.test" % k
        z.add("dane.test", "%s.dane.test. 300 IN MX 10 %s." % (dom, mx))
        z.add("dane.test", "%s. 300 IN A %s" % (mx, HOSTS[k]))
    ee_hash = dnssec.spki_sha256(leaves["ee"].cert)
    ta_hash = dnssec.spki_sha256(sub.cert)
    z.add("dane.test", _tlsa(port, "mx-ee.dane.test", "3 1 1 " + ee_hash))
    z.add("dane.test", _tlsa(port, "mx-ta.dane.test", "2 1 1 " + ta_hash))
    z.add("dane.test", _tlsa(port, "mx-tan.dane.test", "2 1 1 " + ta_hash))
    z.add("dane.test", _tlsa(port, "mx-wrong.dane.test", "3 1 1 " + ee_hash))
    z.add("dane.test", _tlsa(port, "mx-bogus.dane.test",
                             "3 1 1 " + dnssec.spki_sha256(
                                 leaves["bogus"].cert)))
    z.bogus("dane.test", "_%d._tcp.mx-bogus.dane.test." % port, "TLSA",
            "3 1 1 " + "ab" * 32)
    pk = dnssec.spki_sha256(leaves["pkix"].cert)
    for h in ("mx-pkix.dane.test", "mx-pkixpl.dane.test"):
        z.add("dane.test", _tlsa(port, h, "1 1 1 " + pk))
        z.add("dane.test", _tlsa(port, h, "0 1 1 " + pk))
    # an MX RRset changed after signing: bogus
    z.add("dane.test", "mxbogus.dane.test. 300 IN MX 10 mx-ee.dane.test.")
    z.bogus("dane.test", "mxbogus.dane.test.", "MX", "20 mx-ee.dane.test.")
    z.add("plain.test", "plain.test. 300 IN MX 10 mx.plain.test.")
    z.add("plain.test", "mx.plain.test. 300 IN A %s" % HOSTS["plain"])
    z.start()
    for k, ip in HOSTS.items():
        mode = "plain" if k == "pkixpl" else "starttls"
        s = tvtest.SMTPServer(mctx, ip, port, leaf=leaves.get(k),
                              mode=mode).start()
        mctx.cleanup(s.stop)
    W.update(port=port, zones=z, pkix_ca=pkix_ca, ee_hash=ee_hash,
             ta_hash=ta_hash)
    W["conf"] = conf(mctx, "dane.conf", {"default": "dane"})
    W["conf_only"] = conf(mctx, "dane-only.conf", {"default": "dane-only"})


def conf(ctx, name, dests, dns_extra=None, policy=None):
    dns = {"nameserver": W["zones"].nameserver, "timeout": 3,
           "dnssec": True}
    dns.update(dns_extra or {})
    return tvtest.write_conf(
        ctx, name=name, dns=dns,
        probe={"port": W["port"], "ca_file": W["pkix_ca"].cert, "timeout": 10,
               "helo": "probe.test"},
        destinations=dests, extra=policy)


def _new_keys(d):
    for k in ("policy", "tlsa", "sts", "reply"):
        assert k in d, "JSON lacks %r\n%s" % (k, dump(d))
    assert d["sts"] is None, dump(d)


def test_dane_ee_3_1_1_passes_with_expired_untrusted_cert(ctx):
    rc, d, _ = run(ctx, W["conf"], "ee.dane.test")
    _new_keys(d)
    expect(d, rc, 0, setting="dane", action="accept", result="verified",
           verified=True, certificate="valid", policy="dane", matched=None,
           tlsa="3 1 1 " + W["ee_hash"], reply=None, host="mx-ee.dane.test")
    rc, d, _ = run(ctx, W["conf_only"], "ee.dane.test")
    expect(d, rc, 0, setting="dane-only", result="verified", policy="dane")


def test_dane_ta_2_1_1_passes_with_mx_name(ctx):
    rc, d, _ = run(ctx, W["conf_only"], "ta.dane.test")
    _new_keys(d)
    expect(d, rc, 0, result="verified", certificate="valid", policy="dane",
           tlsa="2 1 1 " + W["ta_hash"],
           matched={"presented": "mx-ta.dane.test", "type": "dNSName",
                    "reference": "mx-ta.dane.test", "source": "mx"})


def test_dane_ta_wrong_name_fails(ctx):
    rc, d, _ = run(ctx, W["conf_only"], "taname.dane.test")
    expect(d, rc, 1, result="unverified", action="defer", verified=False,
           certificate="name-mismatch", policy="dane", tlsa=None)
    assert d["reply"].startswith("450 4.7.5 "), dump(d)


def test_dane_wrong_tlsa_fails_450_475(ctx):
    rc, d, _ = run(ctx, W["conf"], "wrong.dane.test")
    _new_keys(d)
    expect(d, rc, 1, result="unverified", action="defer", code="450",
           xcode="4.7.5", certificate="tlsa-mismatch", policy="dane")
    assert d["reply"] == "450 4.7.5 " + d["text"], dump(d)
    assert "DANE authentication failed" in d["text"], dump(d)


def test_dane_bogus_tlsa_is_temporary(ctx):
    for c in (W["conf"], W["conf_only"]):
        rc, d, _ = run(ctx, c, "bogus.dane.test")
        expect(d, rc, 75, result="unknown", action="defer", code="451",
               xcode="4.4.3", temporary=True, tls=False)
        assert "TLSA _%d._tcp.mx-bogus.dane.test" % W["port"] in d["reason"], \
            dump(d)
    # the server was never contacted: no fallback to a weaker check
    assert "no fallback" in d["reason"], dump(d)


def test_dane_bogus_mx_is_temporary(ctx):
    rc, d, _ = run(ctx, W["conf"], "mxbogus.dane.test")
    expect(d, rc, 75, result="unknown", action="defer", code="451",
           xcode="4.4.3", policy="dane", attempts=[])
    assert d["reply"].startswith("451 4.4.3 "), dump(d)


def test_dane_unsigned_zone_falls_back_or_fails(ctx):
    rc, d, _ = run(ctx, W["conf"], "plain.test")
    _new_keys(d)
    expect(d, rc, 0, result="no-policy", action="accept", policy=None,
           tlsa=None, reply=None)
    assert "MX answer was not validated" in d["reason"], dump(d)
    rc, d, _ = run(ctx, W["conf_only"], "plain.test")
    expect(d, rc, 1, result="unverified", action="defer", code="450",
           xcode="4.7.5", policy="dane")
    # a signed zone without TLSA (secure denial) is the same
    rc, d, _ = run(ctx, W["conf"], "notlsa.dane.test")
    expect(d, rc, 0, result="no-policy", action="accept")
    assert "no TLSA records" in d["reason"], dump(d)


def test_dane_pkix_only_tlsa_is_tls_required_unauthenticated(ctx):
    rc, d, _ = run(ctx, W["conf_only"], "pkix.dane.test")
    expect(d, rc, 0, result="encrypted", action="accept", tls=True,
           policy="dane", tlsa=None)
    rc, d, _ = run(ctx, W["conf"], "pkixpl.dane.test")
    expect(d, rc, 1, result="plain", action="defer", code="450",
           xcode="4.7.10")


def test_dane_text_report_and_header_word(ctx):
    rc, out, _ = tvtest.probe(ctx, W["conf"], "ee.dane.test", json=False)
    assert rc == 0, out
    assert "(DNSSEC: secure)" in out and "Policy:  dane" in out, out
    assert "matched: 3 1 1 " + W["ee_hash"] in out, out


def test_dane_conf_needs_dnssec_and_loopback(ctx):
    bad = tvtest.write_conf(ctx, name="nodnssec.conf",
                            dns={"nameserver": W["zones"].nameserver},
                            destinations={"x.test": "dane-only"})
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", bad,
                  "x.test"])
    assert cp.returncode == 78 and "needs [dns] dnssec = yes" in cp.stderr, \
        cp.stderr
    ok = tvtest.write_conf(ctx, name="plain.conf",
                           dns={"nameserver": W["zones"].nameserver},
                           destinations={"x.test": "required"})
    rc, _, err = tvtest.probe(ctx, ok, "x.test", setting="dane", json=False)
    assert rc == 78 and "dnssec = yes" in err, err
    for dns in ({"dnssec": True}, {"dnssec": True,
                                   "nameserver": "192.0.2.53"}):
        c = tvtest.write_conf(ctx, name="ns.conf", dns=dns,
                              destinations={"x.test": "dane"})
        cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", c,
                      "x.test"])
        assert cp.returncode == 78 and "loopback" in cp.stderr, cp.stderr


def test_dane_policy_service_answers(ctx):
    """The daemon's socketmap (SPEC 10/12), as Postfix asks it."""
    ppol = ctx.port()
    miltersvc.start(
        ctx, probe={"port": W["port"], "ca_file": W["pkix_ca"].cert,
                    "timeout": 10, "helo": "probe.test"},
        dns={"nameserver": W["zones"].nameserver, "timeout": 3,
             "dnssec": True},
        destinations={"ee.dane.test": "dane-only",
                      "wrong.dane.test": "dane-only",
                      "bogus.dane.test": "dane-only",
                      "pkix.dane.test": "dane-only", "plain.test": "dane"},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    c = SockmapClient(ppol)
    q = lambda d: c.query("tlspolicy " + d)    # noqa: E731
    assert q("ee.dane.test") == "OK dane-only"
    assert q("plain.test") == "OK dane"
    assert q("pkix.dane.test") == "OK dane"
    ans = q("wrong.dane.test")
    assert ans.startswith("TEMP wrong.dane.test: ") and \
        "DANE authentication failed" in ans, ans
    ans = q("bogus.dane.test")
    assert ans.startswith("TEMP bogus.dane.test: ") and "TLSA" in ans, ans


def test_dane_json_keys_under_seed_settings(ctx):
    c = conf(ctx, "seed.conf", {"notlsa.dane.test": "required-verify"})
    rc, d, _ = run(ctx, c, "notlsa.dane.test")
    _new_keys(d)
    expect(d, rc, 1, policy="pkix", tlsa=None)
    assert d["reply"] == "%s %s %s" % (d["code"], d["xcode"], d["text"]), \
        json.dumps(d)
