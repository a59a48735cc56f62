"""Integration tests of tlsverify-probe: a resolver answer reused within one
probe (issue 14). Under "verify" a CN may match the forward-confirmed PTR
name (SPEC 4.1 step 2b). When that PTR name is the MX host whose A answer
gave the connected address in this very probe, A(PTR(IP)) = IP is already
known: the probe says so in its trace and does not ask the A record again.
A PTR name that is not such a host is still asked forward, as before.

Servers on 127.0.78.x; dnsmasq's query log counts what was asked.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
from probecase import W, expect, make_conf, matched, run, serve  # noqa: E402

IP_SAME = "127.0.78.2"      # PTR name = MX host name
IP_OTHER = "127.0.78.3"     # PTR name = another name, same address
MX_SAME = "mx.same.fk-host.test"
MX_OTHER = "mx.other.fk-host.test"
PTR_OTHER = "ptr.other.fk-host.test"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA fwd-known")
    port = mctx.port()
    serve(mctx, IP_SAME, port, ca.issue(cn=MX_SAME))        # CN only
    serve(mctx, IP_OTHER, port, ca.issue(cn=PTR_OTHER))     # CN only
    dns = tvtest.DNS(mctx)
    dns.mx("same.fk.test", MX_SAME, 10).a(MX_SAME, IP_SAME)
    dns.ptr(IP_SAME, MX_SAME)
    dns.mx("other.fk.test", MX_OTHER, 10).a(MX_OTHER, IP_OTHER)
    dns.ptr(IP_OTHER, PTR_OTHER).a(PTR_OTHER, IP_OTHER)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    W["dns"] = dns
    W["conf"] = make_conf(mctx, dport, port, tvtest.ca_bundle(mctx, ca),
                          {".fk.test": "required-verify"})


def queries(qtype, name):
    with open(W["dns"].log, errors="replace") as f:
        return f.read().count("query[%s] %s " % (qtype, name))


def trace(ctx, domain):
    cp = subprocess.run([os.path.join(ctx.build, "tlsverify-probe"), "-c",
                         W["conf"], domain], capture_output=True, text=True,
                        timeout=60)
    return cp.stdout + cp.stderr


def verified_by_ptr(ctx, domain, ptr_name):
    """Probe domain (verified by its CN = ptr_name, source ptr); returns
    (how many A queries for ptr_name it made, its text trace)."""
    before = queries("A", ptr_name)
    rc, d, _ = run(ctx, W["conf"], domain)
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept")
    matched(d, ptr_name, "CN", ptr_name, "ptr")
    return queries("A", ptr_name) - before, trace(ctx, domain)


def test_ptr_name_is_the_mx_host_forward_check_not_asked_again(ctx):
    asked, out = verified_by_ptr(ctx, "same.fk.test", MX_SAME)
    assert asked == 1, "A %s asked %d times, not once (for the target " \
        "only):\n%s" % (MX_SAME, asked, out)
    assert "A %s: %s, from its answer earlier in this probe " \
        "(forward-confirmed yes; not asked again)" % (MX_SAME, IP_SAME) \
        in out, out


def test_other_ptr_name_is_still_asked_forward(ctx):
    asked, out = verified_by_ptr(ctx, "other.fk.test", PTR_OTHER)
    assert asked == 1, "A %s asked %d times:\n%s" % (PTR_OTHER, asked, out)
    assert "not asked again" not in out, out
