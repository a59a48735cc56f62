"""Integration tests of tlsverify-probe: the seed's worked example (SPEC 6).

Two MX hosts of example.com, mx01/mx02.subd.emailhosted.not, on 127.0.1.2 and
127.0.1.3, whose PTR names mx0a/mx0b.emailhosted.not resolve back to them
(forward-confirmed). Both present CN=*.emailhosted.not with the DNS-IDs
*.emailhosted.not and emailhosted.not, signed by the test CA.
"required-verify" matches the CN with the PTR name (verified);
"required-verify-hosted" compares the DNS-IDs with the domain and the MX names
only, and *.emailhosted.not does not match mx01.subd.emailhosted.not
(a wildcard stands for exactly one label): not verified.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402

IP1 = "127.0.1.2"
IP2 = "127.0.1.3"
MX1 = "mx01.subd.emailhosted.not"
MX2 = "mx02.subd.emailhosted.not"
W = {}
from probecase import dump, expect, run  # noqa: E402


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA seed")
    leaf = ca.issue(cn="*.emailhosted.not",
                    sans=("*.emailhosted.not", "emailhosted.not"))
    dns = tvtest.DNS(mctx)
    dns.mx("example.com", MX1, 10)
    dns.mx("example.com", MX2, 10)
    dns.a(MX1, IP1)
    dns.a(MX2, IP2)
    dns.ptr(IP1, "mx0a.emailhosted.not")
    dns.ptr(IP2, "mx0b.emailhosted.not")
    dns.a("mx0a.emailhosted.not", IP1)
    dns.a("mx0b.emailhosted.not", IP2)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    port = mctx.port()
    servers = []
    for ip in (IP1, IP2):
        s = tvtest.SMTPServer(mctx, ip, port, leaf=leaf)
        s.start()
        mctx.cleanup(s.stop)
        servers.append(s)
    bundle = tvtest.ca_bundle(mctx, ca)
    common = dict(
        probe={"port": port, "ca_file": bundle, "timeout": 8,
               "helo": "probe.test"},
        dns={"nameserver": "127.0.0.1:%d" % dport, "timeout": 2},
        destinations={"default": "none", "example.com": "required-verify"})
    W.update(port=port, servers=servers, ca=ca, leaf=leaf,
             conf=tvtest.write_conf(mctx, name="seed.conf", **common),
             conf_reject=tvtest.write_conf(mctx, milter={"on_fail": "reject"},
                                           name="seed-reject.conf", **common))


def test_seed_required_verify_is_verified_by_ptr(ctx):
    rc, d, _ = run(ctx, W["conf"], "example.com")
    expect(d, rc, 0, domain="example.com", setting="required-verify",
           tls=True, certificate="valid", verified=True, action="accept",
           host=MX1, ip=IP1, port=W["port"],
           matched={"presented": "*.emailhosted.not", "type": "CN",
                    "reference": "mx0a.emailhosted.not", "source": "ptr"})
    assert d.get("result") == "verified", dump(d)
    assert d.get("code") is None, dump(d)
    # the first host verified: the probe ends there
    assert len(d["attempts"]) == 1, dump(d)
    a = d["attempts"][0]
    assert (a["host"], a["ip"], a["port"], a["tls"], a["certificate"],
            a["verified"]) == (MX1, IP1, W["port"], True, "valid", True), \
        dump(d)


def test_seed_hosted_is_not_verified_and_deferred(ctx):
    rc, d, _ = run(ctx, W["conf"], "example.com",
                   setting="required-verify-hosted")
    expect(d, rc, 1, domain="example.com", setting="required-verify-hosted",
           tls=True, certificate="valid", verified=False, action="defer",
           matched=None, host=MX1, ip=IP1, port=W["port"])
    assert d.get("code") == "450" and d.get("xcode") == "4.7.5", dump(d)
    assert d.get("result") == "unverified", dump(d)
    assert d.get("temporary") is False, dump(d)
    got = [(a["host"], a["ip"], a["tls"], a["certificate"], a["verified"])
           for a in d["attempts"]]
    assert got == [(MX1, IP1, True, "valid", False),
                   (MX2, IP2, True, "valid", False)], dump(d)
    for a in d["attempts"]:
        assert a["reason"], "attempt without a reason:\n" + dump(d)
    assert "example.com" in (d.get("text") or ""), dump(d)


def test_seed_hosted_with_on_fail_reject(ctx):
    rc, d, _ = run(ctx, W["conf_reject"], "example.com",
                   setting="required-verify-hosted")
    expect(d, rc, 1, verified=False, action="reject", matched=None)
    assert d.get("code") == "550" and d.get("xcode") == "5.7.5", dump(d)


def test_seed_required_verify_with_on_fail_reject_still_accepts(ctx):
    rc, d, _ = run(ctx, W["conf_reject"], "example.com")
    expect(d, rc, 0, verified=True, action="accept", ip=IP1)


def test_seed_preferred_verify_is_verified(ctx):
    rc, d, _ = run(ctx, W["conf"], "example.com", setting="preferred-verify")
    expect(d, rc, 0, verified=True, action="accept", ip=IP1,
           setting="preferred-verify")
    assert d["matched"] and d["matched"]["source"] == "ptr", dump(d)


def test_seed_required_accepts_tls(ctx):
    rc, d, _ = run(ctx, W["conf"], "example.com", setting="required")
    expect(d, rc, 0, tls=True, certificate="valid", action="accept", ip=IP1)
