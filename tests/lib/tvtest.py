"""tvtest - the integration tests' harness (Python 3 stdlib only).

Context      per-test (and per-module) state: build dir, repo root, a fresh
             tmp dir, free ports, cleanups, sanitizer-aware ctx.run().
spawn()      start a long-running child; its PID is registered so that
             tests/run.py stops it after the test even when a test leaks it.
DNS          a dnsmasq instance on 127.0.0.1:<port> serving given records.
dns_query()  a tiny hand-built DNS client (UDP) for checks.
CA / Leaf    certificates made with the openssl CLI (`openssl ca`).
SMTPServer   tests/lib/smtpd.py in a child process (STARTTLS and misbehaving
             server modes).
write_conf(), probe(), miltertest()  run the project's programs.

Only 127.0.0.0/8 and ::1 are ever contacted. Every process started here is
stopped by its PID (SIGTERM, then SIGKILL).
"""

import ipaddress
import json as _json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.dirname(os.path.abspath(__file__))
TMP_ROOT = os.path.join(ROOT, "tests", "tmp")

os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=86")
os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:exitcode=87")
os.environ.setdefault("LSAN_OPTIONS", "exitcode=86")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer")
SANITIZER_RCS = (86, 87)


class HarnessError(Exception):
    """The harness itself could not do what a test asked."""


# --------------------------------------------------------------------------
# process registry

_procs = {}          # pid -> (Popen, owner Context, argv)


