"""The mta-sts and auto settings (SPEC 12, RFC 8461) end to end: dnsmasq
(TXT _mta-sts.DOMAIN, A mta-sts.DOMAIN, MX, A), one HTTPS policy server
per domain (tests/lib/stsserver.py, certificate from a test CA for every
mta-sts.DOMAIN name) on 127.0.62.1xx:Q, and STARTTLS servers on
127.0.62.x:P; tlsverify-probe --json / --policy and the daemon's
socketmap. auto against a signed zone (tests/lib/dnssec.py) with TLSA and
an MTA-STS policy.

Domains under mta-sts (module world):
  enf.test    enforce, mx mx1.enf.test + *.pool.enf.test; MX mx1 valid
  out.test    enforce, mx mx.elsewhere.test; MX mx1.out.test (no match)
  badname.test enforce, mx *.badname.test; MX cert names other.test
  plain.test  enforce, mx mx1.plain.test; MX offers no STARTTLS
  testing.test testing, mx mx1.testing.test; MX cert names other.test
  nopol.test  no TXT record
  redir.test  TXT, policy server answers 301
  tmp.test    TXT SERVFAIL
  none.test   policy mode none
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import dnssec  # noqa: E402
import miltersvc  # noqa: E402
import tvtest  # noqa: E402
import stsctl  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402
from probecase import dump, expect, run  # noqa: E402

W = {}


def policy(mode, *mx, max_age=86400):
    return "version: STSv1\nmode: %s\n%smax_age: %d\n" % (
        mode, "".join("mx: %s\n" % m for m in mx), max_age)


# domain: (policy or None, http mode, MX host, SMTP mode, leaf key)
DOMS = {
    "enf.test": (policy("enforce", "mx1.enf.test", "*.pool.enf.test"), "ok",
                 "mx1.enf.test", "starttls", "enf"),
    "out.test": (policy("enforce", "mx.elsewhere.test"), "ok",
                 "mx1.out.test", "starttls", "out"),
    "badname.test": (policy("enforce", "*.badname.test"), "ok",
                     "mx1.badname.test", "starttls", "other"),
    "plain.test": (policy("enforce", "mx1.plain.test"), "ok",
                   "mx1.plain.test", "plain", "plain"),
    "testing.test": (policy("testing", "mx1.testing.test"), "ok",
                     "mx1.testing.test", "starttls", "other"),
    "nopol.test": (None, "ok", "mx1.nopol.test", "starttls", "nopol"),
    "redir.test": (policy("enforce", "mx.elsewhere.test"), "redirect",
                   "mx1.redir.test", "starttls", "redir"),
    "tmp.test": (None, "ok", "mx1.tmp.test", "starttls", "tmp"),
    "none.test": (policy("none", "mx.elsewhere.test"), "ok",
                  "mx1.none.test", "starttls", "none"),
}


STSServer = stsctl.STSServer


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA sts")
    W["ca"] = ca
    names = ["mta-sts." + d for d in DOMS] + ["mta-sts.ref.test",
                                               "mta-sts.both.auto.test",
                                               "mta-sts.sts.auto.test"]
    W["stsleaf"] = ca.issue(names[0], sans=names, name="stsleaf")
    leaves = {"other": ca.issue("other.test", sans=["other.test"],
                                name="other")}
    port, sport = mctx.port(), mctx.port()
    dns = tvtest.DNS(mctx)
    W["servers"], W["smtp"] = {}, {}
    for i, (dom, (pol, hmode, mx, smode, lk)) in enumerate(DOMS.items()):
        ip, hip = "127.0.62.%d" % (10 + i), "127.0.62.%d" % (110 + i)
        if lk not in leaves:
            leaves[lk] = ca.issue(mx, sans=[mx], name=lk)
        dns.mx(dom, mx, 10)
        dns.a(mx, ip)
        if dom not in ("nopol.test", "tmp.test"):
            dns.txt("_mta-sts." + dom, "v=STSv1; id=20240101")
        dns.a("mta-sts." + dom, hip)
        if pol is not None:
            W["servers"][dom] = STSServer(mctx, hip, sport, W["stsleaf"],
                                          pol, hmode, dom).start()
        W["smtp"][dom] = tvtest.SMTPServer(
            mctx, ip, port, leaf=leaves[lk], mode=smode).start()
        mctx.cleanup(W["smtp"][dom].stop)
    dns.servfail("_mta-sts.tmp.test")
    for dom in ("enf.test", "redir.test"):		# TLS-RPT (SPEC 12)
        dns.txt("_smtp._tls." + dom, "v=TLSRPTv1; rua=mailto:r@" + dom)
    dns.start()
    W.update(port=port, sport=sport, dns=dns)
    W["conf"] = make_conf(mctx, dns.nameserver, "sts.conf",
                          mctx.path("sts.cache"))


def make_conf(ctx, nameserver, name, cache, dests=None, dnssec_on=False,
              extra=None):
    dns = {"nameserver": nameserver, "timeout": 3}
    if dnssec_on:
        dns["dnssec"] = True
    sections = {"mtasts": {"port": W["sport"], "ca_file": W["ca"].cert,
                           "timeout": 5, "cache_file": cache}}
    sections.update(extra or {})
    return tvtest.write_conf(
        ctx, name=name, dns=dns,
        probe={"port": W["port"], "ca_file": W["ca"].cert, "timeout": 15,
               "helo": "probe.test"},
        destinations=dests or {"default": "mta-sts"}, extra=sections)


def policy_answer(ctx, conf, key):
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", conf,
                  "--policy", key], timeout=60)
    for line in cp.stdout.splitlines():
        if line.startswith("tlspolicy "):
            return cp.returncode, line.split(" -> ", 1)[1]
    raise AssertionError("no tlspolicy line: %r %r" % (cp.stdout, cp.stderr))


# ---- mta-sts: enforce ------------------------------------------------------

def test_sts_enforce_pass(ctx):
    rc, d, _ = run(ctx, W["conf"], "enf.test")
    expect(d, rc, 0, setting="mta-sts", action="accept", result="verified",
           verified=True, certificate="valid", policy="sts", tlsa=None,
           reply=None, host="mx1.enf.test")
    assert d["sts"] == {"mode": "enforce", "id": "20240101",
                        "mx": ["mx1.enf.test", "*.pool.enf.test"]}, dump(d)
    assert d["matched"] == {"presented": "mx1.enf.test", "type": "dNSName",
                            "reference": "mx1.enf.test", "source": "mx"}, \
        dump(d)
    assert "verified by MTA-STS policy id 20240101" in d["reason"], dump(d)


def test_sts_enforce_mx_outside_patterns_450_475(ctx):
    n = W["smtp"]["out.test"].connections()
    rc, d, _ = run(ctx, W["conf"], "out.test")
    expect(d, rc, 1, action="defer", result="unverified", code="450",
           xcode="4.7.5", policy="sts", verified=False, tls=False)
    assert "matches no mx pattern" in d["reason"], dump(d)
    assert d["reply"] == "450 4.7.5 " + d["text"], dump(d)
    assert "MTA-STS policy not met" in d["text"], dump(d)
    assert W["smtp"]["out.test"].connections() == n, "a non-matching MX " \
        "was connected to"


def test_sts_enforce_cert_not_for_mx_name_450_475(ctx):
    rc, d, _ = run(ctx, W["conf"], "badname.test")
    expect(d, rc, 1, action="defer", result="unverified", code="450",
           xcode="4.7.5", policy="sts", tls=True, certificate="valid",
           verified=False, matched=None)
    assert "mx:mx1.badname.test" in d["reason"], dump(d)


def test_sts_enforce_no_starttls_450_4710(ctx):
    rc, d, _ = run(ctx, W["conf"], "plain.test")
    expect(d, rc, 1, action="defer", result="plain", code="450",
           xcode="4.7.10", policy="sts", tls=False)


def test_sts_enforce_reject_when_on_fail_reject(ctx):
    c = make_conf(ctx, W["dns"].nameserver, "rej.conf",
                  ctx.path("sts.cache"),
                  extra={"milter": {"on_fail": "reject"}})
    rc, d, _ = run(ctx, c, "out.test")
    expect(d, rc, 1, action="reject", code="550", xcode="5.7.5")


# ---- mta-sts: testing, none, no policy, temporary --------------------------

def test_sts_testing_tags_and_reports(ctx):
    rc, d, _ = run(ctx, W["conf"], "testing.test")
    expect(d, rc, 0, action="tag", result="unverified", policy="sts",
           code=None, reply=None, tls=True, verified=False)
    assert d["sts"]["mode"] == "testing", dump(d)
    assert "no presented identifier matched" in d["reason"], dump(d)
    rc, out, _ = tvtest.probe(ctx, W["conf"], "testing.test", json=False)
    assert rc == 0 and "Verdict: unverified -> tag" in out, out
    assert "Policy:  sts; MTA-STS policy id 20240101 mode testing" in out, out


def test_sts_no_policy_is_preferred(ctx):
    n = W["smtp"]["nopol.test"].connections()
    rc, d, _ = run(ctx, W["conf"], "nopol.test")
    expect(d, rc, 0, action="accept", result="no-policy", policy=None,
           sts=None, reply=None)
    assert "no MTA-STS policy" in d["reason"], dump(d)
    assert W["smtp"]["nopol.test"].connections() == n


def test_sts_mode_none_is_preferred(ctx):
    rc, d, _ = run(ctx, W["conf"], "none.test")
    expect(d, rc, 0, action="accept", result="no-policy", policy=None)
    assert d["sts"]["mode"] == "none", dump(d)


def test_sts_redirect_refused_no_policy(ctx):
    rc, d, _ = run(ctx, W["conf"], "redir.test")
    expect(d, rc, 0, action="accept", result="no-policy", policy=None,
           sts=None)
    assert "redirect refused" in d["reason"], dump(d)
    assert len(W["servers"]["redir.test"].requests()) >= 1
    rc, out, _ = tvtest.probe(ctx, W["conf"], "redir.test", json=False)
    assert "TLS-RPT: sts-policy-fetch-error" in out, out


def test_sts_txt_servfail_is_temporary(ctx):
    rc, d, _ = run(ctx, W["conf"], "tmp.test")
    expect(d, rc, 75, action="defer", result="unknown", code="451",
           xcode="4.4.3", temporary=True, tls=False)
    assert "MTA-STS policy of tmp.test could not be determined" in \
        d["reason"], dump(d)


def test_sts_conf_without_dnssec_ok_auto_refused(ctx):
    rc, d, _ = run(ctx, W["conf"], "enf.test", setting="mta-sts")
    assert rc == 0, dump(d)
    rc, _, err = tvtest.probe(ctx, W["conf"], "enf.test", setting="auto",
                              json=False)
    assert rc == 78 and "dnssec = yes" in err, err
    bad = make_conf(ctx, W["dns"].nameserver, "auto.conf",
                    ctx.path("c"), dests={"x.test": "auto"})
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", bad,
                  "x.test"])
    assert cp.returncode == 78 and "setting auto needs [dns] dnssec = yes" \
        in cp.stderr, cp.stderr


# ---- the policy service ----------------------------------------------------

def test_sts_policy_answers(ctx):
    rc, ans = policy_answer(ctx, W["conf"], "enf.test")
    assert rc == 0 and ans == "OK secure match=mx1.enf.test:.pool.enf.test " \
        "servername=hostname", ans
    for dom in ("testing.test", "nopol.test", "none.test", "redir.test"):
        rc, ans = policy_answer(ctx, W["conf"], dom)
        assert rc == 0 and ans == "OK may", (dom, ans)
    for dom in ("out.test", "plain.test"):
        rc, ans = policy_answer(ctx, W["conf"], dom)
        assert rc == 75 and ans.startswith("TEMP %s: " % dom), (dom, ans)


def test_sts_policy_service_daemon(ctx):
    """The daemon's socketmap, as Postfix asks it."""
    ppol = ctx.port()
    miltersvc.start(
        ctx, probe={"port": W["port"], "ca_file": W["ca"].cert,
                    "timeout": 10, "helo": "probe.test"},
        dns={"nameserver": W["dns"].nameserver, "timeout": 3},
        destinations={"default": "mta-sts"},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol},
               "mtasts": {"port": W["sport"], "ca_file": W["ca"].cert,
                          "cache_file": ctx.path("d.cache")}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    c = SockmapClient(ppol)
    assert c.query("tlspolicy enf.test") == "OK secure match=mx1.enf.test:" \
        ".pool.enf.test servername=hostname"
    assert c.query("tlspolicy testing.test") == "OK may"
    ans = c.query("tlspolicy badname.test")
    assert ans.startswith("TEMP badname.test: ") and \
        "MTA-STS policy not met" in ans, ans
    ans = c.query("tlspolicy tmp.test")
    assert ans.startswith("TEMP tmp.test: "), ans


