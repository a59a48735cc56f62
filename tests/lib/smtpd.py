#!/usr/bin/env python3
"""smtpd - a test SMTP server (Python 3 stdlib only), one thread per
connection, listening on one loopback address.

usage: smtpd.py --ip IP --port N --mode MODE [--cert CHAIN --key KEY]
                [--banner-host H] [--spool DIR] [--counter FILE]
                [--ready FILE] [--delay SECONDS]

Modes:
  starttls        EHLO offers STARTTLS; after TLS a full session (stored)
  plain           no STARTTLS offered; a full session in clear
  silent          accepts, never sends a byte
  endless_ehlo    after EHLO sends "250-x" lines forever
  longline        EHLO reply is one 1 MB line, CRLF only at its end
  drip            banner sent one byte per second, then as starttls
  starttls454     STARTTLS -> 454 4.7.0 TLS not available
  starttls_close  STARTTLS -> 220, then the socket is closed
  alert           STARTTLS -> 220, reads the ClientHello, answers with a
                  fatal handshake_failure alert record and closes
  banner554       "554 no service" banner; 503 to everything but QUIT
  ehlo550         EHLO -> "550 5.7.1 your address is blocklisted"

--counter: a file holding the number of connections accepted so far.
--spool: one NNNNNN.eml (DATA, dot-unstuffed) + NNNNNN.json (envelope)
per message. --ready is created once the socket listens. SIGTERM stops.
Limits: command lines 4096 bytes, DATA lines 1 MB, messages 10 MB.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time

MAX_CMD = 4096
MAX_DATA_LINE = 1 << 20
MAX_MSG = 10 << 20

_lock = threading.Lock()
_state = {"conns": 0, "msgs": 0}
OPTS = None


def log(fmt, *args):
    with _lock:
        sys.stdout.write("%.3f %s\n" % (time.time(), fmt % args))
        sys.stdout.flush()


def _write_atomic(path, data):
    tmp = path + ".tmp%d" % threading.get_ident()
    with open(tmp, "w") as f:
        f.write(data)
    os.replace(tmp, path)


class Closed(Exception):
    pass


class Conn:
    """Line I/O over a (possibly TLS) socket with a length limit."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.tls = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def reply(self, *lines):
        out = ""
        for i, line in enumerate(lines):
            code, text = line[:3], line[4:] if len(line) > 3 else ""
            sep = " " if i == len(lines) - 1 else "-"
            out += "%s%s%s\r\n" % (code, sep, text)
        self.send(out)

    def readline(self, limit=MAX_CMD):
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise Closed("line too long")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("peer closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        if len(line) > limit:
            raise Closed("line too long")
        return line.rstrip(b"\r")


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        with _lock:
            _state["conns"] += 1
            n = _state["conns"]
            if OPTS.counter:
                _write_atomic(OPTS.counter, "%d\n" % n)
        self.n = n
        log("conn %d from %s", n, self.client_address[0])
        conn = Conn(self.request)
        try:
            self.session(conn)
        except (Closed, OSError, ssl.SSLError) as e:
            log("conn %d ended: %s", n, e)
        finally:
            try:
                self.request.close()
            except OSError:
                pass

    def session(self, conn):
        mode = OPTS.mode
        if OPTS.delay:
            time.sleep(OPTS.delay)
        if mode == "silent":
            while conn.sock.recv(65536):
                pass
            return
        banner = "220 %s ESMTP tvtest\r\n" % OPTS.banner_host
        if mode == "banner554":
            conn.send("554 %s no service\r\n" % OPTS.banner_host)
            return self.loop554(conn)
        if mode == "drip":
            for ch in banner.encode():
                conn.send(bytes([ch]))
                time.sleep(1)
        else:
            conn.send(banner)
        self.commands(conn)

    def loop554(self, conn):
        while True:
            line = conn.readline()
            if line.upper().startswith(b"QUIT"):
                conn.reply("221 2.0.0 bye")
                return
            conn.reply("503 5.5.1 no service")

    def ehlo(self, conn, arg):
        mode = OPTS.mode
        self.helo = arg
        if mode == "endless_ehlo":
            chunk = b"250-x\r\n" * 512
            while True:
                conn.send(chunk)
        if mode == "longline":
            conn.send(b"250 " + b"x" * (1 << 20) + b"\r\n")
            return
        if mode == "ehlo550":
            conn.reply("550 5.7.1 your address is blocklisted")
            return
        lines = ["250 %s hello %s" % (OPTS.banner_host, arg),
                 "250 PIPELINING", "250 SIZE 10240000", "250 8BITMIME"]
        if mode != "plain" and not conn.tls:
            lines.append("250 STARTTLS")
        lines.append("250 ENHANCEDSTATUSCODES")
        conn.reply(*lines)

    def commands(self, conn):
        self.helo, self.mail, self.rcpt = None, None, []
        while True:
            line = conn.readline()
            text = line.decode("utf-8", "replace")
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            log("conn %d C: %s", self.n, text[:200])
            if verb == "EHLO":
                self.ehlo(conn, arg)
            elif verb == "HELO":
                self.helo = arg
                conn.reply("250 %s" % OPTS.banner_host)
            elif verb == "STARTTLS":
                if not self.starttls(conn):
                    return
            elif verb == "MAIL":
                self.mail, self.rcpt = arg, []
                conn.reply("250 2.1.0 ok")
            elif verb == "RCPT":
                if self.mail is None:
                    conn.reply("503 5.5.1 MAIL first")
                else:
                    self.rcpt.append(arg)
                    conn.reply("250 2.1.5 ok")
            elif verb == "DATA":
                if not self.rcpt:
                    conn.reply("503 5.5.1 RCPT first")
                else:
                    self.data(conn)
            elif verb == "RSET":
                self.mail, self.rcpt = None, []
                conn.reply("250 2.0.0 ok")
            elif verb == "NOOP":
                conn.reply("250 2.0.0 ok")
            elif verb == "VRFY":
                conn.reply("252 2.1.5 maybe")
            elif verb == "QUIT":
                conn.reply("221 2.0.0 bye")
                return
            else:
                conn.reply("500 5.5.2 unknown command")

    def starttls(self, conn):
        """Returns False when the session is over."""
        mode = OPTS.mode
        if mode == "plain" or conn.tls:
            conn.reply("503 5.5.1 TLS not offered")
            return True
        if mode == "starttls454":
            conn.reply("454 4.7.0 TLS not available")
            return True
        conn.reply("220 2.0.0 ready to start TLS")
        conn.buf = b""          # never carry plaintext into the TLS session
        if mode == "starttls_close":
            return False
        if mode == "alert":
            conn.sock.settimeout(5)
            try:
                conn.sock.recv(65536)            # the ClientHello
            except OSError:
                pass
            # TLS record: alert, TLS 1.2, length 2, fatal(2) handshake_failure(40)
            conn.send(b"\x15\x03\x03\x00\x02\x02\x28")
            return False
        sock = SSL_CTX.wrap_socket(conn.sock, server_side=True)
        conn.sock, conn.tls = sock, True
        log("conn %d TLS %s %s", self.n, sock.version(), sock.cipher()[0])
        self.helo, self.mail, self.rcpt = None, None, []
        return True

    def data(self, conn):
        conn.reply("354 go ahead")
        lines, size = [], 0
        while True:
            line = conn.readline(MAX_DATA_LINE)
            if line == b".":
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line) + 2
            if size > MAX_MSG:
                raise Closed("message too big")
            lines.append(line)
        body = b"".join(ln + b"\r\n" for ln in lines)
        with _lock:
            _state["msgs"] += 1
            m = _state["msgs"]
        base = os.path.join(OPTS.spool, "%06d" % m)
        with open(base + ".eml", "wb") as f:
            f.write(body)
        env = {"mail": self.mail, "rcpt": self.rcpt, "helo": self.helo,
               "tls": conn.tls, "conn": self.n}
        _write_atomic(base + ".json", json.dumps(env))
        log("conn %d message %d stored (%d bytes)", self.n, m, len(body))
        self.mail, self.rcpt = None, []
        conn.reply("250 2.0.0 queued as %06d" % m)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


