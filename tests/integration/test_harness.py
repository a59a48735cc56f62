"""test_harness - self-tests of the test harness (tests/lib): the DNS
server answers as configured, the CA makes certificates openssl judges as
intended, the SMTP test server speaks STARTTLS and misbehaves on demand."""

import os
import smtplib
import socket
import ssl
import time

import tvtest
from tvtest import CA, DNS, SMTPServer, dns_query


def test_dns_records(ctx):
    dns = DNS(ctx)
    dns.a("mx01.example.test", "127.0.0.2")
    dns.aaaa("mx01.example.test", "::1")
    dns.a("v4only.example.test", "127.0.0.3")
    dns.ptr("127.0.0.2", "mx0a.hosted.test")
    dns.ptr("::1", "v6.hosted.test")
    dns.cname("alias.example.test", "mx01.example.test")
    dns.txt("example.test", "hello")
    port = dns.start()
    assert port == dns.port and dns.nameserver == "127.0.0.1:%d" % port

    r = dns_query(port, "mx01.example.test", "A")
    assert (r["rcode"], r["answers"]) == ("NOERROR", [("A", "127.0.0.2")]), r
    r = dns_query(port, "MX01.Example.Test.", "AAAA")
    assert r["answers"] == [("AAAA", "::1")], r
    r = dns_query(port, "2.0.0.127.in-addr.arpa", "PTR")
    assert r["answers"] == [("PTR", "mx0a.hosted.test")], r
    r = dns.query("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", "PTR")
    assert r["answers"] == [("PTR", "v6.hosted.test")], r
    r = dns.query("alias.example.test", "A")
    assert r["answers"] == [("CNAME", "mx01.example.test"), ("A", "127.0.0.2")], r
    r = dns.query("example.test", "TXT")
    assert r["answers"] == [("TXT", "hello")], r


def test_dns_no_automatic_ptr_and_nxdomain(ctx):
    dns = DNS(ctx)
    dns.a("host.example.test", "127.0.0.7")
    dns.start()
    # an A record must not create a PTR
    r = dns.query("7.0.0.127.in-addr.arpa", "PTR")
    assert r["rcode"] == "NXDOMAIN" and r["answers"] == [], r
    # unknown names: NXDOMAIN, fast
    t = time.monotonic()
    r = dns.query("nothing-here.example.test", "A")
    assert r["rcode"] == "NXDOMAIN", r
    r = dns.query("unknown.invalid", "MX")
    assert r["rcode"] == "NXDOMAIN", r
    assert time.monotonic() - t < 1.0
    # a known name, other type: NODATA (NOERROR, no answer), not NXDOMAIN
    for qt in ("MX", "AAAA", "TXT"):
        r = dns.query("host.example.test", qt)
        assert (r["rcode"], r["answers"]) == ("NOERROR", []), (qt, r)


def test_dns_mx_order_is_call_order(ctx):
    dns = DNS(ctx)
    dns.mx("example.test", "mx02.example.test", 10)
    dns.mx("example.test", "mx01.example.test", 10)
    dns.mx("example.test", "mx03.example.test", 20)
    dns.mx("other.test", "a.other.test", 5)
    dns.mx("other.test", "b.other.test", 5)
    dns.nullmx("null.test")
    dns.start()
    r = dns.query("example.test", "MX")
    assert r["answers"] == [("MX", (10, "mx02.example.test")),
                            ("MX", (10, "mx01.example.test")),
                            ("MX", (20, "mx03.example.test"))], r
    r = dns.query("other.test", "MX")
    assert r["answers"] == [("MX", (5, "a.other.test")), ("MX", (5, "b.other.test"))], r
    r = dns.query("null.test", "MX")
    assert r["answers"] == [("MX", (0, ""))], r
    # the domain with only MX records has no address: NODATA
    r = dns.query("example.test", "A")
    assert (r["rcode"], r["answers"]) == ("NOERROR", []), r


def test_dns_servfail(ctx):
    dns = DNS(ctx)
    dns.servfail("broken.test")
    dns.a("fine.test", "127.0.0.2")
    dns.start()
    for name, qt in (("broken.test", "MX"), ("mx.broken.test", "A"),
                     ("deep.sub.broken.test", "AAAA")):
        t = time.monotonic()
        r = dns.query(name, qt, timeout=3)
        assert r["rcode"] == "SERVFAIL", (name, qt, r)
        assert time.monotonic() - t < 1.5
    # the rest still works alongside, and unknown names stay NXDOMAIN
    assert dns.query("fine.test")["answers"] == [("A", "127.0.0.2")]
    assert dns.query("notbroken.test")["rcode"] == "NXDOMAIN"


