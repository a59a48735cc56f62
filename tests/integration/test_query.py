"""Exim's line protocol (SPEC 11, [query] socket) against the daemon:
"rcpt DOMAIN" gives exactly the milter's verdict (compared with the
milter's own reply and header through the milter protocol), "tlspolicy
DOMAIN" the policy service's levels with "defer" for TEMP, and malformed
or unknown requests a "defer 451 4.3.0" line. Exim-side behaviour is in
test_exim.py.

Test world: the seed's worked example (SPEC 6) on 127.0.27.2/3:
  example.com  required-verify        -> verified through the PTR name
  example.net  required-verify-hosted -> 450 4.7.5
  req.test     required, MX at 127.0.27.4 (TLS, self-signed): accepted
  pv.test      preferred-verify, MX at 127.0.27.4: tagged
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
import milterclient  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402

IP1, IP2, IP3 = "127.0.27.2", "127.0.27.3", "127.0.27.4"
MX1, MX2 = "mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not"
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA query")
    seed = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    other = tvtest.self_signed(mctx, "mx.other.test", sans=["mx.other.test"])
    dns = tvtest.DNS(mctx)
    for dom in ("example.com", "example.net"):
        dns.mx(dom, MX1, 10)
        dns.mx(dom, MX2, 10)
    for mx, ptr, ip in ((MX1, "mx0a.emailhosted.not", IP1),
                        (MX2, "mx0b.emailhosted.not", IP2)):
        dns.a(mx, ip)
        dns.ptr(ip, ptr)
        dns.a(ptr, ip)
    for dom in ("req.test", "pv.test"):
        dns.mx(dom, "mx.other.test", 10)
    dns.a("mx.other.test", IP3)
    dns.start()
    port = mctx.port()
    srv = {}
    for ip, leaf in ((IP1, seed), (IP2, seed), (IP3, other)):
        srv[ip] = tvtest.SMTPServer(mctx, ip, port, leaf=leaf).start()
    pq, pp = mctx.port(), mctx.port()
    m = miltersvc.start(
        mctx,
        probe={"port": port, "ca_file": ca.cert, "timeout": 10},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", "pref.test": "preferred",
                      "pv.test": "preferred-verify", "req.test": "required",
                      "example.com": "required-verify",
                      "example.net": "required-verify-hosted"},
        extra={"query": {"socket": "inet:%d@127.0.0.1" % pq},
               "policy": {"socket": "inet:%d@127.0.0.1" % pp}})
    tvtest.wait_tcp("127.0.0.1", pq, timeout=15)
    W.update(srv=srv, m=m, pq=pq, pp=pp)


def raw(data, shut=True, timeout=40):
    """Send bytes to the query socket, read the reply until EOF."""
    s = socket.create_connection(("127.0.0.1", W["pq"]), timeout=timeout)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            b = s.recv(65536)
            if not b:
                return out.decode()
            out += b
    finally:
        s.close()


def q(line):
    out = raw(line.encode() + b"\n")
    assert out.endswith("\n") and out.count("\n") == 1, repr(out)
    return out[:-1]


def milter_says(domain):
    """(rcpt reply kind, text, X-TLS-Verify value unfolded or None)."""
    return milterclient.milter_says(W["m"].port, domain)


def test_rcpt_static_rows_accept_without_entry(ctx):
    assert q("rcpt none.test") == "accept"
    assert q("rcpt pref.test") == "accept"
    assert q("rcpt PREF.Test") == "accept"
    assert W["srv"][IP3].connections() == 0, "a static row probed"


def test_rcpt_verified_is_the_milters_verdict(ctx):
    ans = q("rcpt example.com")
    kind, text, hdr = milter_says("example.com")
    assert kind == "continue" and hdr is not None, (kind, text, hdr)
    assert ans == "accept " + hdr, (ans, hdr)
    assert ans.startswith("accept example.com=verified (required-verify;"), \
        ans
    assert "via=query domain=example.com" in W["m"].log()


def test_rcpt_hosted_defers_like_the_milter(ctx):
    ans = q("rcpt example.net")
    kind, text, _ = milter_says("example.net")
    assert kind == "replycode" and text.startswith("450 4.7.5 "), text
    assert ans == "defer " + text, (ans, text)


def test_rcpt_required_accepts_with_entry_and_pv_tags(ctx):
    ans = q("rcpt req.test")
    _, _, hdr = milter_says("req.test")
    assert hdr is not None and ans == "accept " + hdr, (ans, hdr)
    ans = q("rcpt pv.test")
    _, _, hdr = milter_says("pv.test")
    assert hdr is not None and ans == "tag " + hdr, (ans, hdr)


def test_tlspolicy_levels_match_the_policy_service(ctx):
    c = SockmapClient(W["pp"])
    try:
        for dom, want in (("none.test", "none"), ("pref.test", "may"),
                          ("pv.test", "may"), ("req.test", "encrypt"),
                          ("example.com", "secure match=example.com:"
                           "mx0a.emailhosted.not servername=hostname")):
            assert q("tlspolicy " + dom) == want, dom
            assert c.query("tlspolicy " + dom) == "OK " + want, dom
        pf = c.query("tlspolicy example.net")
    finally:
        c.close()
    ans = q("tlspolicy example.net")
    assert pf.startswith("TEMP example.net: "), pf
    assert ans == "defer 450 4.7.5 " + pf[len("TEMP "):], (ans, pf)


def test_malformed_and_unknown_requests_defer(ctx):
    for line in ("rcpt", "rcpt ", "rcpt a@example.com", "rcpt .example.com",
                 "rcpt a b", "RCPT example.com", "transport example.com",
                 "hello", ""):
        ans = q(line)
        assert ans.startswith("defer 451 4.3.0 "), (line, ans)
    assert q("rcpt none.test") == "accept"


def test_hostile_input_is_bounded(ctx):
    # an overlong line, a NUL, no newline but a half-close, CRLF
    assert raw(b"rcpt " + b"a" * 5000 + b"\n").startswith("defer 451 4.3.0")
    assert raw(b"rcpt x\0y\n").startswith("defer 451 4.3.0")
    assert raw(b"rcpt none.test") == "accept\n"
    assert raw(b"rcpt none.test\r\nrcpt example.net\n") == "accept\n"
    # a silent client does not hold up another one
    s = socket.create_connection(("127.0.0.1", W["pq"]), timeout=30)
    try:
        s.sendall(b"rcpt pre")
        assert q("rcpt pref.test") == "accept"
    finally:
        s.close()
