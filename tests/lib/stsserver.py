"""stsserver - an HTTPS server for MTA-STS policy tests (run as a script).

    python3 stsserver.py IP PORT CHAIN KEY POLICY_FILE LOG MODE

Serves GET requests over TLS on IP:PORT with the certificate chain CHAIN
and key KEY; appends one line per request to LOG ("GET PATH HOST"), then
answers by MODE:
  ok        200, text/plain; charset=utf-8, Content-Length, the contents of
            POLICY_FILE (read at each request, so a test can change it)
  nolen     the same without Content-Length, ended by a TLS close_notify
  redirect  301 to https://HOST/elsewhere
  ctype     200 with Content-Type text/html
  big       200 text/plain, 70000 bytes with Content-Length
  bignolen  200 text/plain, 200000 bytes without Content-Length
  slow      waits 60 s before answering (after the TLS handshake)
  notfound  404
Prints "ready" on stdout when listening. Loopback only.
"""

import http.server
import socket
import ssl
import sys
import threading
import time


def main():
    ip, port, chain, key, policy, log, mode = sys.argv[1:8]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, fmt, *args):
            pass

        def _send(self, code, ctype, body, length=True):
            self.send_response(code)
            if ctype:
                self.send_header("Content-Type", ctype)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self):
            with lock, open(log, "a") as f:
                f.write("GET %s %s\n" % (self.path, self.headers.get("Host")))
            if mode == "slow":
                time.sleep(60)
            if mode in ("ok", "nolen"):
                with open(policy, "rb") as f:
                    body = f.read()
                self._send(200, "text/plain; charset=utf-8", body,
                           length=(mode == "ok"))
                if mode == "nolen":
                    self.connection.unwrap()
            elif mode == "redirect":
                self.send_response(301)
                self.send_header("Location", "https://%s/elsewhere"
                                 % self.headers.get("Host"))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif mode == "ctype":
                self._send(200, "text/html", b"version: STSv1\n")
            elif mode == "big":
                self._send(200, "text/plain", b"x" * 70000)
            elif mode == "bignolen":
                self._send(200, "text/plain", b"x" * 200000, length=False)
            else:
                self._send(404, "text/plain", b"not found\n")

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(chain, key)
    srv = Server((ip, int(port)), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