def test_dns_restart_and_stop(ctx):
    dns = DNS(ctx)
    dns.a("a.test", "127.0.0.2")
    port = dns.start()
    dns.a("b.test", "127.0.0.3")
    assert dns.restart() == port
    assert dns.query("b.test")["answers"] == [("A", "127.0.0.3")]
    pid = dns.proc.pid
    dns.stop()
    assert not os.path.exists("/proc/%d" % pid) or \
        open("/proc/%d/stat" % pid).read().split()[2] == "Z"
    try:
        dns_query(port, "a.test", "A", timeout=0.3)
        raise AssertionError("stopped dnsmasq still answers")
    except OSError:
        pass


def _openssl(ctx, *args):
    return ctx.run(["openssl"] + list(args))


def test_ca_verify(ctx):
    ca = CA(ctx)
    good = ca.issue("mx.example.test", sans=["mx.example.test", "IP:127.0.0.2"])
    cp = _openssl(ctx, "verify", "-CAfile", ca.cert, good.cert)
    assert cp.returncode == 0 and ": OK" in cp.stdout, cp.stdout + cp.stderr
    cp = _openssl(ctx, "x509", "-in", good.cert, "-noout", "-subject", "-ext",
                  "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints")
    out = cp.stdout
    assert "CN = mx.example.test" in out, out
    assert "DNS:mx.example.test" in out and "IP Address:127.0.0.2" in out, out
    assert "TLS Web Server Authentication" in out and "Digital Signature" in out, out
    cp = _openssl(ctx, "x509", "-in", ca.cert, "-noout", "-ext", "basicConstraints,keyUsage")
    assert "CA:TRUE" in cp.stdout and "Certificate Sign" in cp.stdout \
        and "CRL Sign" in cp.stdout, cp.stdout
    # another CA's leaf is not trusted by this one
    other = CA(ctx, "Other CA").issue("mx.example.test")
    cp = _openssl(ctx, "verify", "-CAfile", ca.cert, other.cert)
    assert cp.returncode != 0, cp.stdout


def test_ca_expired_and_not_yet_valid(ctx):
    ca = CA(ctx)
    old = ca.issue("old.example.test", not_after_days=-1)
    cp = _openssl(ctx, "verify", "-CAfile", ca.cert, old.cert)
    assert cp.returncode != 0 and "certificate has expired" in cp.stdout + cp.stderr, \
        cp.stdout + cp.stderr
    new = ca.issue("new.example.test", not_before_days=2, not_after_days=30)
    cp = _openssl(ctx, "verify", "-CAfile", ca.cert, new.cert)
    assert cp.returncode != 0 and "not yet valid" in cp.stdout + cp.stderr, \
        cp.stdout + cp.stderr


def test_ca_revoke_crl(ctx):
    ca = CA(ctx)
    bad = ca.issue("bad.example.test")
    good = ca.issue("good.example.test")
    ca.revoke(bad)
    crl = ca.crl()
    cp = _openssl(ctx, "verify", "-crl_check", "-CAfile", ca.cert, "-CRLfile", crl, bad.cert)
    assert cp.returncode != 0 and "revoked" in cp.stdout + cp.stderr, cp.stdout + cp.stderr
    cp = _openssl(ctx, "verify", "-crl_check", "-CAfile", ca.cert, "-CRLfile", crl, good.cert)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    der = ca.crl_der()
    cp = _openssl(ctx, "crl", "-inform", "DER", "-in", der, "-noout", "-text")
    assert bad.serial.upper() in cp.stdout.upper().replace(":", ""), cp.stdout


def test_ca_intermediate_and_empty_subject(ctx):
    root = CA(ctx, "Root")
    sub = root.intermediate("Sub")
    leaf = sub.issue(None, sans=["a.example.test"])
    bundle = tvtest.ca_bundle(ctx, root)
    cp = _openssl(ctx, "verify", "-CAfile", bundle, "-untrusted", leaf.chain, leaf.cert)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    cp = _openssl(ctx, "verify", "-CAfile", bundle, leaf.cert)
    assert cp.returncode != 0, "leaf verified without its intermediate"
    with open(leaf.chain) as f:
        assert f.read().count("BEGIN CERTIFICATE") == 2
    cp = _openssl(ctx, "x509", "-in", leaf.cert, "-noout", "-subject", "-ext", "subjectAltName")
    assert cp.stdout.splitlines()[0].strip() == "subject=", cp.stdout
    assert "critical" in cp.stdout, cp.stdout
    both = tvtest.ca_bundle(ctx, root, CA(ctx, "Other"))
    with open(both) as f:
        assert f.read().count("BEGIN CERTIFICATE") == 2