# ---- the cache: a changed id, a failed refetch -----------------------------

def test_sts_changed_id_refetches_failed_refetch_keeps_cached(ctx):
    hip, mip = "127.0.62.200", "127.0.62.201"
    leaf = W["ca"].issue("mx1.ref.test", sans=["mx1.ref.test"], name="ref")
    smtp = tvtest.SMTPServer(ctx, mip, W["port"], leaf=leaf).start()
    ctx.cleanup(smtp.stop)
    srv = STSServer(ctx, hip, W["sport"], W["stsleaf"],
                    policy("enforce", "mx1.ref.test"), name="ref").start()

    def dns_with(id_, port=None):
        dns = tvtest.DNS(ctx, port=port)
        dns.txt("_mta-sts.ref.test", "v=STSv1; id=%s" % id_)
        dns.a("mta-sts.ref.test", hip)
        dns.mx("ref.test", "mx1.ref.test", 10)
        dns.a("mx1.ref.test", mip)
        dns.start()
        return dns

    dns = dns_with("1")
    conf = make_conf(ctx, dns.nameserver, "ref.conf", ctx.path("ref.cache"))
    rc, d, _ = run(ctx, conf, "ref.test")
    expect(d, rc, 0, result="verified", policy="sts")
    assert d["sts"]["id"] == "1" and len(srv.requests()) == 1, dump(d)
    rc, d, _ = run(ctx, conf, "ref.test")       # same id: the cache
    assert d["sts"]["id"] == "1" and len(srv.requests()) == 1
    # a new id: refetched; the new policy no longer lists the MX
    srv.set_policy(policy("enforce", "mx9.ref.test"))
    dns.stop()
    dns = dns_with("2", port=dns.port)
    rc, d, _ = run(ctx, conf, "ref.test")
    expect(d, rc, 1, result="unverified", code="450", xcode="4.7.5",
           policy="sts")
    assert d["sts"] == {"mode": "enforce", "id": "2",
                        "mx": ["mx9.ref.test"]}, dump(d)
    assert len(srv.requests()) == 2, srv.requests()
    # id 3 cannot be fetched: cached policy 2 still applies, enforced
    srv.stop()
    dns.stop()
    dns = dns_with("3", port=dns.port)
    rc, d, _ = run(ctx, conf, "ref.test")
    expect(d, rc, 1, result="unverified", code="450", xcode="4.7.5",
           policy="sts")
    assert d["sts"]["id"] == "2", dump(d)
    rc, out, _ = tvtest.probe(ctx, conf, "ref.test", json=False)
    assert "TLS-RPT: sts-policy-fetch-error" in out, out
    assert "cached policy id 2 used" in out, out


