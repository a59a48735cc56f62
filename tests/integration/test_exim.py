"""End to end with a real Exim (SPEC 11, issue 11): Debian's
exim4-daemon-heavy 4.96, which conflicts with Postfix as an installed MTA,
is fetched with `apt-get download` (cached in $TV_BUILD/exim-debs),
extracted with `dpkg -x` and run as `exim -C CONF -bs` (an SMTP session on
stdin, no listener) and `exim -C CONF -qff` (one forced queue run), with
its own configuration, spool and log in a shared directory. Exim refuses
to start without a user named Debian-exim: every Exim process runs in a
private mount namespace (unshare -m) where /etc/passwd and /etc/group are
copies with that user added, so the machine's files are never touched.
The libraries the binary needs (libmariadb3, libidn12, libspf2-2) are in
`make deps`.

The configuration is the test's own head (paths, routes to the test
servers, the test CA) around the blocks of README "Plugging it into Exim",
taken from README.md word for word; TLSV_QUERY is overridden with -D.

Test world: the seed's worked example (SPEC 6) on 127.0.28.2/3:
  example.com  required-verify        -> verified through the PTR name
  example.net  required-verify-hosted -> 450 4.7.5
  req.test     required, MX 127.0.28.4 (TLS, self-signed)
"""
import glob
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import miltersvc  # noqa: E402
import milterclient  # noqa: E402

IP1, IP2, IP3 = "127.0.28.2", "127.0.28.3", "127.0.28.4"
MX1, MX2 = "mx01.subd.emailhosted.not", "mx02.subd.emailhosted.not"
DEBS = ["exim4-daemon-heavy", "exim4-base"]
EXIM_UID = 64999
W = {}


def readme_blocks(root):
    """The ```exim blocks of README's "Plugging it into Exim", in order."""
    text = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    m = re.search(r"^## Plugging it into Exim\n(.*?)^## ", text, re.M | re.S)
    assert m, "README has no section 'Plugging it into Exim'"
    blocks = re.findall(r"^```exim\n(.*?)^```\n", m.group(1), re.M | re.S)
    assert len(blocks) == 5, "expected 5 exim blocks, got %d" % len(blocks)
    return blocks


