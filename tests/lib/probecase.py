"""Shared helpers of the tlsverify-probe integration tests (test_probe_*.py).

run() calls tlsverify-probe --json and checks that every SPEC 9 key is
present; expect() compares exit status and keys; make_conf() writes a
configuration for a DNS port, a probe port and a CA bundle; serve() starts a
STARTTLS test server stopped with the module. W holds the elapsed time of the
last run() ("last_elapsed") and a counter for configuration file names.
"""
import json
import time

import tvtest

W = {}

SPEC9_KEYS = ("domain", "setting", "tls", "certificate", "verified", "action",
              "host", "ip", "port", "matched", "attempts")
ATTEMPT_KEYS = ("host", "ip", "port", "tls", "certificate", "verified",
                "reason")


def dump(d):
    return json.dumps(d, indent=1, sort_keys=True)


def check_keys(d):
    for k in SPEC9_KEYS:
        assert k in d, "JSON lacks key %r:\n%s" % (k, dump(d))
    for a in d["attempts"] or []:
        for k in ATTEMPT_KEYS:
            assert k in a, "attempt lacks key %r:\n%s" % (k, dump(d))


def run(ctx, conf, domain, setting=None, timeout=60):
    t0 = time.monotonic()
    rc, d, err = tvtest.probe(ctx, conf, domain, setting=setting,
                              timeout=timeout)
    W["last_elapsed"] = time.monotonic() - t0
    assert isinstance(d, dict), "no JSON object (rc=%r), stderr:\n%s" % (
        rc, err)
    check_keys(d)
    return rc, d, err


def expect(d, rc, want_rc, **kw):
    bad = []
    if rc != want_rc:
        bad.append("exit status: want %r, got %r" % (want_rc, rc))
    for k, v in kw.items():
        if d.get(k) != v:
            bad.append("%s: want %r, got %r" % (k, v, d.get(k)))
    assert not bad, "; ".join(bad) + "\n" + dump(d)


def serve(mctx, ip, port, leaf=None, mode="starttls"):
    s = tvtest.SMTPServer(mctx, ip, port, leaf=leaf, mode=mode)
    s.start()
    mctx.cleanup(s.stop)
    return s


def nconn(server):
    n = server.connections()
    return n if isinstance(n, int) else len(n)


def make_conf(mctx, dport, port, bundle, dests, routes=None, milter=None,
              probe=None, timeout=8):
    p = {"port": port, "ca_file": bundle, "timeout": timeout,
         "helo": "probe.test"}
    p.update(probe or {})
    d = {"default": "none"}
    d.update(dests)
    W["nconf"] = W.get("nconf", 0) + 1
    return tvtest.write_conf(
        mctx, milter=milter, probe=p,
        dns={"nameserver": "127.0.0.1:%d" % dport, "timeout": 2},
        destinations=d, smtproutes=routes,
        name="probetests-%d.conf" % W["nconf"])


def not_verified(d, rc, code="450", xcode="4.7.5", want_rc=1):
    """A TLS session with a valid chain whose identity did not match."""
    expect(d, rc, want_rc, tls=True, certificate="valid", verified=False,
           matched=None)
    assert (d.get("code"), d.get("xcode")) == (code, xcode), dump(d)
    assert d.get("action") == ("defer" if code[0] == "4" else "reject"), \
        dump(d)
    assert d.get("result") == "unverified", dump(d)


def matched(d, presented, typ, reference, source):
    want = {"presented": presented, "type": typ, "reference": reference,
            "source": source}
    assert d["matched"] == want, "matched: want %r\n%s" % (want, dump(d))


SEED_MX = ("mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not")
SEED_PTR = ("mx0a.emailhosted.not", "mx0b.emailhosted.not")


def seed_dns(dns, domains, ip1, ip2):
    """The seed's worked example (SPEC 6) in a tvtest.DNS: each domain has
    MX 10 to both SEED_MX hosts, at ip1 and ip2, whose PTR names (SEED_PTR)
    resolve forward to the same addresses."""
    for dom in domains:
        for mx in SEED_MX:
            dns.mx(dom, mx, 10)
    for mx, ptr, ip in zip(SEED_MX, SEED_PTR, (ip1, ip2)):
        dns.a(mx, ip)
        dns.ptr(ip, ptr)
        dns.a(ptr, ip)
    return dns