# ---- auto: DANE first, then MTA-STS ----------------------------------------

def _auto_world(ctx):
    """both.auto.test: TLSA 3 1 1 of an untrusted leaf and an enforced
    policy the MX does not match; sts.auto.test: no TLSA, an enforced
    policy the MX matches with a WebPKI-valid certificate."""
    dane_ca = tvtest.CA(ctx, cn="auto untrusted CA")
    lb = dane_ca.issue("mx.both.auto.test", sans=["mx.both.auto.test"])
    ls = W["ca"].issue("mx.sts.auto.test", sans=["mx.sts.auto.test"],
                       name="autosts")
    ips = {"mxb": "127.0.62.210", "mxs": "127.0.62.211",
           "hb": "127.0.62.212", "hs": "127.0.62.213"}
    z = dnssec.Zones(ctx, ["auto.test"])
    for d, mx, hk in (("both", "mx.both.auto.test", "hb"),
                      ("sts", "mx.sts.auto.test", "hs")):
        z.add("auto.test", "%s.auto.test. 300 IN MX 10 %s." % (d, mx))
        z.add("auto.test", "%s. 300 IN A %s" % (mx, ips["mx" + d[0]]))
        z.add("auto.test", '_mta-sts.%s.auto.test. 300 IN TXT '
              '"v=STSv1; id=7"' % d)
        z.add("auto.test", "mta-sts.%s.auto.test. 300 IN A %s" % (d, ips[hk]))
    z.add("auto.test", "_%d._tcp.mx.both.auto.test. 300 IN TLSA 3 1 1 %s" % (
        W["port"], dnssec.spki_sha256(lb.cert)))
    z.start()
    for ip, leaf in ((ips["mxb"], lb), (ips["mxs"], ls)):
        s = tvtest.SMTPServer(ctx, ip, W["port"], leaf=leaf).start()
        ctx.cleanup(s.stop)
    srvb = STSServer(ctx, ips["hb"], W["sport"], W["stsleaf"],
                     policy("enforce", "mx.nowhere.test"), name="b").start()
    srvs = STSServer(ctx, ips["hs"], W["sport"], W["stsleaf"],
                     policy("enforce", "*.sts.auto.test"), name="s").start()
    conf = make_conf(ctx, z.nameserver, "auto.conf", ctx.path("a.cache"),
                     dests={"default": "auto"}, dnssec_on=True)
    return conf, srvb, srvs, dnssec.spki_sha256(lb.cert)


