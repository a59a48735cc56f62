"""sockmapclient - a Postfix socketmap client (netstrings) for the tests.

c = SockmapClient(port); c.query("tlspolicy example.com") -> "OK may"
c.send_raw(b"..."); c.read_reply() -> str, or None when the server closed.
"""
import socket


def netstring(data):
    if isinstance(data, str):
        data = data.encode()
    return b"%d:%s," % (len(data), data)


class SockmapClient:
    def __init__(self, port, host="127.0.0.1", timeout=60):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def read_reply(self):
        """One netstring reply as text; None on EOF before a whole one."""
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                n = int(self.buf[:colon])
                if len(self.buf) >= colon + 1 + n + 1:
                    data = self.buf[colon + 1:colon + 1 + n]
                    assert self.buf[colon + 1 + n:colon + 2 + n] == b",", \
                        self.buf
                    self.buf = self.buf[colon + 2 + n:]
                    return data.decode()
            try:
                if not self._fill():
                    return None
            except ConnectionResetError:
                return None

    def query(self, req):
        self.send_raw(netstring(req))
        return self.read_reply()

    def closed(self):
        """True when the server has closed the connection."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    def close(self):
        self.sock.close()
