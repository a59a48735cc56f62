"""pki - revocation test components (CRL and OCSP), beside tvtest/certs.

Netns(ctx)                 a private network namespace with only loopback
                           (for `openssl ocsp`, which binds all interfaces);
                           .spawn(argv) / .run(argv) run a program inside it
                           (nsenter), .wait_tcp(ip, port), .probe(...).
CRLServer(ns, ip, port, dir)  Python http.server serving the files of dir
                           (GET /name -> application/pkix-crl); .requests()
                           lists the paths asked for.
OCSPResponder(ns, ca, port)   `openssl ocsp` answering from ca's index.txt,
                           signed by the CA itself.
StaplingSMTPServer(ns, ip, port, leaf, staple=None)  tests/helpers/ocsp_smtpd
                           (STARTTLS; staples the DER file `staple`).
ocsp_response(ca, leaf, path, ndays=1)  a signed DER OCSP response for leaf
                           from ca's database (for stapling).

Certificates with CDP/AIA come from certs.CA.issue(crl_url=, ocsp_url=).
Every process is started through ctx.spawn (registered, stopped by PID);
everything listens on loopback inside the namespace only.
"""

import os
import subprocess
import sys
import time

import tvtest
from certs import _ossl

_HTTPD_SRC = r"""
import http.server, os, signal, sys
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
ip, port, root, ready, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        p = os.path.join(root, os.path.basename(self.path.split("?")[0]))
        if not os.path.isfile(p):
            self.send_error(404)
            return
        with open(p, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer((ip, port), H)
open(ready, "w").close()
srv.serve_forever()
"""


def _wait_file(proc, path, what, timeout=10):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise tvtest.HarnessError("%s exited %s (log %s)"
                                      % (what, proc.returncode, proc.log))
        if time.monotonic() > end:
            raise tvtest.HarnessError("%s not ready" % what)
        time.sleep(0.02)


class Netns:
    """A network namespace holding only 'lo' (up). As root: unshare -n;
    otherwise a user namespace too (unshare -rn, nsenter -U)."""

    def __init__(self, ctx):
        self.ctx = ctx
        root = os.getuid() == 0
        inner = "ip link set lo up && exec sleep 3600"
        self.holder = ctx.spawn(["unshare", "-n" if root else "-rn",
                                 "sh", "-c", inner])
        pid = str(self.holder.pid)
        self.enter = (["nsenter", "-t", pid, "-n"] if root else
                      ["nsenter", "-t", pid, "-U", "-n",
                       "--preserve-credentials"])
        ctx.cleanup(self.stop)
        end = time.monotonic() + 10
        while True:
            cp = subprocess.run(self.enter + ["ip", "-o", "link", "show",
                                              "lo"], capture_output=True,
                                text=True)
            if cp.returncode == 0 and ",UP" in cp.stdout:
                return
            if self.holder.poll() is not None or time.monotonic() > end:
                raise tvtest.HarnessError("network namespace not ready: %s"
                                          % cp.stderr)
            time.sleep(0.02)

    def cmd(self, args):
        return self.enter + [str(a) for a in args]

    def spawn(self, args, **kw):
        return self.ctx.spawn(self.cmd(args), **kw)

    def run(self, args, **kw):
        return self.ctx.run(self.cmd(args), **kw)

    def wait_tcp(self, ip, port, timeout=10):
        code = ("import socket,sys,time\n"
                "end=time.monotonic()+%f\n"
                "while True:\n"
                " try:\n"
                "  socket.create_connection((%r,%d),timeout=1).close();break\n"
                " except OSError:\n"
                "  if time.monotonic()>end: sys.exit(1)\n"
                "  time.sleep(0.05)\n" % (timeout, ip, int(port)))
        cp = self.run([sys.executable, "-c", code], timeout=timeout + 5)
        if cp.returncode != 0:
            raise tvtest.HarnessError("nothing accepts on %s:%d in the "
                                      "namespace" % (ip, port))

    def probe(self, conf, domain, json=True, timeout=60):
        """tlsverify-probe inside the namespace: (rc, data, stderr)."""
        argv = [os.path.join(self.ctx.build, "tlsverify-probe"), "-c", conf]
        if json:
            argv.append("--json")
        argv.append(domain)
        cp = self.run(argv, timeout=timeout)
        if not json:
            return cp.returncode, cp.stdout, cp.stderr
        import json as _json
        try:
            return cp.returncode, _json.loads(cp.stdout), cp.stderr
        except ValueError as e:
            raise AssertionError("probe %s: not JSON (%s), rc %d\n%s\n%s"
                                 % (domain, e, cp.returncode, cp.stdout[:3000],
                                    cp.stderr[-2000:])) from e

    def stop(self):
        if self.holder is not None:
            tvtest.stop(self.holder)
            self.holder = None


