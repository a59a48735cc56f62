"""milterclient.py - a small client of the libmilter wire protocol (the
MTA's side), Python standard library only, for load tests.

Every packet is a 4-byte big-endian length (command byte included), one
command byte, then data. The client negotiates protocol version 6 ('O'),
offers every step, and then honours what the milter asked for: steps it
switched off (SMFIP_NO*) are not sent, and steps marked "no reply"
(SMFIP_NR_*) are not waited for. Macros go in 'D' packets before the
command they belong to.

    c = MilterClient("127.0.0.1", 8895, timeout=30)
    c = MilterClient("/run/x/milter.sock", None)   # a unix socket
    c.negotiate()
    c.mail("<a@relay.test>")
    code, text = c.rcpt("<b@example.com>", macros={"{rcpt_mailer}": "smtp"})
    # code: "continue" | "tempfail" | "reject" | "accept" | "discard"
    #       | "replycode" (text then holds "450 4.7.5 ...")
    mods, final = c.eom()
    c.quit()
"""
import socket
import struct

SMFIC = {"abort": b"A", "body": b"B", "connect": b"C", "macro": b"D",
         "eob": b"E", "helo": b"H", "header": b"L", "mail": b"M",
         "eoh": b"N", "optneg": b"O", "quit": b"Q", "rcpt": b"R",
         "data": b"T", "unknown": b"U", "quit_nc": b"K"}
REPLY = {b"c": "continue", b"t": "tempfail", b"r": "reject", b"a": "accept",
         b"d": "discard", b"y": "replycode", b"s": "skip"}
MODS = {b"h": "addheader", b"i": "insheader", b"m": "chgheader",
        b"+": "addrcpt", b"-": "delrcpt", b"b": "replbody", b"q": "quarantine",
        b"e": "chgfrom", b"2": "addrcpt_par", b"p": "progress"}

NOCONNECT, NOHELO, NOMAIL, NORCPT = 0x1, 0x2, 0x4, 0x8
NOBODY, NOHDRS, NOEOH, NR_HDR = 0x10, 0x20, 0x40, 0x80
NR_CONN, NR_HELO, NR_MAIL, NR_RCPT = 0x1000, 0x2000, 0x4000, 0x8000
NR_DATA, NR_EOH, NR_BODY = 0x10000, 0x40000, 0x80000
NODATA = 0x200
ALL_PROTO = 0x1fffff
ALL_ACTIONS = 0x1ff
MAXPACKET = 1 << 20


class MilterError(Exception):
    pass


class MilterClient:
    def __init__(self, host, port, timeout=30.0):
        if port is None:            # host is the path of a unix socket
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(host)
            except OSError:
                self.sock.close()
                raise
        else:
            self.sock = socket.create_connection((host, port),
                                                 timeout=timeout)
        self.proto = 0
        self.actions = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _send(self, cmd, data=b""):
        self.sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _recvall(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise MilterError("connection closed by the milter")
            buf += chunk
        return buf

    def _recv(self):
        n = struct.unpack(">I", self._recvall(4))[0]
        if n < 1 or n > MAXPACKET:
            raise MilterError("bad packet length %d" % n)
        pkt = self._recvall(n)
        return pkt[:1], pkt[1:]

    def _reply(self):
        """Read packets until a final reply: (kind, text, [mods])."""
        mods = []
        while True:
            cmd, data = self._recv()
            if cmd in REPLY:
                text = data.rstrip(b"\0").decode("latin-1")
                return REPLY[cmd], text, mods
            if cmd in MODS:
                mods.append((MODS[cmd], data))
                continue
            raise MilterError("unexpected reply %r" % cmd)

    @staticmethod
    def _z(*strs):
        return b"".join(s.encode() + b"\0" for s in strs)

    def negotiate(self, version=6):
        self._send(SMFIC["optneg"], struct.pack(">III", version, ALL_ACTIONS,
                                                ALL_PROTO))
        cmd, data = self._recv()
        if cmd != b"O" or len(data) < 12:
            raise MilterError("bad negotiation reply %r" % cmd)
        _, self.actions, self.proto = struct.unpack(">III", data[:12])
        return self.actions, self.proto

    def macros(self, cmd, macros):
        if macros:
            flat = []
            for k, v in macros.items():
                flat += [k, v]
            self._send(SMFIC["macro"], SMFIC[cmd] + self._z(*flat))

    def _step(self, cmd, data, off, nr, macros=None):
        if self.proto & off:
            return "continue", ""
        self.macros(cmd, macros)
        self._send(SMFIC[cmd], data)
        if self.proto & nr:
            return "continue", ""
        kind, text, _ = self._reply()
        return kind, text

    def connect(self, host="client.test", ip="127.0.0.1", port=25,
                macros=None):
        data = host.encode() + b"\0" + b"4" + struct.pack(">H", port) + \
            ip.encode() + b"\0"
        return self._step("connect", data, NOCONNECT, NR_CONN, macros)

    def helo(self, name="client.test", macros=None):
        return self._step("helo", self._z(name), NOHELO, NR_HELO, macros)

    def mail(self, sender, macros=None):
        return self._step("mail", self._z(sender), NOMAIL, NR_MAIL, macros)

    def rcpt(self, rcpt, macros=None):
        return self._step("rcpt", self._z(rcpt), NORCPT, NR_RCPT, macros)

    def rcpt_send(self, rcpt, macros=None):
        """rcpt() in two halves, for a client waiting on many sessions at
        once: this sends it, rcpt_reply() reads the answer (the milter must
        not have negotiated NORCPT or NR_RCPT)."""
        self.macros("rcpt", macros)
        self._send(SMFIC["rcpt"], self._z(rcpt))

    def rcpt_reply(self):
        kind, text, _ = self._reply()
        return kind, text

    def header(self, name, value):
        return self._step("header", self._z(name, value), NOHDRS, NR_HDR)

    def eoh(self):
        return self._step("eoh", b"", NOEOH, NR_EOH)

    def body(self, data):
        return self._step("body", data, NOBODY, NR_BODY)

    def eom(self, macros=None):
        """(mods, final): mods is [(kind, raw data)], final the reply."""
        self.macros("eob", macros)
        self._send(SMFIC["eob"])
        kind, text, mods = self._reply()
        return mods, (kind, text)

    def abort(self):
        self._send(SMFIC["abort"])

    def quit(self):
        try:
            self._send(SMFIC["quit"])
        except OSError:
            pass
        self.close()


def milter_says(port, domain, host="127.0.0.1"):
    """One message to u@DOMAIN through the milter at host:port: (the RCPT
    reply kind, its text, the X-TLS-Verify value added at end of message,
    unfolded, or None)."""
    mc = MilterClient(host, port, timeout=60)
    try:
        mc.negotiate()
        mc.mail("<s@relay.test>")
        kind, text = mc.rcpt("<u@%s>" % domain,
                             macros={"{rcpt_mailer}": "smtp"})
        hdr = None
        if kind == "continue":
            mc.header("Subject", "x")
            mc.eoh()
            mc.body(b"x\r\n")
            mods, _ = mc.eom()
            for k, data in mods:
                if k in ("addheader", "insheader") and \
                        b"X-TLS-Verify" in data:
                    hdr = " ".join(data.split(b"\0")[-2].decode().split())
        mc.quit()
        return kind, text, hdr
    finally:
        mc.close()
