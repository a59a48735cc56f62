"""Integration tests of tlsverify-probe: failures (SPEC 2, 5, 7): DNS down
or SERVFAIL, unreachable hosts, hostile or broken SMTP servers (silent,
endless EHLO, 1 MB line, one byte a second, 454 to STARTTLS, 554 banner,
close after STARTTLS, TLS alert). Every probe ends within its deadline
([probe] timeout) and fails closed: never accept under a required setting;
temporary causes are never permanent verdicts.

Each server is on its own 127.0.8.x address, reached through an IP route.
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

TIMEOUT = 5
MODES = {
    "silent": "127.0.8.2",
    "endless_ehlo": "127.0.8.3",
    "longline": "127.0.8.4",
    "drip": "127.0.8.5",
    "starttls454": "127.0.8.6",
    "banner554": "127.0.8.7",
    "starttls_close": "127.0.8.8",
    "alert": "127.0.8.9",
    "plain": "127.0.8.10",
    "starttls": "127.0.8.11",
}
DOWN1, DOWN2 = "127.0.8.20", "127.0.8.21"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA failures")
    leaf = ca.issue(cn="f.invalid", sans=("*.f.test",))
    port = mctx.port()
    servers = {}
    for mode, ip in MODES.items():
        servers[mode] = serve(mctx, ip, port, leaf, mode=mode)
    dns = tvtest.DNS(mctx)
    dns.mx("ok.f.test", "mx.fhost.test", 10)
    dns.a("mx.fhost.test", MODES["starttls"])
    dns.servfail("sf.f.test")
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    routes = {m + ".f.test": ip for m, ip in MODES.items()}
    routes["alldown.f.test"] = "%s, %s" % (DOWN1, DOWN2)
    routes["plaindown.f.test"] = "%s, %s" % (MODES["plain"], DOWN1)
    routes["downplain.f.test"] = "%s, %s" % (DOWN1, MODES["plain"])
    routes["silentok.f.test"] = "%s, %s" % (MODES["silent"],
                                            MODES["starttls"])
    servers["silent2"] = serve(mctx, "127.0.8.13", port, leaf, mode="silent")
    routes["twosilent.f.test"] = "%s, 127.0.8.13" % MODES["silent"]
    # furthest attempt: down < plain (connected) < TLS (wrong identity)
    bad = ca.issue(cn="other.invalid", sans=("other.invalid",))
    servers["badid"] = serve(mctx, "127.0.8.12", port, bad)
    routes["furthest.f.test"] = "%s, %s, 127.0.8.12, %s" % (
        DOWN1, MODES["plain"], MODES["plain"])
    routes["furthestperm.f.test"] = "%s, 127.0.8.12, %s" % (
        MODES["plain"], MODES["plain"])
    # a DNS server that never answers: bound, never read
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    mctx.cleanup(mute.close)
    W["conf_mutedns"] = make_conf(mctx, mute.getsockname()[1], port, bundle,
                                  {".f.test": "required-verify"},
                                  routes=routes, timeout=TIMEOUT)
    dests = {".f.test": "required-verify"}
    closed = mctx.port()     # nothing listens there
    W.update(port=port, servers=servers,
             conf=make_conf(mctx, dport, port, bundle, dests, routes=routes,
                            timeout=TIMEOUT),
             conf_reject=make_conf(mctx, dport, port, bundle, dests,
                                   routes=routes, timeout=TIMEOUT,
                                   milter={"on_fail": "reject"}),
             conf_nodns=make_conf(mctx, closed, port, bundle, dests,
                                  routes=routes, timeout=TIMEOUT))


def timed(ctx, conf, dom, setting=None):
    rc, d, err = run(ctx, conf, dom, setting=setting)
    el = W["last_elapsed"]
    assert el < TIMEOUT + 3, "probe took %.1fs (timeout %ds)\n%s" % (
        el, TIMEOUT, dump(d))
    return rc, d


def temporary(d, rc, xcode):
    expect(d, rc, 75, action="defer", temporary=True, result="unknown")
    assert d["verified"] is not True, dump(d)
    assert (d.get("code"), d.get("xcode")) == ("451", xcode), dump(d)


def fail_closed(d, rc):
    assert rc in (1, 75), "exit %r\n%s" % (rc, dump(d))
    assert d["action"] in ("defer", "reject"), dump(d)
    assert d["verified"] is not True, dump(d)
    assert d.get("code") and d["code"][0] in "45", dump(d)
    assert d["attempts"] and d["attempts"][0]["reason"], dump(d)
    if rc == 75:
        assert d.get("temporary") is True and d["code"] == "451", dump(d)


# DNS
def test_dns_server_down_is_temporary_443(ctx):
    rc, d = timed(ctx, W["conf_nodns"], "ok.f.test")
    temporary(d, rc, "4.4.3")


def test_dns_servfail_is_temporary_443(ctx):
    rc, d = timed(ctx, W["conf"], "sf.f.test")
    temporary(d, rc, "4.4.3")


def test_dns_down_with_reject_still_451(ctx):
    rc, d = timed(ctx, W["conf_reject"], "sf.f.test")
    expect(d, rc, 75, action="defer")
    assert d.get("code") == "451", dump(d)


def test_dns_down_under_preferred_verify_tags_unknown(ctx):
    rc, d = timed(ctx, W["conf_nodns"], "ok.f.test",
                  setting="preferred-verify")
    expect(d, rc, 0, action="tag", result="unknown", temporary=True)
    assert d.get("code") is None, dump(d)


def test_dns_control_case_resolves(ctx):
    rc, d = timed(ctx, W["conf"], "ok.f.test")
    expect(d, rc, 0, verified=True, action="accept", ip=MODES["starttls"])


# unreachable hosts
def test_all_hosts_down_is_temporary_441(ctx):
    rc, d = timed(ctx, W["conf"], "alldown.f.test")
    temporary(d, rc, "4.4.1")
    assert [a["ip"] for a in d["attempts"]] == [DOWN1, DOWN2], dump(d)
    for a in d["attempts"]:
        assert a["tls"] is False and a["reason"], dump(d)


def test_all_hosts_down_with_reject_is_still_451(ctx):
    rc, d = timed(ctx, W["conf_reject"], "alldown.f.test")
    temporary(d, rc, "4.4.1")


def test_all_hosts_down_under_preferred_verify_tags_unknown(ctx):
    rc, d = timed(ctx, W["conf"], "alldown.f.test",
                  setting="preferred-verify")
    expect(d, rc, 0, action="tag", result="unknown")


def test_no_starttls_plus_down_host_is_temporary(ctx):
    # SPEC 2: permanent only when every host was judged; the furthest
    # attempt (the plain host) had no TLS: 451 4.7.10 (verdict.h)
    rc, d = timed(ctx, W["conf"], "plaindown.f.test")
    temporary(d, rc, "4.7.10")
    assert d["ip"] == MODES["plain"], dump(d)


def test_down_host_plus_no_starttls_is_temporary(ctx):
    rc, d = timed(ctx, W["conf"], "downplain.f.test")
    temporary(d, rc, "4.7.10")
    assert d["ip"] == MODES["plain"], dump(d)


# hostile servers: bounded by the deadline, fail closed
def test_silent_server_defers_within_deadline(ctx):
    rc, d = timed(ctx, W["conf"], "silent.f.test")
    temporary(d, rc, "4.4.1")


def test_silent_server_then_good_one_within_deadline(ctx):
    # the silent host must not eat the whole deadline... or, if it does,
    # the verdict is temporary, never permanent, never accept-by-default
    rc, d = timed(ctx, W["conf"], "silentok.f.test")
    if rc == 0:
        expect(d, rc, 0, verified=True, ip=MODES["starttls"])
    else:
        temporary(d, rc, d.get("xcode"))


def test_endless_ehlo_is_bounded(ctx):
    rc, d = timed(ctx, W["conf"], "endless_ehlo.f.test")
    fail_closed(d, rc)


def test_one_megabyte_line_is_bounded(ctx):
    rc, d = timed(ctx, W["conf"], "longline.f.test")
    fail_closed(d, rc)


def test_drip_server_is_bounded(ctx):
    rc, d = timed(ctx, W["conf"], "drip.f.test")
    fail_closed(d, rc)


def test_starttls_454_is_temporary(ctx):
    rc, d = timed(ctx, W["conf"], "starttls454.f.test")
    expect(d, rc, 75, action="defer", tls=False, temporary=True)
    assert d.get("code") == "451", dump(d)


def test_banner_554_is_not_accepted(ctx):
    rc, d = timed(ctx, W["conf"], "banner554.f.test")
    fail_closed(d, rc)
    assert d["tls"] is not True, dump(d)


def test_close_after_starttls_is_not_accepted(ctx):
    rc, d = timed(ctx, W["conf"], "starttls_close.f.test")
    fail_closed(d, rc)


def test_tls_alert_is_not_accepted(ctx):
    rc, d = timed(ctx, W["conf"], "alert.f.test")
    fail_closed(d, rc)
    assert d["tls"] is not True, dump(d)


def test_hostile_servers_never_accepted_under_required(ctx):
    for m in ("endless_ehlo", "longline", "starttls454", "banner554",
              "starttls_close", "alert"):
        rc, d = timed(ctx, W["conf"], m + ".f.test", setting="required")
        fail_closed(d, rc)


def test_dns_server_never_answering_is_temporary_within_deadline(ctx):
    rc, d = timed(ctx, W["conf_mutedns"], "ok.f.test")
    temporary(d, rc, "4.4.3")


def test_top_attempt_is_the_furthest_temporary(ctx):
    # a down host makes the verdict temporary; the reported host is the
    # one that got furthest (TLS), not the first or the last
    rc, d = timed(ctx, W["conf"], "furthest.f.test")
    expect(d, rc, 75, action="defer", temporary=True, ip="127.0.8.12",
           tls=True, certificate="valid", verified=False)
    assert d.get("code") == "451", dump(d)
    assert [a["ip"] for a in d["attempts"]] == [
        DOWN1, MODES["plain"], "127.0.8.12"], dump(d)


def test_top_attempt_is_the_furthest_permanent(ctx):
    # every host judged: plain, TLS with the wrong identity: permanent,
    # reported by the TLS host: 450 4.7.5
    rc, d = timed(ctx, W["conf"], "furthestperm.f.test")
    expect(d, rc, 1, action="defer", temporary=False, ip="127.0.8.12",
           tls=True, certificate="valid", verified=False)
    assert (d.get("code"), d.get("xcode")) == ("450", "4.7.5"), dump(d)


def test_two_silent_hosts_share_one_deadline(ctx):
    # [probe] timeout is the whole probe's deadline, not one per host
    rc, d = timed(ctx, W["conf"], "twosilent.f.test")
    fail_closed(d, rc)
    assert rc == 75, dump(d)
