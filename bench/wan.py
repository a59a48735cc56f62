#!/usr/bin/env python3
"""wan.py - `make bench`, WAN part (issue 14): a probe's cost in round trips
on an emulated wide-area network, beside posttls-finger and openssl
s_client, and what 50 cold domains or a dead first MX cost the milter there.

    python3 bench/wan.py --build build [--out docs/BENCHMARKS.md] [--quick]

This kernel has no netem: bench/wan_relay.py adds the latency in user
space. Every STARTTLS test server (tests/lib/smtpd.py, 127.0.40.x) is
reached only through a TCP delay relay (127.0.41.x, same port): the
connection is made one RTT after it was accepted, then every chunk is
forwarded RTT/2 after it was read, each way. DNS goes to a delaying UDP
forwarder in front of dnsmasq (query and answer each DNS_RTT/2 late).

The section it writes goes between WAN_BEGIN and WAN_END in --out (appended
when absent; bench.py rewrites the file, so `make bench` runs this after
it). No root needed. Every process started here is stopped by its PID.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, HERE)
import tvtest  # noqa: E402
from bench import expect_continue, git_commit, log, wait_listen  # noqa: E402
import burst  # noqa: E402

RTT, DNS_RTT = 50, 20                   # ms
FLOOR13 = 4.5 + 2 * DNS_RTT / RTT       # RTTs: see markdown()
WAN_BEGIN = "<!-- wan.py: begin -->"
WAN_END = "<!-- wan.py: end -->"
SRV, RLY = "127.0.40.", "127.0.41."     # servers, their relays
DROP_IP = "127.0.42.2"                  # a listener that drops SYNs
NMANY, NMANY_SRV = 50, 5                # 50 domains over 5 server processes
SEED_MX = ("mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not")
SEED_PTR = ("mx0a.emailhosted.not", "mx0b.emailhosted.not")
CONNECT_TIMEOUT = 1                     # s, [probe] connect_timeout
# host number in 127.0.40.x / 127.0.41.x
HOST = {"v13": 2, "v12": 3, "seed1": 4, "seed2": 5, "ptr": 6}
PTR_MX = "mx.p13.wan.test"              # CN only; PTR name = MX name
MANY0 = 10
NOTES = [
    "Round trips removed (issue 14), each measured with this bench before "
    "and after its commit:", "",
    "- **QUIT reply no longer awaited** (milter/smtp.c): QUIT and "
    "close_notify are sent, the socket shut and closed; the verdict never "
    "needed the 221. One SMTP RTT (50 ms) off every probe that reached TLS "
    "(strace: the wait was exactly one RTT).",
    "- **A and AAAA of all hosts asked at once** (milter/dns_batch.c, used "
    "by milter/target.c): one MX host 3 -> 2 DNS round trips (-20 ms), "
    "the seed's two MX hosts 5 -> 2 (-60 ms), the dead-MX case 5 -> 2 "
    "(-60 ms). Targets, verdicts and the trace are as before "
    "(tests/integration/test_probe_wan.py checks the order and the time).",
    "- **A resolver answer reused within a probe** (milter/refs.c): under "
    "\"verify\", a PTR name that is the MX (or route) host whose A/AAAA "
    "answer gave the connected address is forward-confirmed from that "
    "answer: one DNS round trip less whenever a CN is matched against a "
    "PTR name equal to the MX name, the usual case for a provider's own MX "
    "hosts (row \"CN = PTR name = MX name\": 340 ms before, 318 ms after, "
    "medians of 5 runs each of this bench; the seed's PTR names differ "
    "from its MX names, so its row is unchanged; "
    "tests/integration/test_probe_fwd_known.py counts the queries).",
    "- **No second EHLO after the handshake**: already so "
    "(milter/smtp.c never sends one: the probe needs nothing from it).",
    "- **Lookups that wait side by side** (milter/netsrv.c): the policy "
    "and query sockets had 32 workers, so the 33rd cold lookup at once "
    "waited for a whole probe before its own began; the pool now grows "
    "while lookups wait (up to one per connection). Not a round trip, but "
    "what makes the 50 domains overlap through the Exim query socket "
    "(tests/integration/test_netsrv.py).",
    "- **Sessions that waited for a libmilter worker** (milter/mlfi_pool.c): "
    "libmilter's worker pool (Debian builds it with _FFR_WORKERS_POOL) "
    "strands sessions: when many become readable in one poll, its "
    "controller hands each to an idle worker it counted before those "
    "workers woke, and the sessions no worker took run only when some "
    "worker ends its task, here a whole probe (strace: those RCPT commands "
    "were read one probe late; with a one-thread client sending 50 RCPTs "
    "at once the burst took 3-5 s for 300 ms probes). A callback about to "
    "wait for a probe now connects to the milter's own socket and closes "
    "at once; libmilter runs that empty session on a worker, which then "
    "takes the stranded ones. Not a round trip either, but without it the "
    "50 domains through the milter took 2.3-2.6 times one probe "
    "(tests/integration/test_milter_burst.py: 20 RCPTs, 2 s probes, "
    "4-10 s before, 2.05 s after).", "",
    "Kept out, with the reason:", "",
    "- **The PTR and its forward check overlapping the SMTP dialogue** "
    "(2 DNS RTTs = 40 ms for the seed example): under SPEC 4.1 step 2b the "
    "PTR name is needed only when no dNSName matched the domain and a CN "
    "could match it, which is known only from the certificate, in the "
    "handshake's last round trip. Asking it earlier means a PTR (and its "
    "forward check) for every \"verify\" probe, most of which match by "
    "dNSName; the existing acceptance "
    "(test_probe_judged.test_ptr_asked_only_when_a_cn_could_need_it: no "
    "PTR is asked when the dNSName matched) forbids that.",
    "- **TLS session resumption for refresh probes**: a resumed session "
    "carries no certificate, so Phase I (chain, revocation) and Phase II "
    "(names) would judge the certificate of an earlier probe, not the one "
    "the server presents now; and with TLS 1.3 a resumed handshake takes "
    "the same one round trip as a full one (only 0-RTT, which a probe "
    "cannot use, would save one). Besides, a refresh probe runs in the "
    "background while the cached verdict still answers: no recipient "
    "waits for it. A refresh probe is a full handshake.",
    ""]


def med(xs):
    return statistics.median(xs)


def syn_drop_listener(ctx, ip, port):
    """listen(0), never accept(), queue filled: the kernel drops further
    SYNs and connect() hangs (as tests/integration/test_failover.py)."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((ip, port))
    lst.listen(0)
    socks = [lst]
    ctx.cleanup(lambda: [s.close() for s in socks])
    for _ in range(8):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(0.5)
        socks.append(c)
        try:
            c.connect((ip, port))
        except socket.timeout:
            return
    raise RuntimeError("connect to a full accept queue did not hang")