def extract_exim(mctx):
    """apt-get download (cached) + dpkg -x; the binary copied into a
    shared directory (Exim re-executes itself, also as Debian-exim)."""
    dl = os.path.join(mctx.build, "exim-debs")
    os.makedirs(dl, exist_ok=True)
    if len(glob.glob(os.path.join(dl, "*.deb"))) < len(DEBS):
        cmd = ["apt-get", "download", "-q"] + DEBS
        if subprocess.run(cmd, cwd=dl, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(cmd, cwd=dl, check=True,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    root = mctx.path("exim-root")
    for deb in glob.glob(os.path.join(dl, "*.deb")):
        subprocess.run(["dpkg", "-x", deb, root], check=True)
    return os.path.join(root, "usr/sbin/exim4")


def replies_of(out):
    """SMTP replies in order, a multi-line one joined into one line
    ("450 4.7.5 TEXT": continuation texts joined with a space)."""
    replies, cur = [], None
    for ln in out.replace("\r", "").split("\n"):
        m = re.match(r"^(\d{3})([- ])(\d\.\d{1,3}\.\d{1,3} )?(.*)$", ln)
        if not m:
            continue
        if cur is None:
            cur = "%s %s%s" % (m.group(1), m.group(3) or "", m.group(4))
        else:
            cur += " " + m.group(4)
        if m.group(2) == " ":
            replies.append(cur)
            cur = None
    return replies


class Exim:
    def __init__(self, mctx, binary, query_port, ca, port):
        d = mctx.shared_dir("exim")
        self.dir = d
        self.bin = os.path.join(d, "exim")
        shutil.copyfile(binary, self.bin)
        os.chmod(self.bin, 0o755)
        for sub in ("spool", "log"):
            os.makedirs(os.path.join(d, sub), 0o750)
            os.chown(os.path.join(d, sub), EXIM_UID, EXIM_UID)
        self.passwd = os.path.join(d, "passwd")
        self.group = os.path.join(d, "group")
        with open("/etc/passwd") as f, open(self.passwd, "w") as o:
            o.write(f.read() + "Debian-exim:x:%d:%d::/nonexistent:"
                    "/usr/sbin/nologin\n" % (EXIM_UID, EXIM_UID))
        with open("/etc/group") as f, open(self.group, "w") as o:
            o.write(f.read() + "Debian-exim:x:%d:\n" % EXIM_UID)
        shutil.copyfile(ca, os.path.join(d, "ca.pem"))
        os.chmod(os.path.join(d, "ca.pem"), 0o644)
        self.conf = os.path.join(d, "exim.conf")
        main, rcpt, data, router, transport = readme_blocks(mctx.root)
        conf = """\
primary_hostname = relay.tvtest
exim_path = {bin}
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
keep_environment =
tls_advertise_hosts =
domainlist local_domains = relay.tvtest
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
{main}
begin acl
acl_check_rcpt:
  accept  domains = +local_domains
{rcpt}
  accept
acl_check_data:
{data}
  accept

begin routers
{router}
test_routes:
  driver = manualroute
  domains = ! +local_domains
  transport = remote_smtp
  route_list = example.com {ip1} ; example.net {ip2} ; req.test {ip3}

begin transports
remote_smtp:
  driver = smtp
  port = {port}
  tls_verify_certificates = {d}/ca.pem
  hosts_try_dane =
{transport}
begin retry
*  *  F,2h,1m
""".format(bin=self.bin, d=d, main=main, rcpt=rcpt, data=data,
           router=router, transport=transport, ip1=IP1, ip2=IP2, ip3=IP3,
           port=port)
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o644)
        self.query = "inet:127.0.0.1:%d" % query_port

    def run(self, ctx, args, input=None, query=None, timeout=90):
        cmd = ["unshare", "-m", "sh", "-c",
               'mount --bind "$1" /etc/passwd && '
               'mount --bind "$2" /etc/group && shift 2 && exec "$@"',
               "sh", self.passwd, self.group, self.bin, "-C", self.conf,
               "-DTLSV_QUERY=" + (query or self.query)] + args
        return ctx.run(cmd, input=input, timeout=timeout)

    def smtp(self, ctx, rcpts, body, query=None):
        """One -bs session (queue only): [(rcpt, reply line)], DATA reply."""
        lines = ["EHLO client.tvtest", "MAIL FROM:<s@client.tvtest>"]
        lines += ["RCPT TO:<%s>" % r for r in rcpts]
        lines += ["DATA", body.replace("\n", "\r\n").rstrip("\r\n"), ".",
                  "QUIT"]
        cp = self.run(ctx, ["-odq", "-bs"], input="\r\n".join(lines) + "\r\n",
                      query=query)
        replies = replies_of(cp.stdout)
        # banner, EHLO (last line), MAIL, RCPTs, DATA (354 or 503), end
        rr = replies[3:3 + len(rcpts)]
        assert len(rr) == len(rcpts), cp.stdout + cp.stderr
        return list(zip(rcpts, rr)), replies[3 + len(rcpts):], cp

    def queue_count(self, ctx):
        return int(self.run(ctx, ["-bpc"]).stdout.strip())

    def flush(self, ctx):
        return self.run(ctx, ["-qff"])

    def mainlog(self):
        p = os.path.join(self.dir, "log", "mainlog")
        return open(p, errors="replace").read() if os.path.exists(p) else ""


def setup_module(mctx):
    binary = extract_exim(mctx)
    ca = tvtest.CA(mctx, cn="tlsverify test CA exim")
    seed = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    dns = tvtest.DNS(mctx)
    for dom in ("example.com", "example.net"):
        dns.mx(dom, MX1, 10)
        dns.mx(dom, MX2, 10)
    for mx, ptr, ip in ((MX1, "mx0a.emailhosted.not", IP1),
                        (MX2, "mx0b.emailhosted.not", IP2)):
        dns.a(mx, ip)
        dns.ptr(ip, ptr)
        dns.a(ptr, ip)
    dns.mx("req.test", "mx.req.test", 10)
    dns.a("mx.req.test", IP3)
    dns.start()
    port = mctx.port()
    srv = {ip: tvtest.SMTPServer(mctx, ip, port, leaf=seed).start()
           for ip in (IP1, IP2)}
    pq = mctx.port()
    m = miltersvc.start(
        mctx,
        probe={"port": port, "ca_file": ca.cert, "timeout": 10},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", "req.test": "required",
                      "example.com": "required-verify",
                      "example.net": "required-verify-hosted"},
        extra={"query": {"socket": "inet:%d@127.0.0.1" % pq}})
    tvtest.wait_tcp("127.0.0.1", pq, timeout=15)
    ex = Exim(mctx, binary, pq, ca.cert, port)
    W.update(srv=srv, m=m, pq=pq, port=port, ex=ex, ca=ca)