SSL_CTX = None


def main():
    global OPTS, SSL_CTX
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mode", default="starttls")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--banner-host", default="mx.test")
    ap.add_argument("--spool")
    ap.add_argument("--counter")
    ap.add_argument("--ready")
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--tls-max", choices=("1.2", "1.3"))
    OPTS = ap.parse_args()
    if OPTS.spool:
        os.makedirs(OPTS.spool, exist_ok=True)
    if OPTS.cert:
        SSL_CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        SSL_CTX.load_cert_chain(OPTS.cert, OPTS.key)
        if OPTS.tls_max == "1.2":
            SSL_CTX.maximum_version = ssl.TLSVersion.TLSv1_2
    elif OPTS.mode in ("starttls", "drip"):
        ap.error("mode %s needs --cert and --key" % OPTS.mode)
    if OPTS.counter:
        _write_atomic(OPTS.counter, "0\n")

    Server.address_family = socket.AF_INET6 if ":" in OPTS.ip else socket.AF_INET
    srv = Server((OPTS.ip, OPTS.port), Handler)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                         daemon=True)
    t.start()
    log("listening on %s:%d mode %s", OPTS.ip, OPTS.port, OPTS.mode)
    if OPTS.ready:
        _write_atomic(OPTS.ready, "%d\n" % os.getpid())
    sig = signal.sigwait({signal.SIGTERM, signal.SIGINT})
    log("signal %d: stopping", sig)
    srv.shutdown()
    srv.server_close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
