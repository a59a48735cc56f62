"""Round trips of one probe on an emulated WAN (issue 14), with the delay
relay of `make bench` (bench/wan_relay.py): DNS answers 0.3 s late (a
delaying forwarder in front of dnsmasq), SMTP through a TCP relay with a
0.3 s RTT (connection one RTT, every chunk RTT/2 each way).

wan.test has two MX hosts. Asked one by one, the DNS part was MX + A and
AAAA of each host = 5 round trips (1.5 s), and the QUIT reply was awaited
(one more SMTP round trip): about 3.2 s in all. Now the A and AAAA of both
hosts are asked at once (2 DNS round trips, 0.6 s) and QUIT is not awaited:
connect 1 + banner 0.5 + EHLO 1 + STARTTLS 1 + TLS 1.3 1 = 4.5 RTTs, about
2 s in all. The bound, 2.6 s, lies between the two. The verdict and the
trace are those of asking one by one (A before AAAA, hosts in MX order).

Addresses: 127.0.32.2 (server), 127.0.33.2 (its relay).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402

from probecase import dump, expect, make_conf, serve  # noqa: E402

SRV, RLY = "127.0.32.2", "127.0.33.2"
RTT = 300       # ms, both SMTP and DNS
BOUND = 2.6     # s: asked one by one with the QUIT reply awaited: ~3.2 s
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA wan")
    leaf = ca.issue(cn="mx.wan.test", sans=("*.wan.test", "wan.test"))
    port = mctx.port()
    serve(mctx, SRV, port, leaf)
    dns = tvtest.DNS(mctx)
    dns.mx("wan.test", "mx1.wan.test", 10)
    dns.mx("wan.test", "mx2.wan.test", 20)
    dns.a("mx1.wan.test", RLY).a("mx2.wan.test", RLY)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    fport = mctx.port()
    ready = mctx.path("relay.ready")
    relay = mctx.spawn([sys.executable, os.path.join(mctx.root, "bench",
                                             "wan_relay.py"),
                "--rtt", str(RTT), "--dns-rtt", str(RTT), "--ready", ready,
                "--dns", "%d=%d" % (fport, dport),
                "--tcp", "%s:%d=%s:%d" % (RLY, port, SRV, port)])
    mctx.cleanup(tvtest.stop, relay)
    tvtest.wait_for(lambda: os.path.exists(ready), timeout=15,
                    what="wan_relay")
    W["conf"] = make_conf(mctx, fport, port, tvtest.ca_bundle(mctx, ca),
                          {"wan.test": "required-verify"}, timeout=20)


def test_probe_wan_round_trips(ctx):
    t0 = time.monotonic()
    rc, d, _ = tvtest.probe(ctx, W["conf"], "wan.test", timeout=60)
    took = time.monotonic() - t0
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", host="mx1.wan.test")
    assert took < BOUND, "took %.2f s, bound %.1f s\n%s" % (took, BOUND,
                                                          dump(d))


def test_probe_wan_trace_order(ctx):
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c",
                  W["conf"], "wan.test"], timeout=60)
    lines = [x.strip() for x in cp.stdout.splitlines()]
    dns = [x.split(":")[0] for x in lines
           if x.startswith(("MX ", "A ", "AAAA "))]
    assert dns == ["MX wan.test", "A mx1.wan.test", "AAAA mx1.wan.test",
                   "A mx2.wan.test", "AAAA mx2.wan.test"], cp.stdout
    assert "QUIT: sent (the reply is not awaited)" in lines, cp.stdout