class Wan:
    """Servers, relays, DNS, configurations."""

    def __init__(self, ctx, runs):
        self.ctx, self.runs = ctx, runs
        ca = tvtest.CA(ctx, cn="tlsverify WAN bench CA")
        leaf = ca.issue("mx.wan.test", sans=("*.wan.test", "*.v13.wan.test",
                                             "*.v12.wan.test",
                                             "*.many.wan.test"))
        seed = ca.issue("*.emailhosted.not",
                        sans=("*.emailhosted.not", "emailhosted.not"))
        leafs = {"ptr": ca.issue(PTR_MX)}
        self.ca_file = tvtest.ca_bundle(ctx, ca)
        self.port = ctx.port()
        self.srv = {}
        hosts = dict(HOST)
        for k in range(NMANY_SRV):
            hosts["many%d" % k] = MANY0 + k
        for name, h in hosts.items():
            self.srv[name] = tvtest.SMTPServer(
                ctx, SRV + str(h), self.port,
                leaf=seed if name.startswith("seed") else
                leafs.get(name, leaf),
                tls_max="1.2" if name == "v12" else None).start()
        syn_drop_listener(ctx, DROP_IP, self.port)
        self.dns = self.make_dns()
        dport = self.dns.start()
        ctx.cleanup(self.dns.stop)
        self.fport = ctx.port()
        ready = ctx.path("relay.ready")
        args = [sys.executable, os.path.join(HERE, "wan_relay.py"),
                "--rtt", str(RTT), "--dns-rtt", str(DNS_RTT),
                "--ready", ready, "--dns", "%d=%d" % (self.fport, dport)]
        for h in hosts.values():
            args += ["--tcp", "%s%d:%d=%s%d:%d" % (RLY, h, self.port, SRV, h,
                                                  self.port)]
        self.relay = ctx.spawn(args)
        tvtest.wait_for(lambda: os.path.exists(ready), timeout=15,
                        what="wan_relay")
        self.finger_env = self.finger_config()

    def make_dns(self):
        dns = tvtest.DNS(self.ctx)
        for v in ("v13", "v12"):
            dns.a("mx.%s.wan.test" % v, RLY + str(HOST[v]))
            dns.mx("%s.wan.test" % v, "mx.%s.wan.test" % v, 10)
        for mx, ptr, key in zip(SEED_MX, SEED_PTR, ("seed1", "seed2")):
            ip = RLY + str(HOST[key])
            dns.mx("example.com", mx, 10)
            dns.a(mx, ip)
            dns.ptr(ip, ptr)
            dns.a(ptr, ip)
        ip = RLY + str(HOST["ptr"])
        dns.mx("p13.wan.test", PTR_MX, 10).a(PTR_MX, ip).ptr(ip, PTR_MX)
        dns.a("mx-drop.wan.test", DROP_IP)
        dns.mx("dead.wan.test", "mx-drop.wan.test", 10)
        dns.mx("dead.wan.test", "mx.v13.wan.test", 20)
        for k in range(NMANY_SRV):
            dns.a("mx%d.many.wan.test" % k, RLY + str(MANY0 + k))
        for d in self.many_domains():
            k = int(d.split(".")[0].split("-")[-1]) % NMANY_SRV
            dns.mx(d, "mx%d.many.wan.test" % k, 10)
        return dns

    def many_domains(self):
        """Every cold domain the milter part uses (fresh ones per run)."""
        out = []
        for r in range(self.runs):
            out += ["m%d-%d.many.wan.test" % (r, i) for i in range(NMANY)]
            out += ["q%d-%d.many.wan.test" % (r, i) for i in range(NMANY)]
            out += ["s%d-%d.many.wan.test" % (r, k) for k in range(3)]
            out += ["qs%d-%d.many.wan.test" % (r, k) for k in range(3)]
        return out

    def conf(self, name, milter_port=None, probe=None, query_port=None):
        p = {"port": self.port, "ca_file": self.ca_file, "timeout": 20,
             "helo": "relay.wan.test", "connect_timeout": CONNECT_TIMEOUT}
        p.update(probe or {})
        return tvtest.write_conf(
            self.ctx, name=name, probe=p,
            milter={"socket": "inet:%d@127.0.0.1" % milter_port}
            if milter_port else None,
            extra={"query": {"socket": "inet:%d@127.0.0.1" % query_port}}
            if query_port else None,
            dns={"nameserver": "127.0.0.1:%d" % self.fport, "timeout": 2},
            destinations={"default": "none", ".wan.test": "required-verify",
                          "example.com": "required-verify"},
            smtproutes={"r13.wan.test": RLY + str(HOST["v13"]),
                        "r12.wan.test": RLY + str(HOST["v12"])})

    def finger_config(self):
        cfg = self.ctx.path("finger-etc")
        os.makedirs(cfg, exist_ok=True)
        open(os.path.join(cfg, "main.cf"), "w").close()
        return dict(os.environ, MAIL_CONFIG=cfg)


