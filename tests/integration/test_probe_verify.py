"""Integration tests of tlsverify-probe: the "verify" identity procedure
(SPEC 4.1, settings required-verify and preferred-verify), one positive and
one negative case per rule, and wildcards through the whole stack.

Each case is a recipient domain with one MX host on its own loopback address
(127.0.2.x) serving a certificate made for that case by the test CA.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402


from probecase import (W, check_keys, dump, expect, make_conf,  # noqa: E402,F401
                       matched, nconn, not_verified, run, serve)

# name: (domain, mx host, ip, cn, sans, ptr name or None, A of the ptr name)
CASES = {
    "san_domain": ("v1.test", "mx.v1.test", "127.0.2.2",
                   "unrelated.invalid", ("v1.test",), None, ()),
    "san_other": ("v2.test", "mx.v2.test", "127.0.2.3",
                  "unrelated.invalid", ("other2.test",), None, ()),
    "san_ptr_only": ("v3.test", "mx.v3.test", "127.0.2.4",
                     "unrelated.invalid", ("ptr4.host.test",),
                     "ptr4.host.test", ("127.0.2.4",)),
    "cn_domain_nosan": ("v4.test", "mx.v4.test", "127.0.2.5",
                        "v4.test", (), None, ()),
    "cn_other_nosan": ("v5.test", "mx.v5.test", "127.0.2.6",
                       "other5.test", (), None, ()),
    "cn_domain_san_other": ("v6.test", "mx.v6.test", "127.0.2.7",
                            "v6.test", ("other6.test",), None, ()),
    "cn_ptr_confirmed": ("v7.test", "mx.v7.test", "127.0.2.8",
                         "ptr8.host.test", (), "ptr8.host.test",
                         ("127.0.2.98", "127.0.2.8")),
    "cn_ptr_unconfirmed": ("v8.test", "mx.v8.test", "127.0.2.9",
                           "ptr9.host.test", (), "ptr9.host.test",
                           ("127.0.2.97",)),
    "cn_ptr_no_address": ("v9.test", "mx.v9.test", "127.0.2.10",
                          "ptr10.host.test", (), "ptr10.host.test", ()),
    "cn_no_ptr": ("v10.test", "mx.v10.test", "127.0.2.11",
                  "*.host.test", (), None, ()),
    "mx_name_only": ("v11.test", "mx11.host.test", "127.0.2.12",
                     "mx11.host.test", ("mx11.host.test",), None, ()),
    "wild_ptr_deep": ("v12.test", "mx.v12.test", "127.0.2.13",
                      "*.wild.test", ("*.wild.test",), "a.b.wild.test",
                      ("127.0.2.13",)),
    "wild_ptr_one": ("v13.test", "mx.v13.test", "127.0.2.14",
                     "*.wild.test", ("*.wild.test",), "a.wild.test",
                     ("127.0.2.14",)),
    "cn_ptr_san_other": ("v14.test", "mx.v14.test", "127.0.2.15",
                         "ptr15.host.test", ("other14.test",),
                         "ptr15.host.test", ("127.0.2.15",)),
    # matcher details through the whole stack
    "partial_wildcard": ("mxa.pw.test", "mx.pw.test", "127.0.2.16",
                         "mx*.pw.test", ("mx*.pw.test",), None, ()),
    "wildcard_one_label": ("one.test", "mx.one.test", "127.0.2.17",
                           "*.test", ("*.test",), None, ()),
    "san_trailing_dot": ("v18.test", "mx.v18.test", "127.0.2.18",
                         "unrelated.invalid", ("v18.test.",), None, ()),
    "san_upper_case": ("v19.test", "mx.v19.test", "127.0.2.19",
                       "unrelated.invalid", ("V19.TEST",), None, ()),
    "two_cns": ("v20.test", "mx.v20.test", "127.0.2.22",
                ["other20.test", "v20.test"], (), None, ()),
    "cn_wildcard_domain": ("a.cw.test", "mx.cw.test", "127.0.2.21",
                           "*.cw.test", (), None, ()),
}
# wildcard domains: every one of them has its MX on 127.0.2.20, which serves
# SAN *.wild.test (CN *.wild.test), no PTR
WILD_IP = "127.0.2.20"
WILD_DOMAINS = ("wild.test", "sub.wild.test", "deep.sub.wild.test")


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA verify")
    dns = tvtest.DNS(mctx)
    port = mctx.port()
    servers = {}
    dests = {}
    # IPv6: PTR(::1) = ptr6.host.test, confirmed by its AAAA
    W["v6"] = tvtest.ipv6_usable()
    if W["v6"]:
        servers["v6"] = serve(mctx, "::1", port,
                              ca.issue(cn="ptr6.host.test", sans=()))
        dns.mx("ip6.test", "mx6.host.test", 10).aaaa("mx6.host.test", "::1")
        dns.ptr("::1", "ptr6.host.test").aaaa("ptr6.host.test", "::1")
        dests["ip6.test"] = "required-verify"
    for name, (dom, mx, ip, cn, sans, ptr, ptr_a) in CASES.items():
        dns.mx(dom, mx, 10)
        dns.a(mx, ip)
        if ptr:
            dns.ptr(ip, ptr)
            for a in ptr_a:
                dns.a(ptr, a)
        leaf = ca.issue(cn=cn, sans=sans)
        servers[name] = serve(mctx, ip, port, leaf)
        dests[dom] = "required-verify"
    wleaf = ca.issue(cn="*.wild.test", sans=("*.wild.test",))
    servers["wild"] = serve(mctx, WILD_IP, port, wleaf)
    for dom in WILD_DOMAINS:
        dns.mx(dom, "mx.wildhost.test", 10)
        dests[dom] = "required-verify"
    dns.a("mx.wildhost.test", WILD_IP)
    dport = dns.start()
    mctx.cleanup(dns.stop)
    bundle = tvtest.ca_bundle(mctx, ca)
    W.update(port=port, servers=servers,
             conf=make_conf(mctx, dport, port, bundle, dests))


def probe_case(ctx, name, setting=None):
    dom, mx, ip = CASES[name][:3]
    rc, d, err = run(ctx, W["conf"], dom, setting=setting)
    assert (d["domain"], d["host"], d["ip"], d["port"]) == (
        dom, mx, ip, W["port"]), dump(d)
    assert len(d["attempts"]) == 1, dump(d)
    return rc, d


# 4.1.1: DNS-IDs against the recipient domain
def test_verify_san_matches_domain(ctx):
    rc, d = probe_case(ctx, "san_domain")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept", setting="required-verify")
    matched(d, "v1.test", "dNSName", "v1.test", "domain")
    assert d.get("result") == "verified" and d.get("code") is None, dump(d)


def test_verify_san_not_matching_domain(ctx):
    rc, d = probe_case(ctx, "san_other")
    not_verified(d, rc)


def test_verify_san_matching_only_ptr_name_is_not_verified(ctx):
    # DNS-IDs are never compared with the PTR name (forward-confirmed here)
    rc, d = probe_case(ctx, "san_ptr_only")
    not_verified(d, rc)


# 4.1.2a: CN against the recipient domain
def test_verify_cn_matches_domain_without_san(ctx):
    rc, d = probe_case(ctx, "cn_domain_nosan")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept")
    matched(d, "v4.test", "CN", "v4.test", "domain")


def test_verify_cn_not_matching_without_san(ctx):
    rc, d = probe_case(ctx, "cn_other_nosan")
    not_verified(d, rc)


def test_verify_cn_matches_domain_when_san_does_not(ctx):
    rc, d = probe_case(ctx, "cn_domain_san_other")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept")
    matched(d, "v6.test", "CN", "v6.test", "domain")


# 4.1.2b: CN against the forward-confirmed PTR name
def test_verify_cn_matches_forward_confirmed_ptr(ctx):
    # the PTR name has two A records; the set contains the connected IP
    rc, d = probe_case(ctx, "cn_ptr_confirmed")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True,
           action="accept")
    matched(d, "ptr8.host.test", "CN", "ptr8.host.test", "ptr")


def test_verify_cn_matches_ptr_when_san_does_not(ctx):
    rc, d = probe_case(ctx, "cn_ptr_san_other")
    expect(d, rc, 0, tls=True, certificate="valid", verified=True)
    matched(d, "ptr15.host.test", "CN", "ptr15.host.test", "ptr")


def test_verify_ptr_not_forward_confirmed_is_not_a_reference(ctx):
    # PTR(127.0.2.9) = ptr9.host.test, but A(ptr9.host.test) = 127.0.2.97
    rc, d = probe_case(ctx, "cn_ptr_unconfirmed")
    not_verified(d, rc)


def test_verify_ptr_name_without_address_is_not_a_reference(ctx):
    rc, d = probe_case(ctx, "cn_ptr_no_address")
    not_verified(d, rc)


def test_verify_no_ptr_record_is_not_verified(ctx):
    rc, d = probe_case(ctx, "cn_no_ptr")
    not_verified(d, rc)


# 4.1.3: MX names are never reference identifiers in "verify"
def test_verify_cert_for_mx_name_only_is_not_verified(ctx):
    rc, d = probe_case(ctx, "mx_name_only")
    not_verified(d, rc)


def test_verify_same_mx_cert_is_verified_under_hosted(ctx):
    # counter-check of the previous test: "hosted" accepts the MX name
    rc, d = probe_case(ctx, "mx_name_only", setting="required-verify-hosted")
    expect(d, rc, 0, verified=True, action="accept")
    matched(d, "mx11.host.test", "dNSName", "mx11.host.test", "mx")


def test_verify_preferred_verify_tags_identity_failure(ctx):
    rc, d = probe_case(ctx, "mx_name_only", setting="preferred-verify")
    expect(d, rc, 0, tls=True, certificate="valid", verified=False,
           action="tag", matched=None)
    assert d.get("result") == "unverified" and d.get("code") is None, dump(d)


# wildcards through the whole stack
def test_verify_wildcard_ptr_one_label_matches(ctx):
    rc, d = probe_case(ctx, "wild_ptr_one")
    expect(d, rc, 0, verified=True, action="accept")
    matched(d, "*.wild.test", "CN", "a.wild.test", "ptr")


def test_verify_wildcard_ptr_two_labels_deeper_does_not_match(ctx):
    rc, d = probe_case(ctx, "wild_ptr_deep")
    not_verified(d, rc)


def test_verify_wildcard_domain_one_label_matches(ctx):
    rc, d, _ = run(ctx, W["conf"], "sub.wild.test")
    expect(d, rc, 0, verified=True, action="accept", ip=WILD_IP)
    matched(d, "*.wild.test", "dNSName", "sub.wild.test", "domain")


def test_verify_wildcard_does_not_match_the_bare_parent(ctx):
    rc, d, _ = run(ctx, W["conf"], "wild.test")
    not_verified(d, rc)


def test_verify_wildcard_domain_two_labels_deeper_does_not_match(ctx):
    rc, d, _ = run(ctx, W["conf"], "deep.sub.wild.test")
    not_verified(d, rc)


def test_verify_domain_is_normalised(ctx):
    # ASCII case folded and one trailing dot removed before lookup and match
    rc, d, _ = run(ctx, W["conf"], "V1.Test.")
    expect(d, rc, 0, domain="v1.test", verified=True, ip="127.0.2.2")
    matched(d, "v1.test", "dNSName", "v1.test", "domain")


def test_verify_partial_wildcard_never_matches(ctx):
    rc, d = probe_case(ctx, "partial_wildcard")
    not_verified(d, rc)


def test_verify_wildcard_over_single_label_never_matches(ctx):
    rc, d = probe_case(ctx, "wildcard_one_label")
    not_verified(d, rc)


def test_verify_presented_trailing_dot_ignored(ctx):
    rc, d = probe_case(ctx, "san_trailing_dot")
    expect(d, rc, 0, verified=True, action="accept")
    assert d["matched"] and d["matched"]["source"] == "domain", dump(d)
    assert d["matched"]["type"] == "dNSName", dump(d)


def test_verify_presented_case_folded(ctx):
    rc, d = probe_case(ctx, "san_upper_case")
    expect(d, rc, 0, verified=True, action="accept")
    assert d["matched"]["reference"] == "v19.test", dump(d)
    assert d["matched"]["presented"].lower() == "v19.test", dump(d)


def test_verify_cn_wildcard_matches_domain_without_san(ctx):
    rc, d = probe_case(ctx, "cn_wildcard_domain")
    expect(d, rc, 0, verified=True, action="accept")
    matched(d, "*.cw.test", "CN", "a.cw.test", "domain")


def test_verify_ipv6_ptr_forward_confirmed_by_aaaa(ctx):
    if not W["v6"]:
        print("SKIP: ::1 is not usable on this machine")
        return
    rc, d, _ = run(ctx, W["conf"], "ip6.test")
    expect(d, rc, 0, verified=True, action="accept", ip="::1",
           host="mx6.host.test")
    matched(d, "ptr6.host.test", "CN", "ptr6.host.test", "ptr")


def test_verify_second_cn_matches_domain(ctx):
    # every Common Name of the subject is a CN-ID
    rc, d = probe_case(ctx, "two_cns")
    expect(d, rc, 0, verified=True, action="accept")
    matched(d, "v20.test", "CN", "v20.test", "domain")
