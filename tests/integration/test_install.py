"""test_install.py - `make install` layout, installed configuration, man
pages and the systemd unit (fast checks; building and installing the .deb
is `make package-check`, tests/package/).
"""

import os
import shutil
import subprocess

MANPAGES = ["man/tlsverify-milter.8", "man/tlsverify-milter.conf.5",
            "man/tlsverify-probe.1"]


def _install(ctx, dest, *extra):
    cp = ctx.run(["make", "-s", "--no-print-directory", "O=" + ctx.build,
                  "install", "DESTDIR=" + dest] + list(extra),
                 timeout=170, cwd=ctx.root)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    return cp


def test_install_layout(ctx):
    dest = ctx.path("root")
    _install(ctx, dest, "PREFIX=/usr", "UNITDIR=/lib/systemd/system",
             "TMPFILESDIR=/usr/lib/tmpfiles.d")
    want = {
        "usr/sbin/tlsverify-milter": 0o755,
        "usr/bin/tlsverify-probe": 0o755,
        "etc/tlsverify-milter/tlsverify-milter.conf": 0o644,
        "usr/share/man/man8/tlsverify-milter.8": 0o644,
        "usr/share/man/man5/tlsverify-milter.conf.5": 0o644,
        "usr/share/man/man1/tlsverify-probe.1": 0o644,
        "lib/systemd/system/tlsverify-milter.service": 0o644,
        "usr/lib/tmpfiles.d/tlsverify-milter.conf": 0o644,
    }
    for rel, mode in want.items():
        p = os.path.join(dest, rel)
        assert os.path.isfile(p), "missing " + rel
        got = os.stat(p).st_mode & 0o777
        assert got == mode, "%s: mode %o, want %o" % (rel, got, mode)
    unit = open(os.path.join(
        dest, "lib/systemd/system/tlsverify-milter.service")).read()
    assert ("ExecStart=/usr/sbin/tlsverify-milter -f -c "
            "/etc/tlsverify-milter/tlsverify-milter.conf") in unit, unit
    assert "@" not in unit.split("ExecStart=")[1].splitlines()[0]
    for key in ("Type=simple", "RuntimeDirectory=tlsverify-milter",
                "ExecReload=/bin/kill -USR1 $MAINPID", "Restart=on-failure",
                "After=network-online.target", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes"):
        assert key in unit.splitlines() or key in unit, "unit lacks " + key


def test_installed_conf(ctx):
    dest = ctx.path("root")
    _install(ctx, dest, "PREFIX=/usr")
    conf = os.path.join(dest, "etc/tlsverify-milter/tlsverify-milter.conf")
    lines = [ln.split(";")[0].strip() for ln in open(conf)]
    for want in ("socket       = local:/run/tlsverify-milter/"
                 "tlsverify-milter.sock",
                 "user         = tlsverify-milter",
                 "pidfile      = /run/tlsverify-milter/tlsverify-milter.pid",
                 "default      = preferred", "on_fail      = defer"):
        assert want in lines, "installed conf lacks %r" % want
    cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-n", "-c",
                  conf])
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "configuration OK" in cp.stdout
    # `make run` keeps the unprivileged sample: TCP socket, no user change
    sample = [ln.strip() for ln in open(os.path.join(
        ctx.root, "conf/tlsverify-milter.conf"))]
    assert "socket       = inet:8895@127.0.0.1" in sample


def test_install_keeps_existing_conf(ctx):
    # PREFIX/SYSCONFDIR inside ctx.tmp, no DESTDIR: an existing
    # configuration is kept, the new one goes to .conf.new
    etc = ctx.path("etc")
    os.makedirs(os.path.join(etc, "tlsverify-milter"))
    mine = os.path.join(etc, "tlsverify-milter", "tlsverify-milter.conf")
    with open(mine, "w") as f:
        f.write("[destinations]\ndefault = none\n")
    _install(ctx, "", "PREFIX=" + ctx.path("usr"), "SYSCONFDIR=" + etc,
             "UNITDIR=" + ctx.path("unit"),
             "TMPFILESDIR=" + ctx.path("tmpfiles"))
    assert open(mine).read() == "[destinations]\ndefault = none\n"
    assert os.path.isfile(mine + ".new")


def test_man_pages_render_without_warnings(ctx):
    for page in MANPAGES:
        path = os.path.join(ctx.root, page)
        cp = ctx.run(["groff", "-ww", "-man", "-z", path])
        assert cp.returncode == 0 and cp.stderr == "", page + cp.stderr
        env = dict(os.environ, MANWIDTH="80")
        cp = ctx.run(["man", "--warnings", "-l", path], env=env)
        assert cp.returncode == 0 and cp.stderr == "", page + cp.stderr
        for section in ("NAME", "SYNOPSIS", "SEE ALSO"):
            assert section in cp.stdout, "%s lacks %s" % (page, section)


def test_man_pages_name_every_key(ctx):
    # every key of conf.c's table is documented in tlsverify-milter.conf(5)
    src = open(os.path.join(ctx.root, "milter/conf.c")).read()
    keys = []
    for ln in src.splitlines():
        ln = ln.strip()
        if ln.startswith("{ CONF_SECT_") and '"' in ln:
            keys.append(ln.split('"')[1])
    assert len(keys) >= 19, keys
    page = open(os.path.join(ctx.root, "man/tlsverify-milter.conf.5")).read()
    for k in keys:
        assert "\n.B %s\n" % k in page, "key %s not documented" % k
    for s in ("none", "preferred", "required", "preferred-verify",
              "required-verify", "required-verify-hosted"):
        assert "\n.B %s\n" % s.replace("-", "\\-") in page or \
            "\n.B %s\n" % s in page, "setting %s not documented" % s


def test_systemd_unit_verifies(ctx):
    if shutil.which("systemd-analyze") is None:
        raise AssertionError("systemd-analyze missing (package systemd)")
    usr = ctx.path("usr")
    _install(ctx, "", "PREFIX=" + usr, "SYSCONFDIR=" + ctx.path("etc"),
             "UNITDIR=" + ctx.path("unit"),
             "TMPFILESDIR=" + ctx.path("tmpfiles"))
    unit = os.path.join(ctx.path("unit"), "tlsverify-milter.service")
    # --man=no: the pages are not installed in the system's man path here
    cp = ctx.run(["systemd-analyze", "verify", "--man=no", unit])
    out = (cp.stdout + cp.stderr).strip()
    assert cp.returncode == 0 and out == "", out
