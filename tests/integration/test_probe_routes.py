"""Integration tests of tlsverify-probe: SMTP routes (SPEC 5): priority and
configuration order, failover (connection refused, no STARTTLS, no address),
a route's own port, IP and host-name routes, IPv6, routed domains without
any DNS records, ".parent" route keys.

Every recipient domain is under r.test and none has DNS records (routes
replace MX). The servers present SAN *.r.test and *.par.r.test, so under
required-verify they verify by the recipient domain whatever the route.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402


from probecase import (W, check_keys, dump, expect, make_conf,  # noqa: E402,F401
                       matched, nconn, not_verified, run, serve)


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA routes")
    leaf = ca.issue(cn="routes.invalid", sans=("*.r.test", "*.par.r.test"))
    port = mctx.port()
    port2 = mctx.port()
    servers = {}
    for ip in ("127.0.4.2", "127.0.4.3", "127.0.4.4", "127.0.4.7"):
        servers[ip] = serve(mctx, ip, port, leaf)
    servers["127.0.4.5"] = serve(mctx, "127.0.4.5", port, leaf, mode="plain")
    servers["127.0.4.6"] = serve(mctx, "127.0.4.6", port2, leaf)
    W["v6"] = tvtest.ipv6_usable()
    if W["v6"]:
        servers["::1"] = serve(mctx, "::1", port2, leaf)
    dns = tvtest.DNS(mctx)
    dns.a("rh2.rhost.test", "127.0.4.2")
    dns.a("rh3.rhost.test", "127.0.4.3")
    dns.a("rh6.rhost.test", "127.0.4.6")
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    routes = {
        "prio.r.test": "127.0.4.2/1, 127.0.4.3/0",
        "eq.r.test": "127.0.4.4/0, 127.0.4.2/0",
        "eqdefault.r.test": "127.0.4.3, 127.0.4.2",
        "prioname.r.test": "rh2.rhost.test/2, rh3.rhost.test/1",
        "refused.r.test": "127.0.4.20, 127.0.4.2",
        "plain.r.test": "127.0.4.5, 127.0.4.2",
        "missing.r.test": "missing.rhost.test, 127.0.4.2",
        "port.r.test": "127.0.4.6:%d" % port2,
        "portname.r.test": "rh6.rhost.test:%d/0" % port2,
        "nodns.r.test": "rh2.rhost.test",
        "v6.r.test": "[::1]:%d" % port2,
        "ports.r.test": "127.0.4.6, 127.0.4.6:%d" % port2,
        "v6prio.r.test": "[::1]:%d/1, 127.0.4.20/0" % port2,
        ".par.r.test": "127.0.4.2",
        ".r.test": "127.0.4.7",
    }
    dests = {k: "required-verify" for k in routes}
    W.update(port=port, port2=port2, servers=servers, dns=dns,
             conf=make_conf(mctx, dport, port, bundle, dests, routes=routes))


def ok(d, rc, ip, host=None, port=None):
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", ip=ip, host=host or ip, port=port or W["port"])


def test_routes_priority_zero_first_whatever_the_order(ctx):
    s2 = W["servers"]["127.0.4.2"]
    before = nconn(s2)
    rc, d, _ = run(ctx, W["conf"], "prio.r.test")
    ok(d, rc, "127.0.4.3")
    assert [a["ip"] for a in d["attempts"]] == ["127.0.4.3"], dump(d)
    assert nconn(s2) == before, "the priority-1 route was contacted"


def test_routes_priority_of_hostname_routes(ctx):
    rc, d, _ = run(ctx, W["conf"], "prioname.r.test")
    ok(d, rc, "127.0.4.3", host="rh3.rhost.test")


def test_routes_equal_priority_keeps_configuration_order(ctx):
    for _ in range(3):
        rc, d, _ = run(ctx, W["conf"], "eq.r.test")
        ok(d, rc, "127.0.4.4")


def test_routes_default_priority_keeps_configuration_order(ctx):
    rc, d, _ = run(ctx, W["conf"], "eqdefault.r.test")
    ok(d, rc, "127.0.4.3")


def test_routes_failover_after_connection_refused(ctx):
    rc, d, _ = run(ctx, W["conf"], "refused.r.test")
    ok(d, rc, "127.0.4.2")
    a = d["attempts"]
    assert [x["ip"] for x in a] == ["127.0.4.20", "127.0.4.2"], dump(d)
    assert a[0]["tls"] is False and a[0]["reason"], dump(d)
    assert a[0]["certificate"] is None, dump(d)


def test_routes_failover_after_no_starttls(ctx):
    rc, d, _ = run(ctx, W["conf"], "plain.r.test")
    ok(d, rc, "127.0.4.2")
    a = d["attempts"]
    assert [x["ip"] for x in a] == ["127.0.4.5", "127.0.4.2"], dump(d)
    assert a[0]["tls"] is False and a[0]["verified"] is False, dump(d)
    assert a[0]["reason"], dump(d)


def test_routes_failover_after_route_name_without_address(ctx):
    rc, d, _ = run(ctx, W["conf"], "missing.r.test")
    ok(d, rc, "127.0.4.2")
    a = d["attempts"]
    assert len(a) == 2 and a[0]["host"] == "missing.rhost.test", dump(d)
    assert not a[0]["ip"] and a[0]["tls"] is False, dump(d)


def test_routes_ip_route_with_own_port(ctx):
    rc, d, _ = run(ctx, W["conf"], "port.r.test")
    ok(d, rc, "127.0.4.6", port=W["port2"])


def test_routes_hostname_route_with_own_port(ctx):
    rc, d, _ = run(ctx, W["conf"], "portname.r.test")
    ok(d, rc, "127.0.4.6", host="rh6.rhost.test", port=W["port2"])


def test_routes_domain_without_any_dns_record(ctx):
    # the recipient domain itself does not exist in DNS
    for t in ("MX", "A", "AAAA"):
        assert not W["dns"].names.get("nodns.r.test"), t
    rc, d, _ = run(ctx, W["conf"], "nodns.r.test")
    ok(d, rc, "127.0.4.2", host="rh2.rhost.test")
    matched(d, "*.r.test", "dNSName", "nodns.r.test", "domain")


def test_routes_parent_key_closest_wins(ctx):
    rc, d, _ = run(ctx, W["conf"], "x.par.r.test")
    ok(d, rc, "127.0.4.2")
    matched(d, "*.par.r.test", "dNSName", "x.par.r.test", "domain")


def test_routes_parent_key_of_outer_parent(ctx):
    rc, d, _ = run(ctx, W["conf"], "y.r.test")
    ok(d, rc, "127.0.4.7")


def test_routes_dot_key_is_not_the_parent_itself(ctx):
    # ".par.r.test" covers the subdomains of par.r.test, not par.r.test:
    # that one falls to ".r.test"
    rc, d, _ = run(ctx, W["conf"], "par.r.test")
    ok(d, rc, "127.0.4.7")


def test_routes_ipv6_route(ctx):
    if not W["v6"]:
        print("SKIP: ::1 is not usable on this machine")
        return
    rc, d, _ = run(ctx, W["conf"], "v6.r.test")
    ok(d, rc, "::1", port=W["port2"])


def test_routes_ipv6_route_with_priority_after_refused(ctx):
    if not W["v6"]:
        print("SKIP: ::1 is not usable on this machine")
        return
    rc, d, _ = run(ctx, W["conf"], "v6prio.r.test")
    ok(d, rc, "::1", port=W["port2"])
    assert [a["ip"] for a in d["attempts"]] == ["127.0.4.20", "::1"], dump(d)


def test_routes_same_ip_two_ports_are_two_attempts(ctx):
    # one attempt per distinct (address, port): 127.0.4.6 listens only on
    # the route's own port
    rc, d, _ = run(ctx, W["conf"], "ports.r.test")
    ok(d, rc, "127.0.4.6", port=W["port2"])
    got = [(a["ip"], a["port"]) for a in d["attempts"]]
    assert got == [("127.0.4.6", W["port"]), ("127.0.4.6", W["port2"])], \
        dump(d)
