"""Integration tests of tlsverify-probe's command line (SPEC 9): usage
errors (64), configuration errors (78, "FILE:LINE:" on stderr), -s
overriding the destination table, and the readable explanation of the
seed's worked example (DNS answers, forward confirmation, presented and
reference identifiers, which matched).

World: the seed example (SPEC 6) on 127.0.7.2/127.0.7.3.
"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402


from probecase import (W, check_keys, dump, expect, make_conf,  # noqa: E402,F401
                       matched, nconn, not_verified, run, serve)

IP1, IP2 = "127.0.7.2", "127.0.7.3"
MX1, MX2 = "mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA cli")
    leaf = ca.issue(cn="*.emailhosted.not",
                    sans=("*.emailhosted.not", "emailhosted.not"))
    dns = tvtest.DNS(mctx)
    for dom in ("example.com", "cli.test", "xn--n3h.net"):
        dns.mx(dom, MX1, 10).mx(dom, MX2, 10)
    dns.a(MX1, IP1).a(MX2, IP2)
    dns.ptr(IP1, "mx0a.emailhosted.not").ptr(IP2, "mx0b.emailhosted.not")
    dns.a("mx0a.emailhosted.not", IP1).a("mx0b.emailhosted.not", IP2)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    port = mctx.port()
    servers = [serve(mctx, ip, port, leaf) for ip in (IP1, IP2)]
    bundle = tvtest.ca_bundle(mctx, ca)
    W.update(port=port, servers=servers, conf=make_conf(
        mctx, dport, port, bundle,
        {"example.com": "required-verify", "cli.test": "none",
         "xn--n3h.net": "required-verify"}))


def bin_path(ctx):
    return os.path.join(ctx.build, "tlsverify-probe")


def conns():
    return sum(nconn(s) for s in W["servers"])


# usage errors: 64
def test_cli_no_domain_is_usage_error(ctx):
    cp = ctx.run([bin_path(ctx), "-c", W["conf"], "--json"])
    assert cp.returncode == 64, (cp.returncode, cp.stderr)
    assert cp.stderr.strip(), "no usage message on stderr"


def test_cli_unknown_option_is_usage_error(ctx):
    cp = ctx.run([bin_path(ctx), "-c", W["conf"], "--bogus", "example.com"])
    assert cp.returncode == 64, (cp.returncode, cp.stderr)


def test_cli_unknown_setting_is_usage_error(ctx):
    before = conns()
    cp = ctx.run([bin_path(ctx), "-c", W["conf"], "-s", "required-verfy",
                  "--json", "example.com"])
    assert cp.returncode == 64, (cp.returncode, cp.stderr)
    assert conns() == before, "probed despite a usage error"


def test_cli_missing_option_argument_is_usage_error(ctx):
    cp = ctx.run([bin_path(ctx), "example.com", "-s"])
    assert cp.returncode == 64, (cp.returncode, cp.stderr)


def test_cli_two_domains_is_usage_error(ctx):
    cp = ctx.run([bin_path(ctx), "-c", W["conf"], "example.com", "cli.test"])
    assert cp.returncode == 64, (cp.returncode, cp.stderr)


# configuration errors: 78 with FILE:LINE:
def bad_conf(ctx, text, line):
    path = os.path.join(ctx.tmp, "bad.conf")
    with open(path, "w") as f:
        f.write(text)
    cp = ctx.run([bin_path(ctx), "-c", path, "--json", "example.com"])
    assert cp.returncode == 78, (cp.returncode, cp.stdout, cp.stderr)
    want = "%s:%d:" % (path, line)
    assert want in cp.stderr, "stderr lacks %r: %r" % (want, cp.stderr)


def test_cli_unknown_setting_in_config(ctx):
    bad_conf(ctx, "[probe]\nport = 2525\n\n[destinations]\n"
             "example.com = required-verify\nbad.test = requird-verify\n", 6)


def test_cli_unknown_key_in_config(ctx):
    bad_conf(ctx, "[probe]\nport = 2525\ntimeout = 5\nbogus = 1\n", 4)


def test_cli_malformed_route_in_config(ctx):
    bad_conf(ctx, "[smtproutes]\nok.test = 127.0.0.2\n"
             "bad.test = host.test:notaport\n", 3)


def test_cli_bad_number_in_config(ctx):
    bad_conf(ctx, "[probe]\ntimeout = soon\n", 2)


def test_cli_missing_config_file(ctx):
    path = os.path.join(ctx.tmp, "does-not-exist.conf")
    cp = ctx.run([bin_path(ctx), "-c", path, "--json", "example.com"])
    assert cp.returncode == 78, (cp.returncode, cp.stderr)
    assert path in cp.stderr, cp.stderr


# -s overrides the table
def test_cli_table_setting_used_without_s(ctx):
    before = conns()
    rc, d, _ = run(ctx, W["conf"], "cli.test")
    expect(d, rc, 0, setting="none", action="accept", tls=None, host=None)
    assert conns() == before, "a connection was made under none"


def test_cli_s_overrides_none(ctx):
    before = conns()
    rc, d, _ = run(ctx, W["conf"], "cli.test", setting="required-verify")
    expect(d, rc, 0, setting="required-verify", verified=True,
           action="accept", ip=IP1)
    assert conns() > before


def test_cli_s_overrides_required_verify(ctx):
    rc, d, _ = run(ctx, W["conf"], "example.com",
                   setting="required-verify-hosted")
    expect(d, rc, 1, setting="required-verify-hosted", verified=False,
           action="defer")


def test_cli_s_none_overrides_required_verify(ctx):
    before = conns()
    rc, d, _ = run(ctx, W["conf"], "example.com", setting="none")
    expect(d, rc, 0, setting="none", action="accept", ip=None)
    assert conns() == before


# an IDN that IDNA2008 refuses but UTS#46 maps, as the MTA does
def test_cli_domain_uts46_alabel(ctx):
    """\u2603.net is probed as xn--n3h.net: that key's setting, DNS
    queries (the test DNS knows only the A-label) and the reference
    identifier all use the A-label."""
    before = conns()
    rc, d, _ = run(ctx, W["conf"], "\u2603.net")
    expect(d, rc, 0, domain="xn--n3h.net", setting="required-verify",
           verified=True, action="accept")
    assert conns() > before


# the readable explanation
def text_of(ctx, setting=None):
    rc, out, err = tvtest.probe(ctx, W["conf"], "example.com",
                                setting=setting, json=False)
    return rc, out, err


def lines_with(text, *words):
    return [ln for ln in text.splitlines()
            if all(w.lower() in ln.lower() for w in words)]


def test_cli_text_seed_example_explains_every_step(ctx):
    rc, out, err = text_of(ctx)
    assert rc == 0, (rc, out, err)
    assert out.strip(), "no text output; stderr: %s" % err
    problems = []
    checks = [
        ("an MX line", ("mx", MX1)),
        ("an MX line for the second MX", ("mx", MX2)),
        ("an address line for the MX", (MX1, IP1)),
        ("a PTR line", ("ptr", "mx0a.emailhosted.not")),
        ("the presented CN", ("*.emailhosted.not",)),
        ("the presented identifier with the reference",
         ("*.emailhosted.not", "mx0a.emailhosted.not")),
        ("the domain as a reference", ("example.com",)),
    ]
    for what, words in checks:
        if not lines_with(out, *words):
            problems.append("%s (a line with %r)" % (what, words))
    fwd = [ln for ln in lines_with(out, "mx0a.emailhosted.not", IP1)
           if "forward" in ln.lower() or "confirm" in ln.lower()]
    if not fwd:
        problems.append("the forward confirmation of the PTR name (a line "
                        "with mx0a.emailhosted.not, %s and 'forward' or "
                        "'confirm')" % IP1)
    low = out.lower()
    if "verified" not in low:
        problems.append("the verdict ('verified')")
    assert not problems, "text output lacks: %s\n---\n%s" % (
        "; ".join(problems), out)


def test_cli_text_hosted_failure_names_both_hosts(ctx):
    rc, out, err = text_of(ctx, setting="required-verify-hosted")
    assert rc == 1, (rc, out, err)
    for w in (MX1, MX2, IP1, IP2, "*.emailhosted.not"):
        assert w in out, "text output lacks %r\n---\n%s" % (w, out)


def test_cli_text_under_none_says_not_probed(ctx):
    before = conns()
    rc, out, err = text_of(ctx, setting="none")
    assert rc == 0, (rc, out, err)
    assert "none" in out and "example.com" in out, out
    assert conns() == before, "a connection was made under none"
