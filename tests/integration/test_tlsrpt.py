"""TLS-RPT (SPEC 12, RFC 8460): real probes through `tlsverify-probe
--policy` (each run a new process: the counts file carries the day from one
to the next, as across a daemon restart) against SMTP servers on 127.0.71.x
with a test CA, dnsmasq serving MX, A and `_smtp._tls` TXT records; then
`tlsverify-probe --tlsrpt-flush` with the time injected
(TLSVERIFY_TLSRPT_NOW = tomorrow), and the gzipped reports checked field by
field and against tests/tlsrpt-report.schema.json (RFC 8460 4.4, validated
with Debian's python3-jsonschema).

Delivery: `mailto:` through a fake `sendmail` on PATH that stores its
arguments and message (sendmail -t is the interface); `https:` to a
loopback HTTPS server (tests/lib/rptserver.py) with a test CA.
"""
import email
import email.policy
import glob
import gzip
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "tlsrpt-report.schema.json")
RPTSERVER = os.path.join(HERE, "..", "lib", "rptserver.py")
W = {}

# domain: (mx host, ip, certificate kind, _smtp._tls TXT records)
DOMAINS = {
    "good.rpt": ("mx.good.rpt", "127.0.71.2", "good",
                 ["v=TLSRPTv1; rua=mailto:tlsrpt@good.rpt"]),
    "exp.rpt": ("mx.exp.rpt", "127.0.71.3", "expired",
                ["v=TLSRPTv1;rua=mailto:a@exp.rpt,mailto:b@exp.rpt"]),
    "name.rpt": ("mx.name.rpt", "127.0.71.4", "wrongname",
                 ["v=TLSRPTv1; rua=mailto:r@name.rpt", "unrelated text"]),
    "plain.rpt": ("mx.plain.rpt", "127.0.71.5", "plain",
                  ["v=TLSRPTv1; rua=mailto:r@plain.rpt"]),
    "mix.rpt": ("mx.mix.rpt", "127.0.71.6", "good",
                ["v=TLSRPTv1; rua=mailto:r@mix.rpt"]),
    "norpt.rpt": ("mx.norpt.rpt", "127.0.71.7", "good", []),
    "dup.rpt": ("mx.dup.rpt", "127.0.71.8", "good",
                ["v=TLSRPTv1; rua=mailto:x@dup.rpt",
                 "v=TLSRPTv1; rua=mailto:y@dup.rpt"]),
}
HTTPS_HOST = "reports.collector.rpt"
HTTPS_IP = "127.0.71.20"
ORG = "Example Sender Org"
CONTACT = "tlsrpt-admin@sender.rpt"
HELO = "relay.sender.rpt"


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA tlsrpt")
    W["ca"] = ca
    W["good"] = {d: ca.issue(mx, sans=[mx, d], name="good-" + d)
                 for d, (mx, _, kind, _) in DOMAINS.items() if kind == "good"}
    W["expired"] = ca.issue("mx.exp.rpt", sans=["mx.exp.rpt"],
                            not_before_days=-10, not_after_days=-1,
                            name="expired")
    W["wrongname"] = ca.issue("mx.elsewhere.rpt", sans=["mx.elsewhere.rpt"],
                              name="wrongname")
    W["https"] = ca.issue(HTTPS_HOST, sans=[HTTPS_HOST], name="https")
    with open(SCHEMA) as f:
        W["schema"] = json.load(f)


def start_world(ctx, https_port=None, txt_over=None):
    port = ctx.port()
    dns = tvtest.DNS(ctx)
    servers = {}
    for d, (mx, ip, kind, txts) in DOMAINS.items():
        dns.mx(d, mx, 10)
        dns.a(mx, ip)
        for t in (txt_over or {}).get(d, txts):
            dns.txt("_smtp._tls." + d, t)
        if kind == "plain":
            servers[d] = tvtest.SMTPServer(ctx, ip, port, mode="plain")
        else:
            leaf = W["good"][d] if kind == "good" else W[kind]
            servers[d] = tvtest.SMTPServer(ctx, ip, port, leaf=leaf)
        servers[d].start()
    dns.a(HTTPS_HOST, HTTPS_IP)
    dns.a("alias.collector.rpt", HTTPS_IP)     # not in the certificate
    dns.start()
    return port, dns, servers