def test_smtp_starttls_openssl(ctx):
    ca = CA(ctx)
    leaf = ca.issue("mx.harness.test", sans=["mx.harness.test"])
    port = ctx.port()
    srv = SMTPServer(ctx, "127.0.0.2", port, leaf=leaf).start()
    assert srv.connections() == 0
    cp = ctx.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                  "127.0.0.2:%d" % port, "-CAfile", ca.cert, "-verify_return_error",
                  "-servername", "mx.harness.test"], input="QUIT\r\n", timeout=20)
    out = cp.stdout + cp.stderr
    assert "subject=CN = mx.harness.test" in out, out[-3000:]
    assert "Verify return code: 0 (ok)" in out, out[-3000:]
    assert srv.connections() == 1
    cp = ctx.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                  "127.0.0.2:%d" % port], input="QUIT\r\n", timeout=20)
    assert srv.connections() == 2


def test_smtp_starttls_smtplib_message(ctx):
    ca = CA(ctx)
    leaf = ca.issue("mx.harness.test", sans=["mx.harness.test"])
    port = ctx.port()
    srv = SMTPServer(ctx, "127.0.0.3", port, leaf=leaf, banner_host="mx.harness.test")
    srv.start()
    tls = ssl.create_default_context(cafile=ca.cert)
    tls.check_hostname = False          # connected by IP address
    with smtplib.SMTP("127.0.0.3", port, local_hostname="client.test", timeout=10) as s:
        code, msg = s.ehlo()
        assert code == 250 and s.has_extn("starttls"), msg
        s.starttls(context=tls)
        s.ehlo()
        assert not s.has_extn("starttls")
        s.sendmail("a@client.test", ["b@example.test", "c@example.test"],
                   b"Subject: hi\r\n\r\nline one\r\n.dot line\r\n")
    msgs = srv.messages()
    assert len(msgs) == 1, msgs
    assert msgs[0] == b"Subject: hi\r\n\r\nline one\r\n.dot line\r\n", msgs
    env = srv.envelopes()[0]
    assert env["tls"] is True and env["rcpt"] == ["TO:<b@example.test>", "TO:<c@example.test>"], env
    assert srv.connections() == 1


def test_smtp_plain_ipv6(ctx):
    if not socket.has_ipv6:
        return
    port = ctx.port()
    srv = SMTPServer(ctx, "::1", port, mode="plain").start()
    with smtplib.SMTP("::1", port, timeout=10) as s:
        s.ehlo()
        assert not s.has_extn("starttls")
        s.sendmail("a@x.test", ["b@y.test"], b"x\r\n")
    assert srv.messages() == [b"x\r\n"]
    assert srv.envelopes()[0]["tls"] is False


def _read_some(ip, port, seconds):
    s = socket.create_connection((ip, port), timeout=seconds)
    s.settimeout(seconds)
    try:
        return s.recv(100)
    except socket.timeout:
        return None
    finally:
        s.close()


def test_smtp_silent(ctx):
    port = ctx.port()
    srv = SMTPServer(ctx, "127.0.0.4", port, mode="silent").start()
    t = time.monotonic()
    assert _read_some("127.0.0.4", port, 2.0) is None
    assert time.monotonic() - t >= 1.9
    assert srv.connections() == 1


def _smtp_exchange(ip, port, *cmds, timeout=5):
    """Send commands one by one; returns all bytes read."""
    s = socket.create_connection((ip, port), timeout=timeout)
    data = b""
    try:
        data += s.recv(4096)
        for c in cmds:
            s.sendall(c + b"\r\n")
            time.sleep(0.2)
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionError):
                break
            data += chunk
            if not chunk:
                break
    finally:
        s.close()
    return data


