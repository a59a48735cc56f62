"""rptserver - an HTTPS server that receives TLS-RPT reports (run as a script).

    python3 rptserver.py IP PORT CHAIN KEY OUTDIR STATUS

Serves POST requests over TLS on IP:PORT with the certificate chain CHAIN
and key KEY; for the Nth request writes OUTDIR/N.json (method, path, the
request's header fields) and OUTDIR/N.body (the body, read to its
Content-Length, at most 1 MiB), then answers STATUS (e.g. 200) with an
empty body. Prints "ready" on stdout when listening. Loopback only.
"""

import http.server
import json
import os
import socket
import ssl
import sys
import threading


def main():
    ip, port, chain, key, outdir, status = sys.argv[1:7]
    lock = threading.Lock()
    count = [0]

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, fmt, *args):
            pass

        def do_POST(self):
            n = min(int(self.headers.get("Content-Length", "0")), 1 << 20)
            body = self.rfile.read(n)
            with lock:
                count[0] += 1
                k = count[0]
            with open(os.path.join(outdir, "%d.body" % k), "wb") as f:
                f.write(body)
            with open(os.path.join(outdir, "%d.json" % k), "w") as f:
                json.dump({"method": "POST", "path": self.path,
                           "headers": dict(self.headers.items())}, f)
            self.send_response(int(status))
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Server(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass

    assert ip.startswith("127.") or ip == "::1", "loopback only"
    srv = Server((ip, int(port)), Handler)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(chain, key)
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
