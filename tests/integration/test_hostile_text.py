"""Network text in log lines and on the terminal (SPEC 7, log lines): an
SMTP server whose banner and EHLO greeting carry '"', a forged
" result=verified action=accept" and an ESC byte (a terminal control
sequence). tlsverify-probe's step-by-step output must contain no control
byte, and the milter's one log line per verdict must keep that text inside
its quoted reason: exactly one result= and one action= field.

Servers on 127.0.9.6x, reached through IP routes (no DNS needed; the
configured nameserver is a port nobody answers on).
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402

IP_554, IP_TLS = "127.0.9.61", "127.0.9.62"
EVIL = 'x" result=verified action=accept host=evil \x1b[2J\x1b]0;owned\x07'
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA text")
    leaf = ca.issue(cn="tls.text.test", sans=("tls.text.test",))
    port = mctx.port()
    for ip, mode in ((IP_554, "banner554"), (IP_TLS, "starttls")):
        s = tvtest.SMTPServer(mctx, ip, port, leaf=leaf, mode=mode,
                              banner_host=EVIL).start()
        mctx.cleanup(s.stop)
    W.update(port=port, bundle=tvtest.ca_bundle(mctx, ca),
             ns="127.0.0.1:%d" % mctx.port())


def sections():
    return dict(
        probe={"port": W["port"], "ca_file": W["bundle"], "timeout": 4,
               "helo": "relay.test"},
        dns={"nameserver": W["ns"], "timeout": 1},
        destinations={"default": "none", "b554.text.test": "required-verify",
                      "tls.text.test": "required-verify"},
        smtproutes={"b554.text.test": IP_554, "tls.text.test": IP_TLS})


def fields(line):
    """key=value fields as a log reader parses them: bare or "quoted" with
    backslash escapes. [(key, value)]"""
    out = []
    for m in re.finditer(r'(\S+?)=("(?:[^"\\]|\\.)*"|\S*)', line):
        out.append((m.group(1), m.group(2)))
    return out


def no_control(text, what):
    bad = [c for c in text if ord(c) < 0x20 and c not in "\n"
           or 0x7f <= ord(c) < 0xa0]
    assert not bad, "%s holds control bytes %r:\n%s" % (what, bad, text)


def test_text_probe_output_has_no_control_bytes(ctx):
    conf = tvtest.write_conf(ctx, **sections())
    for dom, want_rc in (("b554.text.test", 75), ("tls.text.test", 0)):
        rc, out, err = tvtest.probe(ctx, conf, dom, json=False)
        assert rc == want_rc, "%s: rc %r\n%s%s" % (dom, rc, out, err)
        assert "result=verified" in out, \
            "the banner text is not shown:\n" + out
        no_control(out + err, "tlsverify-probe's output for " + dom)


def test_text_milter_log_line_has_one_result_field(ctx):
    m = miltersvc.start(ctx, **sections())
    c = MilterClient("127.0.0.1", m.port, timeout=60)
    try:
        c.negotiate()
        c.mail("<sender@relay.test>")
        code, text = c.rcpt("<u@b554.text.test>",
                            macros={"{rcpt_mailer}": "smtp"})
        c.quit()
    finally:
        c.close()
    assert code == "replycode" and text.startswith("451 "), (code, text)
    assert "\x1b" not in text, text
    lines = [ln for ln in m.log().splitlines()
             if "domain=b554.text.test " in ln and "cached=" in ln]
    assert len(lines) == 1, m.log()[-2000:]
    line = lines[0]
    no_control(line, "the verdict's log line")
    keys = [k for k, _ in fields(line)]
    for k in ("domain", "result", "action", "host", "reason"):
        assert keys.count(k) == 1, "%d %s= fields in %s" % (
            keys.count(k), k, line)
    got = dict(fields(line))
    assert (got["result"], got["action"]) == ("unknown", "defer"), line
    assert got["reason"].startswith('"') and "result=verified" in \
        got["reason"], line
