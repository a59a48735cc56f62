#!/usr/bin/env python3
"""postfix_chroot_check.py - README "3. Connect Postfix", chrooted smtpd.

Proves the README's instructions for Debian's chrooted smtpd with the
installed package (as root, loopback only):

  - a private Postfix instance (tests/lib/postfix.py) whose master.cf runs
    smtpd with "y" in the chroot column; its queue_directory QUEUE plays
    /var/spool/postfix. The chroot is filled by Debian's own
    /usr/lib/postfix/configure-instance.sh (what the postfix service runs
    before start: etc/resolv.conf, hosts, services, nsswitch.conf,
    localtime, host.conf, dev/[u]random, the nss/resolv/gcc_s libraries),
    pointed at the instance with MAIL_CONFIG;
  - the README's steps with /var/spool/postfix replaced by QUEUE:
    `install -d -o tlsverify-milter -g tlsverify-milter -m 0750
    QUEUE/tlsverify-milter`, its sed on a copy of the installed
    configuration
    (socket = local:QUEUE/tlsverify-milter/tlsverify-milter.sock),
    `adduser postfix tlsverify-milter`, and in main.cf
    smtpd_milters = unix:tlsverify-milter/tlsverify-milter.sock (relative:
    inside the chroot), milter_default_action = tempfail;
  - the installed unit's ReadWritePaths= names
    /var/spool/postfix/tlsverify-milter (README: "the unit already allows
    the milter to write there"; systemd is not PID 1 here);
  - the installed milter started by hand with -f as the tlsverify-milter
    user (setpriv), as the unit does; accept.test is `none`, defer.test is
    `required` with a route to a closed loopback port.

Negative control first: without the group membership smtpd cannot reach
the socket (the log shows "connect to Milter service ...: Permission
denied") and MAIL gets 451 4.7.1 (milter_default_action = tempfail). Then
`adduser postfix tlsverify-milter`, Postfix restarted (group membership is
read when a daemon starts): an SMTP session gets 250 for accept.test, the
milter's 451 4.4.1 for defer.test, the message is accepted; the smtpd
process is chrooted into QUEUE and has the group; the log shows no milter
connection error. Everything started is stopped by PID; the group
membership is put back as it was (it is removed again when this script
added it); the temp dir is removed.

Usage: postfix_chroot_check.py [MILTER [CONF]]   (as root; PASS/FAIL lines)
       defaults: /usr/sbin/tlsverify-milter and
                 /etc/tlsverify-milter/tlsverify-milter.conf
"""

import grp
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import postfix  # noqa: E402
import tvtest  # noqa: E402

USER = "tlsverify-milter"
SOCK_REL = "tlsverify-milter/tlsverify-milter.sock"
CONFIGURE = "/usr/lib/postfix/configure-instance.sh"
UNIT = "/lib/systemd/system/tlsverify-milter.service"
RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append(bool(ok))
    print("%s chroot.%s%s" % ("PASS" if ok else "FAIL", name,
                              "" if ok else ": " + str(detail)[:400]),
          flush=True)


class ChrootPostfix(postfix.Postfix):
    """tests/lib/postfix.py's instance with smtpd chrooted, as on Debian."""

    def write(self):
        d = super().write()
        mc = os.path.join(d, "master.cf")
        with open(mc) as f:
            lines = f.read().splitlines(True)
        cols = lines[0].split()
        if cols[1] != "inet" or cols[7] != "smtpd":
            raise AssertionError("unexpected master.cf line: " + lines[0])
        cols[4] = "y"
        lines[0] = " ".join(cols) + "\n"
        with open(mc, "w") as f:
            f.writelines(lines)
        # Debian's chroot preparation, for this instance
        self.ctx.run(["sh", CONFIGURE, "-"], env={"MAIL_CONFIG": d},
                     expect_rc=0)
        return d


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def in_group():
    return "postfix" in grp.getgrnam(USER).gr_mem