def timed(argv, env=None, want_rc=0):
    t0 = time.monotonic()
    cp = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                        text=True, errors="replace", timeout=60, env=env)
    dt = (time.monotonic() - t0) * 1000.0
    if want_rc is not None and cp.returncode != want_rc:
        raise RuntimeError("%s: exit %d: %s %s" % (
            argv[0], cp.returncode, cp.stdout[-800:], cp.stderr[-800:]))
    return dt, cp


def probe_json(cp, want="verified"):
    d = json.loads(cp.stdout)
    if d.get("result") != want:
        raise RuntimeError("probe: result %r, want %r: %s" % (
            d.get("result"), want, cp.stdout[-1500:]))
    return d


def bench_tools(w, conf):
    """Each tool on the TLS 1.3 and TLS 1.2 server, the probe on the seed."""
    probe = os.path.join(w.ctx.build, "tlsverify-probe")
    cmds = {}
    for v in ("13", "12"):
        ip = RLY + str(HOST["v" + v])
        name = "v%s.wan.test" % v
        cmds["tlsverify-probe (MX, DNS on the WAN)", v] = [
            probe, "-c", conf, "--json", name]
        cmds["tlsverify-probe (IP route, no DNS)", v] = [
            probe, "-c", conf, "--json", "r%s.wan.test" % v]
        cmds["posttls-finger (IP, no DNS)", v] = [
            "posttls-finger", "-c", "-l", "secure", "-F", w.ca_file,
            "[%s]:%d" % (ip, w.port), name]
        cmds["openssl s_client -starttls smtp (IP, no DNS)", v] = [
            "openssl", "s_client", "-starttls", "smtp", "-connect",
            "%s:%d" % (ip, w.port), "-CAfile", w.ca_file,
            "-verify_return_error", "-verify_hostname", name, "-brief"]
    cmds["tlsverify-probe, seed example (MX, PTR, forward check)",
         "13"] = [probe, "-c", conf, "--json", "example.com"]
    cmds["tlsverify-probe, CN = PTR name = MX name (MX, PTR; forward "
         "check known)", "13"] = [probe, "-c", conf, "--json",
                                  "p13.wan.test"]
    times = {k: [] for k in cmds}
    for i in range(w.runs + 1):          # round 0: warm-up, not counted
        for k, argv in cmds.items():
            dt, cp = timed(argv, env=w.finger_env)
            if argv[0] == probe:
                probe_json(cp)
            if i > 0:
                times[k].append(dt)
    return {"%s|%s" % k: {"ms": v, "cmd": " ".join(cmds[k])}
            for k, v in times.items()}