def milter_says(domain):
    """(rcpt reply kind, text, X-TLS-Verify value unfolded or None)."""
    return milterclient.milter_says(W["m"].port, domain)


def message(subject, extra=""):
    return ("From: s@client.tvtest\nTo: u@example.com\nSubject: %s\n%s"
            "Message-ID: <%s@client.tvtest>\n\nbody of %s\n"
            % (subject, extra, subject.replace(" ", "."), subject))


def header_values(data, name="X-TLS-Verify"):
    import email
    import email.policy
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    return [" ".join(v.split()) for v in msg.get_all(name) or []]


def test_seed_example_through_exim(ctx):
    ex = W["ex"]
    got, end, cp = ex.smtp(ctx, ["u@example.net", "u@example.com",
                                 "v@example.com"],
                           message("seed via exim",
                                   "X-TLS-Verify: forged=verified\n"))
    kind, text, _ = milter_says("example.net")
    assert kind == "replycode" and text.startswith("450 4.7.5 "), text
    assert got[0][1] == text, (got[0], text)
    assert got[1][1].startswith("250") and got[2][1].startswith("250"), got
    assert end[0].startswith("354") and end[1].startswith("250"), end
    assert ex.queue_count(ctx) == 1
    ex.flush(ctx)
    envs = [e for e in W["srv"][IP1].envelopes()
            if b"Subject: seed via exim\r\n" in e["data"]]
    assert len(envs) == 1, (W["srv"][IP1].envelopes(), ex.mainlog()[-3000:])
    env = envs[0]
    assert env["tls"], env
    assert sorted(r.split("<", 1)[1].split(">")[0] for r in env["rcpt"]) == \
        ["u@example.com", "v@example.com"], env["rcpt"]
    _, _, hdr = milter_says("example.com")
    assert hdr is not None and header_values(env["data"]) == [hdr], \
        (header_values(env["data"]), hdr)
    assert W["srv"][IP2].messages() == [], "example.net was delivered"
    assert ex.queue_count(ctx) == 0


def test_daemon_down_defers_everything(ctx):
    ex = W["ex"]
    dead = "inet:127.0.0.1:%d" % ctx.port()      # nothing listens there
    got, end, cp = ex.smtp(ctx, ["u@example.com", "u@req.test",
                                 "u@none.test"], message("daemon down"),
                           query=dead)
    for rcpt, reply in got:
        assert reply.startswith("451 4.3.0 "), (rcpt, reply)
    assert not end[0].startswith("354"), end
    assert ex.queue_count(ctx) == 0


def test_required_is_not_delivered_without_starttls(ctx):
    ex = W["ex"]
    leaf = tvtest.self_signed(ctx, "mx.req.test", sans=["mx.req.test"])
    s1 = tvtest.SMTPServer(ctx, IP3, W["port"], leaf=leaf).start()
    got, end, _ = ex.smtp(ctx, ["u@req.test"], message("req one"))
    assert got[0][1].startswith("250") and end[1].startswith("250"), \
        (got, end)
    ex.flush(ctx)
    assert [e["tls"] for e in s1.envelopes()] == [True], s1.envelopes()
    got, end, _ = ex.smtp(ctx, ["u@req.test"], message("req two"))
    assert got[0][1].startswith("250") and end[1].startswith("250"), \
        (got, end)
    s1.stop()
    s2 = tvtest.SMTPServer(ctx, IP3, W["port"], mode="plain").start()
    ex.flush(ctx)
    assert not [e for e in s2.envelopes() if b"Subject: req two\r\n"
                in e["data"]], "delivered in clear"
    assert s2.connections() >= 1, "Exim never tried: " + ex.mainlog()[-2000:]
    assert ex.queue_count(ctx) == 1
    assert re.search(r"req\.test .*a TLS session is required", ex.mainlog()), \
        ex.mainlog()[-2000:]
