"""Integration tests of the milter at its edges (SPEC 7), through the
libmilter wire protocol (tests/lib/milterclient.py):

- a recipient domain that is no valid host name (an IDN that UTS#46
  refuses, here U+2488 DIGIT ONE FULL STOP; a name over 511 bytes) is never probed but is still judged by its
  ASCII ".parent" entries or "default": 450 4.1.2 under a required setting;
- a reload that changes what a verdict depends on (here on_fail) drops the
  cached verdicts: the next recipient gets the new answer at once;
- a message to very many accepted domains gets a bounded header that says
  how many domains it leaves out, and its end of message still continues.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402

IP_PLAIN = "127.0.9.51"
SMTP = {"{rcpt_mailer}": "smtp"}


def rcpts(port, addrs, eom=False):
    c = MilterClient("127.0.0.1", port, timeout=60)
    try:
        c.negotiate()
        c.mail("<sender@relay.test>")
        out = [c.rcpt(a, macros=SMTP) for a in addrs]
        if eom:
            out.append(c.eom())
        c.quit()
    finally:
        c.close()
    return out


def test_invalid_domain_judged_by_its_parent(ctx):
    m = miltersvc.start(ctx, probe={"timeout": 2},
                        dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
                        destinations={"default": "preferred",
                                      ".partner.test": "required-verify"})
    snowman, literal, other, forged = rcpts(m.port, [
        "<u@\u2488.partner.test>", "<u@[192.0.2.1]>",
        "<u@\u2488.elsewhere.test>", "<u@x\nforged=1.partner.test>"])
    assert snowman[0] == "replycode" and \
        snowman[1].startswith("450 4.1.2 "), snowman
    assert forged[0] == "replycode" and "\n" not in forged[1], forged
    # the verdict lines name such domains in printable ASCII only, as one
    # word that cannot read as a field of its own (no space, "=" or quote)
    log = m.log()
    assert "domain=???.partner.test" in log, log[-1500:]
    assert "forged=1" not in log and "domain=x?forged?1" in log, \
        log[-1500:]
    assert literal == ("continue", ""), literal
    assert other == ("continue", ""), other


def test_invalid_domain_tagged_under_preferred_verify(ctx):
    """The same verdict as tlsverify-probe: no-host, tagged, accepted."""
    m = miltersvc.start(ctx, probe={"timeout": 2},
                        dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
                        destinations={"default": "none",
                                      ".tagged.test": "preferred-verify"})
    rc, (mods, final) = rcpts(m.port, ["<u@\u2488.tagged.test>"], eom=True)
    assert rc == ("continue", ""), rc
    assert final[0] == "continue", final
    hdrs = [d.split(b"\0")[1].decode() for k, d in mods if k == "addheader"]
    assert len(hdrs) == 1 and "=no-host (preferred-verify" in hdrs[0], mods


def test_overlong_domain_is_judged(ctx):
    m = miltersvc.start(ctx, probe={"timeout": 2},
                        dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
                        destinations={"default": "required"})
    long_dom = ".".join(["a" * 60] * 10) + ".test"     # 615 bytes
    (code, text), = rcpts(m.port, ["<u@%s>" % long_dom])
    assert code == "replycode" and text.startswith("450 4.1.2 "), \
        (code, text)


def test_reload_with_new_on_fail_drops_cached_verdicts(ctx):
    port = ctx.port()
    srv = tvtest.SMTPServer(ctx, IP_PLAIN, port, mode="plain")
    srv.start()
    ctx.cleanup(srv.stop)
    sections = dict(probe={"timeout": 3, "port": port},
                    dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
                    cache={"failed_ttl": 600},
                    destinations={"default": "none",
                                  "plain.e.test": "required"},
                    smtproutes={"plain.e.test": IP_PLAIN})
    m = miltersvc.start(ctx, milter={"on_fail": "reject"}, **sections)
    (code, text), = rcpts(m.port, ["<u@plain.e.test>"])
    assert code == "replycode" and text.startswith("550 5.7.10 "), \
        (code, text)
    n = srv.connections()
    tvtest.write_conf(ctx, name="milter.conf",
                      milter={"socket": m.libmilter_spec,
                              "on_fail": "defer"}, **sections)
    os.kill(m.proc.pid, signal.SIGUSR1)
    tvtest.wait_for(lambda: "generation 2" in m.log(), timeout=10,
                    what="reload logged")
    assert "probe or trust settings changed" in m.log(), m.log()[-2000:]
    (code, text), = rcpts(m.port, ["<u@plain.e.test>"])
    assert code == "replycode" and text.startswith("450 4.7.10 "), \
        (code, text)
    assert srv.connections() == n + 1, "no new probe after the reload"


def test_header_for_many_domains_is_bounded(ctx):
    m = miltersvc.start(ctx, probe={"timeout": 2},
                        dns={"nameserver": "127.0.0.1:%d" % ctx.port(),
                             "timeout": 1},
                        destinations={"default": "preferred-verify"})
    addrs = ["<u@d%03d.many-domains-in-one-message.test>" % i
             for i in range(400)]
    out = rcpts(m.port, addrs, eom=True)
    mods, final = out[-1]
    assert all(r == ("continue", "") for r in out[:-1]), out[:3]
    assert final[0] == "continue", final
    hdrs = [d for k, d in mods if k == "addheader"]
    assert len(hdrs) == 1, mods
    value = hdrs[0].split(b"\0")[1].decode()
    assert len(value) < 20000, len(value)
    assert "more domains not listed)" in value, value[-200:]
    assert "d000.many-domains-in-one-message.test=unknown" in value, \
        value[:300]


def test_pid_file_locked_and_no_symlink(ctx):
    pid = os.path.join(ctx.tmp, "milter.pid")
    m = miltersvc.start(ctx, milter={"pidfile": pid},
                        destinations={"default": "none"})
    tvtest.wait_for(lambda: os.path.exists(pid), timeout=10,
                    what="pid file")
    with open(pid) as f:
        assert int(f.read()) == m.proc.pid
    # a second instance (another port, same pid file) stops at once
    other = tvtest.write_conf(
        ctx, name="second.conf", destinations={"default": "none"},
        milter={"socket": "inet:%d@127.0.0.1" % ctx.port(), "pidfile": pid})
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-f", "-c",
                  other], timeout=20)
    assert cp.returncode == 71 and "is locked" in cp.stderr, (
        cp.returncode, cp.stderr)
    with open(pid) as f:
        assert int(f.read()) == m.proc.pid, "pid file taken over"
    assert m.proc.poll() is None
    # a pid file that is a symlink is not followed
    link = os.path.join(ctx.tmp, "link.pid")
    target = os.path.join(ctx.tmp, "target")
    with open(target, "w") as f:
        f.write("keep\n")
    os.symlink(target, link)
    third = tvtest.write_conf(
        ctx, name="third.conf", destinations={"default": "none"},
        milter={"socket": "inet:%d@127.0.0.1" % ctx.port(),
                "pidfile": link})
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-f", "-c",
                  third], timeout=20)
    assert cp.returncode == 71, (cp.returncode, cp.stderr)
    with open(target) as f:
        assert f.read() == "keep\n", "the symlink's target was written"