def bench_dead(w, conf):
    probe = os.path.join(w.ctx.build, "tlsverify-probe")
    out = {"dead": [], "one": []}
    for i in range(w.runs):
        dt, cp = timed([probe, "-c", conf, "--json", "dead.wan.test"])
        d = probe_json(cp)
        if len(d["attempts"]) != 2 or d["attempts"][1]["ip"] != \
                RLY + str(HOST["v13"]):
            raise RuntimeError("dead MX: %s" % cp.stdout[-1500:])
        out["dead"].append(dt)
        dt, cp = timed([probe, "-c", conf, "--json", "v13.wan.test"])
        probe_json(cp)
        out["one"].append(dt)
    return out


def query_wave(port, domains):
    """Cold domains through the Exim query socket (SPEC 11): one connection
    each, "rcpt DOMAIN" on all of them at once; wall seconds."""
    socks = []
    try:
        for _ in domains:
            socks.append(socket.create_connection(("127.0.0.1", port),
                                                  timeout=120))

        def send(i):
            socks[i].sendall(b"rcpt %s\n" % domains[i].encode())

        def reply(i):
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = socks[i].recv(4096)
                if not chunk:
                    break
                buf += chunk
            return buf.decode(errors="replace").strip()
        wall, out = burst.wave(socks, send, reply)
    finally:
        for s in socks:
            s.close()
    bad = [a for a in out if not a.startswith("accept")]
    if bad:
        raise RuntimeError("query: %d answers not accept: %r" % (
            len(bad), bad[:3]))
    return wall


def milter_wave(port, domains):
    """The same through the milter: one session each, then an RCPT on all
    of them at once (tests/lib/burst.py); wall seconds."""
    wall, out = burst.milter_wave(port, ["u%d@%s" % (i, d)
                                         for i, d in enumerate(domains)])
    expect_continue(out, "cold milter")
    return wall


def decision_ms(logfile, domains):
    """The slowest of these domains' decisions (ms=) in the daemon's log."""
    want, worst = set(domains), 0
    with open(logfile, errors="replace") as f:
        for line in f:
            if "cached=no" not in line:
                continue
            d = line.split("domain=", 1)[-1].split(" ", 1)[0]
            if d in want:
                worst = max(worst, int(line.rsplit("ms=", 1)[1].split()[0]))
    return worst


def bench_many(w):
    """One cold domain alone, then 50 at once, through the milter and
    through the Exim query socket (the same decisions, answered by netsrv
    instead of libmilter), fresh domains each round."""
    port, qport = w.ctx.port(), w.ctx.port()
    conf = w.conf("wan-milter.conf", milter_port=port, query_port=qport)
    proc = w.ctx.spawn([os.path.join(w.ctx.build, "tlsverify-milter"),
                        "-f", "-c", conf])
    wait_listen(port, proc)
    wait_listen(qport, proc)
    res = {k: [] for k in ("single", "many", "decide", "qsingle", "qmany")}
    dom = "%s%d-%d.many.wan.test"
    try:
        for r in range(w.runs):
            for k in range(3):
                res["single"].append(
                    milter_wave(port, [dom % ("s", r, k)]) * 1000)
            many = [dom % ("m", r, i) for i in range(NMANY)]
            res["many"].append(milter_wave(port, many) * 1000)
            res["decide"].append(decision_ms(proc.log, many))
            for k in range(3):
                res["qsingle"].append(query_wave(
                    qport, [dom % ("qs", r, k)]) * 1000)
            res["qmany"].append(query_wave(
                qport, [dom % ("q", r, i) for i in range(NMANY)]) * 1000)
            log("wan: run %d: 50 cold domains: milter %.0f ms (slowest "
                "decision %d ms), query %.0f ms; one %.0f ms", r + 1,
                res["many"][-1], res["decide"][-1], res["qmany"][-1],
                med(res["single"][-3:]))
    finally:
        tvtest.stop(proc, grace=15)
    return res