def test_sts_auto_dane_wins_then_sts(ctx):
    conf, srvb, srvs, h = _auto_world(ctx)
    rc, d, _ = run(ctx, conf, "both.auto.test")
    expect(d, rc, 0, setting="auto", result="verified", action="accept",
           policy="dane", tlsa="3 1 1 " + h, sts=None)
    assert srvb.requests() == [], "MTA-STS asked although DANE applied"
    rc, ans = policy_answer(ctx, conf, "both.auto.test")
    assert ans == "OK dane-only", ans
    rc, d, _ = run(ctx, conf, "sts.auto.test")
    expect(d, rc, 0, setting="auto", result="verified", policy="sts",
           tlsa=None)
    assert d["sts"]["mx"] == ["*.sts.auto.test"], dump(d)
    rc, ans = policy_answer(ctx, conf, "sts.auto.test")
    assert ans == "OK secure match=.sts.auto.test servername=hostname", ans
    # the same domain under mta-sts without DNSSEC: MTA-STS judges it and
    # the MX is outside that policy
    plain = make_conf(ctx, z_ns(conf), "m.conf", ctx.path("m.cache"),
                      dests={"default": "mta-sts"})
    rc, d, _ = run(ctx, plain, "both.auto.test")
    expect(d, rc, 1, result="unverified", code="450", xcode="4.7.5",
           policy="sts")
    assert len(srvb.requests()) == 1, srvb.requests()


