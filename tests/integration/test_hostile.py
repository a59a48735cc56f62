"""Hostile peers and resolvers (issue 5, "Hardening"): each test runs
tlsverify-probe --json against one misbehaving server and checks a
bounded, fail-closed verdict with a reason: never "accept" under a
required setting, temporary causes defer (exit 75), every probe ends
within its deadline.

SMTP side (servers on 127.0.9.x, reached through IP routes): STARTTLS
answered 454; a server that closes in the middle of the TLS handshake
(after half a ServerHello record); a TLS alert instead of a ServerHello; a
certificate with 2,000 SAN entries; a CN (and a dNSName) with an embedded
NUL whose part before the NUL is the recipient domain (the DER is patched
and re-signed by the test CA, so Phase I passes and only the NUL matters).
DNS side (tests/lib/baddns.py): an MX answer with the TC bit (TCP retry);
a CNAME loop; a PTR answer with 300 names; an A answer (the PTR name's
forward check) whose only record is owned by another name; an MX record shorter than its
fixed part; servers that answer garbage, with a wrong ID or for another
question.
"""
import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import certs  # noqa: E402
from baddns import BadDNS  # noqa: E402

W = {}
TIMEOUT = 6          # [probe] timeout
DNS_TIMEOUT = 1      # [dns] timeout

IP_454, IP_HALF, IP_ALERT = "127.0.9.2", "127.0.9.3", "127.0.9.4"
IP_BIG, IP_NULCN, IP_NULSAN = "127.0.9.5", "127.0.9.6", "127.0.9.7"
IP_GOOD, IP_PTR1, IP_PTR2 = "127.0.9.10", "127.0.9.11", "127.0.9.12"
IP_FOREIGN = "127.0.9.13"


def dump(d):
    return json.dumps(d, indent=1, sort_keys=True)


def run(ctx, conf, domain, setting=None):
    t0 = time.monotonic()
    rc, d, err = tvtest.probe(ctx, conf, domain, setting=setting,
                              timeout=60)
    el = time.monotonic() - t0
    assert isinstance(d, dict), "no JSON (rc=%r): %s" % (rc, err)
    assert el < TIMEOUT + 3, "probe took %.1fs (timeout %ds)\n%s" % (
        el, TIMEOUT, dump(d))
    print("%s: rc=%d action=%s verified=%s reason=%s (%.1fs)" % (
        domain, rc, d.get("action"), d.get("verified"),
        (d.get("attempts") or [{}])[0].get("reason") or d.get("reason"), el),
        file=sys.stderr)
    return rc, d


def fail_closed(d, rc, want_rc=None):
    assert rc in (1, 75), "exit %r\n%s" % (rc, dump(d))
    if want_rc is not None:
        assert rc == want_rc, "exit %r, want %r\n%s" % (rc, want_rc, dump(d))
    assert d["action"] in ("defer", "reject"), dump(d)
    assert d["verified"] is not True and d["matched"] is None, dump(d)
    if rc == 75:
        assert d["action"] == "defer", dump(d)
    why = [a.get("reason") for a in d.get("attempts") or []]
    assert any(why) or d.get("reason"), "no reason given\n" + dump(d)


# ---- a server that stops in the middle of the TLS handshake -------------

