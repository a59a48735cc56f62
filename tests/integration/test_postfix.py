"""End to end with a real Postfix (issue 3): a private Postfix instance
(tests/lib/postfix.py, its own configuration, queue and data directories
under the module's tmp dir, smtpd on 127.0.0.1:PORT) with smtpd_milters
pointing at the built tlsverify-milter (tests/lib/miltersvc.py), and a
texthash transport map sending the test domains to the STARTTLS test
servers. The SMTP client is Python's smtplib talking to Postfix's smtpd.

Test world: the seed's worked example (SPEC 6).
  example.com, example.net   MX 10 mx01.subd.emailhosted.not (127.0.25.2)
                             MX 10 mx02.subd.emailhosted.not (127.0.25.3)
  PTR 127.0.25.2 mx0a.emailhosted.not, 127.0.25.3 mx0b.emailhosted.not, both
  forward-confirmed. Both servers: CN=*.emailhosted.not, SAN
  *.emailhosted.not and emailhosted.not, from the test CA.
  example.com = required-verify        -> verified through the PTR name
  example.net = required-verify-hosted -> not verified: 450 4.7.5
  xn--n3h.net (U-label "\u2603.net", which IDNA2008 refuses and UTS#46
  maps) = required-verify, MX mx.xn--n3h.net (127.0.25.4, the same
  certificate, no PTR) -> not verified: 450 4.7.5 for RCPT TO:<u@\u2603.net>
  in an SMTPUTF8 transaction (smtputf8_enable = yes).
Postfix routes example.com to [127.0.25.2]:PORT and example.net to
[127.0.25.3]:PORT, with smtp_tls_security_level = encrypt.
"""
import email
import email.policy
import os
import smtplib
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import probecase  # noqa: E402
import miltersvc  # noqa: E402
import postfix  # noqa: E402

IP1, IP2, IP3 = "127.0.25.2", "127.0.25.3", "127.0.25.4"
SNOWMAN = "xn--n3h.net"
MX1, MX2 = "mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not"
VERIFIED, HOSTED = "example.com", "example.net"
W = {}


def setup_module(mctx):
    t0 = time.monotonic()
    ca = tvtest.CA(mctx, cn="tlsverify test CA postfix")
    leaf = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    dns = probecase.seed_dns(tvtest.DNS(mctx), (VERIFIED, HOSTED), IP1, IP2)
    dns.mx(SNOWMAN, "mx." + SNOWMAN, 10)
    dns.a("mx." + SNOWMAN, IP3)
    dns.start()
    port = mctx.port()
    srv = {}
    for ip in (IP1, IP2):
        srv[ip] = tvtest.SMTPServer(mctx, ip, port, leaf=leaf,
                                    banner_host="mx.tvtest").start()
    snow = tvtest.SMTPServer(mctx, IP3, port, leaf=leaf,
                             banner_host="mx.tvtest").start()
    milter = miltersvc.start(
        mctx,
        probe={"port": port, "ca_file": ca.cert, "timeout": 10,
               "helo": "relay.tvtest.invalid"},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", VERIFIED: "required-verify",
                      HOSTED: "required-verify-hosted",
                      SNOWMAN: "required-verify"})
    pf = postfix.Postfix(
        mctx, mctx.port(), milter.postfix_spec,
        transports={VERIFIED: "smtp:[%s]:%d" % (IP1, port),
                    HOSTED: "smtp:[%s]:%d" % (IP2, port),
                    SNOWMAN: "smtp:[%s]:%d" % (IP3, port),
                    "\u2603.net": "smtp:[%s]:%d" % (IP3, port)},
        ca_file=ca.cert, tls_level="encrypt",
        extra={"smtputf8_enable": "yes"})
    pf.start()
    W.update(srv=srv, snow=snow, milter=milter, pf=pf, port=port,
             setup_s=time.monotonic() - t0)


def smtp(pf):
    c = smtplib.SMTP("127.0.0.1", pf.port, local_hostname="client.tvtest",
                     timeout=40)
    code, _ = c.ehlo()
    assert code == 250, code
    return c


def message(subject, rcpts):
    return ("From: sender@client.tvtest\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@client.tvtest>\r\n\r\nbody of %s\r\n"
            % (", ".join(rcpts), subject, subject.replace(" ", "."), subject))


def send(pf, rcpt, subj):
    """One message to rcpt through pf's smtpd; RCPT and DATA must be 250."""
    c = smtp(pf)
    try:
        assert c.mail("sender@client.tvtest")[0] == 250
        code, text = c.rcpt(rcpt)
        assert code == 250, (code, text, pf.logtext()[-2000:])
        code, text = c.data(message(subj, [rcpt]))
        assert code == 250, (code, text)
    finally:
        c.quit()


def delivered(srv, subj):
    """The envelopes srv received for the message with this Subject."""
    return [e for e in srv.envelopes()
            if ("Subject: %s\r\n" % subj).encode() in e["data"]]