def test_smtp_misbehaving_modes(ctx):
    ca = CA(ctx)
    leaf = ca.issue("mx.harness.test")
    ip = "127.0.0.5"
    cases = {
        "banner554": (lambda d: d.startswith(b"554 ")),
        "starttls454": (lambda d: b"454 4.7.0 TLS not available" in d),
        "starttls_close": (lambda d: b"\r\n220 2.0.0" in d),
        "endless_ehlo": (lambda d: d.count(b"250-x\r\n") > 100),
        "longline": (lambda d: d.startswith(b"220 ") and b"250 xxxxxxxx" in d),
        "alert": (lambda d: d.endswith(b"\x15\x03\x03\x00\x02\x02\x28")),
    }
    for mode, check in cases.items():
        port = ctx.port()
        srv = SMTPServer(ctx, ip, port, leaf=leaf, mode=mode).start()
        cmds = [b"EHLO client.test"]
        if mode in ("starttls454", "starttls_close", "alert"):
            cmds.append(b"STARTTLS")
        if mode == "alert":
            cmds.append(b"\x16\x03\x01\x00\x05hello")   # looks like a ClientHello
        data = _smtp_exchange(ip, port, *cmds)
        assert check(data), (mode, data[:300], data[-100:])
        srv.stop()
    # a real TLS client sees the alert as a handshake failure
    port = ctx.port()
    SMTPServer(ctx, ip, port, leaf=leaf, mode="alert").start()
    cp = ctx.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                  "%s:%d" % (ip, port)], input="", timeout=20)
    assert cp.returncode != 0 and "alert" in cp.stdout + cp.stderr, cp.stdout + cp.stderr


def test_smtp_drip_and_delay(ctx):
    ca = CA(ctx)
    leaf = ca.issue("mx.harness.test")
    port = ctx.port()
    SMTPServer(ctx, "127.0.0.6", port, leaf=leaf, mode="drip").start()
    t = time.monotonic()
    got = _read_some("127.0.0.6", port, 3.0)
    assert got is not None and len(got) <= 3, got
    port = ctx.port()
    SMTPServer(ctx, "127.0.0.6", port, leaf=leaf, delay=1.5).start()
    t = time.monotonic()
    got = _read_some("127.0.0.6", port, 5.0)
    assert got.startswith(b"220 ") and time.monotonic() - t >= 1.4, got


def test_smtp_concurrent(ctx):
    ca = CA(ctx)
    leaf = ca.issue("mx.harness.test")
    port = ctx.port()
    srv = SMTPServer(ctx, "127.0.0.7", port, leaf=leaf).start()
    socks = [socket.create_connection(("127.0.0.7", port), timeout=5) for _ in range(20)]
    try:
        banners = [s.recv(100) for s in socks]
    finally:
        for s in socks:
            s.close()
    assert all(b.startswith(b"220 mx.test") for b in banners), banners
    tvtest.wait_for(lambda: srv.connections() == 20, 5, what="20 connections")


def test_ctx_run_sanitizer_detection(ctx):
    cp = ctx.run(["sh", "-c", "echo hi; exit 3"])
    assert cp.returncode == 3 and cp.stdout == "hi\n"
    for script in ("echo '==1==ERROR: AddressSanitizer: heap-use-after-free' >&2",
                   "echo 'x.c:3:5: runtime error: signed integer overflow' >&2",
                   "exit 86", "exit 87"):
        try:
            ctx.run(["sh", "-c", script])
        except AssertionError:
            continue
        raise AssertionError("not detected: " + script)
    assert os.environ["ASAN_OPTIONS"].endswith("exitcode=86")
    assert os.environ.get("TV_BUILD") == ctx.build


def test_ctx_ports_and_tmp(ctx):
    ports = {ctx.port() for _ in range(50)}
    assert len(ports) == 50 and all(1024 < p < 65536 for p in ports)
    assert os.path.isdir(ctx.tmp) and os.listdir(ctx.tmp) == []
    assert os.path.basename(ctx.tmp) == "test_ctx_ports_and_tmp", ctx.tmp
    conf = tvtest.write_conf(ctx, probe={"port": 2525, "timeout": 10},
                             destinations={"default": "none", "a.test": "required"},
                             smtproutes={"a.test": ["x.test/0", "127.0.0.2:25/1"]})
    with open(conf) as f:
        text = f.read()
    assert "[probe]\nport = 2525\ntimeout = 10\n" in text, text
    assert "a.test = x.test/0, 127.0.0.2:25/1" in text, text
    assert text.index("[probe]") < text.index("[destinations]") < text.index("[smtproutes]")


def test_spawn_leak_is_stopped(ctx):
    p = ctx.spawn(["sleep", "300"])
    assert p.poll() is None
    # left running on purpose: run.py must stop it after this test
    test_spawn_leak_is_stopped.pid = p.pid


def test_spawn_leak_was_stopped(ctx):
    pid = getattr(test_spawn_leak_is_stopped, "pid", None)
    if pid is None:
        return
    alive = os.path.exists("/proc/%d" % pid)
    if alive:
        with open("/proc/%d/stat" % pid) as f:
            alive = f.read().rsplit(")", 1)[1].split()[0] != "Z"
    assert not alive, "leaked sleep %d still running" % pid
