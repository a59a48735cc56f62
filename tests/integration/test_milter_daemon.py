"""The daemon's start-up and logging (SPEC 7, issue 9): [milter] user =
root, the pid file check, a second instance on a live unix socket, and one
copy of each log line under systemd's journal.

No DNS and no SMTP server are needed: a recipient domain that is not a valid
host name is judged at once ("no-host", 450 under `required`, SPEC 7), which
gives a verdict line without any network; `none.test` (setting none) is
answered "continue" without a line. Every daemon runs in the foreground and
is stopped by its PID; the syslog test runs it in a private mount namespace
(unshare -m) where /dev/log is the test's own datagram socket.
"""
import os
import shutil
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
from milterclient import MilterClient  # noqa: E402
from miltersvc import stop as stop_milter  # noqa: E402

BAD = ("[192.0.2.1]", "[192.0.2.2]", "[192.0.2.3]")   # no host names


def milter_bin(ctx):
    return os.path.join(ctx.build, "tlsverify-milter")


def conf(ctx, name="milter.conf", **milter):
    return tvtest.write_conf(
        ctx, name=name, milter=milter,
        probe={"timeout": 2, "helo": "relay.test"},
        dns={"nameserver": "127.0.0.1:9", "timeout": 1},
        destinations={"default": "required", "none.test": "none"})


def log_of(proc):
    with open(proc.log, errors="replace") as f:
        return f.read()


def ask(host, port, domains):
    """One message, a recipient per domain: [(kind, text)]."""
    c = MilterClient(host, port, timeout=30)
    try:
        c.negotiate()
        assert c.mail("<s@relay.test>")[0] == "continue"
        return [c.rcpt("<a@%s>" % d, macros={"{rcpt_mailer}": "smtp"})
                for d in domains]
    finally:
        c.quit()


def check_answers(host, port):
    got = ask(host, port, ("none.test", BAD[0]))
    assert got[0] == ("continue", ""), got
    assert got[1][0] == "replycode" and got[1][1].startswith("450 "), got


def start(ctx, cfg, **kw):
    proc = ctx.spawn([milter_bin(ctx), "-f", "-c", cfg], **kw)
    ctx.cleanup(stop_milter, proc)
    return proc


def wait_listening(proc, what="listening on"):
    tvtest.wait_for(lambda: what in log_of(proc) or proc.poll() is not None,
                    timeout=15, what=what)
    assert proc.poll() is None, log_of(proc)


def need_root():
    if os.geteuid() != 0:
        print("skipped: not root")
        return False
    return True


# --------------------------------------------------------------------------

def test_user_root(ctx):
    """[milter] user = root, started as root: nothing changes, so nothing
    can be "regained"; the daemon runs (as root, with a warning) and
    answers. It used to exit 71 ("privileges could be regained")."""
    if not need_root():
        return
    port = ctx.port()
    proc = start(ctx, conf(ctx, socket="inet:%d@127.0.0.1" % port,
                           user="root"))
    wait_listening(proc)
    log = log_of(proc)
    assert "running as root is discouraged" in log, log
    assert "regained" not in log, log
    with open("/proc/%d/status" % proc.pid) as f:
        uid = [ln.split()[1:] for ln in f if ln.startswith("Uid:")][0]
    assert uid == ["0"] * 4, uid
    check_answers("127.0.0.1", port)
    stop_milter(proc)