def half_handshake_server(mctx, ip, port):
    """220, EHLO with STARTTLS, 220 to STARTTLS, then read the ClientHello,
    send the first 15 bytes of a 0x50-byte handshake record and close."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, port))
    ls.listen(8)
    mctx.cleanup(ls.close)
    W["half_conns"] = 0

    def session(c):
        f = c.makefile("rb")
        try:
            c.sendall(b"220 half.test ESMTP\r\n")
            while True:
                line = f.readline(1024)
                if not line:
                    return
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                    c.sendall(b"250-half.test\r\n250 STARTTLS\r\n")
                elif cmd == b"STARTTLS":
                    c.sendall(b"220 go ahead\r\n")
                    c.settimeout(5)
                    c.recv(4096)                 # the ClientHello
                    c.sendall(b"\x16\x03\x03\x00\x50\x02\x00\x00\x4c\x03\x03"
                              + b"\x00" * 4)
                    return
                else:
                    c.sendall(b"250 ok\r\n")
        except OSError:
            return
        finally:
            f.close()
            c.close()

    def accept():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            W["half_conns"] += 1
            threading.Thread(target=session, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


# ---- certificates with an embedded NUL -----------------------------------

def _tlv(der, off):
    """(tag offset, header length, content length) of the TLV at off."""
    n = der[off + 1]
    if n < 0x80:
        return 2, n
    k = n & 0x7f
    return 2 + k, int.from_bytes(der[off + 2:off + 2 + k], "big")


def _len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def nul_leaf(mctx, ca, placeholder, cn=None, sans=()):
    """Issue a leaf whose CN/SANs contain placeholder, replace its 'X' by a
    NUL byte in the DER and re-sign the TBSCertificate with the CA key."""
    leaf = ca.issue(cn=cn, sans=sans)
    der = subprocess.run(["openssl", "x509", "-in", leaf.cert, "-outform",
                          "DER"], capture_output=True, check=True).stdout
    ph = placeholder.encode()
    assert der.count(ph) >= 1, "placeholder not in DER"
    der = der.replace(ph, ph.replace(b"X", b"\0"))
    h, n = _tlv(der, 0)
    th, tn = _tlv(der, h)
    tbs = der[h:h + th + tn]
    ah, an = _tlv(der, h + th + tn)
    alg = der[h + th + tn:h + th + tn + ah + an]
    tbs_path = mctx.path("tbs-%d.der" % id(leaf))
    with open(tbs_path, "wb") as f:
        f.write(tbs)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ca.key,
                          tbs_path], capture_output=True, check=True).stdout
    bits = b"\x03" + _len(len(sig) + 1) + b"\x00" + sig
    body = tbs + alg + bits
    cert = b"\x30" + _len(len(body)) + body
    path = leaf.cert + ".nul.pem"
    with open(path, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n")
        b64 = base64.b64encode(cert).decode()
        f.write("\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)))
        f.write("\n-----END CERTIFICATE-----\n")
    return certs.Leaf(path, leaf.key, path, leaf.serial, cn, sans, ca)


# ---- setup ---------------------------------------------------------------

def serve(mctx, ip, port, leaf=None, mode="starttls"):
    s = tvtest.SMTPServer(mctx, ip, port, leaf=leaf, mode=mode).start()
    mctx.cleanup(s.stop)
    return s


def conf_for(mctx, nameserver, port, bundle, routes, tag):
    return tvtest.write_conf(
        mctx, probe={"port": port, "ca_file": bundle, "timeout": TIMEOUT,
                     "helo": "probe.test"},
        dns={"nameserver": nameserver, "timeout": DNS_TIMEOUT},
        destinations={"default": "none", ".h.test": "required-verify",
                      "example.com": "required-verify"},
        smtproutes=routes, name="hostile-%s.conf" % tag)


def setup_dns(mctx):
    dns = BadDNS(mctx)
    for d in ("ok.h.test", "tc.h.test", "tcstall.h.test", "shortmx.h.test"):
        dns.mx(d, "mx.good.h.test", 10)
    dns.a("mx.good.h.test", IP_GOOD)
    dns.behave("tc.h.test", "MX", "tc")
    dns.behave("tcstall.h.test", "MX", "tc_stall")
    dns.behave("shortmx.h.test", "MX", "short_mx")
    dns.cname("loop.h.test", "loop2.h.test").cname("loop2.h.test",
                                                    "loop.h.test")
    # PTR with 300 names: the confirmed one first (ptr1) or last (ptr2)
    names = ["n%03d.many.h.test" % i for i in range(300)]
    for dom, ip, good in (("ptr1.h.test", IP_PTR1, 0),
                          ("ptr2.h.test", IP_PTR2, 299)):
        host = "mx.%s" % dom
        dns.mx(dom, host, 10).a(host, ip)
        for i, n in enumerate(names):
            dns.ptr(ip, n if i != good else "mx0a.ptrhost.test")
        dns.a("mx0a.ptrhost.test", ip)
    # the seed's PTR check, but the answer to "A mx0a.emailhosted.not" holds
    # only an A record of another owner name (with the connected IP)
    dns.mx("foreign.h.test", "mx.foreign.h.test", 10)
    dns.a("mx.foreign.h.test", IP_FOREIGN)
    dns.ptr(IP_FOREIGN, "mx0a.emailhosted.not")
    dns.a("mx0a.emailhosted.not", IP_FOREIGN)
    dns.behave("mx0a.emailhosted.not", "A", "foreign_owner")
    dns.start()
    bad = {}
    for beh in ("garbage", "garbage_id", "wrong_id", "wrong_question"):
        b = BadDNS(mctx)
        b.dir = mctx.path("baddns-" + beh)
        b.log = os.path.join(b.dir, "queries.log")
        b.mx("ok.h.test", "mx.good.h.test", 10).a("mx.good.h.test", IP_GOOD)
        b.behave("*", "*", beh)
        b.start()
        bad[beh] = b
    return dns, bad


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA hostile")
    bundle = tvtest.ca_bundle(mctx, ca)
    port = mctx.port()
    leaf = ca.issue(cn="h.invalid", sans=("*.h.test",))
    serve(mctx, IP_454, port, leaf, mode="starttls454")
    half_handshake_server(mctx, IP_HALF, port)
    serve(mctx, IP_ALERT, port, leaf, mode="alert")
    big = ca.issue(cn="big.invalid", name="big2000",
                   sans=["h%04d.big.invalid" % i for i in range(1999)] +
                   ["big.h.test"])
    serve(mctx, IP_BIG, port, big)
    nulcn = nul_leaf(mctx, ca, "example.comX.evil.invalid",
                     cn="example.comX.evil.invalid")
    serve(mctx, IP_NULCN, port, nulcn)
    nulsan = nul_leaf(mctx, ca, "example.comX.evil.invalid",
                      cn="example.comX.evil.invalid",
                      sans=("example.comX.evil.invalid",))
    serve(mctx, IP_NULSAN, port, nulsan)
    serve(mctx, IP_GOOD, port, leaf)
    ptrleaf = ca.issue(cn="*.ptrhost.test")          # CN only, no SAN
    serve(mctx, IP_PTR1, port, ptrleaf)
    serve(mctx, IP_PTR2, port, ptrleaf)
    serve(mctx, IP_FOREIGN, port, ca.issue(cn="*.emailhosted.not"))
    dns, bad = setup_dns(mctx)
    routes = {"s454.h.test": IP_454, "half.h.test": IP_HALF,
              "alert.h.test": IP_ALERT, "big.h.test": IP_BIG}
    W.update(port=port, dns=dns, bad=bad, big=big,
             conf=conf_for(mctx, dns.nameserver, port, bundle, routes, "main"))
    for beh, b in bad.items():
        W["conf_" + beh] = conf_for(mctx, b.nameserver, port, bundle, {}, beh)
    W["conf_nulcn"] = conf_for(mctx, dns.nameserver, port, bundle,
                               {"example.com": IP_NULCN}, "nulcn")
    W["conf_nulsan"] = conf_for(mctx, dns.nameserver, port, bundle,
                                {"example.com": IP_NULSAN}, "nulsan")


# ---- SMTP / TLS peers ----------------------------------------------------

def test_starttls_454_defers(ctx):
    rc, d = run(ctx, W["conf"], "s454.h.test")
    fail_closed(d, rc, 75)
    assert d["tls"] is not True, dump(d)


def test_close_in_mid_handshake_fails_closed(ctx):
    rc, d = run(ctx, W["conf"], "half.h.test")
    fail_closed(d, rc)
    assert d["tls"] is not True, dump(d)
    assert W["half_conns"] >= 1, "the server was never reached"


def test_tls_alert_fails_closed(ctx):
    rc, d = run(ctx, W["conf"], "alert.h.test")
    fail_closed(d, rc)
    assert d["tls"] is not True, dump(d)


def test_2000_san_entries_bounded(ctx):
    """2,000 dNSNames, the matching one last: beyond IDENT_MAXNAMES (256)
    it is never compared, so the verdict is 'not verified' (fail closed),
    reached quickly, with a valid chain."""
    out = subprocess.run(["openssl", "x509", "-in", W["big"].cert, "-noout",
                          "-ext", "subjectAltName"], capture_output=True,
                         text=True, check=True).stdout
    assert out.count("DNS:") == 2000, "certificate has %d SANs" % \
        out.count("DNS:")
    rc, d = run(ctx, W["conf"], "big.h.test")
    fail_closed(d, rc, 1)
    assert d["tls"] is True and d["certificate"] == "valid", dump(d)


def _nul_case(ctx, conf):
    rc, d = run(ctx, conf, "example.com")
    fail_closed(d, rc, 1)
    assert d["tls"] is True and d["certificate"] == "valid", dump(d)
    text = json.dumps(d)
    assert "example.com\\u0000" not in text, "NUL name used raw:\n" + text
    return d


def test_cn_with_embedded_nul_never_matches(ctx):
    """CN = "example.com\\0.evil.invalid", no SAN, recipient example.com:
    the part before the NUL equals the domain, the name is refused."""
    _nul_case(ctx, W["conf_nulcn"])


def test_dnsname_with_embedded_nul_never_matches(ctx):
    _nul_case(ctx, W["conf_nulsan"])


# ---- DNS -------------------------------------------------------------------

def test_dns_control_verified(ctx):
    rc, d = run(ctx, W["conf"], "ok.h.test")
    assert rc == 0 and d["verified"] is True, dump(d)


def test_dns_tc_bit_retried_over_tcp(ctx):
    rc, d = run(ctx, W["conf"], "tc.h.test")
    assert rc == 0 and d["verified"] is True and d["action"] == "accept", \
        dump(d)
    q = W["dns"].queries()
    assert ("udp", "tc.h.test", "MX") in q and ("tcp", "tc.h.test", "MX") \
        in q, "no UDP then TCP MX query: %r" % q


def test_dns_tc_then_silent_tcp_is_bounded(ctx):
    """TC bit on UDP, then a TCP server that reads the query and never
    answers: glibc's own TCP retry has no timeout; ours ends at the DNS
    timeout, and the verdict is temporary."""
    t0 = time.monotonic()
    rc, d = run(ctx, W["conf"], "tcstall.h.test")
    took = time.monotonic() - t0
    fail_closed(d, rc, 75)
    assert d["xcode"] == "4.4.3" and "TCP" in d["reason"], dump(d)
    assert took < DNS_TIMEOUT + 3, "took %.1f s" % took
    q = W["dns"].queries()
    assert ("tcp", "tcstall.h.test", "MX") in q, q


def test_dns_cname_loop_defers(ctx):
    """loop.h.test CNAME loop2.h.test CNAME loop.h.test, answered with
    NOERROR: dns.c calls it a CNAME loop (DNS_INVALID), so the verdict is
    temporary (a recursive server would have said SERVFAIL), not "no MX
    and no address"."""
    rc, d = run(ctx, W["conf"], "loop.h.test")
    fail_closed(d, rc, 75)
    assert "CNAME loop" in json.dumps(d), dump(d)
    assert d.get("xcode") == "4.4.3", dump(d)
    n = sum(1 for p, name, t in W["dns"].queries() if name.startswith("loop"))
    assert n <= 8, "%d queries for the loop" % n