def fmt(xs):
    return "%.0f (%.0f..%.0f)" % (med(xs), min(xs), max(xs))


def rtts(xs):
    return "%.1f" % (med(xs) / RTT)


def table(R):
    rows = []
    for key, v in R["tools"].items():
        tool, ver = key.split("|")
        tls = "1.%s" % ver[1]
        rows.append((tool, tls, fmt(v["ms"]), rtts(v["ms"])))
    return rows


def ok(ratio):
    return "met" if ratio <= 1.5 else "**missed**"


def markdown(R, args, elapsed):
    m = R["many"]
    ratio = med(m["many"]) / med(m["single"])
    dratio = med(m["decide"]) / med(m["single"])
    qratio = med(m["qmany"]) / med(m["qsingle"])
    dead = R["dead"]
    extra = med(dead["dead"]) - CONNECT_TIMEOUT * 1000
    out = [WAN_BEGIN, "", "## WAN: round trips (issue 14)", "",
           "Written by `make bench` (bench/wan.py) on %s, %d s, `%s`, "
           "commit %s." % (R.get("when") or time.strftime(
               "%Y-%m-%d %H:%M UTC", time.gmtime()), elapsed,
               " ".join(args), R.get("commit") or "unknown"), "",
           "Emulated WAN (bench/wan_relay.py; this kernel has no netem): "
           "SMTP RTT %d ms (TCP relay: the connection one RTT, every chunk "
           "RTT/2 each way), DNS RTT %d ms (a delaying forwarder in front of "
           "dnsmasq). Wall time of the process, median (min..max) of %d "
           "runs after one warm-up round, interleaved; RTTs = wall / %d ms."
           % (RTT, DNS_RTT, len(m["many"]), RTT), "",
           "| tool | TLS | wall ms | RTTs |", "|---|---|---|---|"]
    for r in table(R):
        out.append("| %s | %s | %s | %s |" % r)
    T = R["tools"]

    def tool(name, v):
        return med(T["%s|%s" % (name, v)]["ms"])
    mx13 = tool("tlsverify-probe (MX, DNS on the WAN)", "13")
    ip13 = tool("tlsverify-probe (IP route, no DNS)", "13")
    ip12 = tool("tlsverify-probe (IP route, no DNS)", "12")
    others = [tool(t, v) for t in ("posttls-finger (IP, no DNS)",
                                   "openssl s_client -starttls smtp "
                                   "(IP, no DNS)") for v in ("13", "12")]
    ahead = ip13 < min(others[0], others[2]) and \
        ip12 < min(others[1], others[3])
    out += ["",
            "| measurement | figure | goal | |", "|---|---|---|---|",
            "| cold probe, TLS 1.3, via MX: RTTs over the floor (5.3) | "
            "%.1f | <= 1 | %s |" % (mx13 / RTT - FLOOR13,
                                    "met" if mx13 / RTT - FLOOR13 <= 1
                                    else "**missed**"),
            "| IP route (no DNS), TLS 1.3 / 1.2: RTTs over the floor "
            "(4.5 / 5.5) | %.1f / %.1f | <= 1 | %s |" % (
                ip13 / RTT - 4.5, ip12 / RTT - 5.5,
                "met" if max(ip13 / RTT - 4.5, ip12 / RTT - 5.5) <= 1
                else "**missed**"),
            "| IP route ahead of posttls-finger and s_client (both TLS "
            "versions) | %s | ahead | %s |" % (
                "%.0f/%.0f ms vs %.0f/%.0f and %.0f/%.0f" % (
                    ip13, ip12, others[0], others[1], others[2], others[3]),
                "met" if ahead else "**missed**"),
            "| one cold domain through the milter (ms) | %s |  |  |"
            % fmt(m["single"]),
            "| 50 concurrent milter sessions, 50 cold domains (ms) | %s "
            "|  |  |" % fmt(m["many"]),
            "| ratio 50 domains / one, through the milter (libmilter) "
            "| %.2f | <= 1.5 | %s |" % (ratio, ok(ratio)),
            "| slowest of the 50 decisions (daemon log ms=) / one | "
            "%.0f / %.0f = %.2f | <= 1.5 | %s |" % (
                med(m["decide"]), med(m["single"]), dratio, ok(dratio)),
            "| one cold domain through the Exim query socket (ms) | %s "
            "|  |  |" % fmt(m["qsingle"]),
            "| 50 concurrent query connections, 50 cold domains (ms) | %s "
            "|  |  |" % fmt(m["qmany"]),
            "| ratio 50 domains / one, through the query socket (netsrv) "
            "| %.2f | <= 1.5 | %s |" % (qratio, ok(qratio)),
            "| first MX drops SYNs, second verifies (ms; connect_timeout "
            "= %d s) | %s |  |  |" % (CONNECT_TIMEOUT, fmt(dead["dead"])),
            "| the same minus connect_timeout (ms) / one probe of the "
            "second MX alone (ms) | %.0f / %.0f | about 1 probe | %s |" % (
                extra, med(dead["one"]),
                "met" if extra <= 1.5 * med(dead["one"]) else "**missed**"),
            "", "Floor for one cold probe: DNS MX + A (AAAA beside it) = "
            "2 DNS RTTs (0.8 SMTP RTT); TCP 1, banner 0.5, EHLO 1, STARTTLS "
            "1, TLS 1.3 handshake 1 (TLS 1.2: 2) = 4.5 (5.5) RTTs; in all "
            "5.3 RTTs (265 ms) with TLS 1.3. posttls-finger and s_client "
            "are given the relay's address (no DNS): compare them with the "
            "probe's IP-route row. The seed example (SPEC 6) adds the "
            "second MX host's addresses and the PTR with its forward check "
            "(required-verify matches the CN with the PTR name): 4 DNS RTTs "
            "in all, 6.1 RTTs (305 ms); the CN = PTR name = MX name row "
            "needs no forward query: 3 DNS RTTs, 5.7 RTTs (285 ms).", ""]
    out += NOTES
    out += ["Commands:", ""]
    for key, v in R["tools"].items():
        out.append("    " + v["cmd"])
    out += ["", WAN_END, ""]
    return "\n".join(out)


