"""burst - one question on many connections at once, from one thread.

wave(socks, send, reply) registers every socket with a selector, calls
send(i) for each in turn (all questions go out within a few milliseconds,
with no thread of the client's own to schedule), then reply(i) for each
socket as it becomes readable. Returns (wall seconds from the first send to
the last answer, the answers in socket order); an answer missing after
`limit` seconds raises RuntimeError.

milter_wave(addr, rcpts) does that through the milter: one session per
recipient (negotiated, MAIL FROM given first), then every RCPT at once.
addr is as for mclient(). Returns (wall seconds, [(kind, text)] per
recipient).

mclient(addr, timeout) is a MilterClient on a TCP port on 127.0.0.1 (an
int) or a unix socket (a path).
"""
import selectors
import socket
import time

from milterclient import MilterClient


def wave(socks, send, reply, limit=120):
    sel = selectors.DefaultSelector()
    out, left = [None] * len(socks), len(socks)
    try:
        for i, s in enumerate(socks):
            sel.register(s, selectors.EVENT_READ, i)
        t0 = time.monotonic()
        for i in range(len(socks)):
            send(i)
        while left and time.monotonic() < t0 + limit:
            for key, _ in sel.select(timeout=1):
                out[key.data] = reply(key.data)
                sel.unregister(key.fileobj)
                left -= 1
        wall = time.monotonic() - t0
    finally:
        sel.close()
    if left:
        raise RuntimeError("%d of %d answers missing after %d s" % (
            left, len(socks), limit))
    return wall, out


def mclient(addr, timeout=60):
    """A MilterClient on a TCP port on 127.0.0.1 (int; TCP_NODELAY: see
    docs/BENCHMARKS.md, Nagle + delayed ACK) or a unix socket (str)."""
    if isinstance(addr, int):
        c = MilterClient("127.0.0.1", addr, timeout=timeout)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return c
    c = MilterClient.__new__(MilterClient)
    c.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.sock.settimeout(timeout)
    c.sock.connect(addr)
    c.proto = c.actions = 0
    return c


def milter_wave(addr, rcpts, timeout=120):
    cs = []
    try:
        for _ in rcpts:
            cs.append(mclient(addr, timeout))
            cs[-1].negotiate()
            cs[-1].mail("<wave@relay.test>")

        def send(i):
            a = rcpts[i]
            cs[i].rcpt_send("<%s>" % a, macros={"{rcpt_addr}": a,
                                                "{rcpt_mailer}": "smtp"})
        return wave([c.sock for c in cs], send,
                    lambda i: cs[i].rcpt_reply(), limit=timeout)
    finally:
        for c in cs:
            c.close()
