"""Integration tests of tlsverify-probe: when is a host "judged" (SPEC 2: a
verdict is permanent only when every candidate host was reached and judged).

- A certificate that failed Phase I for good (self-signed) is a permanent
  answer even when the PTR lookup that "verify" needs for its CN fails
  temporarily: the host was judged, the name check cannot save it.
- The reverse: a valid certificate whose CN could match the PTR name, with
  the PTR lookup failing temporarily, was not judged: temporary.
- A 5xx reply to EHLO (a blocklist, say) says nothing about TLS: the host
  was not judged on TLS, so the failure is temporary, not "TLS required".
- The PTR name is asked for only when a CN could still need it.

Servers on 127.0.9.4x, reverse zone in-addr.arpa answering SERVFAIL.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import certs  # noqa: E402
from probecase import W, dump, expect, make_conf, run, serve  # noqa: E402

IP_SELF = "127.0.9.41"
IP_GOOD = "127.0.9.42"
IP_EHLO = "127.0.9.43"
IP_SAN = "127.0.9.44"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA judged")
    port = mctx.port()
    self_leaf = certs.self_signed(mctx, cn="mx.self.j.test")
    good_leaf = ca.issue(cn="ptr-name.j.test")        # CN only, no SAN
    serve(mctx, IP_SELF, port, self_leaf)
    serve(mctx, IP_GOOD, port, good_leaf)
    serve(mctx, IP_EHLO, port, good_leaf, mode="ehlo550")
    serve(mctx, IP_SAN, port, ca.issue(cn="cn.invalid", sans=("san.j.test",)))
    dns = tvtest.DNS(mctx)
    for dom, ip in (("self.j.test", IP_SELF), ("good.j.test", IP_GOOD),
                    ("ehlo.j.test", IP_EHLO), ("san.j.test", IP_SAN)):
        dns.mx(dom, "mx." + dom, 10)
        dns.a("mx." + dom, ip)
    dns.servfail("in-addr.arpa")
    dport = dns.start()
    mctx.cleanup(dns.stop)
    W["dns"] = dns
    bundle = tvtest.ca_bundle(mctx, ca)
    dests = {".j.test": "required-verify"}
    W["conf"] = make_conf(mctx, dport, port, bundle, dests,
                          milter={"on_fail": "reject"}, timeout=6)


def test_failed_phase1_with_ptr_servfail_is_permanent(ctx):
    rc, d, _ = run(ctx, W["conf"], "self.j.test")
    expect(d, rc, 1, tls=True, certificate="untrusted", verified=False,
           action="reject", temporary=False)
    assert (d["code"], d["xcode"]) == ("550", "5.7.5"), dump(d)


def test_valid_cert_with_ptr_servfail_is_temporary(ctx):
    rc, d, _ = run(ctx, W["conf"], "good.j.test")
    expect(d, rc, 75, tls=True, certificate="valid", verified=False,
           action="defer", temporary=True)
    assert d["code"] == "451", dump(d)


def test_ehlo_5xx_is_not_judged_on_tls(ctx):
    rc, d, _ = run(ctx, W["conf"], "ehlo.j.test")
    expect(d, rc, 75, tls=False, action="defer", temporary=True)
    assert d["code"] == "451" and d["xcode"] == "4.4.1", dump(d)
    assert "EHLO rejected: 550" in d["reason"], dump(d)
    assert d["attempts"][0]["stage"] == "ehlo", dump(d)


def ptr_queries(ip):
    rev = ".".join(reversed(ip.split("."))) + ".in-addr.arpa"
    with open(W["dns"].log, errors="replace") as f:
        return f.read().count("query[PTR] " + rev)


def test_ptr_asked_only_when_a_cn_could_need_it(ctx):
    """A dNSName that matches the domain needs no PTR name: none is asked
    (and its SERVFAIL cannot matter); a CN-only certificate asks for it."""
    rc, d, _ = run(ctx, W["conf"], "san.j.test")
    expect(d, rc, 0, verified=True, action="accept")
    assert d["matched"]["source"] == "domain", dump(d)
    assert ptr_queries(IP_SAN) == 0, "PTR asked although the SAN matched"
    run(ctx, W["conf"], "good.j.test")
    assert ptr_queries(IP_GOOD) >= 1, "the CN-only case asked no PTR"
