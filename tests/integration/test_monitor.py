"""Monitor mode (SPEC 13): [milter] mode = monitor accepts what enforce
mode would defer or reject, says so in the header and the log
(would-defer / would-reject with the code), the policy service answers
"OK may" where it would answer TEMP, and the Exim query service answers
"accept" with the would-defer header entry. The seed's hosted domain (SPEC 6) is
the failing one; a null MX is would-reject.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import probecase  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402

IP1, IP2 = "127.0.29.2", "127.0.29.3"
SMTP = {"{rcpt_mailer}": "smtp"}


def start(ctx, mode):
    ca = tvtest.CA(ctx, cn="tlsverify test CA monitor")
    leaf = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    dns = probecase.seed_dns(tvtest.DNS(ctx), ("example.com", "example.net"),
                             IP1, IP2)
    dns.nullmx("null.test")
    dns.start()
    port = ctx.port()
    for ip in (IP1, IP2):
        srv = tvtest.SMTPServer(ctx, ip, port, leaf=leaf).start()
        ctx.cleanup(srv.stop)
    ppol, pq = ctx.port(), ctx.port()
    m = miltersvc.start(
        ctx, milter={"mode": mode},
        probe={"port": port, "ca_file": ca.cert, "timeout": 10},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", "example.com": "required-verify",
                      "example.net": "required-verify-hosted",
                      "null.test": "required"},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol},
               "query": {"socket": "inet:%d@127.0.0.1" % pq}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    m.pq = pq
    return m, ppol


def query(port, line):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out.decode().rstrip("\n")
            out += b
    finally:
        s.close()


def message(port, rcpts):
    c = MilterClient("127.0.0.1", port, timeout=60)
    try:
        c.negotiate()
        c.mail("<sender@relay.test>")
        out = [c.rcpt(r, macros=SMTP) for r in rcpts]
        mods, final = c.eom()
        c.quit()
    finally:
        c.close()
    hdrs = [d.split(b"\0")[1].decode() for k, d in mods if k == "addheader"]
    return out, hdrs, final


def test_monitor_accepts_and_tags_would_defer(ctx):
    m, ppol = start(ctx, "monitor")
    out, hdrs, final = message(m.port, ["<a@example.net>", "<b@example.com>",
                                        "<c@null.test>"])
    assert out == [("continue", "")] * 3, out
    assert final[0] == "continue", final
    assert len(hdrs) == 1, hdrs
    hdr = " ".join(hdrs[0].split())
    assert "example.net=would-defer (required-verify-hosted; note=450 " \
        "4.7.5 " in hdr, hdr
    assert "example.com=verified (required-verify;" in hdr, hdr
    assert "null.test=would-reject (required; note=556 5.1.10 " in hdr, hdr
    log = m.log()
    assert "domain=example.net setting=required-verify-hosted" in log and \
        "monitor=would-defer" in log, log[-2000:]
    assert "monitor=would-reject" in log, log[-2000:]
    c = SockmapClient(ppol)
    assert c.query("tlspolicy example.net") == "OK may"
    assert c.query("tlspolicy example.com").startswith("OK secure match=")
    c.close()
    ans = query(m.pq, "rcpt example.net")
    assert ans.startswith("accept example.net=would-defer "
                          "(required-verify-hosted; note=450 4.7.5 "), ans


def test_enforce_mode_still_defers(ctx):
    m, ppol = start(ctx, "enforce")
    c = MilterClient("127.0.0.1", m.port, timeout=60)
    c.negotiate()
    c.mail("<sender@relay.test>")
    code, text = c.rcpt("<a@example.net>", macros=SMTP)
    c.quit()
    c.close()
    assert code == "replycode" and text.startswith("450 4.7.5 "), text
    c = SockmapClient(ppol)
    assert c.query("tlspolicy example.net").startswith("TEMP example.net: ")
    c.close()
    assert "monitor=" not in m.log()


def test_mode_value_checked(ctx):
    conf = tvtest.write_conf(ctx, milter={"mode": "watch"},
                             destinations={"default": "none"})
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-n", "-c",
                  conf], expect_rc=78)
    assert "mode: 'watch': expected enforce or monitor" in cp.stderr, \
        cp.stderr
