"""Integration tests of tlsverify-probe: a certificate whose CN is written in
U-labels (a UTF8String "b\u00fccher.example", as openssl req -utf8 makes it)
is compared as its A-label (SPEC 4: internationalised names compared as
A-labels), exactly as the recipient domain is; a wildcard CN in U-labels
stands for one label. The certificates have no dNSName, so the CN is used.

Servers: 127.0.6.30 (CN b\u00fccher.example), 127.0.6.31
(CN *.b\u00fccher.example).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
from probecase import W, dump, expect, make_conf, matched, run, serve  # noqa: E402

U = "b\u00fccher.example"
A = "xn--bcher-kva.example"
IP_EXACT, IP_WILD = "127.0.6.30", "127.0.6.31"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA idn cn")
    port = mctx.port()
    serve(mctx, IP_EXACT, port, ca.issue(cn=U, sans=()))
    serve(mctx, IP_WILD, port, ca.issue(cn="*." + U, sans=()))
    dns = tvtest.DNS(mctx)
    dns.mx(A, "mx.idnhost.test", 10).a("mx.idnhost.test", IP_EXACT)
    dns.mx("post." + A, "mxw.idnhost.test", 10)
    dns.a("mxw.idnhost.test", IP_WILD)
    dns.mx("deep.post." + A, "mxw.idnhost.test", 10)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    W.update(port=port, conf=make_conf(mctx, dport, port, bundle,
                                       {"." + A: "required-verify",
                                        A: "required-verify"}))


def test_idn_cn_in_ulabels_matches_domain_as_alabel(ctx):
    for dom in (U, A):
        rc, d, _ = run(ctx, W["conf"], dom)
        expect(d, rc, 0, domain=A, tls=True, certificate="valid",
               verified=True, action="accept", ip=IP_EXACT)
        matched(d, A, "CN", A, "domain")


def test_idn_wildcard_cn_in_ulabels_matches_one_label(ctx):
    rc, d, _ = run(ctx, W["conf"], "post." + U)
    expect(d, rc, 0, verified=True, action="accept", ip=IP_WILD)
    matched(d, "*." + A, "CN", "post." + A, "domain")
    rc, d, _ = run(ctx, W["conf"], "deep.post." + A)
    expect(d, rc, 1, verified=False, ip=IP_WILD, matched=None)