def conf_for(ctx, port, dns, send="no", spool=None):
    spool = spool or ctx.path("spool")
    os.makedirs(spool, exist_ok=True)
    return tvtest.write_conf(
        ctx, probe={"port": port, "ca_file": W["ca"].cert, "timeout": 20,
                    "helo": HELO},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "required-verify"},
        extra={"mtasts": {"ca_file": W["ca"].cert, "timeout": 5,
                          "cache_file": ""},
               "tlsrpt": {"spool": spool, "organization": ORG,
                          "contact": CONTACT, "send": send}}), spool


def policy(ctx, conf, domain):
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", conf,
                  "--policy", domain], timeout=60, expect_rc=(0, 75))
    return cp.stdout


def flush(ctx, conf, now=None, env=None, expect_rc=0):
    e = {"TLSVERIFY_TLSRPT_NOW": str(int(now or time.time() + 86400))}
    e.update(env or {})
    return ctx.run([os.path.join(ctx.build, "tlsverify-probe"), "-c", conf,
                    "--tlsrpt-flush"], timeout=120, env=e,
                   expect_rc=expect_rc)


def day_start(t=None):
    t = int(t or time.time())
    return t - t % 86400


def reports(spool):
    out = {}
    for p in sorted(glob.glob(os.path.join(spool, "*.json.gz"))):
        with gzip.open(p) as f:
            out[os.path.basename(p)] = json.loads(f.read().decode("ascii"))
    return out


def validate(rep):
    try:
        import jsonschema
    except ImportError:         # a python3 that is not Debian's
        sys.path.append("/usr/lib/python3/dist-packages")
        import jsonschema
    jsonschema.validate(rep, W["schema"],
                        format_checker=jsonschema.FormatChecker())


def one_policy(rep, domain):
    assert len(rep["policies"]) == 1, rep
    p = rep["policies"][0]
    assert p["policy"]["policy-domain"] == domain, p
    assert p["policy"]["policy-type"] == "no-policy-found", p
    return p


def detail(p, result, mx, ip, count):
    fd = p["failure-details"]
    assert len(fd) == 1, fd
    d = fd[0]
    assert d["result-type"] == result, d
    assert d["receiving-mx-hostname"] == mx and d["receiving-ip"] == ip, d
    assert d["sending-mta-ip"] == "127.0.0.1", d
    assert d["failed-session-count"] == count, d
    assert d["failure-reason-code"], d
    return d


def a_day_of_probes(ctx, conf, servers, port):
    """good x3, exp x2, name x1, plain x2, mix: 2 good then 1 plain,
    norpt and dup x1 each."""
    for d, n in (("good.rpt", 3), ("exp.rpt", 2), ("name.rpt", 1),
                 ("plain.rpt", 2), ("mix.rpt", 2), ("norpt.rpt", 1),
                 ("dup.rpt", 1)):
        for _ in range(n):
            policy(ctx, conf, d)
    servers["mix.rpt"].stop()
    tvtest.SMTPServer(ctx, DOMAINS["mix.rpt"][1], port, mode="plain").start()
    policy(ctx, conf, "mix.rpt")


