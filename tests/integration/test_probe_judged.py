"""Integration tests of tlsverify-probe: when is a host "judged" (SPEC 2: a
verdict is permanent only when every candidate host was reached and judged).

- A certificate that failed Phase I for good (self-signed) is a permanent
  answer even when the PTR lookup that "verify" needs for its CN fails
  temporarily: the host was judged, the name check cannot save it.
- The reverse: a valid certificate whose CN could match the PTR name, with
  the PTR lookup failing temporarily, was not judged: temporary.
- A 5xx reply to EHLO (a blocklist, say) says nothing about TLS: the host
  was not judged on TLS, so the failure is temporary, not "TLS required".

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


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA judged")
    port = mctx.port()
    self_leaf = certs.self_signed(mctx, cn="mx.self.j.test")
    good_leaf = ca.issue(cn="ptr-name.j.test")        # CN only, no SAN
    serve(mctx, IP_SELF, port, self_leaf)
    serve(mctx, IP_GOOD, port, good_leaf)
    serve(mctx, IP_EHLO, port, good_leaf, mode="ehlo550")
    dns = tvtest.DNS(mctx)
    for dom, ip in (("self.j.test", IP_SELF), ("good.j.test", IP_GOOD),
                    ("ehlo.j.test", IP_EHLO)):
        dns.mx(dom, "mx." + dom, 10)
        dns.a("mx." + dom, ip)
    dns.servfail("in-addr.arpa")
    dport = dns.start()
    mctx.cleanup(dns.stop)
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
