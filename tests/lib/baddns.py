#!/usr/bin/env python3
"""baddns.py - a hostile DNS server for tests (UDP and TCP on one loopback
port), Python standard library only.

It answers from a zone of its own and misbehaves on purpose where the
zone says so. As a program (a child of the test, stopped by its PID):

    baddns.py --ip 127.0.0.1 --port P --zone zone.json --ready FILE --log LOG

From a test (tvtest-style):

    dns = BadDNS(ctx)
    dns.a("mx.h.test", "127.0.9.2"); dns.mx("h.test", "mx.h.test", 10)
    dns.ptr("127.0.9.2", "mx0a.h.test"); dns.cname("a.test", "b.test")
    dns.behave("tc.h.test", "MX", "tc")     # or type "*"; name "*": all
    dns.start(); dns.nameserver              # "127.0.0.1:P"
    dns.queries()                            # [("udp"|"tcp", name, TYPE)]

Behaviours (per name and type):
  tc         UDP answer has the TC bit and no records; TCP answers fully
  tc_stall   UDP answer has the TC bit; over TCP the query is read and
             never answered (the connection stays open until the client
             closes it)
  short_mx   MX records carry only their 2-byte preference (RDATA shorter
             than MX's fixed part + name)
  garbage    random bytes instead of a DNS message (UDP and TCP)
  garbage_id the query's ID followed by random bytes
  wrong_id   a correct answer with another message ID
  wrong_question  a correct answer for another question (other.invalid)
  foreign_owner   the records of the asked type are owned by another name
             (unrelated.invalid), as a forwarder passing on unrelated data
Automatic: an answer over 512 bytes on UDP is sent with TC and no records
(no EDNS here), as a real server does; the client retries over TCP. A
CNAME chain is followed at most 16 steps and stops at a repeated name, so
"a CNAME b, b CNAME a" yields a loop answer (both CNAMEs, no data).
Unknown names: NXDOMAIN; known names without the type: NOERROR, no data.
"""
import argparse
import ipaddress
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
         "TXT": 16, "AAAA": 28}
TYPENAMES = {v: k for k, v in TYPES.items()}
BEHAVIOURS = ("tc", "tc_stall", "short_mx", "garbage", "garbage_id", "wrong_id",
              "wrong_question", "foreign_owner")


def norm(name):
    return name.rstrip(".").lower()


def ptr_name(ip):
    return ipaddress.ip_address(ip).reverse_pointer


# ---- wire format ---------------------------------------------------------

def enc_name(name):
    out = b""
    for lab in norm(name).split("."):
        if lab:
            out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"


def parse_query(msg):
    """(id, flags, qname, qtype, question bytes) or None."""
    if len(msg) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", msg[:6])
    if qd != 1:
        return None
    off, labels = 12, []
    while True:
        if off >= len(msg):
            return None
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n > 63 or off + n > len(msg):
            return None
        labels.append(msg[off:off + n].decode("latin-1"))
        off += n
    if off + 4 > len(msg):
        return None
    qtype, _ = struct.unpack(">HH", msg[off:off + 4])
    return qid, flags, ".".join(labels).lower(), qtype, msg[12:off + 4]


def rdata(typ, value, short_mx=False):
    if typ == "A":
        return ipaddress.IPv4Address(value).packed
    if typ == "AAAA":
        return ipaddress.IPv6Address(value).packed
    if typ == "MX":
        pref, host = value
        if short_mx:
            return struct.pack(">H", pref)
        return struct.pack(">H", pref) + enc_name(host)
    if typ in ("PTR", "CNAME", "NS"):
        return enc_name(value)
    if typ == "TXT":
        b = value.encode()[:255]
        return bytes([len(b)]) + b
    raise ValueError(typ)


def rr(owner, typ, value, short_mx=False):
    rd = rdata(typ, value, short_mx)
    return (enc_name(owner) + struct.pack(">HHIH", TYPES[typ], 1, 60,
                                          len(rd)) + rd)


class Zone:
    def __init__(self, data):
        self.records = [(norm(n), t, v) for n, t, v in data["records"]]
        self.behave = {tuple(k.split("/", 1)): v
                       for k, v in data.get("behave", {}).items()}
        self.owners = {n for n, _, _ in self.records}

    def behaviour(self, name, qtype):
        t = TYPENAMES.get(qtype, str(qtype))
        for key in ((name, t), (name, "*"), ("*", t), ("*", "*")):
            if key in self.behave:
                return self.behave[key]
        return None

    def lookup(self, name, qtype):
        """(rcode, [rr bytes], short_mx flag used)"""
        t = TYPENAMES.get(qtype)
        beh = self.behaviour(name, qtype)
        out, seen, cur = [], set(), name
        for _ in range(16):
            if cur in seen:
                break
            seen.add(cur)
            cn = [v for n, ty, v in self.records if n == cur and ty == "CNAME"]
            if cn and t != "CNAME":
                out.append(rr(cur, "CNAME", cn[0]))
                cur = norm(cn[0])
                continue
            owner = "unrelated.invalid" if beh == "foreign_owner" else cur
            for n, ty, v in self.records:
                if n == cur and ty == t:
                    out.append(rr(owner, ty, v, short_mx=(beh == "short_mx")))
            break
        if not out and name not in self.owners:
            return 3, []
        return 0, out


