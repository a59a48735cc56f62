"""The policy service binds Postfix's delivery to the verdict (SPEC 10),
with a real private Postfix (tests/lib/postfix.py) whose smtpd_milters,
smtp_tls_policy_maps and transport_maps all point at one tlsverify-milter
daemon. The main.cf lines and the daemon's [policy] lines are read from
README.md's "Binding delivery: the policy service" word for word; only the
port 8896 becomes the test's port, the CA file the test CA's, and the test's
own texthash map (whose "*" entry keeps everything else on this machine)
follows the socketmap in transport_maps, as the README says to keep one's
own maps.

Postfix's own smtp_tls_security_level is Debian's default, "may": only the
policy service makes it strict. The test Postfix runs with DNS lookups off,
so every destination here is reached through [smtproutes] routes, which
the transport map hands to Postfix (a list of next-hops, Postfix >= 3.5).

  1. bind.test (required-verify, route 127.0.28.2) verified: delivered
     over TLS;
  2. binding: a message for bind.test accepted while it verified is held
     (defer_transports = smtp); the server then presents a self-signed
     certificate: the flush does not deliver it and it stays queued; with
     the right certificate back, the next flush delivers it;
  3. two.test: route 10 at 127.0.28.3 (self-signed), route 20 at
     127.0.28.4 (verifies): accepted, delivered to the second, nothing is
     ever delivered to the first;
  4. the routed domain has no entry of its own in the texthash map: the
     transport answer alone takes it to its route.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
import postfix  # noqa: E402
from test_postfix import (smtp, message, wait_delivery,  # noqa: E402
                          send, delivered)

IP_BIND, IP_BAD, IP_GOOD = "127.0.28.2", "127.0.28.3", "127.0.28.4"
W = {}
README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                      "README.md")


def readme_blocks():
    """The ini and main.cf code blocks of the README's policy section."""
    with open(README) as f:
        text = f.read()
    sec = text.split("### Binding delivery: the policy service", 1)[1]
    sec = sec.split("\n## ", 1)[0]
    blocks = sec.split("```")[1::2]
    ini = [b for b in blocks if b.startswith("ini")][0]
    maincf = [b for b in blocks if "smtp_tls_policy_maps" in b][0]
    return ini, maincf


def readme_settings(block, port):
    out = {}
    for line in block.splitlines():
        if "=" not in line or line.startswith(("[", "#")):
            continue
        k, v = (x.strip() for x in line.split("=", 1))
        v = v.replace("8896", str(port))
        out[k] = v
    return out


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA policy postfix")
    W["leaf"] = ca.issue("bind.test", sans=["bind.test"], name="bind")
    two = ca.issue("two.test", sans=["two.test"], name="two")
    W["selfsigned"] = tvtest.self_signed(mctx, "bind.test",
                                         sans=["bind.test", "two.test"])
    port = mctx.port()
    W["port"] = port
    W["srv"] = {
        IP_BIND: tvtest.SMTPServer(mctx, IP_BIND, port,
                                   leaf=W["leaf"]).start(),
        IP_BAD: tvtest.SMTPServer(mctx, IP_BAD, port,
                                  leaf=W["selfsigned"]).start(),
        IP_GOOD: tvtest.SMTPServer(mctx, IP_GOOD, port, leaf=two).start(),
    }
    ppol = mctx.port()
    ini, maincf = readme_blocks()
    milter = miltersvc.start(
        mctx,
        probe={"port": port, "ca_file": ca.cert, "timeout": 10,
               "helo": "relay.tvtest.invalid"},
        dns={"nameserver": "127.0.0.1:%d" % mctx.port(), "timeout": 2},
        cache={"verified_ttl": 3600},
        destinations={"default": "none", "bind.test": "required-verify",
                      "two.test": "required-verify"},
        smtproutes={"bind.test": IP_BIND,
                    "two.test": [IP_BAD + "/10", IP_GOOD + "/20"]},
        extra={"policy": readme_settings(ini, ppol)})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    pf = postfix.Postfix(mctx, mctx.port(), milter.postfix_spec,
                         transports={}, ca_file=ca.cert, tls_level="may")
    cf = readme_settings(maincf, ppol)
    assert set(cf) == {"smtp_tls_policy_maps", "transport_maps",
                       "smtp_tls_CAfile", "smtp_tls_fingerprint_digest"}, cf
    cf["transport_maps"] += ", texthash:" + os.path.join(pf.dir, "transport")
    # the harness sets smtp_tls_CAfile itself, to its copy of the same CA
    # file in a directory the postfix user can read
    del cf["smtp_tls_CAfile"]
    pf.extra.update(cf)
    pf.start()
    W.update(pf=pf, milter=milter, ca=ca, ppol=ppol)


def restart_server(ctx, ip, leaf):
    W["srv"][ip].stop()
    W["srv"][ip] = tvtest.SMTPServer(ctx, ip, W["port"], leaf=leaf).start()


def test_verified_domain_delivered_over_tls(ctx):
    pf = W["pf"]
    send(pf, "alice@bind.test", "policy one")
    env = wait_delivery(pf, W["srv"][IP_BIND], "policy one")
    assert env["tls"] is True, env
    log = pf.logtext()
    assert "Verified TLS connection established to %s" % IP_BIND in log, \
        log[-3000:]


def test_binding_holds_mail_when_the_server_stops_verifying(ctx):
    pf = W["pf"]
    pf.extra["defer_transports"] = "smtp"
    pf.write()
    pf.ctx.run(["/usr/sbin/postfix", "-c", pf.dir, "reload"], timeout=30)
    time.sleep(1)
    try:
        send(pf, "bob@bind.test", "policy held")
        time.sleep(1)
        assert not delivered(W["srv"][IP_BIND], "policy held")
        # the destination stops verifying: a certificate of no trusted CA
        restart_server(ctx, IP_BIND, W["selfsigned"])
        pf.flush()
        tvtest.wait_for(lambda: "certificate verification failed" in
                        pf.logtext() or "not trusted" in pf.logtext(),
                        timeout=30, what="Postfix refused the certificate")
        time.sleep(1)
        assert not delivered(W["srv"][IP_BIND], "policy held"), \
            "delivered to a server that does not verify"
        assert "bob@bind.test" in pf.queue_listing(), pf.queue_listing()
        # fixed: the next flush delivers it
        restart_server(ctx, IP_BIND, W["leaf"])
        pf.flush()
        env = wait_delivery(pf, W["srv"][IP_BIND], "policy held")
        assert env["tls"] is True
    finally:
        del pf.extra["defer_transports"]
        pf.write()
        pf.ctx.run(["/usr/sbin/postfix", "-c", pf.dir, "reload"], timeout=30)


def test_only_the_verifying_route_gets_mail(ctx):
    pf = W["pf"]
    send(pf, "carol@two.test", "policy two")
    env = wait_delivery(pf, W["srv"][IP_GOOD], "policy two", timeout=60)
    assert env["tls"] is True
    assert W["srv"][IP_BAD].messages() == [], "delivered to route 10"
    log = pf.logtext()
    assert "[%s]:%d" % (IP_BAD, W["port"]) in log, log[-3000:]
