#!/usr/bin/env python3
"""fleet.py - `make bench` (SPEC 13, shared verdicts): two relays and Redis
on this machine.

    python3 bench/fleet.py --build build [--out docs/BENCHMARKS-FLEET.md] [--quick]

1. Warm RCPT decision with and without Redis: bench/rcptlat (the RCPT
   decision in-process, see bench/bench.py item 2) with [cache] backend =
   memory and with backend = redis://...: a warm recipient is answered from
   the memory cache in front of Redis, so p99 must not change.
2. A verdict probed on relay A, used by relay B: two tlsverify-milter
   daemons sharing one redis-server; for each of N cold domains, relay A's
   policy service (socketmap) is asked (A probes and stores the verdict),
   then relay B's, timed from the query to the answer: B's memory misses,
   its probe thread reads the verdict from Redis. The test server's
   connection count proves B never probed. For comparison, the same query
   on B again (a warm answer from memory).

Needs redis-server, the built programs and $BUILD/bench/rcptlat. Only
127.0.0.0/8 is used; every process is stopped by its PID.
"""
import argparse
import json
import os
import socket
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import tvtest  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402

IP = "127.0.21.2"
DOM = ".fleet.bench.test"


def log(fmt, *a):
    sys.stderr.write(("fleet: " + fmt + "\n") % a)
    sys.stderr.flush()


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


class World:
    def __init__(self, ctx):
        self.ctx = ctx
        ca = tvtest.CA(ctx, cn="tlsverify fleet bench CA")
        leaf = ca.issue("mx" + DOM, sans=["*" + DOM])
        self.ca = ca.cert
        self.sport = ctx.port()
        self.srv = tvtest.SMTPServer(ctx, IP, self.sport, leaf=leaf).start()
        self.closed = ctx.port()
        self.rport = ctx.port()
        rdir = os.path.join(ctx.tmp, "redis")
        os.makedirs(rdir, exist_ok=True)
        self.redis = ctx.spawn(["redis-server", "--port", str(self.rport),
                                "--bind", "127.0.0.1", "--dir", rdir,
                                "--save", "", "--appendonly", "no",
                                "--protected-mode", "no"])
        tvtest.wait_tcp("127.0.0.1", self.rport, timeout=15)

    def conf(self, name, backend, milter_port=None, policy_port=None):
        s = dict(
            probe={"port": self.sport, "ca_file": self.ca, "timeout": 10,
                   "helo": "relay.bench.test"},
            dns={"nameserver": "127.0.0.1:%d" % self.closed, "timeout": 1},
            cache={"verified_ttl": 3600, "max_entries": 200000,
                   "backend": backend},
            destinations={"default": "none", DOM: "required-verify"},
            smtproutes={DOM: IP})
        if milter_port:
            s["milter"] = {"socket": "inet:%d@127.0.0.1" % milter_port}
        if policy_port:
            s["extra"] = {"policy": {"socket": "inet:%d@127.0.0.1" %
                                     policy_port}}
        return tvtest.write_conf(self.ctx, name=name, **s)

    def relay(self, name):
        mport, pport = self.ctx.port(), self.ctx.port()
        conf = self.conf(name + ".conf", "redis://127.0.0.1:%d" % self.rport,
                         mport, pport)
        proc = self.ctx.spawn([os.path.join(self.ctx.build,
                                            "tlsverify-milter"), "-f", "-c",
                               conf])
        tvtest.wait_tcp("127.0.0.1", mport, timeout=15)
        tvtest.wait_tcp("127.0.0.1", pport, timeout=15)
        return proc, pport


def rcptlat(w, runs, count):
    exe = os.path.join(w.ctx.build, "bench", "rcptlat")
    res = {"memory": [], "redis": []}
    for i in range(runs):
        for mode in ("memory", "redis"):
            backend = "memory" if mode == "memory" else \
                "redis://127.0.0.1:%d" % w.rport
            conf = w.conf("rl-%s.conf" % mode, backend)
            doms = ["%s%d-%02d%s" % (mode[0], i, j, DOM) for j in range(20)]
            cp = w.ctx.run([exe, "-l", "none", "-n", str(count), conf] +
                           doms, timeout=300)
            if cp.returncode != 0:
                raise RuntimeError("rcptlat: %s" % cp.stderr[-1000:])
            res[mode].append(json.loads(cp.stdout)["warm"])
    return res


