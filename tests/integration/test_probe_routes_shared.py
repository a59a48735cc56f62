"""Integration tests of tlsverify-probe: several routes of one domain that
lead to one IP address (SPEC 5: "only one connection is made to that
address, and its certificate may match any of those route names"; SPEC
4.2 b/c). The set of route names of an address does not depend on the
port of each route nor on the order of the routes, and an IP route whose
address a host-name route also names keeps the host-name nature (SNI, route
names as reference identifiers, never MX names). Everything under
required-verify-hosted.

  127.0.4.30:P   SAN rsb.rshost.test; rsa and rsb.rshost.test -> .30;
                 nothing listens on .30:P2
  127.0.4.31:P   SAN rsc.rshost.test; rsc.rshost.test -> .31
  127.0.4.32:P   SAN mx.rsmx.test (the MX name of ipmx.rs.test);
                 rsd.rshost.test -> .32
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
from probecase import W, dump, expect, make_conf, matched, run, serve  # noqa: E402

S1, S2, S3 = "127.0.4.30", "127.0.4.31", "127.0.4.32"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA shared routes")
    port, port2 = mctx.port(), mctx.port()
    serve(mctx, S1, port, ca.issue(cn="s1.invalid", sans=("rsb.rshost.test",)))
    serve(mctx, S2, port, ca.issue(cn="s2.invalid", sans=("rsc.rshost.test",)))
    serve(mctx, S3, port, ca.issue(cn="s3.invalid", sans=("mx.rsmx.test",)))
    dns = tvtest.DNS(mctx)
    dns.a("rsa.rshost.test", S1).a("rsb.rshost.test", S1)
    dns.a("rsc.rshost.test", S2).a("rsd.rshost.test", S3)
    dns.mx("ipmx.rs.test", "mx.rsmx.test", 10).a("mx.rsmx.test", S3)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    routes = {
        "twoports.rs.test": "rsa.rshost.test/0, rsb.rshost.test:%d/1" % port2,
        "twoportsr.rs.test": "rsb.rshost.test:%d/0, rsa.rshost.test/1"
                             % port2,
        "ipfirst.rs.test": "%s, rsc.rshost.test" % S2,
        "hostfirst.rs.test": "rsc.rshost.test, %s" % S2,
        "ipmx.rs.test": "%s, rsd.rshost.test" % S3,
    }
    dests = {k: "required-verify-hosted" for k in routes}
    W.update(port=port, port2=port2,
             conf=make_conf(mctx, dport, port, tvtest.ca_bundle(mctx, ca),
                            dests, routes=routes))


def test_routes_same_ip_other_port_names_are_shared(ctx):
    # the certificate at S1:P names rsb, whose own route uses port P2
    rc, d, _ = run(ctx, W["conf"], "twoports.rs.test")
    expect(d, rc, 0, verified=True, action="accept", host="rsa.rshost.test",
           ip=S1, port=W["port"])
    matched(d, "rsb.rshost.test", "dNSName", "rsb.rshost.test", "route")
    assert len(d["attempts"]) == 1, dump(d)


def test_routes_same_ip_other_port_names_shared_in_reverse_order(ctx):
    rc, d, _ = run(ctx, W["conf"], "twoportsr.rs.test")
    expect(d, rc, 0, verified=True, action="accept", ip=S1, port=W["port"])
    matched(d, "rsb.rshost.test", "dNSName", "rsb.rshost.test", "route")
    assert [(a["ip"], a["port"]) for a in d["attempts"]] == [
        (S1, W["port2"]), (S1, W["port"])], dump(d)


def shared(ctx, dom):
    rc, d, _ = run(ctx, W["conf"], dom)
    expect(d, rc, 0, verified=True, action="accept", host="rsc.rshost.test",
           ip=S2)
    matched(d, "rsc.rshost.test", "dNSName", "rsc.rshost.test", "route")
    assert [(a["host"], a["via"]) for a in d["attempts"]] == [
        ("rsc.rshost.test", "route")], dump(d)
    rc, out, _ = tvtest.probe(ctx, W["conf"], dom, json=False)
    assert rc == 0 and "SNI rsc.rshost.test" in out, out
    return d


def test_routes_ip_route_first_keeps_the_host_name_route(ctx):
    a = shared(ctx, "ipfirst.rs.test")
    b = shared(ctx, "hostfirst.rs.test")
    for k in ("host", "ip", "port", "matched", "verified", "action"):
        assert a[k] == b[k], "%s differs:\n%s\n%s" % (k, dump(a), dump(b))


def test_routes_ip_route_shared_with_host_route_uses_no_mx_names(ctx):
    # S3 is an IP route AND the address of rsd.rshost.test: a connection
    # through a host-name route never uses MX names (SPEC 4.2 c)
    rc, d, _ = run(ctx, W["conf"], "ipmx.rs.test")
    expect(d, rc, 1, verified=False, host="rsd.rshost.test", ip=S3,
           matched=None)
    assert d["attempts"][0]["via"] == "route", dump(d)
