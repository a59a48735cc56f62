"""A burst of RCPTs for cold domains through the milter (issue 14).

Every recipient of the burst needs its own probe, and the server answers
each connection after 2 s (banner delay), so each RCPT waits about 2 s.
Twenty sessions send their RCPT at the same moment (one client thread,
tests/lib/burst.py). libmilter's worker pool (Debian: _FFR_WORKERS_POOL)
used to leave some of those sessions without a worker until another
worker's probe ended, so the last answer came after several probe times;
with the hand-off (milter/mlfi_pool.c) the waits overlap: the last answer
comes within about one probe. Checked on the TCP and on a unix socket;
every recipient is answered (and verified), the hand-off connections leave
no error in the log, and the milter still serves a normal session after.

Server on 127.0.79.2 (2 s before its banner), routes for .burst.test.
"""
import os

import tvtest
import miltersvc
from burst import milter_wave
from milterclient import MilterClient

IP = "127.0.79.2"
DELAY = 2.0
N = 20
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA burst")
    port = mctx.port()
    leaf = ca.issue("mx.burst.test", sans=("*.burst.test",))
    srv = tvtest.SMTPServer(mctx, IP, port, leaf=leaf, delay=DELAY).start()
    W.update(port=port, ca=tvtest.ca_bundle(mctx, ca), srv=srv)


def sections():
    return dict(
        probe={"port": W["port"], "ca_file": W["ca"], "timeout": 20,
               "helo": "relay.burst.test"},
        dns={"nameserver": "127.0.0.1:9", "timeout": 1},
        destinations={"default": "none", ".burst.test": "required-verify"},
        smtproutes={".burst.test": IP})


def check_burst(ctx, addr, log, tag):
    rcpts = ["u%d@%s%d.burst.test" % (i, tag, i) for i in range(N)]
    wall, out = milter_wave(addr, rcpts)
    assert out == [("continue", "")] * N, out
    print("%d cold RCPTs at once: %.2f s (one probe: %.1f s)" % (
        N, wall, DELAY))
    assert wall < 1.6 * DELAY, "the last of %d RCPTs came after %.2f s: " \
        "sessions waited behind other probes (one probe %.1f s)" % (
            N, wall, DELAY)
    text = log()
    for i in range(N):
        assert "domain=%s%d.burst.test setting=required-verify " \
            "result=verified" % (tag, i) in text, text[-3000:]
    bad = [ln for ln in text.splitlines()
           if "error" in ln.lower() or "hand-off" in ln]
    assert not bad, "\n".join(bad[:10])
    c = MilterClient("127.0.0.1", addr) if isinstance(addr, int) else None
    if c is not None:   # a normal session still works
        c.negotiate()
        c.mail("<s@relay.test>")
        assert c.rcpt("<u@%s0.burst.test>" % tag, macros={
            "{rcpt_mailer}": "smtp"}) == ("continue", "")
        c.quit()
        c.close()


def test_burst_over_tcp(ctx):
    m = miltersvc.start(ctx, **sections())
    check_burst(ctx, m.port, m.log, "t")


def test_burst_over_unix_socket(ctx):
    d = ctx.shared_dir("burst-sock")
    path = os.path.join(d, "milter.sock")
    conf = tvtest.write_conf(ctx, name="burst-unix.conf",
                             milter={"socket": "unix:" + path},
                             **sections())
    proc = ctx.spawn([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf])
    ctx.cleanup(miltersvc.stop, proc)
    tvtest.wait_for(lambda: os.path.exists(path) or
                    proc.poll() is not None, 15, what="milter socket")
    assert proc.poll() is None, open(proc.log, errors="replace").read()

    def log():
        with open(proc.log, errors="replace") as f:
            return f.read()
    check_burst(ctx, path, log, "u")