def test_dns_ptr_with_300_names_bounded(ctx):
    """300 PTR names (over 512 bytes: TC, then TCP). The confirmed name
    first: verified through the PTR. At most REFS_MAXPTR (8) names are
    forward-checked."""
    rc, d = run(ctx, W["conf"], "ptr1.h.test")
    assert rc == 0 and d["verified"] is True, dump(d)
    assert d["matched"]["source"] == "ptr", dump(d)
    fwd = [q for q in W["dns"].queries()
           if q[2] == "A" and q[1].endswith(".many.h.test")]
    assert len(fwd) <= 8, "%d forward lookups of PTR names" % len(fwd)


def test_dns_ptr_confirmed_name_beyond_limit_not_used(ctx):
    rc, d = run(ctx, W["conf"], "ptr2.h.test")
    fail_closed(d, rc, 1)


def test_dns_short_mx_record_defers(ctx):
    rc, d = run(ctx, W["conf"], "shortmx.h.test")
    fail_closed(d, rc, 75)
    assert d.get("xcode") in (None, "4.4.3"), dump(d)


def _bad_resolver(ctx, beh):
    rc, d = run(ctx, W["conf_" + beh], "ok.h.test")
    fail_closed(d, rc, 75)
    assert W["bad"][beh].queries(), "the resolver was never asked"


def test_dns_garbage_answers_defer(ctx):
    _bad_resolver(ctx, "garbage")


def test_dns_garbage_with_right_id_defers(ctx):
    _bad_resolver(ctx, "garbage_id")


def test_dns_wrong_id_defers(ctx):
    _bad_resolver(ctx, "wrong_id")


def test_dns_answer_to_another_question_defers(ctx):
    _bad_resolver(ctx, "wrong_question")


def test_dns_answer_for_another_owner_is_not_a_forward_confirmation(ctx):
    """PTR(IP) = mx0a.emailhosted.not and the certificate's CN is
    *.emailhosted.not (the seed's verify case), but the answer to
    "A mx0a.emailhosted.not" holds only an A record owned by another name
    (unrelated.invalid) with the connected IP: that record is ignored, so
    the PTR name is not forward-confirmed and not a reference identifier."""
    rc, d = run(ctx, W["conf"], "foreign.h.test")
    fail_closed(d, rc, 1)
    assert d["tls"] is True and d["certificate"] == "valid", dump(d)
    q = W["dns"].queries()
    assert ("udp", "mx0a.emailhosted.not", "A") in q, \
        "the PTR name was never forward-checked: %r" % q