def answer(zone, msg, proto, rnd):
    q = parse_query(msg)
    if q is None:
        return None
    qid, flags, qname, qtype, question = q
    beh = zone.behaviour(qname, qtype)
    if beh == "garbage":
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 120)))
    if beh == "garbage_id":
        return struct.pack(">H", qid) + bytes(
            rnd.getrandbits(8) for _ in range(rnd.randint(1, 120)))
    rcode, rrs = zone.lookup(qname, qtype)
    if beh == "wrong_question":
        question = enc_name("other.invalid") + struct.pack(">HH", qtype, 1)
    if beh == "wrong_id":
        qid ^= 0x5a5a
    rflags = 0x8000 | (flags & 0x0100) | 0x0400 | 0x0080 | rcode
    body = b"".join(rrs)
    msg = struct.pack(">HHHHHH", qid, rflags, 1, len(rrs), 0, 0) + \
        question + body
    if beh == "tc_stall" and proto == "tcp":
        return b""
    if proto == "udp" and (beh in ("tc", "tc_stall") or len(msg) > 512):
        msg = struct.pack(">HHHHHH", qid, rflags | 0x0200, 1, 0, 0, 0) + \
            question
    return msg


# ---- the server ----------------------------------------------------------

class Server:
    def __init__(self, ip, port, zone, log):
        self.zone, self.logf = zone, open(log, "a", buffering=1)
        self.lock = threading.Lock()
        self.rnd = random.Random(4711)
        fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self.udp = socket.socket(fam, socket.SOCK_DGRAM)
        self.udp.bind((ip, port))
        self.tcp = socket.socket(fam, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((ip, port))
        self.tcp.listen(64)

    def note(self, proto, msg):
        q = parse_query(msg)
        with self.lock:
            if q is None:
                self.logf.write("%s - BAD\n" % proto)
            else:
                self.logf.write("%s %s %s\n" % (
                    proto, q[2], TYPENAMES.get(q[3], str(q[3]))))

    def reply(self, msg, proto):
        self.note(proto, msg)
        with self.lock:
            return answer(self.zone, msg, proto, self.rnd)

    def tcp_conn(self, c):
        c.settimeout(10)
        try:
            while True:
                hdr = c.recv(2, socket.MSG_WAITALL)
                if len(hdr) < 2:
                    return
                n = struct.unpack(">H", hdr)[0]
                msg = c.recv(n, socket.MSG_WAITALL)
                out = self.reply(msg, "tcp")
                if out is None:
                    return
                if out == b"":          # tc_stall: hold it open, silent
                    c.settimeout(60)
                    c.recv(1)
                    return
                c.sendall(struct.pack(">H", len(out)) + out)
        except OSError:
            return
        finally:
            c.close()

    def run(self):
        while True:
            r, _, _ = select.select([self.udp, self.tcp], [], [])
            if self.udp in r:
                msg, peer = self.udp.recvfrom(65535)
                out = self.reply(msg, "udp")
                if out is not None:
                    self.udp.sendto(out, peer)
            if self.tcp in r:
                c, _ = self.tcp.accept()
                threading.Thread(target=self.tcp_conn, args=(c,),
                                 daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    if not ipaddress.ip_address(a.ip).is_loopback:
        sys.exit("baddns: loopback only")
    with open(a.zone) as f:
        zone = Zone(json.load(f))
    srv = Server(a.ip, a.port, zone, a.log)
    with open(a.ready, "w") as f:
        f.write("%d\n" % os.getpid())
    srv.run()


# ---- the test-side class -------------------------------------------------

class BadDNS:
    def __init__(self, ctx, ip="127.0.0.1"):
        self.ctx, self.ip = ctx, ip
        self.records, self.behaves = [], {}
        self.proc, self.port = None, None
        self.dir = ctx.path("baddns")
        self.log = os.path.join(self.dir, "queries.log")

    def add(self, name, typ, value):
        if typ not in TYPES:
            raise ValueError(typ)
        self.records.append([name, typ, value])
        return self

    def a(self, name, ip):
        return self.add(name, "A", ip)

    def aaaa(self, name, ip):
        return self.add(name, "AAAA", ip)

    def mx(self, domain, host, pref=10):
        return self.add(domain, "MX", [pref, host])

    def ptr(self, ip, name):
        return self.add(ptr_name(ip), "PTR", name)

    def cname(self, name, target):
        return self.add(name, "CNAME", target)

    def behave(self, name, typ, behaviour):
        if behaviour not in BEHAVIOURS:
            raise ValueError(behaviour)
        self.behaves["%s/%s" % (norm(name) if name != "*" else "*",
                                typ)] = behaviour
        return self

    def start(self):
        import tvtest
        os.makedirs(self.dir, exist_ok=True)
        zone = os.path.join(self.dir, "zone.json")
        with open(zone, "w") as f:
            json.dump({"records": self.records, "behave": self.behaves}, f,
                      indent=1)
        ready = os.path.join(self.dir, "ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self.port = self.ctx.port()
        self.proc = tvtest.spawn(
            self.ctx, [sys.executable, os.path.abspath(__file__),
                       "--ip", self.ip, "--port", str(self.port),
                       "--zone", zone, "--ready", ready, "--log", self.log],
            stdout=os.path.join(self.dir, "baddns.out"))
        self.ctx.cleanup(self.stop)
        tvtest.wait_for(lambda: os.path.exists(ready) or
                        self.proc.poll() is not None, 10, what="baddns")
        if self.proc.poll() is not None:
            raise tvtest.HarnessError("baddns exited %s" %
                                      self.proc.returncode)
        return self.port

    @property
    def nameserver(self):
        return "%s:%d" % (self.ip, self.port)

    def queries(self):
        try:
            with open(self.log) as f:
                return [tuple(l.split()) for l in f if l.strip()]
        except FileNotFoundError:
            return []

    def stop(self):
        import tvtest
        if self.proc is not None:
            tvtest.stop(self.proc)
            self.proc = None


if __name__ == "__main__":
    main()