def milter_conf(src, dst, queue):
    """The installed configuration, edited with README's sed, plus domains."""
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o644)
    sock = os.path.join(queue, SOCK_REL)
    cp = run(["sed", "-i", "s|^socket .*|socket       = local:%s|" % sock,
              dst])
    with open(dst) as f:
        text = f.read()
    check("sed_sets_socket", cp.returncode == 0 and
          ("\nsocket       = local:%s\n" % sock) in text, cp.stderr or text)
    out = []
    for line in text.splitlines(True):
        out.append(line)
        if line.strip() == "[destinations]":
            out.append("accept.test = none\ndefer.test = required\n")
        elif line.strip() == "[smtproutes]":
            out.append("defer.test = 127.0.0.1:%d\n" % closed_port())
    with open(dst, "w") as f:
        f.writelines(out)
    return sock


def start_milter(milter, conf, sock, log):
    p = subprocess.Popen(["setpriv", "--reuid=" + USER, "--regid=" + USER,
                          "--init-groups", "--", milter, "-f", "-c", conf],
                         stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        if os.path.exists(sock) or p.poll() is not None:
            break
        time.sleep(0.1)
    return p


def stop_milter(p):
    if p is None or p.poll() is not None:
        return
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def session(port):
    """One SMTP session; {step: (code, text)}."""
    r = {}
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    try:
        s.ehlo("client.test")
        for step, fn, arg in (("mail", s.mail, "sender@client.test"),
                              ("accept", s.rcpt, "user@accept.test"),
                              ("defer", s.rcpt, "user@defer.test")):
            code, text = fn(arg)
            r[step] = (code, text.decode("ascii", "replace"))
        if r["accept"][0] == 250:
            code, text = s.data(b"Subject: chroot check\r\n\r\nhello\r\n")
            r["data"] = (code, text.decode("ascii", "replace"))
        s.quit()
    except smtplib.SMTPException as e:
        r["error"] = (0, str(e))
        s.close()
    return r


def smtpd_procs(pf):
    out = []
    for pid, _start in pf.procs():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "smtpd":
                    out.append(pid)
        except FileNotFoundError:
            pass
    return out


def settled_smtpd(pf, timeout=10):
    """The smtpd processes and their roots, once none is still starting:
    master forks smtpd as root in "/" and smtpd chroots itself a moment
    later, so a process caught in between is given that moment (bounded;
    one that never chroots still fails the check)."""
    want = os.path.realpath(pf.queue)
    end = time.monotonic() + timeout
    while True:
        procs = smtpd_procs(pf)
        roots = set()
        for p in procs:
            try:
                roots.add(os.readlink("/proc/%d/root" % p))
            except FileNotFoundError:
                pass
        if (procs and roots == {want}) or time.monotonic() > end:
            return procs, roots
        time.sleep(0.2)


def proc_groups(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Groups:"):
                return [int(g) for g in line.split()[1:]]
    return []


def phase(pf, gid, member):
    """Start Postfix, one session, look at smtpd, stop: (replies, log)."""
    off = len(pf.logtext())
    pf.start()
    try:
        r = session(pf.port)
        procs, roots = settled_smtpd(pf)
        check("smtpd_chrooted_%s" % member, procs and
              roots == {os.path.realpath(pf.queue)},
              "smtpd %s root %s" % (procs, roots))
        if member == "member":
            check("smtpd_has_group", procs and
                  all(gid in proc_groups(p) for p in procs),
                  [proc_groups(p) for p in procs])
    finally:
        pf.stop()
    return r, pf.logtext()[off:]


def denied(pf, gid):
    """The negative control: postfix not in the group."""
    r, log = phase(pf, gid, "nonmember")
    want = "connect to Milter service unix:%s: Permission denied" % SOCK_REL
    check("without_group_permission_denied", want in log, log[-600:])
    check("without_group_tempfail", r.get("mail", (0, ""))[0] == 451 and
          r["mail"][1].startswith("4.7.1"), r)


def accepted(pf, gid, mlog):
    r, log = phase(pf, gid, "member")
    check("rcpt_accepted", r.get("accept", (0, ""))[0] == 250, r)
    code, text = r.get("defer", (0, ""))
    check("rcpt_deferred", code == 451 and text.startswith("4.4.1") and
          "defer.test" in text, r)
    check("data_accepted", r.get("data", (0, ""))[0] == 250, r)
    bad = [ln for ln in log.splitlines()
           if "Milter service" in ln or "Permission denied" in ln or
           "can't connect" in ln.lower() or "milter" in ln.lower() and
           ("warning" in ln or "fatal" in ln)]
    check("postfix_log_clean", not bad and "smtpd" in log, bad or log[-600:])
    with open(mlog, errors="replace") as f:
        mtext = f.read()
    check("milter_logged_defer", "defer.test" in mtext, mtext[-600:])


def main_steps(milter, conf, base, state):
    ctx = tvtest.Context(build=base, tmp=os.path.join(base, "t"))
    state["ctx"] = ctx
    pf = ChrootPostfix(ctx, ctx.port(), "unix:" + SOCK_REL,
                       transports={"accept.test": "discard:",
                                   "defer.test": "discard:"}, name="pf",
                       tls_level="none")
    with open(UNIT) as f:
        rw = [ln for ln in f if ln.startswith("ReadWritePaths=")]
    check("unit_allows_socket_dir", any(
        "/var/spool/postfix/tlsverify-milter" in ln for ln in rw), rw)
    pf.write()
    q = pf.queue
    cp = run(["install", "-d", "-o", USER, "-g", USER, "-m", "0750",
              os.path.join(q, "tlsverify-milter")])
    check("install_d", cp.returncode == 0, cp.stderr)
    sock = milter_conf(conf, os.path.join(base, "milter.conf"), q)
    cp = run([milter, "-n", "-c", os.path.join(base, "milter.conf")])
    check("milter_n", cp.returncode == 0, cp.stdout + cp.stderr)
    mlog = os.path.join(base, "milter.log")
    with open(mlog, "w") as log:
        state["milter"] = start_milter(milter, os.path.join(base,
                                       "milter.conf"), sock, log)
    st = os.stat(sock) if os.path.exists(sock) else None
    check("milter_socket", st is not None and st.st_gid == grp.getgrnam(
        USER).gr_gid and st.st_mode & 0o777 == 0o770,
        open(mlog, errors="replace").read()[-400:])
    if st is None:
        return      # nothing below would mean anything
    gid = grp.getgrnam(USER).gr_gid
    if state["was_member"]:
        run(["deluser", "--quiet", "postfix", USER])
    if not in_group():
        denied(pf, gid)
    else:
        check("group_removed_for_control", False, "postfix still in " + USER)
    cp = run(["adduser", "postfix", USER])
    check("adduser", cp.returncode == 0 and in_group(), cp.stdout + cp.stderr)
    accepted(pf, gid, mlog)


def run_all(milter, conf):
    os.umask(0o022)
    try:
        grp.getgrnam(USER)
    except KeyError:
        check("group_exists", False, "no group " + USER)
        return False
    base = tempfile.mkdtemp(prefix="tv-chroot.", dir="/tmp")
    os.chmod(base, 0o755)      # the milter user walks down to QUEUE
    state = {"was_member": in_group(), "milter": None, "ctx": None}
    try:
        main_steps(milter, conf, base, state)
    except Exception as e:     # noqa: BLE001 - report as a failed check
        check("error", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if state["ctx"] is not None:
            for err in state["ctx"].run_cleanups():
                check("postfix_stopped", False, err)
        stop_milter(state["milter"])
        if state["was_member"] and not in_group():
            run(["adduser", "--quiet", "postfix", USER])
        elif not state["was_member"] and in_group():
            run(["deluser", "--quiet", "postfix", USER])
        check("group_restored", in_group() == state["was_member"],
              grp.getgrnam(USER).gr_mem)
        if os.environ.get("TV_KEEP"):
            print("kept " + base)
        else:
            shutil.rmtree(base, ignore_errors=True)
    return all(RESULTS)


def main():
    if len(sys.argv) > 3 or os.geteuid() != 0:
        sys.stderr.write(__doc__)
        return 64
    milter = sys.argv[1] if len(sys.argv) > 1 else "/usr/sbin/tlsverify-milter"
    conf = sys.argv[2] if len(sys.argv) > 2 else \
        "/etc/tlsverify-milter/tlsverify-milter.conf"
    return 0 if run_all(milter, conf) else 1


if __name__ == "__main__":
    sys.exit(main())