def test_pidfile_hard_link_refused(ctx):
    """A pid file that is a hard link to another file (the milter user may
    plant one in its run directory) is not truncated by root: exit 73 with
    a clear error, the other file intact, no socket opened."""
    victim = ctx.path("victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    pidfile = ctx.path("m.pid")
    os.link(victim, pidfile)
    port = ctx.port()
    cfg = conf(ctx, socket="inet:%d@127.0.0.1" % port, pidfile=pidfile)
    cp = ctx.run([milter_bin(ctx), "-f", "-c", cfg], timeout=30)
    assert cp.returncode == 73, (cp.returncode, cp.stderr)
    assert "not a regular file with exactly one link" in cp.stderr, cp.stderr
    assert "2 links" in cp.stderr, cp.stderr
    with open(victim) as f:
        assert f.read() == "precious\n"
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "socket was opened"
    # without -f the parent reports the child's status
    cp = ctx.run([milter_bin(ctx), "-c", cfg], timeout=30)
    assert cp.returncode == 73, (cp.returncode, cp.stderr)
    with open(victim) as f:
        assert f.read() == "precious\n"


def test_pidfile_fifo_refused(ctx):
    """A FIFO as pid file: refused at once (exit 73), no hang in open()."""
    pidfile = ctx.path("m.pid")
    os.mkfifo(pidfile)
    cfg = conf(ctx, socket="inet:%d@127.0.0.1" % ctx.port(), pidfile=pidfile)
    cp = ctx.run([milter_bin(ctx), "-f", "-c", cfg], timeout=20)
    assert cp.returncode == 73, (cp.returncode, cp.stderr)
    assert "not a regular file" in cp.stderr, cp.stderr
    assert stat.S_ISFIFO(os.lstat(pidfile).st_mode)


def test_second_daemon_keeps_off_live_socket(ctx):
    """A second daemon on the same unix socket, without a pid file (or
    with another one), does not unlink the first one's socket: it stops
    with a clear error (exit 71) and the first keeps answering on it."""
    path = ctx.path("m.sock")
    first = start(ctx, conf(ctx, "first.conf", socket="unix:" + path))
    wait_listening(first)
    ino = os.stat(path).st_ino
    check_answers(path, None)
    for name, extra in (("second.conf", {}),
                        ("third.conf", {"pidfile": ctx.path("other.pid")})):
        second = ctx.spawn([milter_bin(ctx), "-f", "-c", conf(
            ctx, name, socket="local:" + path, **extra)])
        tvtest.wait_for(lambda: second.poll() is not None, timeout=20,
                        what="the second daemon to give up")
        assert second.returncode == 71, (second.returncode, log_of(second))
        assert "is in use" in log_of(second), log_of(second)
        assert os.stat(path).st_ino == ino, "socket replaced"
        assert not os.path.exists(ctx.path("other.pid")), "pid file left"
        assert first.poll() is None, log_of(first)
        check_answers(path, None)
    stop_milter(first)


# --------------------------------------------------------------------------
# one copy of each line under systemd's journal

# In a private mount namespace: a tmpfs on /dev with the few device nodes a
# program needs bound from the real /dev, and /dev/log bound to the test's
# datagram socket. unshare(1) without --fork execs: the daemon keeps the
# PID, which is stopped as usual.
_NS_SCRIPT = r'''
set -e
d=$1; shift
mkdir -p "$d/olddev"
mount --rbind /dev "$d/olddev"
mount -t tmpfs -o mode=0755 tvdev /dev
for n in null zero full random urandom; do
    touch "/dev/$n"; mount --bind "$d/olddev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
touch /dev/log
mount --bind "$d/log.sock" /dev/log
umount -l "$d/olddev"
exec "$@"
'''


def _syslog_run(ctx, tag, journal):
    """Run the daemon with stderr to a file and /dev/log to a listener;
    journal: None (no JOURNAL_STREAM), "match" (stderr's dev:ino) or a
    fixed value. Returns (stderr text, [syslog datagrams])."""
    d = ctx.shared_dir(tag)
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ctx.cleanup(lsock.close)
    lsock.bind(os.path.join(d, "log.sock"))
    errpath = ctx.path(tag + ".stderr")
    errf = open(errpath, "wb")
    env = {}
    if journal == "match":
        st = os.fstat(errf.fileno())
        env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    elif journal is not None:
        env["JOURNAL_STREAM"] = journal
    port = ctx.port()
    cfg = conf(ctx, tag + ".conf", socket="inet:%d@127.0.0.1" % port)
    try:
        proc = ctx.spawn(["unshare", "-m", "sh", "-c", _NS_SCRIPT, "sh", d,
                          milter_bin(ctx), "-f", "-c", cfg],
                         stdout=errf, stderr=errf, env=env)
    finally:
        errf.close()
    ctx.cleanup(stop_milter, proc)
    proc.log = errpath
    lsock.settimeout(15)
    got = []

    def seen(word):
        return any(word in m for m in got) or word in log_of(proc)
    end = time.monotonic() + 15
    while not seen("listening on") and time.monotonic() < end:
        try:
            got.append(lsock.recv(8192).decode(errors="replace"))
        except socket.timeout:
            break
        assert proc.poll() is None, log_of(proc)
    assert proc.poll() is None and seen("listening on"), (log_of(proc), got)
    answers = ask("127.0.0.1", port, BAD)
    assert all(a[0] == "replycode" for a in answers), answers
    stop_milter(proc)
    lsock.setblocking(False)
    while True:
        try:
            got.append(lsock.recv(8192).decode(errors="replace"))
        except BlockingIOError:
            break
    return log_of(proc), got


def _count(text_or_list, dom):
    word = "domain=%s " % dom
    if isinstance(text_or_list, str):
        return sum(word in ln for ln in text_or_list.splitlines())
    return sum(word in m for m in text_or_list)


def test_journal_stream_one_copy(ctx):
    """With JOURNAL_STREAM naming stderr (systemd's journal, which also
    receives syslog), each verdict line is written once: through syslog
    (facility mail, "<22>" = mail.info), none on stderr. Without it, or
    when it names another stream, in the foreground each line goes to both
    (which also shows the test's /dev/log listener receives syslog)."""
    if not need_root():
        return
    if shutil.which("unshare") is None:
        raise AssertionError("unshare(1) (util-linux) not found")
    for tag, journal, n_err in (("nojs", None, 1), ("other", "1:2", 1),
                                ("bad", "x:y", 1), ("js", "match", 0)):
        err, sysl = _syslog_run(ctx, tag, journal)
        for dom in BAD:
            assert _count(sysl, dom) == 1, (tag, dom, sysl)
            assert _count(err, dom) == n_err, (tag, dom, err)
        mine = [m for m in sysl if "domain=%s " % BAD[0] in m]
        assert mine[0].startswith("<22>") and "tlsverify-milter[" in mine[0], \
            mine