def _stop_pid(proc, grace=5.0):
    """Stop one child by its PID: SIGTERM, wait, SIGKILL. Returns rc."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.kill(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        return proc.wait(5)
    except subprocess.TimeoutExpired:
        return None


def spawn(ctx, args, stdout=None, stderr=None, env=None, cwd=None, **kw):
    """Start a background child (list argv); registered with ctx.

    stdout/stderr may be file paths (opened for writing) or file objects;
    by default both go to one file ctx.tmp/spawn-<prog>-<n>.log (stderr
    follows stdout when only stdout is given). The child is stopped by PID at the end of the test
    (or module, for the module ctx) if nobody stopped it before.
    Returns the Popen object (attribute .log = log path when defaulted).
    """
    args = [str(a) for a in args]
    logpath = None
    opened = []
    if stdout is None:
        logpath = os.path.join(ctx.tmp, "spawn-%s-%d.log"
                               % (os.path.basename(args[0]), ctx._nspawn))
        ctx._nspawn += 1
        stdout = open(logpath, "wb")
        opened.append(stdout)
        if stderr is None:
            stderr = subprocess.STDOUT
    elif isinstance(stdout, str):
        logpath = stdout
        stdout = open(stdout, "wb")
        opened.append(stdout)
        if stderr is None:
            stderr = subprocess.STDOUT
    if isinstance(stderr, str):
        stderr = open(stderr, "wb")
        opened.append(stderr)
    full_env = dict(os.environ)
    if env:
        full_env.update({k: str(v) for k, v in env.items()})
    try:
        proc = subprocess.Popen(args, stdout=stdout, stderr=stderr,
                                stdin=subprocess.DEVNULL, env=full_env,
                                cwd=cwd or ctx.root, **kw)
    finally:
        for f in opened:
            f.close()
    proc.log = logpath
    _procs[proc.pid] = (proc, ctx, args)
    return proc


def stop(proc, grace=5.0):
    """Stop a child started with spawn() by its PID; returns its rc."""
    rc = _stop_pid(proc, grace)
    _procs.pop(proc.pid, None)
    return rc


def stop_owned_by(ctx):
    """Stop every registered child owned by ctx; returns [(pid, argv)]."""
    killed = []
    for pid, (proc, owner, args) in list(_procs.items()):
        if owner is ctx:
            if proc.poll() is None:
                killed.append((pid, args))
            _stop_pid(proc)
            _procs.pop(pid, None)
    return killed


def stop_all():
    killed = []
    for pid, (proc, owner, args) in list(_procs.items()):
        if proc.poll() is None:
            killed.append((pid, args))
        _stop_pid(proc)
        _procs.pop(pid, None)
    return killed


def registered_pids():
    return set(_procs)


# --------------------------------------------------------------------------
# Context

_used_ports = set()


def _port_free(port):
    fams = [(socket.AF_INET, "127.0.0.1")]
    if socket.has_ipv6:
        fams.append((socket.AF_INET6, "::1"))
    for fam, addr in fams:
        for typ in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            try:
                s = socket.socket(fam, typ)
            except OSError:
                continue
            try:
                s.bind((addr, port))
            except OSError:
                if fam == socket.AF_INET:
                    return False
            finally:
                s.close()
    return True


class TestTimeout(Exception):
    pass


class Context:
    """Per-test state. ctx.tmp is fresh and empty for every test."""

    def __init__(self, build, tmp, name="test"):
        self.build = os.path.abspath(build)
        self.root = ROOT
        self.name = name
        self.tmp = os.path.abspath(tmp)
        if os.path.exists(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)
        os.makedirs(self.tmp, exist_ok=True)
        self._cleanups = []
        self._nspawn = 0

    def port(self):
        """A free high port (TCP+UDP on 127.0.0.1), never repeated in a run."""
        rnd = random.SystemRandom()
        for _ in range(2000):
            p = rnd.randrange(20000, 32000)
            if p in _used_ports:
                continue
            if _port_free(p):
                _used_ports.add(p)
                return p
        raise HarnessError("no free port found")

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def shared_dir(self, name):
        """A fresh directory that other users can reach, for what a
        process reads or writes after dropping root (the milter user,
        Postfix's daemons): ctx.tmp is below the checkout, which may sit in
        a 0700 directory (root's home). Made by tempfile.mkdtemp under
        $TV_SHARED_TMP (default /tmp), mode 0711 (traversable, not
        listable); what is created inside gets the modes it is given. At
        the end of the test (cleanup) its regular files are copied to
        ctx.tmp/<name>/ for inspection and the directory is removed."""
        import tempfile
        base = os.environ.get("TV_SHARED_TMP") or "/tmp"
        d = tempfile.mkdtemp(prefix="tv-%s-" % name, dir=base)
        os.chmod(d, 0o711)
        self.cleanup(_shared_dir_done, d, self.path(name))
        return d

    def cleanup(self, fn, *args):
        """Register fn(*args) to run after the test (reverse order)."""
        self._cleanups.append((fn, args))

    def run_cleanups(self):
        """Run cleanups in reverse order; returns a list of error strings."""
        errors = []
        while self._cleanups:
            fn, args = self._cleanups.pop()
            try:
                fn(*args)
            except Exception as e:     # noqa: BLE001 - report, keep going
                errors.append("%s: %s" % (getattr(fn, "__name__", fn), e))
        return errors

    def spawn(self, args, **kw):
        return spawn(self, args, **kw)

    def run(self, args, timeout=60, input=None, env=None, cwd=None,
            expect_rc=None):
        """Run a command to completion; text output captured.

        Raises AssertionError on a sanitizer report in stderr, on exit
        status 86/87, on timeout, and (when expect_rc is an int or a
        collection) on another exit status.
        """
        args = [str(a) for a in args]
        full_env = dict(os.environ)
        if env:
            full_env.update({k: str(v) for k, v in env.items()})
        try:
            cp = subprocess.run(args, input=input, capture_output=True,
                                text=True, errors="replace", env=full_env,
                                cwd=cwd or self.root, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("timeout after %ss: %s" % (timeout, " ".join(args))) from e
        check_sanitizer(cp.stderr, cp.returncode, args)
        if expect_rc is not None:
            ok = cp.returncode in expect_rc if isinstance(expect_rc, (list, tuple, set)) \
                else cp.returncode == expect_rc
            if not ok:
                raise AssertionError("%s: exit %d, expected %s\nstdout: %s\nstderr: %s"
                                     % (" ".join(args), cp.returncode, expect_rc,
                                        cp.stdout[-2000:], cp.stderr[-2000:]))
        return cp


def _shared_dir_done(d, keep):
    """Copy the regular files of d to keep (nothing else: a Postfix queue
    holds sockets and FIFOs), then remove d."""
    try:
        for top, dirs, files in os.walk(d):
            rel = os.path.relpath(top, d)
            for fn in files:
                src = os.path.join(top, fn)
                if not os.path.isfile(src) or os.path.islink(src):
                    continue
                dst = os.path.normpath(os.path.join(keep, rel, fn))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(src, dst)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def check_sanitizer(stderr, rc, args=()):
    """Raise AssertionError if a sanitizer spoke (report text or rc 86/87)."""
    text = stderr or ""
    for mark in SANITIZER_MARKS:
        i = text.find(mark)
        if i >= 0:
            raise AssertionError("sanitizer report from %s: %s"
                                 % (" ".join(args)[:200], text[max(0, i - 200):i + 1500]))
    if rc in SANITIZER_RCS:
        raise AssertionError("exit %d (sanitizer) from %s: %s"
                             % (rc, " ".join(args)[:200], text[-1500:]))


def wait_for(cond, timeout=10.0, interval=0.05, what="condition"):
    """Poll cond() until it is truthy; return its value or raise."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(interval)


def wait_tcp(ip, port, timeout=10.0):
    """Wait until ip:port (loopback only) accepts a TCP connection."""
    if not ipaddress.ip_address(ip).is_loopback:
        raise HarnessError("wait_tcp: loopback only, not %s" % ip)
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > end:
                raise AssertionError("nothing accepts on %s:%d" % (ip, port))
            time.sleep(0.05)


def log_sanitizer_check(path):
    """Raise if a log file written by a spawned child holds a sanitizer report."""
    try:
        with open(path, "r", errors="replace") as f:
            check_sanitizer(f.read(), None, [path])
    except FileNotFoundError:
        pass


# --------------------------------------------------------------------------
# DNS: a hand-built client

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
          "TXT": 16, "AAAA": 28, "ANY": 255}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def _encode_name(name):
    out = b""
    name = name.rstrip(".")
    if name:
        for label in name.split("."):
            lb = label.encode("ascii")
            if not 0 < len(lb) < 64:
                raise HarnessError("bad label in %r" % name)
            out += bytes([len(lb)]) + lb
    return out + b"\0"


def _decode_name(msg, off, depth=0):
    """Returns (name, offset after the name in place)."""
    labels = []
    end = None
    while True:
        if off >= len(msg) or depth > 20:
            raise HarnessError("bad name in DNS answer")
        n = msg[off]
        if n & 0xC0 == 0xC0:
            ptr = struct.unpack("!H", msg[off:off + 2])[0] & 0x3FFF
            if end is None:
                end = off + 2
            off = ptr
            depth += 1
            continue
        if n == 0:
            off += 1
            break
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels), (end if end is not None else off)