def write_section(path, text):
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if WAN_BEGIN in old and WAN_END in old:
        head, rest = old.split(WAN_BEGIN, 1)
        tail = rest.split(WAN_END, 1)[1].lstrip("\n")
        new = head + text + tail
    else:
        new = old.rstrip("\n") + ("\n\n" if old else "") + text
    with open(path, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs",
                                                  "BENCHMARKS.md"))
    ap.add_argument("--tmp", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--only", choices=("tools", "dead", "many"),
                    help="run one part, print it, write nothing")
    ap.add_argument("--render", metavar="RESULTS_JSON",
                    help="only rewrite the section from a run's results")
    a = ap.parse_args()
    if a.render:
        with open(a.render) as f:
            R = json.load(f)
        write_section(a.out, markdown(R, R.get("argv", ["bench/wan.py"]),
                                      R.get("elapsed", 0)))
        return 0
    build = os.path.abspath(a.build)
    runs = a.runs or (2 if a.quick else 10)
    ctx = tvtest.Context(build, a.tmp or os.path.join(build, "bench-wan-tmp"),
                         name="bench-wan")
    t0 = time.monotonic()
    R = {}
    try:
        w = Wan(ctx, runs)
        conf = w.conf("wan-probe.conf")
        if a.only in (None, "tools"):
            log("wan: tools x %d", runs)
            R["tools"] = bench_tools(w, conf)
        if a.only in (None, "dead"):
            log("wan: dead first MX x %d", runs)
            w.runs = max(3, runs // 3)
            R["dead"] = bench_dead(w, conf)
            w.runs = runs
        if a.only in (None, "many"):
            log("wan: 50 cold domains through the milter x %d", runs)
            R["many"] = bench_many(w)
    finally:
        errs = ctx.run_cleanups()
        tvtest.stop_all()
        for e in errs:
            log("cleanup: %s", e)
    elapsed = time.monotonic() - t0
    R["argv"], R["elapsed"] = sys.argv, elapsed
    R["when"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    R["commit"] = git_commit()
    if a.only:
        print(json.dumps(R, indent=1))
        return 0
    text = markdown(R, sys.argv, elapsed)
    with open(os.path.join(ctx.tmp, "wan-results.json"), "w") as f:
        json.dump(R, f, indent=1)
    print(text)
    if not a.quick:
        write_section(a.out, text)
        log("wrote %s", a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