def wait_delivery(pf, srv, subject, timeout=30):
    """Bounded poll for the message with this Subject at srv; flushes the
    Postfix queue once halfway. Returns its envelope."""
    def find():
        for env in srv.envelopes():
            if ("Subject: %s\r\n" % subject).encode() in env["data"]:
                return env
        return None
    end = time.monotonic() + timeout
    flushed = False
    while True:
        env = find()
        if env is not None:
            return env
        if not flushed and time.monotonic() > end - timeout / 2:
            pf.flush()
            flushed = True
        if time.monotonic() > end:
            raise AssertionError(
                "message %r not delivered in %ds\nqueue:\n%s\nmaillog:\n%s"
                % (subject, timeout, pf.queue_listing(),
                   pf.logtext()[-3000:]))
        time.sleep(0.1)


def tls_header(data):
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    vals = msg.get_all("X-TLS-Verify") or []
    return [" ".join(v.split()) for v in vals]


def queue_id_of(reply_text):
    """'2.0.0 Ok: queued as 4XyZ' -> '4XyZ'"""
    text = reply_text.decode() if isinstance(reply_text, bytes) else reply_text
    assert "queued as " in text, text
    return text.split("queued as ", 1)[1].split()[0]


# --------------------------------------------------------------------------

def test_hosted_recipient_deferred_at_rcpt(ctx):
    """Seed example, required-verify-hosted: 450 4.7.5 at RCPT."""
    pf = W["pf"]
    before = [s.connections() for s in W["srv"].values()]
    c = smtp(pf)
    try:
        code, _ = c.mail("sender@client.tvtest")
        assert code == 250, code
        t0 = time.monotonic()
        code, text = c.rcpt("user@%s" % HOSTED)
        took = time.monotonic() - t0
        text = text.decode(errors="replace")
        assert code == 450, (code, text, pf.logtext()[-2000:])
        assert text.startswith("4.7.5 "), text
        assert HOSTED in text, text
        # the reason names what was compared: the MX name against the
        # wildcard that covers one label only
        assert "*.emailhosted.not" in text, text
        # and the host and IP tried (SPEC 2)
        assert "%s [%s]" % (MX1, IP1) in text or \
            "%s [%s]" % (MX2, IP2) in text, text
        c.rset()
    finally:
        c.quit()
    after = [s.connections() for s in W["srv"].values()]
    # a cold cache: both MX hosts were probed (a failing host is followed
    # by the next one, SPEC 5)
    assert all(a > b for a, b in zip(after, before)), (before, after)
    assert not any(HOSTED in str(e["rcpt"]) for s in W["srv"].values()
                   for e in s.envelopes()), "hosted recipient was delivered"
    assert took < 20, "RCPT took %.1fs" % took


def test_verified_recipient_delivered_over_tls(ctx):
    """required-verify through the PTR name: accepted, delivered over TLS
    to the test server, with the X-TLS-Verify header."""
    pf = W["pf"]
    subj = "verified one"
    c = smtp(pf)
    try:
        code, _ = c.mail("sender@client.tvtest")
        assert code == 250
        code, text = c.rcpt("alice@%s" % VERIFIED)
        assert code == 250, (code, text)
        code, text = c.data(message(subj, ["alice@%s" % VERIFIED]))
        assert code == 250, (code, text)
        qid = queue_id_of(text)
    finally:
        c.quit()
    env = wait_delivery(pf, W["srv"][IP1], subj)
    assert env["tls"] is True, env
    assert env["rcpt"] == ["TO:<alice@%s>" % VERIFIED], env["rcpt"]
    hdr = tls_header(env["data"])
    assert len(hdr) == 1, hdr
    assert hdr[0].startswith("%s=verified (required-verify; host=" % VERIFIED), hdr
    assert "matched=CN:*.emailhosted.not~ptr:mx0a.emailhosted.not" in hdr[0] \
        or "matched=CN:*.emailhosted.not~ptr:mx0b.emailhosted.not" in hdr[0], hdr
    log = pf.logtext()
    assert "%s: " % qid in log and "status=sent" in log, log[-3000:]
    assert "TLS connection established to %s" % IP1 in log, log[-3000:]


def test_mixed_recipients_decided_per_recipient(ctx):
    """One verified and one failing recipient: the failing one gets 450 at
    RCPT, the other is delivered; the milter logs the second RCPT's verdict
    with Postfix's queue id."""
    pf, milter = W["pf"], W["milter"]
    subj = "mixed two"
    rcpt_ok, rcpt_bad = "bob@%s" % VERIFIED, "carol@%s" % HOSTED
    c = smtp(pf)
    try:
        assert c.mail("sender@client.tvtest")[0] == 250
        code, text = c.rcpt(rcpt_ok)
        assert code == 250, (code, text)
        code, text = c.rcpt(rcpt_bad)
        text = text.decode(errors="replace")
        assert code == 450 and text.startswith("4.7.5 "), (code, text)
        code, text = c.data(message(subj, [rcpt_ok, rcpt_bad]))
        assert code == 250, (code, text)
        qid = queue_id_of(text)
    finally:
        c.quit()
    env = wait_delivery(pf, W["srv"][IP1], subj)
    assert env["tls"] is True, env
    assert env["rcpt"] == ["TO:<%s>" % rcpt_ok], env["rcpt"]
    hdr = tls_header(env["data"])
    assert len(hdr) == 1 and hdr[0].startswith("%s=verified" % VERIFIED), hdr
    assert not any(rcpt_bad in str(e["rcpt"]) for s in W["srv"].values()
                   for e in s.envelopes()), "failing recipient was delivered"
    # Postfix gives {i} from the second RCPT on: the failing verdict has it
    log = milter.log()
    lines = [ln for ln in log.splitlines() if "queue_id=%s " % qid in ln]
    assert any("domain=%s" % HOSTED in ln for ln in lines), \
        "no verdict line with queue_id=%s for %s:\n%s" % (qid, HOSTED,
                                                         log[-3000:])


