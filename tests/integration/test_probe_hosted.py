"""Integration tests of tlsverify-probe: the "hosted" identity procedure
(SPEC 4.2, setting required-verify-hosted), one positive and one negative
case per rule: DNS-IDs only when present, the recipient domain, route names
(host-name routes only), MX names (MX connections and IP routes), never PTR
names; two routes to one IP make one connection.

Servers on 127.0.3.x, one certificate per case, test CA.
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

# ip: (cn, sans)
CERTS = {
    "127.0.3.2": ("unrelated.invalid", ("h1.test",)),
    "127.0.3.3": ("unrelated.invalid", ("mx.h2host.test",)),
    "127.0.3.4": ("mx.h3host.test", ("other3.test",)),
    "127.0.3.5": ("mx.h4host.test", ()),
    "127.0.3.6": ("ptr.h5host.test", ("ptr.h5host.test",)),
    "127.0.3.7": ("unrelated.invalid", ("route6.h6host.test",)),
    "127.0.3.8": ("mx.h7host.test", ("mx.h7host.test",)),
    "127.0.3.18": ("mx.h7host.test", ("mx.h7host.test",)),
    "127.0.3.9": ("unrelated.invalid", ("mx.h8host.test",)),
    "127.0.3.10": ("unrelated.invalid", ("rb.h9host.test",)),
    "127.0.3.11": ("unrelated.invalid", ("other11.test",)),
    "127.0.3.12": ("unrelated.invalid", ("nothing12.test",)),
    "127.0.3.13": ("unrelated.invalid", ("h1.test",)),
    "127.0.3.14": ("127.0.3.14", ("127.0.3.14", "IP:127.0.3.14")),
    "127.0.3.15": ("unrelated.invalid", ("mx2.hxhost.test",)),
    "127.0.3.16": ("unrelated.invalid", ("mxb.hdhost.test",)),
    "127.0.3.17": ("unrelated.invalid", ("mx.hsfhost.test",)),
}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA hosted")
    dns = tvtest.DNS(mctx)
    port = mctx.port()
    servers = {}
    for ip, (cn, sans) in CERTS.items():
        servers[ip] = serve(mctx, ip, port, ca.issue(cn=cn, sans=sans))
    # h1: SAN = domain; h2: SAN = MX name; h3: CN = MX name, SAN other;
    # h4: CN = MX name, no SAN; h5: SAN+CN = forward-confirmed PTR name
    dns.mx("h1.test", "mx.h1host.test", 10).a("mx.h1host.test", "127.0.3.2")
    dns.mx("h1n.test", "mx.h1nhost.test", 10)
    dns.a("mx.h1nhost.test", "127.0.3.13")
    dns.mx("h2.test", "mx.h2host.test", 10).a("mx.h2host.test", "127.0.3.3")
    dns.mx("h2b.test", "mx.h2host.test", 10)  # same server, other domain
    dns.mx("h3.test", "mx.h3host.test", 10).a("mx.h3host.test", "127.0.3.4")
    dns.mx("h4.test", "mx.h4host.test", 10).a("mx.h4host.test", "127.0.3.5")
    dns.mx("h5.test", "mx.h5.test", 10).a("mx.h5.test", "127.0.3.6")
    dns.ptr("127.0.3.6", "ptr.h5host.test").a("ptr.h5host.test", "127.0.3.6")
    # h6: host-name route whose name is in the SAN; route name under verify
    dns.a("route6.h6host.test", "127.0.3.7")
    # h7: host-name route to 127.0.3.8 AND MX records to mx.h7host.test
    # (127.0.3.18); the route's server presents the MX name only
    dns.a("route7.h7host.test", "127.0.3.8")
    dns.mx("h7.test", "mx.h7host.test", 10).a("mx.h7host.test", "127.0.3.18")
    # h8: IP route 127.0.3.9; the domain's MX name is in that server's SAN
    dns.mx("h8.test", "mx.h8host.test", 10).a("mx.h8host.test", "127.0.3.99")
    # h8n: IP route 127.0.3.12 whose SAN is none of the MX names
    dns.mx("h8n.test", "mx.h8host.test", 10)
    # h9: two routes, both resolving to 127.0.3.10, SAN = the second name
    dns.a("ra.h9host.test", "127.0.3.10").a("rb.h9host.test", "127.0.3.10")
    # h10: two routes to 127.0.3.11 whose SAN matches neither
    dns.a("ra.h10host.test", "127.0.3.11").a("rb.h10host.test", "127.0.3.11")
    # hip: IP route 127.0.3.14 whose certificate names that IP (CN, a
    # DNS-ID spelling the IP and an iPAddress SAN): an IP is never matched
    dns.mx("hip.test", "mx.hiphost.test", 10)
    # hx: MX mx1 (127.0.3.15) presents mx2's name; mx2 (127.0.3.13)
    # presents h1.test. Only the MX name that led to the IP is a reference
    dns.mx("hx.test", "mx1.hxhost.test", 10).a("mx1.hxhost.test", "127.0.3.15")
    dns.mx("hx.test", "mx2.hxhost.test", 20).a("mx2.hxhost.test", "127.0.3.13")
    # hd: two MX names with the same address; the certificate names the
    # second one: one connection, the IP was found through both names
    dns.mx("hd.test", "mxa.hdhost.test", 10).a("mxa.hdhost.test", "127.0.3.16")
    dns.mx("hd.test", "mxb.hdhost.test", 20).a("mxb.hdhost.test", "127.0.3.16")
    # hsf: IP route, but the domain's MX lookup fails (SERVFAIL): the MX
    # names cannot be known
    dns.servfail("hsf.test")
    dns.servfail("hsf2.test")   # host-name route: MX names are not needed
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    H = "required-verify-hosted"
    dests = {d: H for d in ("h1.test", "h1n.test", "h2.test", "h2b.test",
                            "h3.test",
                            "h4.test", "h5.test", "h6.test", "h7.test",
                            "h8.test", "h8n.test", "h9.test", "h10.test",
                            "hip.test", "hx.test", "hd.test",
                            "hsf.test", "hsf2.test")}
    routes = {"h6.test": "route6.h6host.test",
              "h7.test": "route7.h7host.test",
              "h8.test": "127.0.3.9",
              "h8n.test": "127.0.3.12",
              "hip.test": "127.0.3.14",
              "hsf.test": "127.0.3.17",
              "hsf2.test": "route6.h6host.test",
              "h9.test": "ra.h9host.test, rb.h9host.test",
              "h10.test": "ra.h10host.test, rb.h10host.test"}
    W.update(port=port, servers=servers, dns=dns,
             conf=make_conf(mctx, dport, port, bundle, dests, routes=routes))


def verified(d, rc, host, ip):
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", host=host, ip=ip, port=W["port"],
           setting="required-verify-hosted")
    assert d.get("result") == "verified" and d.get("code") is None, dump(d)


# 4.2.2a: the recipient domain
def test_hosted_san_matches_domain(ctx):
    rc, d, _ = run(ctx, W["conf"], "h1.test")
    verified(d, rc, "mx.h1host.test", "127.0.3.2")
    matched(d, "h1.test", "dNSName", "h1.test", "domain")


def test_hosted_san_for_another_domain_is_not_verified(ctx):
    # h1n.test's MX presents h1.test: neither h1n.test nor its MX name
    rc, d, _ = run(ctx, W["conf"], "h1n.test")
    not_verified(d, rc)
    assert d["ip"] == "127.0.3.13", dump(d)


# 4.2.2c: the MX host name the IP was found through
def test_hosted_san_matches_mx_name(ctx):
    rc, d, _ = run(ctx, W["conf"], "h2.test")
    verified(d, rc, "mx.h2host.test", "127.0.3.3")
    matched(d, "mx.h2host.test", "dNSName", "mx.h2host.test", "mx")


def test_hosted_mx_name_of_another_domain_shared_server(ctx):
    # h2b.test uses the same MX host: the MX name is h2b's reference too
    rc, d, _ = run(ctx, W["conf"], "h2b.test")
    verified(d, rc, "mx.h2host.test", "127.0.3.3")
    matched(d, "mx.h2host.test", "dNSName", "mx.h2host.test", "mx")


# 4.2.1: DNS-IDs only when there is one; CN when there is none
def test_hosted_cn_ignored_when_san_present(ctx):
    # CN = MX name, SAN = other3.test: the CN is never looked at
    rc, d, _ = run(ctx, W["conf"], "h3.test")
    not_verified(d, rc)


def test_hosted_cn_used_when_no_san(ctx):
    rc, d, _ = run(ctx, W["conf"], "h4.test")
    verified(d, rc, "mx.h4host.test", "127.0.3.5")
    matched(d, "mx.h4host.test", "CN", "mx.h4host.test", "mx")


# 4.2.3: PTR names are never reference identifiers in "hosted"
def test_hosted_ptr_name_is_not_a_reference(ctx):
    rc, d, _ = run(ctx, W["conf"], "h5.test")
    not_verified(d, rc)


def test_hosted_ptr_cert_is_verified_under_verify(ctx):
    # counter-check: the same server verifies under "verify" by CN/PTR
    rc, d, _ = run(ctx, W["conf"], "h5.test", setting="required-verify")
    expect(d, rc, 0, verified=True, action="accept", ip="127.0.3.6")
    matched(d, "ptr.h5host.test", "CN", "ptr.h5host.test", "ptr")


# 4.2.2b: the route name of a host-name route
def test_hosted_route_name_matches(ctx):
    rc, d, _ = run(ctx, W["conf"], "h6.test")
    verified(d, rc, "route6.h6host.test", "127.0.3.7")
    matched(d, "route6.h6host.test", "dNSName", "route6.h6host.test",
            "route")


def test_verify_never_uses_route_names(ctx):
    # SPEC 4.1.3: route names are not references in "verify"
    rc, d, _ = run(ctx, W["conf"], "h6.test", setting="required-verify")
    not_verified(d, rc)
    assert d["host"] == "route6.h6host.test", dump(d)


def test_hosted_hostname_route_never_uses_mx_names(ctx):
    before = nconn(W["servers"]["127.0.3.18"])
    rc, d, _ = run(ctx, W["conf"], "h7.test")
    not_verified(d, rc)
    assert d["host"] == "route7.h7host.test" and d["ip"] == "127.0.3.8", \
        dump(d)
    assert [a["ip"] for a in d["attempts"]] == ["127.0.3.8"], dump(d)
    # routes replace MX: the MX host is never contacted
    assert nconn(W["servers"]["127.0.3.18"]) == before, \
        "the MX host of a routed domain was contacted"


# 4.2.2c: an IP route accepts every MX name of the domain
def test_hosted_ip_route_accepts_mx_names(ctx):
    rc, d, _ = run(ctx, W["conf"], "h8.test")
    verified(d, rc, "127.0.3.9", "127.0.3.9")
    matched(d, "mx.h8host.test", "dNSName", "mx.h8host.test", "mx")


def test_hosted_ip_route_cert_not_matching_mx_names(ctx):
    rc, d, _ = run(ctx, W["conf"], "h8n.test")
    not_verified(d, rc)
    assert d["ip"] == "127.0.3.12", dump(d)


# SPEC 5: routes leading to the same IP: one connection, either name
def test_hosted_two_routes_same_ip_one_connection_second_name(ctx):
    s = W["servers"]["127.0.3.10"]
    before = nconn(s)
    rc, d, _ = run(ctx, W["conf"], "h9.test")
    expect(d, rc, 0, verified=True, action="accept", ip="127.0.3.10")
    matched(d, "rb.h9host.test", "dNSName", "rb.h9host.test", "route")
    assert len(d["attempts"]) == 1, dump(d)
    assert nconn(s) - before == 1, "connections: %d" % (nconn(s) - before)


def test_hosted_two_routes_same_ip_failing_one_connection(ctx):
    s = W["servers"]["127.0.3.11"]
    before = nconn(s)
    rc, d, _ = run(ctx, W["conf"], "h10.test")
    not_verified(d, rc)
    assert len(d["attempts"]) == 1, dump(d)
    assert nconn(s) - before == 1, "connections: %d" % (nconn(s) - before)


def test_hosted_ip_address_is_never_a_reference(ctx):
    rc, d, _ = run(ctx, W["conf"], "hip.test")
    not_verified(d, rc)
    assert d["ip"] == "127.0.3.14", dump(d)


def test_hosted_only_the_mx_name_that_led_to_the_ip(ctx):
    # 127.0.3.15 was found through mx1.hxhost.test; its certificate names
    # mx2.hxhost.test, another MX of the domain: not a reference there
    rc, d, _ = run(ctx, W["conf"], "hx.test")
    not_verified(d, rc)
    got = [(a["host"], a["ip"], a["verified"]) for a in d["attempts"]]
    assert got == [("mx1.hxhost.test", "127.0.3.15", False),
                   ("mx2.hxhost.test", "127.0.3.13", False)], dump(d)
    assert d["host"] == "mx1.hxhost.test", dump(d)


def test_hosted_two_mx_names_same_ip_one_connection(ctx):
    s = W["servers"]["127.0.3.16"]
    before = nconn(s)
    rc, d, _ = run(ctx, W["conf"], "hd.test")
    expect(d, rc, 0, verified=True, action="accept", ip="127.0.3.16")
    matched(d, "mxb.hdhost.test", "dNSName", "mxb.hdhost.test", "mx")
    assert len(d["attempts"]) == 1, dump(d)
    assert nconn(s) - before == 1, "connections: %d" % (nconn(s) - before)


def test_hosted_ip_route_mx_lookup_servfail_is_temporary(ctx):
    # the certificate names the domain's MX host, but the MX lookup failed
    # temporarily: the host cannot be judged, so the verdict is temporary
    # (SPEC 2), never a permanent identity failure
    rc, d, _ = run(ctx, W["conf"], "hsf.test")
    expect(d, rc, 75, action="defer", temporary=True, ip="127.0.3.17",
           verified=False)
    assert d.get("code") == "451", dump(d)


def dns_queries():
    try:
        with open(W["dns"].log, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def routed_mx_lookup(ctx, setting):
    start = len(dns_queries())
    rc, d, _ = run(ctx, W["conf"], "h7.test", setting=setting)
    tvtest.wait_for(
        lambda: "query[A] route7.h7host.test" in dns_queries()[start:],
        timeout=5, what="the route's A query in the DNS log")
    assert [a["ip"] for a in d["attempts"]] == ["127.0.3.8"], dump(d)
    return "query[MX] h7.test" in dns_queries()[start:]


def test_routed_domain_never_looked_up_in_mx_verify(ctx):
    # SPEC 5: a domain with (host-name) routes is never looked up in MX,
    # though h7.test has MX records
    assert not routed_mx_lookup(ctx, "required-verify"), \
        "the routed domain h7.test was looked up in MX (required-verify)"


def test_routed_domain_never_looked_up_in_mx_hosted(ctx):
    # under "hosted" only an IP route needs the MX names (SPEC 4.2c);
    # h7.test's only route is a host name
    assert not routed_mx_lookup(ctx, "required-verify-hosted"), \
        "the routed domain h7.test was looked up in MX (hosted, name route)"


def test_hosted_name_route_unaffected_by_mx_servfail(ctx):
    # the domain's own DNS fails, but its host-name route verifies by the
    # route name: nothing temporary is involved (SPEC 5: routes replace MX)
    rc, d, _ = run(ctx, W["conf"], "hsf2.test")
    verified(d, rc, "route6.h6host.test", "127.0.3.7")
    matched(d, "route6.h6host.test", "dNSName", "route6.h6host.test",
            "route")
