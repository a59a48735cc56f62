"""End to end with Postfix (SPEC 12): the policy service's `dane-only`
answer makes Postfix itself authenticate the delivery with the TLSA records.

A signed zone danepf.test (NSD + Unbound, tests/lib/dnssec.py) with
  ee.danepf.test  MX 10 mx-ee.danepf.test  A 127.0.13.2
  _P._tcp.mx-ee.danepf.test  TLSA 3 1 1 <key of the server's certificate>
Unbound listens on 127.0.13.53 port 53, because Postfix asks the system
resolver: the test Postfix runs in a private mount namespace (`unshare -m`)
where /etc/resolv.conf is bind-mounted to a file naming that Unbound (with
`options trust-ad`). Postfix: smtp_dns_support_level = dnssec,
smtp_host_lookup = dns, smtp_tls_security_level = may, and
smtp_tls_policy_maps = the policy service; smtp_tcp_port = P and the
transport `smtp:` (MX lookup; the policy key is then the domain itself: a
`domain:port` next-hop would be looked up as a host key, NOTFOUND).

  1. a message for ee.danepf.test (dane-only) is accepted at RCPT (the
     milter's probe authenticated mx-ee by its TLSA) and Postfix delivers
     it over a DANE-verified TLS connection;
  2. binding: a message is accepted and held; the server then presents
     another key (a certificate that is otherwise fine): Postfix, told
     `dane-only`, refuses it and keeps the message; with the right key
     back it delivers.
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import dnssec  # noqa: E402
import miltersvc  # noqa: E402
import postfix  # noqa: E402
import tvtest  # noqa: E402
from test_postfix import (smtp, message, wait_delivery,  # noqa: E402
                          send, delivered)

IP = "127.0.13.2"
NS = "127.0.13.53"
DOM = "ee.danepf.test"
MX = "mx-ee.danepf.test"
W = {}


def _postfix_in_namespace(pf, resolv):
    """Postfix.start(), but `postfix start` runs in a private mount
    namespace whose /etc/resolv.conf is resolv (master and its daemons
    stay in it)."""
    orig = pf._cmd

    def cmd(*args, **kw):
        if args != ("start",):
            return orig(*args, **kw)
        cp = pf.ctx.run(["unshare", "-m", "--propagation", "private", "sh",
                         "-c", 'mount --bind "$1" /etc/resolv.conf && '
                         'exec /usr/sbin/postfix -c "$2" start', "sh",
                         resolv, pf.dir], timeout=60)
        if cp.returncode != 0:
            raise AssertionError("postfix start in a namespace: %d %s %s"
                                 % (cp.returncode, cp.stdout, cp.stderr))
        return cp
    pf._cmd = cmd
    return pf.start()


def setup_module(mctx):
    port = mctx.port()
    ca = tvtest.CA(mctx, cn="DANE postfix unrelated CA")
    good = ca.issue(MX, sans=[MX], name="good")
    other = ca.issue(MX, sans=[MX], name="otherkey")
    z = dnssec.Zones(mctx, ["danepf.test"], listen=NS, port=53)
    z.add("danepf.test", "%s. 300 IN MX 10 %s." % (DOM, MX))
    z.add("danepf.test", "%s. 300 IN A %s" % (MX, IP))
    z.add("danepf.test", "_%d._tcp.%s. 300 IN TLSA 3 1 1 %s"
          % (port, MX, dnssec.spki_sha256(good.cert)))
    z.start()
    srv = tvtest.SMTPServer(mctx, IP, port, leaf=good).start()
    ppol = mctx.port()
    milter = miltersvc.start(
        mctx, probe={"port": port, "timeout": 10,
                     "helo": "relay.tvtest.invalid"},
        dns={"nameserver": z.nameserver, "timeout": 3, "dnssec": True},
        cache={"verified_ttl": 3600},
        destinations={"default": "none", DOM: "dane-only"},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    shared = mctx.shared_dir("resolv")
    resolv = os.path.join(shared, "resolv.conf")
    with open(resolv, "w") as f:
        f.write("nameserver %s\noptions trust-ad\n" % NS)
    os.chmod(resolv, 0o644)
    pf = postfix.Postfix(mctx, mctx.port(), milter.postfix_spec,
                         transports={DOM: "smtp:"},
                         tls_level="may")
    pf.extra.update({
        "smtp_tls_policy_maps":
            "socketmap:inet:127.0.0.1:%d:tlspolicy" % ppol,
        "smtp_dns_support_level": "dnssec",
        "smtp_host_lookup": "dns",
        "smtp_tcp_port": str(port),     # the policy key stays the domain
    })
    _postfix_in_namespace(pf, resolv)
    W.update(pf=pf, srv=srv, port=port, good=good, other=other)


def _restart(ctx, leaf):
    W["srv"].stop()
    W["srv"] = tvtest.SMTPServer(ctx, IP, W["port"], leaf=leaf).start()


def test_dane_postfix_delivers_over_dane(ctx):
    pf = W["pf"]
    send(pf, "alice@" + DOM, "dane one")
    env = wait_delivery(pf, W["srv"], "dane one", timeout=60)
    assert env["tls"] is True, env
    hdr = b"X-TLS-Verify: ee.danepf.test=verified (dane-only; host=" + \
        MX.encode() + b"; note=dane TLSA 3 1 1)"
    assert hdr in env["data"].replace(b"\r\n ", b" "), env["data"][:800]
    log = pf.logtext()
    assert "Verified TLS connection established to %s[%s]" % (MX, IP) \
        in log, log[-3000:]


def test_dane_postfix_refuses_another_key(ctx):
    pf = W["pf"]
    pf.extra["defer_transports"] = "smtp"
    pf.write()
    pf.ctx.run(["/usr/sbin/postfix", "-c", pf.dir, "reload"], timeout=30)
    time.sleep(1)
    try:
        send(pf, "bob@" + DOM, "dane held")
        time.sleep(1)
        assert not delivered(W["srv"], "dane held")
        _restart(ctx, W["other"])
        n0 = pf.logtext().count("Verified TLS connection")
        pf.flush()
        tvtest.wait_for(lambda: "no matching DANE TLSA records" in
                        pf.logtext(), timeout=30,
                        what="Postfix refused the key by its TLSA")
        time.sleep(1)
        assert not delivered(W["srv"], "dane held"), \
            "delivered to a server whose key matches no TLSA record"
        assert pf.logtext().count("Verified TLS connection") == n0
        assert "bob@" + DOM in pf.queue_listing(), pf.queue_listing()
        _restart(ctx, W["good"])
        pf.flush()
        env = wait_delivery(pf, W["srv"], "dane held", timeout=60)
        assert env["tls"] is True
    finally:
        del pf.extra["defer_transports"]
        pf.write()
        pf.ctx.run(["/usr/sbin/postfix", "-c", pf.dir, "reload"], timeout=30)