def test_failing_first_then_verified(ctx):
    """The failing recipient first: the verified one after it is still
    accepted and delivered (the milter answers CONTINUE, not ACCEPT)."""
    pf = W["pf"]
    subj = "failing first"
    rcpt_bad, rcpt_ok = "dave@%s" % HOSTED, "erin@%s" % VERIFIED
    c = smtp(pf)
    try:
        assert c.mail("sender@client.tvtest")[0] == 250
        code, text = c.rcpt(rcpt_bad)
        assert code == 450 and b"4.7.5" in text, (code, text)
        code, text = c.rcpt(rcpt_ok)
        assert code == 250, (code, text)
        code, text = c.data(message(subj, [rcpt_bad, rcpt_ok]))
        assert code == 250, (code, text)
    finally:
        c.quit()
    env = wait_delivery(pf, W["srv"][IP1], subj)
    assert env["rcpt"] == ["TO:<%s>" % rcpt_ok] and env["tls"], env


def test_forged_header_replaced(ctx):
    """SPEC 7: a message that comes with its own X-TLS-Verify headers
    (forged: any case, space before the colon, empty) arrives with the
    milter's header only."""
    pf = W["pf"]
    subj = "forged tag"
    rcpt = "frank@%s" % VERIFIED
    forged = ("X-TLS-Verify: %s=verified (fake copy)\r\n"
              "x-tls-verify: evil.test=verified\r\n"
              "X-TLS-Verify  : evil.test=spaced\r\n"
              "X-TLS-Verify:\r\n" % VERIFIED)
    c = smtp(pf)
    try:
        assert c.mail("sender@client.tvtest")[0] == 250
        code, text = c.rcpt(rcpt)
        assert code == 250, (code, text)
        code, text = c.data(forged + message(subj, [rcpt]))
        assert code == 250, (code, text)
    finally:
        c.quit()
    env = wait_delivery(pf, W["srv"][IP1], subj)
    hdr = tls_header(env["data"])
    assert len(hdr) == 1, hdr
    assert hdr[0].startswith("%s=verified (required-verify; host=" % VERIFIED), hdr
    assert b"fake copy" not in env["data"] and b"evil.test" not in env["data"], \
        env["data"][:2000]


def test_smtputf8_recipient_domain_uses_its_alabel(ctx):
    """RCPT TO:<u@\u2603.net> (SMTPUTF8): the milter looks the domain up as
    xn--n3h.net, the A-label Postfix delivers to (UTS#46), so it gets that
    key's required-verify answer, not default; and its DNS queries use the
    A-label (the test DNS knows only that name)."""
    pf, milter = W["pf"], W["milter"]
    before = W["snow"].connections()
    c = smtp(pf)
    try:
        assert c.has_extn("smtputf8"), "Postfix does not offer SMTPUTF8"
        code, text = c.mail("sender@client.tvtest", options=["SMTPUTF8"])
        assert code == 250, (code, text)
        code, text = c.rcpt("u@\u2603.net")
        text = text.decode(errors="replace")
        assert code == 450 and text.startswith("4.7.5 "), (
            code, text, milter.log()[-2000:])
        c.rset()
    finally:
        c.quit()
    assert W["snow"].connections() > before, "mx.%s not probed" % SNOWMAN
    assert "domain=%s setting=required-verify" % SNOWMAN in milter.log(), \
        milter.log()[-2000:]


def test_stop_postfix_and_milter(ctx):
    """Postfix stops (master and its daemons gone), the milter too."""
    pf, milter = W["pf"], W["milter"]
    procs = pf.procs()
    assert len(procs) > 1, "Postfix master and daemons not running: %s" % procs
    t0 = time.monotonic()
    pf.stop()
    assert not pf.running()
    alive = [p for p in procs if postfix.alive(p)]
    assert not alive, "Postfix processes alive after stop: %s" % alive
    t1 = time.monotonic()
    milter.stop()
    assert milter.proc.poll() == 0
    sys.stderr.write("test_postfix: setup %.1fs, postfix stop %.1fs, "
                     "milter stop %.1fs\n" % (W["setup_s"], t1 - t0,
                                             time.monotonic() - t1))