def test_tlsrpt_report_fields(ctx):
    port, dns, servers = start_world(ctx)
    conf, spool = conf_for(ctx, port, dns)
    a_day_of_probes(ctx, conf, servers, port)
    counts = open(os.path.join(spool, "tlsrpt.counts")).read()
    assert counts.startswith("tlsverify-tlsrpt-counts 1\n"), counts
    # today is not over: nothing is reported yet
    cp = flush(ctx, conf, now=time.time())
    assert "0 report(s) written" in cp.stdout, cp.stdout
    assert reports(spool) == {}
    cp = flush(ctx, conf)
    assert "5 report(s) written" in cp.stdout, cp.stdout
    assert "2 skipped" in cp.stdout, cp.stdout   # norpt, dup
    begin = day_start()
    got = reports(spool)
    names = {"%s!%s!%d!%d.json.gz" % (HELO, d, begin, begin + 86399)
             for d in ("good.rpt", "exp.rpt", "name.rpt", "plain.rpt",
                       "mix.rpt")}
    assert set(got) == names, sorted(got)
    day = time.strftime("%Y-%m-%d", time.gmtime(begin))
    for name, rep in got.items():
        validate(rep)
        dom = name.split("!")[1]
        assert rep["organization-name"] == ORG, rep
        assert rep["contact-info"] == CONTACT, rep
        assert rep["date-range"] == {
            "start-datetime": day + "T00:00:00Z",
            "end-datetime": day + "T23:59:59Z"}, rep
        assert rep["report-id"] == "%sT00:00:00Z_%s_%s" % (day, dom, HELO), rep
    p = one_policy(got["%s!good.rpt!%d!%d.json.gz" % (HELO, begin,
                                                      begin + 86399)],
                   "good.rpt")
    assert p["summary"] == {"total-successful-session-count": 3,
                            "total-failure-session-count": 0}, p
    assert p["failure-details"] == [], p

    def rep_of(d):
        return got["%s!%s!%d!%d.json.gz" % (HELO, d, begin, begin + 86399)]

    p = one_policy(rep_of("exp.rpt"), "exp.rpt")
    assert p["summary"]["total-failure-session-count"] == 2, p
    assert p["summary"]["total-successful-session-count"] == 0, p
    detail(p, "certificate-expired", "mx.exp.rpt", "127.0.71.3", 2)
    p = one_policy(rep_of("name.rpt"), "name.rpt")
    detail(p, "certificate-host-mismatch", "mx.name.rpt", "127.0.71.4", 1)
    p = one_policy(rep_of("plain.rpt"), "plain.rpt")
    detail(p, "starttls-not-supported", "mx.plain.rpt", "127.0.71.5", 2)
    p = one_policy(rep_of("mix.rpt"), "mix.rpt")
    assert p["summary"] == {"total-successful-session-count": 2,
                            "total-failure-session-count": 1}, p
    detail(p, "starttls-not-supported", "mx.mix.rpt", "127.0.71.6", 1)
    # reported days leave the counts file; a second flush writes nothing
    counts = open(os.path.join(spool, "tlsrpt.counts")).read()
    assert counts == "tlsverify-tlsrpt-counts 1\n", counts
    cp = flush(ctx, conf)
    assert "0 report(s) written" in cp.stdout, cp.stdout


def test_tlsrpt_schema_rejects(ctx):
    """The schema is not a rubber stamp: broken reports fail it."""
    import jsonschema
    good = {"organization-name": "o", "contact-info": "c", "report-id": "r",
            "date-range": {"start-datetime": "2024-01-01T00:00:00Z",
                           "end-datetime": "2024-01-01T23:59:59Z"},
            "policies": [{"policy": {"policy-type": "tlsa",
                                     "policy-domain": "d"},
                          "summary": {"total-successful-session-count": 1,
                                      "total-failure-session-count": 0}}]}
    validate(good)
    for bad in ({"policy-type": "dane"}, {"policy-domain": None}):
        b = json.loads(json.dumps(good))
        b["policies"][0]["policy"].update(bad)
        try:
            validate(b)
        except jsonschema.ValidationError:
            continue
        raise AssertionError("schema accepted %r" % b)


