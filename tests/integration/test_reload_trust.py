"""A reload that changes trust drops the verdicts judged under the old
trust (SPEC 7): a CA bundle rewritten in place (same path, same
modification time, new content) and the system store (no ca_file: OpenSSL's
default file, here chosen with SSL_CERT_FILE as OpenSSL allows) are part of
what a generation records when it is loaded, so SIGUSR1 after such a change
makes the next recipient be probed again under the new trust.
"""
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402

SMTP = {"{rcpt_mailer}": "smtp"}


def rcpt(port, addr):
    c = MilterClient("127.0.0.1", port, timeout=60)
    try:
        c.negotiate()
        c.mail("<sender@relay.test>")
        out = c.rcpt(addr, macros=SMTP)
        c.quit()
    finally:
        c.close()
    return out


def setup(ctx, ip, domain):
    ca1 = tvtest.CA(ctx, cn="Trust One CA")
    ca2 = tvtest.CA(ctx, cn="Trust Two CA")
    leaf = ca1.issue(domain, sans=[domain])
    port = ctx.port()
    srv = tvtest.SMTPServer(ctx, ip, port, leaf=leaf).start()
    ctx.cleanup(srv.stop)
    bundle = ctx.path("bundle.pem")
    shutil.copyfile(ca1.cert, bundle)
    return ca2, srv, port, bundle


def replace_in_place(bundle, new_pem):
    """New content, same path and inode, modification time kept."""
    st = os.stat(bundle)
    with open(new_pem, "rb") as f:
        data = f.read()
    with open(bundle, "r+b") as f:
        f.truncate(0)
        f.write(data)
    os.utime(bundle, ns=(st.st_atime_ns, st.st_mtime_ns))


def reload_and_check(ctx, m, srv, domain):
    n = srv.connections()
    os.kill(m.proc.pid, signal.SIGUSR1)
    tvtest.wait_for(lambda: "generation 2" in m.log(), timeout=10,
                    what="reload logged")
    assert "probe or trust settings changed" in m.log(), m.log()[-2000:]
    code, text = rcpt(m.port, "<u@%s>" % domain)
    assert code == "replycode" and text.startswith("450 4.7.5 "), \
        (code, text)
    assert srv.connections() == n + 1, "no new probe after the reload"


def test_ca_file_changed_in_place(ctx):
    domain = "trust.e.test"
    ca2, srv, port, bundle = setup(ctx, "127.0.9.61", domain)
    m = miltersvc.start(ctx, probe={"timeout": 5, "port": port,
                                    "ca_file": bundle},
                        dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
                        destinations={"default": "none",
                                      domain: "required-verify"},
                        smtproutes={domain: "127.0.9.61"})
    assert rcpt(m.port, "<u@%s>" % domain) == ("continue", "")
    assert rcpt(m.port, "<v@%s>" % domain) == ("continue", "")
    assert srv.connections() == 1, "second recipient not from the cache"
    replace_in_place(bundle, ca2.cert)
    reload_and_check(ctx, m, srv, domain)


def test_system_store_changed(ctx):
    domain = "system.e.test"
    ca2, srv, port, bundle = setup(ctx, "127.0.9.62", domain)
    m = miltersvc.start(ctx, env={"SSL_CERT_FILE": bundle,
                                  "SSL_CERT_DIR": ctx.path("nodir")},
                        probe={"timeout": 5, "port": port},
                        dns={"nameserver": "127.0.0.1:%d" % ctx.port()},
                        destinations={"default": "none",
                                      domain: "required-verify"},
                        smtproutes={domain: "127.0.9.62"})
    assert rcpt(m.port, "<u@%s>" % domain) == ("continue", "")
    replace_in_place(bundle, ca2.cert)
    reload_and_check(ctx, m, srv, domain)
