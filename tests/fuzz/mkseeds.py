#!/usr/bin/env python3
"""mkseeds.py - (re)write the generated seed inputs of tests/fuzz/dns/ and
tests/fuzz/ident/ (seed-* files). Run from the repo root; needs the openssl
CLI. Inputs found by fuzzing (crash-*, regress-*) are kept as they are.

dns seeds: byte 0 = record type (0 MX, 1 A, 2 AAAA, 3 PTR), then a DNS
message. ident seeds: byte 0 = procedure (0 verify, 1 hosted), then a DER
certificate, or "presented\\0reference".
"""
import os
import struct
import subprocess
import tempfile

ROOT = os.path.join("tests", "fuzz")


def name(n):
    out = b""
    for lab in n.rstrip(".").split("."):
        if lab:
            out += bytes([len(lab)]) + lab.encode()
    return out + b"\0"


def msg(qname, qtype, answers, flags=0x8180, qid=0x1234, ancount=None):
    hdr = struct.pack(">HHHHHH", qid, flags, 1,
                      len(answers) if ancount is None else ancount, 0, 0)
    q = name(qname) + struct.pack(">HH", qtype, 1)
    body = b""
    for owner, typ, rdata in answers:
        body += owner + struct.pack(">HHIH", typ, 1, 300, len(rdata)) + rdata
    return hdr + q + body


PTR_OWNER = b"\xc0\x0c"   # compression pointer to the question name


def dns_seeds():
    mx = lambda pref, host: struct.pack(">H", pref) + name(host)
    s = {}
    s["mx-two"] = (0, msg("example.com", 15, [
        (PTR_OWNER, 15, mx(10, "mx01.subd.emailhosted.not")),
        (PTR_OWNER, 15, mx(5, "mx02.subd.emailhosted.not"))]))
    s["mx-null"] = (0, msg("null.example", 15, [(PTR_OWNER, 15, mx(0, "."))]))
    s["mx-short"] = (0, msg("short.example", 15,
                            [(PTR_OWNER, 15, b"\x00\x0a")]))
    s["mx-compressed"] = (0, msg("example.com", 15, [
        (PTR_OWNER, 15, struct.pack(">H", 10) + b"\x02mx\xc0\x0c")]))
    s["mx-loop-pointer"] = (0, msg("example.com", 15, [
        (PTR_OWNER, 15, struct.pack(">H", 10) + b"\xc0\x2d")]))
    s["mx-cname-first"] = (0, msg("alias.example", 15, [
        (PTR_OWNER, 5, name("real.example")),
        (name("real.example"), 15, mx(10, "mx.real.example"))]))
    s["mx-cname-loop"] = (0, msg("loop.example", 15, [
        (PTR_OWNER, 5, name("loop2.example")),
        (name("loop2.example"), 5, name("LOOP.example."))]))
    s["a-one"] = (1, msg("mx.example", 1, [(PTR_OWNER, 1, b"\x7f\0\0\x02")]))
    s["a-bad-len"] = (1, msg("mx.example", 1, [(PTR_OWNER, 1, b"\x7f\0\0")]))
    s["aaaa-one"] = (2, msg("mx.example", 28,
                            [(PTR_OWNER, 28, b"\0" * 15 + b"\1")]))
    s["ptr-two"] = (3, msg("2.0.0.127.in-addr.arpa", 12, [
        (PTR_OWNER, 12, name("mx0a.emailhosted.not")),
        (PTR_OWNER, 12, name("bad_name!.example"))]))
    s["ptr-many"] = (3, msg("2.0.0.127.in-addr.arpa", 12, [
        (PTR_OWNER, 12, name("h%d.example" % i)) for i in range(80)]))
    s["count-lies"] = (0, msg("example.com", 15, [
        (PTR_OWNER, 15, mx(10, "mx.example"))], ancount=9))
    s["garbage"] = (0, bytes(range(256)) * 2)
    s["truncated-header"] = (1, b"\x12\x34\x81")
    for k, (t, m) in s.items():
        with open(os.path.join(ROOT, "dns", "seed-" + k), "wb") as f:
            f.write(bytes([t]) + m)


def ossl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cert_der(tmp, tag, subj, sans):
    ext = os.path.join(tmp, tag + ".ext")
    with open(ext, "w") as f:
        f.write("[x]\nbasicConstraints=CA:FALSE\n")
        if sans:
            f.write("subjectAltName=" + ",".join(sans) + "\n")
    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", tag + ".key", "-out", tag + ".der",
         "-outform", "DER", "-days", "30", "-subj", subj,
         "-extensions", "x", "-config", ext, cwd=tmp)
    with open(os.path.join(tmp, tag + ".der"), "rb") as f:
        return f.read()


def ident_seeds():
    certs = {
        "seed-wildcard": ("/CN=*.emailhosted.not",
                          ["DNS:*.emailhosted.not", "DNS:emailhosted.not"]),
        "seed-cn-only": ("/CN=example.com", []),
        "seed-two-cn": ("/CN=a.example/CN=mx0a.emailhosted.not", []),
        "seed-mixed-sans": ("/CN=x", ["DNS:example.com", "IP:127.0.0.2",
                                      "email:a@b.c", "DNS:Mx*.Example.COM",
                                      "URI:http://x/"]),
        "seed-empty-subject": ("/O=none", ["DNS:smtp1.partner.net"]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for k, (subj, sans) in certs.items():
            der = cert_der(tmp, k, subj, sans)
            for mode in (0, 1):
                with open(os.path.join(ROOT, "ident", "%s-%d" % (k, mode)),
                          "wb") as f:
                    f.write(bytes([mode]) + der)
    pairs = {
        "seed-match-wild": b"*.example.com\0mx.example.com",
        "seed-match-exact": b"Example.COM.\0example.com",
        "seed-partial": b"mx*.example.com\0mx1.example.com",
        "seed-ip": b"127.0.0.1\x00127.0.0.1",
        "seed-nul": b"example.com\0\0evil",
        "seed-idn": "b\u00fccher.example\0xn--bcher-kva.example".encode(),
    }
    for k, v in pairs.items():
        with open(os.path.join(ROOT, "ident", k), "wb") as f:
            f.write(b"\0" + v)


if __name__ == "__main__":
    dns_seeds()
    ident_seeds()