def _rdata_value(msg, typ, off, rdlen):
    rd = msg[off:off + rdlen]
    if typ == 1 and rdlen == 4:
        return socket.inet_ntop(socket.AF_INET, rd)
    if typ == 28 and rdlen == 16:
        return socket.inet_ntop(socket.AF_INET6, rd)
    if typ in (2, 5, 12):
        return _decode_name(msg, off)[0]
    if typ == 15:
        pref = struct.unpack("!H", rd[:2])[0]
        return (pref, _decode_name(msg, off + 2)[0])
    if typ == 16:
        parts, i = [], 0
        while i < len(rd):
            n = rd[i]
            parts.append(rd[i + 1:i + 1 + n].decode("utf-8", "replace"))
            i += 1 + n
        return "".join(parts)
    return rd


def dns_query(port, name, qtype="A", server="127.0.0.1", timeout=2.0):
    """One UDP query. Returns {"rcode": "NOERROR"|..., "answers":
    [(type-name, value)], "authority": [...]}; MX values are (pref, host).
    Raises socket.timeout when nothing answers."""
    qt = QTYPES[qtype] if isinstance(qtype, str) else qtype
    qid = random.randrange(65536)
    pkt = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + \
        _encode_name(name) + struct.pack("!HH", qt, 1)
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(pkt, (server, port))
        while True:
            msg, _ = s.recvfrom(65535)
            if len(msg) >= 12 and struct.unpack("!H", msg[:2])[0] == qid:
                break
    finally:
        s.close()
    _, flags, qd, an, ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = _decode_name(msg, off)[1] + 4
    names = {v: k for k, v in QTYPES.items()}
    sections = []
    for count in (an, ns):
        recs = []
        for _ in range(count):
            rname, off = _decode_name(msg, off)
            typ, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            off += 10
            recs.append((names.get(typ, typ), _rdata_value(msg, typ, off, rdlen), rname))
            off += rdlen
        sections.append(recs)
    return {"rcode": RCODES.get(flags & 0xF, flags & 0xF),
            "answers": [(t, v) for t, v, _n in sections[0]],
            "answers_full": sections[0],
            "authority": sections[1],
            "flags": flags}


# --------------------------------------------------------------------------
# DNS: dnsmasq