def test_tlsrpt_mailto(ctx):
    port, dns, servers = start_world(ctx)
    conf, spool = conf_for(ctx, port, dns, send="mail")
    bindir = ctx.path("bin")
    os.makedirs(bindir)
    out = ctx.path("mail")
    os.makedirs(out)
    with open(os.path.join(bindir, "sendmail"), "w") as f:
        f.write("#!/bin/sh\nn=$(ls %s | wc -l)\necho \"$@\" > %s/$n.args\n"
                "cat > %s/$n.eml\n" % (out, out, out))
    os.chmod(os.path.join(bindir, "sendmail"), 0o755)
    policy(ctx, conf, "exp.rpt")
    cp = flush(ctx, conf, env={"PATH": bindir + ":" + os.environ["PATH"]})
    assert "1 report(s) written, 1 mailed" in cp.stdout, cp.stdout
    args = open(os.path.join(out, "0.args")).read().split()
    assert args == ["-t", "-oi"], args
    msg = email.message_from_bytes(open(os.path.join(out, "0.eml"),
                                        "rb").read(),
                                   policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report", msg
    assert msg.get_param("report-type") == "tlsrpt", msg["Content-Type"]
    assert msg["TLS-Report-Domain"] == "exp.rpt", msg
    assert msg["TLS-Report-Submitter"] == HELO, msg
    assert msg["From"] == CONTACT, msg["From"]
    assert [a.strip() for a in str(msg["To"]).split(",")] == [
        "a@exp.rpt", "b@exp.rpt"], msg["To"]
    assert msg["Subject"].startswith("Report Domain: exp.rpt Submitter: "
                                     + HELO + " Report-ID: <"), msg["Subject"]
    parts = [p for p in msg.iter_attachments()]
    assert len(parts) == 1, parts
    att = parts[0]
    assert att.get_content_type() == "application/tlsrpt+gzip", att
    fname = att.get_filename()
    assert fname == os.path.basename(glob.glob(os.path.join(
        spool, "*.json.gz"))[0]), fname
    rep = json.loads(gzip.decompress(att.get_content()))
    validate(rep)
    with open(os.path.join(spool, fname), "rb") as f:
        assert gzip.decompress(f.read()) == gzip.decompress(
            att.get_content())
    assert rep["policies"][0]["failure-details"][0]["result-type"] == \
        "certificate-expired", rep


def test_tlsrpt_mailto_fails(ctx):
    """sendmail exits 75: the flush says so (exit 75), the report stays."""
    port, dns, servers = start_world(ctx)
    conf, spool = conf_for(ctx, port, dns, send="mail")
    bindir = ctx.path("bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "sendmail"), "w") as f:
        f.write("#!/bin/sh\ncat >/dev/null\nexit 75\n")
    os.chmod(os.path.join(bindir, "sendmail"), 0o755)
    policy(ctx, conf, "plain.rpt")
    cp = flush(ctx, conf, env={"PATH": bindir + ":" + os.environ["PATH"]},
               expect_rc=75)
    assert "1 report(s) written, 0 mailed" in cp.stdout, cp.stdout
    assert "1 failed" in cp.stdout, cp.stdout
    assert len(reports(spool)) == 1


def https_server(ctx, port, status=200):
    out = ctx.path("posts-%d" % port)
    os.makedirs(out)
    proc = ctx.spawn([sys.executable, RPTSERVER, HTTPS_IP, port,
                      W["https"].chain, W["https"].key, out, status])
    ctx.cleanup(tvtest.stop, proc)
    tvtest.wait_tcp(HTTPS_IP, port)
    return out


def test_tlsrpt_https(ctx):
    hport = ctx.port()
    over = {"good.rpt": ["v=TLSRPTv1; rua=https://%s:%d/v1/tlsrpt"
                         % (HTTPS_HOST, hport)],
            "plain.rpt": ["v=TLSRPTv1 ; rua = mailto:r@plain.rpt , "
                          "https://%s:%d/other" % (HTTPS_HOST, hport)]}
    port, dns, servers = start_world(ctx, txt_over=over)
    conf, spool = conf_for(ctx, port, dns, send="https")
    out = https_server(ctx, hport)
    policy(ctx, conf, "good.rpt")
    policy(ctx, conf, "plain.rpt")
    cp = flush(ctx, conf)
    assert "2 report(s) written, 0 mailed, 2 posted" in cp.stdout, cp.stdout
    posts = {}
    for k in (1, 2):
        meta = json.load(open(os.path.join(out, "%d.json" % k)))
        body = open(os.path.join(out, "%d.body" % k), "rb").read()
        posts[meta["path"]] = (meta, body)
    assert set(posts) == {"/v1/tlsrpt", "/other"}, posts.keys()
    for path, dom in (("/v1/tlsrpt", "good.rpt"), ("/other", "plain.rpt")):
        meta, body = posts[path]
        assert meta["headers"]["Content-Type"] == "application/tlsrpt+gzip"
        assert meta["headers"]["Host"] == "%s:%d" % (HTTPS_HOST, hport)
        rep = json.loads(gzip.decompress(body))
        validate(rep)
        assert rep["policies"][0]["policy"]["policy-domain"] == dom, rep
        f = glob.glob(os.path.join(spool, "*!%s!*.json.gz" % dom))
        assert len(f) == 1 and open(f[0], "rb").read() == body


def test_tlsrpt_https_refused(ctx):
    """A 500 answer, and a server whose certificate is not for the rua
    host: both are failures (exit 75); the reports stay in the spool."""
    hport = ctx.port()
    over = {"good.rpt": ["v=TLSRPTv1; rua=https://%s:%d/x"
                         % (HTTPS_HOST, hport)],
            "plain.rpt": ["v=TLSRPTv1; rua=https://alias.collector.rpt:%d/x"
                          % hport]}
    port, dns, servers = start_world(ctx, txt_over=over)
    conf, spool = conf_for(ctx, port, dns, send="both")
    https_server(ctx, hport, status=500)
    policy(ctx, conf, "good.rpt")
    policy(ctx, conf, "plain.rpt")
    cp = flush(ctx, conf, expect_rc=75)
    assert "2 report(s) written, 0 mailed, 0 posted, 2 failed" in \
        cp.stdout, cp.stdout
    assert "answered: HTTP/1.0 500" in cp.stderr, cp.stderr
    assert "certificate not valid for alias.collector.rpt" in cp.stderr, \
        cp.stderr
    assert len(reports(spool)) == 2


def test_tlsrpt_counts_file_defensive(ctx):
    """A malformed counts file is moved aside, never trusted nor fatal;
    counting then starts again."""
    port, dns, servers = start_world(ctx)
    conf, spool = conf_for(ctx, port, dns)
    cf = os.path.join(spool, "tlsrpt.counts")
    for bad in ("tlsverify-tlsrpt-counts 1\nR 86400 0 1 0 bad..name\n",
                "tlsverify-tlsrpt-counts 1\nF 86400 2 1 certificate-expired"
                " good.rpt mx.good.rpt 127.0.0.1 - x\n",
                "tlsverify-tlsrpt-counts 1\nR 86401 2 1 0 good.rpt\n",
                "tlsverify-tlsrpt-counts 2\n",
                "tlsverify-tlsrpt-counts 1\nR 86400 2 1 0 good.rpt\n"
                "F 86400 2 1 no-such-result good.rpt - - - x\n",
                "tlsverify-tlsrpt-counts 1\nR 86400 2 1 0 good.rpt" +
                "x" * 5000 + "\n"):
        with open(cf, "w") as f:
            f.write(bad)
        policy(ctx, conf, "good.rpt")
        assert open(cf + ".bad").read() == bad
        got = open(cf).read().splitlines()
        assert got[0] == "tlsverify-tlsrpt-counts 1" and len(got) == 2, got
        assert got[1] == "R %d 2 1 0 good.rpt" % day_start(), got
    # a good file from an earlier day is kept and reported
    with open(cf, "w") as f:
        f.write("tlsverify-tlsrpt-counts 1\nR 86400 2 4 1 good.rpt\n"
                "F 86400 2 1 certificate-expired good.rpt mx.good.rpt "
                "127.0.71.2 - old failure\n")
    policy(ctx, conf, "good.rpt")
    cp = flush(ctx, conf)
    assert "2 report(s) written" in cp.stdout, cp.stdout
    old = reports(spool)["%s!good.rpt!86400!172799.json.gz" % HELO]
    validate(old)
    p = one_policy(old, "good.rpt")
    assert p["summary"] == {"total-successful-session-count": 4,
                            "total-failure-session-count": 1}, p
    assert p["failure-details"] == [{
        "result-type": "certificate-expired",
        "receiving-mx-hostname": "mx.good.rpt",
        "receiving-ip": "127.0.71.2", "failed-session-count": 1,
        "failure-reason-code": "old failure"}], p
