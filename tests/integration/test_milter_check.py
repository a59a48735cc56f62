"""Integration tests of `tlsverify-milter -n` output: the revocation mode
and whether it is required ("revocation = crl" written means what the
default with a CRL file means), and the warning for a HELO name that is
not a fully qualified domain name (exit status stays 0).
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402


def check(ctx, name, text, rc=0):
    path = ctx.path(name)
    with open(path, "w") as f:
        f.write(text)
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-n", "-c",
                  path])
    assert cp.returncode == rc, (cp.returncode, cp.stdout, cp.stderr)
    return path, cp


def test_check_revocation_mode_printed(ctx):
    crl = tvtest.CA(ctx, cn="tlsverify test CA check").crl()
    helo = "helo = relay.example.org\n"
    cases = [
        ("unset.conf", "crl_file = %s\n" % crl, "crl, required"),
        ("crl.conf", "revocation = crl\ncrl_file = %s\n" % crl,
         "crl, required"),
        ("crlno.conf", "revocation = crl\ncrl_file = %s\n"
         "revocation_required = no\n" % crl, "crl, not required"),
        ("cdp.conf", "revocation = crl\n", "crl, not required"),
        ("ocsp.conf", "revocation = ocsp\n", "ocsp, not required"),
        ("any.conf", "revocation = any\nrevocation_required = yes\n",
         "any, required"),
        ("none.conf", "", "none\n"),
    ]
    for name, body, want in cases:
        path, cp = check(ctx, name, "[probe]\n" + helo + body)
        line = "%s: revocation %s" % (path, want)
        assert line in cp.stdout, "%s: %r not in %r" % (name, line,
                                                         cp.stdout)
        assert "configuration OK" in cp.stdout, cp.stdout


def test_check_helo_single_label_warns(ctx):
    path, cp = check(ctx, "single.conf", "[probe]\nhelo = singlelabel\n")
    assert "warning" in cp.stderr and "'singlelabel'" in cp.stderr and \
        "fully qualified" in cp.stderr, cp.stderr
    assert "%s: helo singlelabel\n" % path in cp.stdout, cp.stdout
    path, cp = check(ctx, "fqdn.conf", "[probe]\nhelo = relay.example.org\n")
    assert "warning" not in cp.stderr, cp.stderr
    assert "%s: helo relay.example.org\n" % path in cp.stdout, cp.stdout
    path, cp = check(ctx, "literal.conf", "[probe]\nhelo = [127.0.0.1]\n")
    assert "warning" not in cp.stderr, cp.stderr


def default_helo():
    """What the default should be: the canonical name of gethostname()
    when it has a dot, else the host name."""
    host = socket.gethostname()
    try:
        cn = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM,
                                flags=socket.AI_CANONNAME)[0][3]
    except OSError:
        cn = ""
    return cn if "." in cn else host


def test_check_helo_default_is_fqdn(ctx):
    want = default_helo()
    path, cp = check(ctx, "default.conf", "[probe]\nport = 25\n")
    assert "%s: helo %s\n" % (path, want) in cp.stdout, (want, cp.stdout)
    warned = "fully qualified" in cp.stderr
    assert warned == ("." not in want), (want, cp.stderr)


def in_uts_ns(ctx, hostname, hosts_text, conf):
    """Run tlsverify-milter -n with gethostname() = hostname and /etc/hosts
    = hosts_text (a user, mount and UTS namespace: unshare -rmu)."""
    hosts = ctx.path("hosts-" + hostname)
    with open(hosts, "w") as f:
        f.write(hosts_text)
    inner = 'hostname "$1" && mount --bind "$2" /etc/hosts && exec "$3" ' \
        '-n -c "$4"'
    flags = "-mu" if os.getuid() == 0 else "-rmu"
    return ctx.run(["unshare", flags, "sh", "-c", inner, "sh", hostname,
                    hosts, os.path.join(ctx.build, "tlsverify-milter"),
                    conf])


def test_check_helo_default_uses_canonical_name(ctx):
    conf = ctx.path("default.conf")
    with open(conf, "w") as f:
        f.write("[probe]\nport = 25\n")
    cp = in_uts_ns(ctx, "mx1", "127.0.0.1 localhost\n"
                   "127.0.1.1 mx1.example.org mx1\n", conf)
    assert cp.returncode == 0, (cp.returncode, cp.stdout, cp.stderr)
    assert "%s: helo mx1.example.org\n" % conf in cp.stdout, cp.stdout
    assert "warning" not in cp.stderr, cp.stderr
    cp = in_uts_ns(ctx, "mx2", "127.0.0.1 localhost\n127.0.1.2 mx2\n", conf)
    assert cp.returncode == 0, (cp.returncode, cp.stdout, cp.stderr)
    assert "%s: helo mx2\n" % conf in cp.stdout, cp.stdout
    assert "'mx2' is not a fully qualified" in cp.stderr, cp.stderr
