#!/usr/bin/env python3
"""load.py - load test of tlsverify-milter (issue 5): SESSIONS concurrent
milter sessions for SECONDS seconds against real test servers on loopback,
then the milter's memory before and after and whether every recipient got
an answer.

    python3 tests/load/load.py --build build [--seconds 60] [--sessions 200]
    make load                     # the same, 60 s, 200 sessions

Set-up (all on 127.0.0.0/8, every process stopped by its PID at the end):
dnsmasq with 20 domains v00..v19.load.test whose MX leads to a STARTTLS
server with a certificate for *.load.test (verified: CONTINUE) and 10
domains p0..p9.load.test whose MX is a server without STARTTLS (required-
verify: a 4xx reply); cache lifetimes of 1-2 s so probes keep happening.
Each session (a thread with tests/lib/milterclient.py): negotiate, MAIL,
3 random recipients with {rcpt_mailer}=smtp, end of message, QUIT; then
the next session, until the time is up.

Memory: VmRSS from /proc/PID/status after a warm-up (every domain probed
once) and after the load, plus the peak seen (sampled every second).
Exit status 0 when every recipient got the expected answer, no session
failed, and the milter is still running; 1 otherwise.
"""
import argparse
import os
import random
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import tvtest  # noqa: E402
from milterclient import MilterClient  # noqa: E402

GOOD_IP, PLAIN_IP = "127.0.10.2", "127.0.10.3"
VERIFIED = ["v%02d.load.test" % i for i in range(20)]
PLAIN = ["p%d.load.test" % i for i in range(10)]


def setup(ctx):
    """Servers, DNS, milter. Returns (proc, port)."""
    ca = tvtest.CA(ctx, cn="tlsverify load CA")
    leaf = ca.issue(cn="load.invalid", sans=("*.load.test",))
    sport = ctx.port()
    tvtest.SMTPServer(ctx, GOOD_IP, sport, leaf=leaf).start()
    tvtest.SMTPServer(ctx, PLAIN_IP, sport, mode="plain").start()
    dns = tvtest.DNS(ctx)
    dns.a("mx.good.load.test", GOOD_IP).a("mx.plain.load.test", PLAIN_IP)
    for d in VERIFIED:
        dns.mx(d, "mx.good.load.test", 10)
    for d in PLAIN:
        dns.mx(d, "mx.plain.load.test", 10)
    dns.start()
    ctx.cleanup(dns.stop)
    mport = ctx.port()
    conf = tvtest.write_conf(
        ctx, milter={"socket": "inet:%d@127.0.0.1" % mport},
        probe={"port": sport, "ca_file": tvtest.ca_bundle(ctx, ca),
               "timeout": 8, "helo": "load.test"},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        cache={"verified_ttl": 2, "failed_ttl": 2, "tempfail_ttl": 1},
        destinations={"default": "none", ".load.test": "required-verify"},
        name="load.conf")
    proc = ctx.spawn([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf])
    tvtest.wait_tcp("127.0.0.1", mport, timeout=15)
    return proc, mport


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = self.rcpts = self.answered = 0
        self.wrong, self.errors = [], []

    def add(self, rcpts, answered, wrong):
        with self.lock:
            self.sessions += 1
            self.rcpts += rcpts
            self.answered += answered
            self.wrong += wrong


def expected(domain, kind, text):
    if domain in VERIFIED:
        return kind == "continue"
    return (kind == "tempfail" or
            (kind == "replycode" and text[:1] == "4"))


def one_session(port, rnd, stats):
    c = MilterClient("127.0.0.1", port, timeout=30)
    sent = answered = 0
    wrong = []
    try:
        c.negotiate()
        c.mail("<load@relay.test>")
        for _ in range(3):
            dom = rnd.choice(VERIFIED + PLAIN)
            addr = "user%d@%s" % (rnd.randrange(1000), dom)
            sent += 1
            kind, text = c.rcpt("<%s>" % addr, macros={
                "{rcpt_addr}": addr, "{rcpt_mailer}": "smtp"})
            answered += 1
            if not expected(dom, kind, text):
                wrong.append((addr, kind, text[:80]))
        c.eom()
        c.quit()
    finally:
        c.close()
        stats.add(sent, answered, wrong)


def worker(port, until, seed, stats):
    rnd = random.Random(seed)
    while time.monotonic() < until:
        try:
            one_session(port, rnd, stats)
        except Exception as e:      # noqa: BLE001 - counted, reported
            with stats.lock:
                stats.errors.append(repr(e)[:200])


def run_load(ctx, seconds, sessions):
    """Returns a dict of figures; raises nothing for a failed session."""
    proc, port = setup(ctx)
    warm = Stats()
    for d in VERIFIED + PLAIN:          # every domain probed once
        c = MilterClient("127.0.0.1", port, timeout=30)
        c.negotiate()
        c.mail("<load@relay.test>")
        kind, text = c.rcpt("<w@%s>" % d, macros={
            "{rcpt_addr}": "w@" + d, "{rcpt_mailer}": "smtp"})
        if not expected(d, kind, text):
            warm.wrong.append((d, kind, text[:80]))
        c.quit()
    before = tvtest.rss_kb(proc.pid)
    stats, peak = Stats(), [before]
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=worker, args=(port, until, i, stats),
                                daemon=True) for i in range(sessions)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        if proc.poll() is None:
            peak.append(tvtest.rss_kb(proc.pid))
    for t in threads:
        t.join(60)
    alive = proc.poll() is None
    after = tvtest.rss_kb(proc.pid) if alive else -1
    fig = {"seconds": seconds, "concurrent": sessions,
           "sessions": stats.sessions, "recipients": stats.rcpts,
           "answered": stats.answered, "wrong": stats.wrong + warm.wrong,
           "errors": stats.errors, "rss_before_kb": before,
           "rss_after_kb": after, "rss_peak_kb": max(peak),
           "milter_alive": alive, "pid": proc.pid}
    fig["ok"] = (alive and not fig["wrong"] and not stats.errors and
                 stats.rcpts == stats.answered and stats.sessions > 0)
    if alive:
        tvtest.stop(proc, grace=15)
    tvtest.log_sanitizer_check(proc.log)
    return fig


def report(fig):
    return ("load: %(concurrent)d concurrent for %(seconds)ss: %(sessions)d "
            "sessions, %(recipients)d recipients, %(answered)d answered, "
            "%(nwrong)d wrong, %(nerr)d session errors; milter VmRSS "
            "before %(rss_before_kb)d kB, after %(rss_after_kb)d kB, peak "
            "%(rss_peak_kb)d kB; %(verdict)s" %
            dict(fig, nwrong=len(fig["wrong"]), nerr=len(fig["errors"]),
                 verdict="OK" if fig["ok"] else "FAILED"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--tmp", default=os.path.join(ROOT, "tests", "tmp",
                                                   "load"))
    a = ap.parse_args()
    ctx = tvtest.Context(a.build, a.tmp, name="load")
    try:
        fig = run_load(ctx, a.seconds, a.sessions)
    finally:
        errs = ctx.run_cleanups()
        tvtest.stop_all()
    print(report(fig))
    for w in fig["wrong"][:10]:
        print("load: wrong answer: %r" % (w,))
    for e in fig["errors"][:10]:
        print("load: session error: %s" % e)
    for e in errs:
        print("load: cleanup: %s" % e)
    return 0 if fig["ok"] and not errs else 1


if __name__ == "__main__":
    sys.exit(main())