def z_ns(conf):
    with open(conf) as f:
        for line in f:
            if line.replace(" ", "").startswith("nameserver="):
                return line.split("=", 1)[1].strip()
    raise AssertionError("no nameserver in " + conf)


# ---- TLS-RPT counts the MTA-STS sessions -----------------------------------

def test_sts_tlsrpt_counts_policy_and_fetch_error(ctx):
    """A probe under an enforced policy counts a successful sts session; a
    policy fetch that fails with nothing cached (a redirect) counts an sts
    session failed with sts-policy-fetch-error (RFC 8460 4.3.2.1)."""
    import glob
    import gzip
    import json
    import time
    spool = ctx.path("spool")
    os.makedirs(spool)
    conf = make_conf(ctx, W["dns"].nameserver, "rpt.conf",
                     ctx.path("rpt.cache"),
                     extra={"tlsrpt": {"spool": spool, "send": "no"}})
    for dom in ("enf.test", "redir.test"):
        policy_answer(ctx, conf, dom)
    ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", conf,
             "--tlsrpt-flush"], timeout=120, expect_rc=0,
            env={"TLSVERIFY_TLSRPT_NOW": str(int(time.time()) + 86400)})
    got = {}
    for p in glob.glob(os.path.join(spool, "*.json.gz")):
        with gzip.open(p) as f:
            rep = json.loads(f.read().decode("ascii"))
        pol, = rep["policies"]
        got[pol["policy"]["policy-domain"]] = pol
    assert set(got) == {"enf.test", "redir.test"}, sorted(got)
    enf, redir = got["enf.test"], got["redir.test"]
    assert enf["policy"]["policy-type"] == "sts", enf
    assert enf["summary"] == {"total-successful-session-count": 1,
                              "total-failure-session-count": 0}, enf
    assert redir["policy"]["policy-type"] == "sts", redir
    assert redir["summary"]["total-failure-session-count"] == 1, redir
    assert [d["result-type"] for d in redir["failure-details"]] == \
        ["sts-policy-fetch-error"], redir