_SERVFAIL_SRC = r"""
import signal, socket, sys
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    q, peer = s.recvfrom(4096)
    if len(q) < 12:
        continue
    # same id, QR=1, opcode kept, RD kept, RA=1, RCODE=2; question kept
    flags = ((q[2] & 0x79) | 0x80) << 8 | 0x80 | 2
    i = 12
    while i < len(q) and q[i] != 0:
        i += 1 + q[i]
    qd = q[12:i + 5] if q[4:6] == b"\0\1" else b""
    s.sendto(q[:2] + bytes([flags >> 8, flags & 0xFF]) +
             (b"\0\1" if qd else b"\0\0") + b"\0\0\0\0\0\0" + qd, peer)
"""


class DNS:
    """dnsmasq on 127.0.0.1:port. Add records, then start().

    Unknown names are NXDOMAIN (other types of known names: NODATA).
    A/AAAA records never create PTRs; PTRs come only from .ptr().
    MX answers list one domain's records in the order of the .mx() calls.
    """

    def __init__(self, ctx, port=None):
        self.ctx = ctx
        self.port = port
        self.proc = None
        self._rr = []          # option strings, order kept
        self._mx = []          # (domain, host, pref)
        self._servfail = []
        self._marked = set()
        self._fail_port = None
        self._fail_proc = None
        self.log = None
        self.names = {}        # for inspection: name -> list of (type, value)

    def _exists(self, name):
        """dnsmasq does not count --dns-rr names as existing: under
        --local=/#/ their other types would be NXDOMAIN instead of NODATA.
        A NAPTR record (type 35, never asked for) makes the name exist."""
        key = name.lower().rstrip(".")
        if key not in self._marked:
            self._marked.add(key)
            self._rr.append('--naptr-record=%s,1,1,"","",""' % key)

    def _note(self, name, typ, value):
        self.names.setdefault(name.lower().rstrip("."), []).append((typ, value))

    def a(self, name, ip):
        packed = socket.inet_pton(socket.AF_INET, ip)
        self._rr.append("--dns-rr=%s,1,%s" % (name.rstrip("."), packed.hex()))
        self._exists(name)
        self._note(name, "A", ip)
        return self

    def aaaa(self, name, ip):
        packed = socket.inet_pton(socket.AF_INET6, ip)
        self._rr.append("--dns-rr=%s,28,%s" % (name.rstrip("."), packed.hex()))
        self._exists(name)
        self._note(name, "AAAA", ip)
        return self

    def mx(self, domain, host, pref=10):
        self._mx.append((domain.rstrip("."), host.rstrip("."), int(pref)))
        self._note(domain, "MX", (int(pref), host))
        return self

    def nullmx(self, domain):
        """RFC 7505 null MX: 'domain. MX 0 .'"""
        self._mx.append((domain.rstrip("."), ".", 0))
        self._note(domain, "MX", (0, ""))
        return self

    def ptr(self, ip, name):
        rev = ipaddress.ip_address(ip).reverse_pointer
        self._rr.append("--ptr-record=%s,%s" % (rev, name.rstrip(".")))
        self._note(rev, "PTR", name)
        return self

    def cname(self, name, target):
        self._rr.append("--cname=%s,%s" % (name.rstrip("."), target.rstrip(".")))
        self._note(name, "CNAME", target)
        return self

    def txt(self, name, text):
        """One TXT record (text of at most 255 bytes: one string); text
        with ',' (dnsmasq's separator) goes as raw RDATA (--dns-rr)."""
        if '"' in text or len(text.encode()) > 255:
            raise HarnessError("txt(): text must not contain '\"' nor be "
                               "over 255 bytes")
        if "," in text:
            raw = bytes([len(text.encode())]) + text.encode()
            self._rr.append('--dns-rr=%s,16,%s' % (name.rstrip("."),
                                                   raw.hex()))
        else:
            self._rr.append('--txt-record=%s,%s' % (name.rstrip("."), text))
        self._note(name, "TXT", text)
        return self

    def servfail(self, domain):
        """Every name under domain (and domain itself) answers SERVFAIL."""
        self._servfail.append(domain.rstrip("."))
        return self

    def _args(self):
        tag = "dns-%d" % self.port
        self.log = self.ctx.path(tag + ".log")
        self.pidfile = self.ctx.path(tag + ".pid")
        args = ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground",
                "--port=%d" % self.port, "--listen-address=127.0.0.1",
                "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--log-facility=-",
                "--log-queries", "--pid-file=" + self.pidfile,
                "--user=" + _dnsmasq_user(), "--cache-size=0",
                "--local=/#/"]
        for d in self._servfail:
            args.append("--server=/%s/127.0.0.1#%d" % (d, self._fail_port))
        args += self._rr
        # dnsmasq answers one name's MX records in reverse option order
        for dom, host, pref in reversed(self._mx):
            args.append("--mx-host=%s,%s,%d" % (dom, host, pref))
        return args

    def _start_failer(self):
        """A tiny UDP server answering SERVFAIL to every query: the
        upstream dnsmasq forwards the servfail() domains to."""
        if self._fail_proc is not None and self._fail_proc.poll() is None:
            return
        if self._fail_port is None:
            self._fail_port = self.ctx.port()
        self._fail_proc = spawn(self.ctx, [sys.executable, "-c", _SERVFAIL_SRC,
                                           str(self._fail_port)],
                                stdout=self.ctx.path("dns-servfail-%d.log" % self._fail_port))
        end = time.monotonic() + 10
        while True:
            try:
                r = dns_query(self._fail_port, "ready.invalid", "A", timeout=0.2)
                if r["rcode"] == "SERVFAIL":
                    return
            except OSError:
                pass
            if self._fail_proc.poll() is not None or time.monotonic() > end:
                raise HarnessError("SERVFAIL responder did not start")
            time.sleep(0.05)

    def start(self):
        if self.port is None:
            self.port = self.ctx.port()
        if self._servfail:
            self._start_failer()
        args = self._args()
        self.proc = spawn(self.ctx, args, stdout=self.log)
        self.ctx.cleanup(self.stop)
        end = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                with open(self.log, errors="replace") as f:
                    raise HarnessError("dnsmasq exited %s: %s"
                                       % (self.proc.returncode, f.read()[-2000:]))
            try:
                dns_query(self.port, "tvtest-ready.invalid", "A", timeout=0.2)
                break
            except OSError:
                if time.monotonic() > end:
                    raise HarnessError("dnsmasq on port %d does not answer" % self.port)
                time.sleep(0.05)
        return self.port

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
        if self._fail_proc is not None:
            stop(self._fail_proc)
            self._fail_proc = None

    def restart(self):
        """Stop and start again on the same port (picks up new records)."""
        self.stop()
        return self.start()

    def query(self, name, qtype="A", timeout=2.0):
        return dns_query(self.port, name, qtype, timeout=timeout)

    @property
    def nameserver(self):
        """Value for [dns] nameserver."""
        return "127.0.0.1:%d" % self.port


