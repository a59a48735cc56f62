"""tlsverify-probe --all (SPEC 13): every domain of [destinations] (not
default, not .parent keys), -j at a time, a summary table worst first or
one JSON object per line, exit status the worst, no progress bar when
stderr is not a terminal.

50 domains, all routed by IP: 30 verify (dNSName *.all.test at
127.0.30.2), 15 get no STARTTLS under required-verify (127.0.30.3: exit 1),
5 go to an address where nothing listens (connection refused: temporary,
exit 75).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402

GOOD, PLAIN, DEAD = "127.0.30.2", "127.0.30.3", "127.0.30.4"
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA all")
    leaf = ca.issue("*.all.test", sans=["*.all.test"])
    port = mctx.port()
    tvtest.SMTPServer(mctx, GOOD, port, leaf=leaf).start()
    tvtest.SMTPServer(mctx, PLAIN, port, mode="plain").start()
    dests = {"default": "required", ".parent.test": "required"}
    routes = {}
    want = {}
    for i in range(50):
        dom = "d%02d.all.test" % i
        dests[dom] = "required-verify"
        ip, rc = (GOOD, 0) if i < 30 else (PLAIN, 1) if i < 45 else (DEAD, 75)
        routes[dom] = ip
        want[dom] = rc
    W["conf"] = tvtest.write_conf(
        mctx, probe={"port": port, "ca_file": ca.cert, "timeout": 10,
                     "connect_timeout": 2},
        dns={"nameserver": "127.0.0.1:%d" % mctx.port()},
        destinations=dests, smtproutes=routes)
    W["want"] = want


def run(ctx, *args):
    return ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c",
                    W["conf"], "--all"] + list(args), timeout=120)


def rank(rc):
    return {75: 2, 1: 1, 0: 0}[rc]


def test_all_table(ctx):
    cp = run(ctx, "-j", "8")
    assert cp.returncode == 75, (cp.returncode, cp.stderr[-2000:])
    lines = cp.stdout.splitlines()
    assert lines[0].split() == ["DOMAIN", "SETTING", "RESULT", "ACTION",
                                "HOST", "WHY"], lines[0]
    rows = [ln.split(None, 5) for ln in lines[1:]]
    assert len(rows) == 50, len(rows)
    got = {r[0]: r for r in rows}
    assert set(got) == set(W["want"]), "default or .parent probed"
    for dom, rc in W["want"].items():
        r = got[dom]
        assert r[1] == "required-verify", r
        want = {0: ("verified", "accept"), 1: ("plain", "defer"),
                75: ("unknown", "defer")}[rc]
        assert (r[2], r[3]) == want, r
    order = [rank(W["want"][r[0]]) for r in rows]
    assert order == sorted(order, reverse=True), "not worst first"
    assert "\r" not in cp.stderr and "[1/50]" not in cp.stderr, \
        "progress bar on a pipe"


def test_all_json_lines(ctx):
    cp = run(ctx, "--json", "-j", "4")
    assert cp.returncode == 75
    objs = [json.loads(ln) for ln in cp.stdout.splitlines()]
    assert len(objs) == 50
    assert sorted(o["domain"] for o in objs) == sorted(W["want"])
    for o in objs:
        assert o["verified"] == (W["want"][o["domain"]] == 0), o
    order = [rank(W["want"][o["domain"]]) for o in objs]
    assert order == sorted(order, reverse=True)


def test_all_exit_status_and_usage(ctx):
    """-s none over the table: everything accepted, exit 0; a bad -j is a
    usage error (64)."""
    assert run(ctx, "-s", "none").returncode == 0
    cp = run(ctx, "-j", "bad")
    assert cp.returncode == 64, cp.returncode


def test_all_progress_on_a_terminal(ctx):
    """stderr a terminal (a pty): the progress line counts to 50/50."""
    import pty
    import subprocess
    master, slave = pty.openpty()
    try:
        p = subprocess.run([os.path.join(ctx.build, "tlsverify-probe"),
                            "-c", W["conf"], "--all", "-s", "none"],
                           stdout=subprocess.PIPE, stderr=slave, timeout=60)
        os.close(slave)
        slave = None
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    finally:
        if slave is not None:
            os.close(slave)
        os.close(master)
    assert p.returncode == 0
    assert b"[50/50]" in out, out[-300:]
    assert len(p.stdout.decode().splitlines()) == 51