class CRLServer:
    def __init__(self, ns, ip, port, root):
        self.ns, self.ip, self.port, self.root = ns, ip, int(port), root
        tag = "crlhttpd-%s-%d" % (ip, self.port)
        self.ready = ns.ctx.path(tag + ".ready")
        self.reqlog = ns.ctx.path(tag + ".requests")
        self.proc = ns.spawn([sys.executable, "-c", _HTTPD_SRC, ip, self.port,
                              root, self.ready, self.reqlog],
                             stdout=ns.ctx.path(tag + ".log"))
        ns.ctx.cleanup(self.stop)
        _wait_file(self.proc, self.ready, "CRL HTTP server")

    def requests(self):
        try:
            with open(self.reqlog) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def stop(self):
        if self.proc is not None:
            tvtest.stop(self.proc)
            self.proc = None


class OCSPResponder:
    """`openssl ocsp` on all interfaces of the namespace, port `port`."""

    def __init__(self, ns, ca, port, nmin=60):
        self.ns, self.port = ns, int(port)
        self.log = ns.ctx.path("ocsp-%d.log" % self.port)
        self.proc = ns.spawn(["openssl", "ocsp", "-index",
                              os.path.join(ca.dir, "index.txt"),
                              "-port", self.port, "-rsigner", ca.cert,
                              "-rkey", ca.key, "-CA", ca.cert,
                              "-nmin", nmin, "-ignore_err"],
                             stdout=self.log)
        ns.ctx.cleanup(self.stop)
        # not a test connection: the one-request-at-a-time responder would
        # wait forever on a connection that sends nothing
        tvtest.wait_for(self._listening, 10, what="openssl ocsp listening")

    def _listening(self):
        if self.proc.poll() is not None:
            raise tvtest.HarnessError("openssl ocsp exited %s (log %s)"
                                      % (self.proc.returncode, self.log))
        with open(self.log, errors="replace") as f:
            return "waiting for OCSP client connections" in f.read()

    def stop(self):
        if self.proc is not None:
            tvtest.stop(self.proc)
            self.proc = None


class StaplingSMTPServer:
    def __init__(self, ns, ip, port, leaf, staple=None):
        ctx = ns.ctx
        tag = "ocsp_smtpd-%s-%d" % (ip, int(port))
        self.ready = ctx.path(tag + ".ready")
        args = [os.path.join(ctx.build, "tests", "ocsp_smtpd"), "-a", ip,
                "-p", port, "-c", leaf.chain, "-k", leaf.key,
                "-r", self.ready]
        if staple:
            args += ["-s", staple]
        self.proc = ns.spawn(args, stdout=ctx.path(tag + ".log"))
        ctx.cleanup(self.stop)
        _wait_file(self.proc, self.ready, "ocsp_smtpd")

    def stop(self):
        if self.proc is not None:
            tvtest.stop(self.proc)
            self.proc = None


def ocsp_response(ca, leaf, path, ndays=1):
    """A DER OCSP response for leaf, signed by ca, from ca's index.txt
    (so a revoked leaf is 'revoked'); returns path."""
    req = path + ".req"
    _ossl(["ocsp", "-issuer", ca.cert, "-cert", leaf.cert, "-no_nonce",
           "-reqout", req])
    _ossl(["ocsp", "-index", os.path.join(ca.dir, "index.txt"),
           "-rsigner", ca.cert, "-rkey", ca.key, "-CA", ca.cert,
           "-reqin", req, "-respout", path, "-ndays", ndays])
    return path
