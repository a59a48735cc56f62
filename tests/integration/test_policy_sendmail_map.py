"""The policy service's Sendmail access map (SPEC 10, "Sendmail") against
the daemon, over the socket map protocol Sendmail speaks (netstrings,
request "access KEY" for FEATURE(`access_db', `socket ...')): the
TLS_Rcpt:DOMAIN entries tls_rcpt looks up, per setting; keys Sendmail
also sends (TLS_Rcpt:user@domain, TLS_Rcpt:user@, TLS_Rcpt:, other tags,
untagged keys) get NOTFOUND; a domain with no requirement under a
required .parent entry is answered (so Sendmail never falls back to the
parent key); the answer comes from the same verdict as tlspolicy's.

Test world (127.0.27.0/24), one test CA:
  example.com   required-verify, the seed's worked example: MX at
                127.0.27.2, CN and dNSName *.emailhosted.not, verified
                through the CN against the PTR name (SPEC 6)
  san.test      required-verify, route 127.0.27.6: dNSName san.test
                (verified through a dNSName)
  cn.test       required-verify, route 127.0.27.3: CN=cn.test, no SAN
                (verified through the CN)
  fpr.test      required-verify, route 127.0.27.4: CN=fpr.test with the
                dNSName other.example (verified through the CN)
  bad.test      required-verify, route 127.0.27.5: self-signed
  req.test      required; .partner.test required-verify with
                open.partner.test none and pref.partner.test preferred
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402

IP_MX, IP_CN, IP_FPR, IP_BAD, IP_SAN = ("127.0.27.2", "127.0.27.3",
                                        "127.0.27.4", "127.0.27.5",
                                        "127.0.27.6")
MX = "mx01.subd.emailhosted.not"
W = {}


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA sendmail map")
    seed = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    cn = ca.issue("cn.test", name="cn")
    fpr = ca.issue("fpr.test", sans=["other.example"], name="fpr")
    san = ca.issue("leaf.other", sans=["san.test"], name="san")
    bad = tvtest.self_signed(mctx, "bad.test", sans=["bad.test"])
    dns = tvtest.DNS(mctx)
    dns.mx("example.com", MX, 10)
    dns.a(MX, IP_MX)
    dns.ptr(IP_MX, "mx0a.emailhosted.not")
    dns.a("mx0a.emailhosted.not", IP_MX)
    dns.start()
    port = mctx.port()
    srv = {}
    for ip, leaf in ((IP_MX, seed), (IP_CN, cn), (IP_FPR, fpr),
                     (IP_BAD, bad), (IP_SAN, san)):
        srv[ip] = tvtest.SMTPServer(mctx, ip, port, leaf=leaf).start()
    ppol = mctx.port()
    m = miltersvc.start(
        mctx,
        probe={"port": port, "ca_file": ca.cert, "timeout": 10},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", "pref.test": "preferred",
                      "pv.test": "preferred-verify", "req.test": "required",
                      "example.com": "required-verify",
                      "cn.test": "required-verify",
                      "fpr.test": "required-verify",
                      "bad.test": "required-verify",
                      "san.test": "required-verify",
                      ".partner.test": "required-verify",
                      "open.partner.test": "none",
                      "pref.partner.test": "preferred"},
        smtproutes={"cn.test": IP_CN, "fpr.test": IP_FPR,
                    "bad.test": IP_BAD, "san.test": IP_SAN},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    W.update(srv=srv, m=m, ppol=ppol)


def ask(*reqs):
    c = SockmapClient(W["ppol"])
    try:
        return [c.query(r) for r in reqs]
    finally:
        c.close()


def test_static_rows_without_probe(ctx):
    assert ask("access tls_rcpt:none.test", "access tls_rcpt:pref.test",
               "access tls_rcpt:pv.test", "access tls_rcpt:req.test") == \
        ["OK OK", "OK OK", "OK OK", "OK ENCR:128"]
    assert all(s.connections() == 0 for s in W["srv"].values()), \
        "a static row probed"


def test_verified_through_a_dnsname_is_verify(ctx):
    ans, = ask("access tls_rcpt:san.test")
    assert ans == "OK VERIFY:128", ans
    assert ask("tlspolicy san.test")[0].startswith("OK secure match=")


def test_verified_through_the_cn_adds_cn(ctx):
    assert ask("access tls_rcpt:cn.test", "access tls_rcpt:fpr.test",
               "access tls_rcpt:example.com") == \
        ["OK VERIFY:128+CN:cn.test", "OK VERIFY:128+CN:fpr.test",
         "OK VERIFY:128+CN:*.emailhosted.not"]


def test_not_verified_is_temp(ctx):
    ans, = ask("access tls_rcpt:bad.test")
    assert ans.startswith("TEMP bad.test: "), ans
    # the same verdict as the Postfix map, probed once
    n = W["srv"][IP_BAD].connections()
    assert ask("tlspolicy bad.test")[0].startswith("TEMP bad.test: ")
    assert W["srv"][IP_BAD].connections() == n


def test_parent_entry_never_reaches_a_none_subdomain(ctx):
    # Sendmail asks the parent key only after NOTFOUND: the exact key
    # must be answered with the table's own lookup
    assert ask("access tls_rcpt:open.partner.test",
               "access tls_rcpt:pref.partner.test") == ["OK OK", "OK OK"]
    ans, = ask("access tls_rcpt:other.partner.test")
    assert ans.startswith("TEMP other.partner.test: "), ans


def test_sendmail_keys_that_are_not_ours(ctx):
    assert ask("access tls_rcpt:user@req.test", "access tls_rcpt:user@",
               "access tls_rcpt:", "access tls_rcpt:.req.test",
               "access connect:127.0.0.1", "access from:a@req.test",
               "access to:req.test", "access spam:abuse@req.test",
               "access tls_srv:req.test", "access req.test",
               "access 127.0.0.1") == ["NOTFOUND "] * 11


def test_case_of_tag_and_domain(ctx):
    assert ask("access TLS_Rcpt:REQ.Test", "access TLS_RCPT:Example.COM") \
        == ["OK ENCR:128", "OK VERIFY:128+CN:*.emailhosted.not"]


def test_other_maps_unchanged(ctx):
    assert ask("tlspolicy req.test", "transport req.test") == \
        ["OK encrypt", "NOTFOUND "]
    assert ask("Access tls_rcpt:req.test") == ["PERM unknown map"]