def _dnsmasq_user():
    """dnsmasq drops root to 'nobody' by default; as a non-root user it
    must not try to change user. Running as root: keep root so it can
    write the log/pid files in the tmp dir."""
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


# --------------------------------------------------------------------------
# certificates and SMTP server (split into their own modules)

from certs import CA, Leaf, ca_bundle, self_signed  # noqa: E402,F401


class SMTPServer:
    """tests/lib/smtpd.py in a child process on ip:port.

    Modes: starttls plain silent endless_ehlo longline drip starttls454
    starttls_close alert banner554 ehlo550. leaf: a certs.Leaf (needed for TLS
    modes). delay: seconds before the banner.
    """

    MODES = ("starttls", "plain", "silent", "endless_ehlo", "longline",
             "drip", "starttls454", "starttls_close", "alert", "banner554",
             "ehlo550")

    def __init__(self, ctx, ip, port, leaf=None, mode="starttls",
                 banner_host="mx.test", delay=0, tls_max=None):
        if mode not in self.MODES:
            raise HarnessError("unknown SMTPServer mode %r" % mode)
        if mode in ("starttls", "drip") and leaf is None:
            raise HarnessError("mode %s needs a leaf certificate" % mode)
        ipaddress.ip_address(ip)
        if not (ipaddress.ip_address(ip).is_loopback):
            raise HarnessError("SMTPServer only on loopback, not %s" % ip)
        self.ctx, self.ip, self.port = ctx, ip, int(port)
        self.leaf, self.mode, self.banner_host = leaf, mode, banner_host
        self.delay, self.tls_max = delay, tls_max
        tag = "smtpd-%s-%d" % (ip.replace(":", "_"), self.port)
        self.dir = ctx.path(tag)
        self.spool = os.path.join(self.dir, "spool")
        self.counter = os.path.join(self.dir, "connections")
        self.ready = os.path.join(self.dir, "ready")
        self.log = os.path.join(self.dir, "smtpd.log")
        self.proc = None

    def start(self):
        os.makedirs(self.spool, exist_ok=True)
        for f in (self.ready, self.counter):
            if os.path.exists(f):
                os.unlink(f)
        args = [sys.executable, os.path.join(LIB, "smtpd.py"),
                "--ip", self.ip, "--port", self.port, "--mode", self.mode,
                "--banner-host", self.banner_host, "--spool", self.spool,
                "--counter", self.counter, "--ready", self.ready,
                "--delay", self.delay]
        if self.leaf is not None:
            args += ["--cert", self.leaf.chain, "--key", self.leaf.key]
        if self.tls_max:
            args += ["--tls-max", self.tls_max]
        self.proc = spawn(self.ctx, args, stdout=self.log)
        self.ctx.cleanup(self.stop)
        end = time.monotonic() + 10
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None:
                with open(self.log, errors="replace") as f:
                    raise HarnessError("smtpd exited %s: %s"
                                       % (self.proc.returncode, f.read()[-2000:]))
            if time.monotonic() > end:
                raise HarnessError("smtpd on %s:%d not ready" % (self.ip, self.port))
            time.sleep(0.02)
        return self

    def stop(self):
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def connections(self):
        """Number of TCP connections accepted so far."""
        try:
            with open(self.counter) as f:
                return int(f.read().strip() or 0)
        except FileNotFoundError:
            return 0

    def messages(self):
        """Received messages (DATA content, bytes, dot-unstuffed), in order."""
        return [m["data"] for m in self.envelopes()]

    def envelopes(self):
        """[{"mail": str, "rcpt": [str], "helo": str, "tls": bool,
        "data": bytes}] in arrival order."""
        out = []
        if not os.path.isdir(self.spool):
            return out
        for fn in sorted(os.listdir(self.spool)):
            if not fn.endswith(".json"):
                continue
            with open(os.path.join(self.spool, fn)) as f:
                env = _json.load(f)
            with open(os.path.join(self.spool, fn[:-5] + ".eml"), "rb") as f:
                env["data"] = f.read()
            out.append(env)
        return out

    def logtext(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


# --------------------------------------------------------------------------
# the project's programs

def _ini_value(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def write_conf(ctx, milter=None, probe=None, dns=None, cache=None,
               destinations=None, smtproutes=None, name="tlsverify.conf",
               extra=None):
    """Write an INI file in ctx.tmp; returns its path. Each section is a
    dict (order kept); list values are joined with ", "; None values are
    left out. extra: {section: dict} for more sections, or raw text (str)
    appended verbatim."""
    sections = [("milter", milter), ("probe", probe), ("dns", dns),
                ("cache", cache), ("destinations", destinations),
                ("smtproutes", smtproutes)]
    if isinstance(extra, dict):
        sections += list(extra.items())
    lines = []
    for sec, d in sections:
        if d is None:
            continue
        lines.append("[%s]" % sec)
        for k, v in d.items():
            if v is None:
                continue
            lines.append("%s = %s" % (k, _ini_value(v)))
        lines.append("")
    if isinstance(extra, str):
        lines.append(extra)
    path = ctx.path(name)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def probe(ctx, conf, domain, setting=None, json=True, timeout=60, args=()):
    """Run tlsverify-probe. Returns (rc, data, stderr); data is the parsed
    JSON object (json=True) or the stdout text."""
    argv = [os.path.join(ctx.build, "tlsverify-probe"), "-c", conf]
    if setting is not None:
        argv += ["-s", setting]
    if json:
        argv.append("--json")
    argv += list(args)
    argv.append(domain)
    cp = ctx.run(argv, timeout=timeout)
    if not json:
        return cp.returncode, cp.stdout, cp.stderr
    try:
        data = _json.loads(cp.stdout)
    except ValueError as e:
        raise AssertionError("probe %s: stdout is not JSON (%s), rc %d\nstdout: %s\nstderr: %s"
                             % (domain, e, cp.returncode, cp.stdout[:3000],
                                cp.stderr[-2000:])) from e
    return cp.returncode, data, cp.stderr


def miltertest(ctx, script_path, vars=None, timeout=60):
    """Run `miltertest -s script`; vars go to the environment (os.getenv in
    Lua) and also as -D name=value globals. rc is checked by the caller."""
    vars = {k: str(v) for k, v in (vars or {}).items()}
    argv = ["miltertest"]
    for k, v in vars.items():
        argv += ["-D", "%s=%s" % (k, v)]
    argv += ["-s", script_path]
    return ctx.run(argv, timeout=timeout, env=vars)


def ipv6_usable():
    """True when a socket can bind ::1 (IPv6 loopback) on this machine."""
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


def rss_kb(pid):
    """VmRSS of a process in kB (from /proc), -1 when not found."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1