def a_to_b(w, n):
    (pa, porta), (pb, portb) = w.relay("a"), w.relay("b")
    ca, cb = SockmapClient(porta), SockmapClient(portb)
    for c in (ca, cb):
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    shared, warm = [], []
    before = w.srv.connections()
    for i in range(n):
        d = "s%d%s" % (i, DOM)
        ans = ca.query("tlspolicy " + d)
        if not ans.startswith("OK secure"):
            raise RuntimeError("relay A: %s: %s" % (d, ans))
        t0 = time.perf_counter()
        bns = cb.query("tlspolicy " + d)
        t1 = time.perf_counter()
        if bns != ans:
            raise RuntimeError("relay B: %s: %s != %s" % (d, bns, ans))
        cb.query("tlspolicy " + d)
        t2 = time.perf_counter()
        shared.append((t1 - t0) * 1e3)
        warm.append((t2 - t1) * 1e3)
    probes = w.srv.connections() - before
    ca.close()
    cb.close()
    for p in (pa, pb):
        tvtest.stop(p, grace=15)
    return {"n": n, "probes": probes, "shared_ms": shared, "warm_ms": warm}


def render(R, args):
    rl, ab = R["rcptlat"], R["a_to_b"]
    rows = []
    for mode in ("memory", "redis"):
        p99 = [r["p99_ns"] / 1e3 for r in rl[mode]]
        p50 = [r["p50_ns"] / 1e3 for r in rl[mode]]
        rows.append("| warm RCPT decision, backend %s | p50 %.1f µs, p99 "
                    "%.1f µs (median of %d runs, p99 %.1f..%.1f) |" % (
                        mode, statistics.median(p50), statistics.median(p99),
                        len(p99), min(p99), max(p99)))
    s, wm = ab["shared_ms"], ab["warm_ms"]
    rows.append("| verdict probed on A, answered by B from Redis (%d "
                "domains) | median %.2f ms, p99 %.2f ms, max %.2f ms |" % (
                    ab["n"], statistics.median(s), q(s, 0.99), max(s)))
    rows.append("| same query on B again (memory), for comparison | median "
                "%.2f ms, p99 %.2f ms |" % (statistics.median(wm),
                                             q(wm, 0.99)))
    rows.append("| probes at the test server for %d domains, two relays "
                "| %d |" % (ab["n"], ab["probes"]))
    table = "| measure | result |\n|---|---|\n" + "\n".join(rows)
    return ("# Shared verdicts: two relays and Redis\n\n"
            "Written by `bench/fleet.py` (`make bench`; %s). Two\n"
            "tlsverify-milter daemons and one redis-server on this machine\n"
            "(loopback). Warm RCPT: bench/rcptlat in-process with the\n"
            "memory backend and with Redis (warm recipients never wait on\n"
            "Redis). A to B: the time of relay B's policy-service answer\n"
            "for a domain relay A has just probed (socketmap round trip,\n"
            "B's memory miss, one Redis read).\n\n%s\n" % (
                " ".join(args), table))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs",
                                                  "BENCHMARKS-FLEET.md"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--tmp", default=None)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    ctx = tvtest.Context(build, a.tmp or os.path.join(build,
                                                       "bench-fleet-tmp"),
                         name="fleet")
    R = {}
    try:
        w = World(ctx)
        log("warm RCPT decision, memory vs redis backend")
        R["rcptlat"] = rcptlat(w, 2 if a.quick else 5,
                               10000 if a.quick else 100000)
        log("verdicts from relay A used by relay B")
        R["a_to_b"] = a_to_b(w, 20 if a.quick else 200)
    finally:
        errs = ctx.run_cleanups()
        tvtest.stop_all()
        for e in errs:
            log("cleanup: %s", e)
    text = render(R, sys.argv[1:])
    print("\n".join(x for x in text.splitlines() if x.startswith("|")))
    with open(os.path.join(ctx.tmp, "fleet.json"), "w") as f:
        json.dump(R, f, indent=1)
    ok = R["a_to_b"]["probes"] == R["a_to_b"]["n"] and \
        q(R["a_to_b"]["shared_ms"], 0.99) < 10
    if not a.quick:
        with open(a.out, "w") as f:
            f.write(text)
        log("wrote %s", a.out)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
