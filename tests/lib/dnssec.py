"""A DNSSEC-signed test zone on loopback: NSD serves it, Unbound validates.

    z = dnssec.Zones(ctx, ["dane.test"], unsigned=["plain.test"])
    z.add("dane.test", "ee.dane.test. 300 IN MX 10 mx-ee.dane.test.")
    z.bogus("dane.test", "_2525._tcp.mx-bad.dane.test.", "TLSA",
            "3 1 1 " + "00" * 32)   # replaces the data after signing
    z.start()                         # sign, serve, validate
    z.nameserver                      # "127.0.0.1:PORT" of Unbound

Signed zones get an ECDSA P-256 KSK and ZSK (ldns-keygen) and are signed
with ldns-signzone; Unbound trusts their DS records (trust-anchor-file) and
nothing else, so "unsigned" zones are insecure (no AD), and a record
changed after signing is bogus (SERVFAIL). `local-zone: "test." nodefault`
lets Unbound ask for names under test.; do-not-query-localhost: no lets it
ask NSD on 127.0.0.1. Every process is started with tvtest.spawn and
stopped by its PID at the end of the context.
"""
import os
import subprocess
import time

import tvtest


def spki_sha256(cert_pem):
    """Hex SHA-256 of the certificate's SubjectPublicKeyInfo (TLSA x 1 1)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_pem, "-noout",
                          "-pubkey"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=pub, check=True, capture_output=True).stdout
    import hashlib
    return hashlib.sha256(der).hexdigest()


class Zones:
    def __init__(self, ctx, signed, unsigned=(), listen="127.0.0.1",
                 port=None, name="dnssec"):
        self.ctx = ctx
        self.dir = ctx.path(name)
        os.makedirs(self.dir, exist_ok=True)
        self.signed, self.unsigned = list(signed), list(unsigned)
        self.records = {z: [] for z in self.signed + self.unsigned}
        self.tamper = []
        self.listen = listen
        self.uport = port or ctx.port()
        self.nport = ctx.port()
        self.nsd = self.unbound = None

    @property
    def nameserver(self):
        return "%s:%d" % (self.listen, self.uport)

    def add(self, zone, rr):
        self.records[zone].append(rr)

    def bogus(self, zone, owner, rtype, newdata):
        """After signing, replace the data of owner's rtype record."""
        self.tamper.append((zone, owner, rtype, newdata))

    def _run(self, args):
        cp = subprocess.run(args, cwd=self.dir, capture_output=True, text=True)
        if cp.returncode != 0:
            raise tvtest.HarnessError("%s: %s" % (args[0], cp.stderr))
        return cp.stdout.strip()

    def _zonefile(self, zone):
        path = os.path.join(self.dir, zone + ".zone")
        with open(path, "w") as f:
            f.write("$ORIGIN %s.\n$TTL 300\n" % zone)
            f.write("@ IN SOA ns.%s. admin.%s. 1 3600 600 86400 300\n"
                    % (zone, zone))
            f.write("@ IN NS ns.%s.\nns IN A 127.0.0.1\n" % zone)
            for rr in self.records[zone]:
                f.write(rr + "\n")
        return path

    def _sign(self, zone):
        path = self._zonefile(zone)
        ksk = self._run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone])
        zsk = self._run(["ldns-keygen", "-a", "ECDSAP256SHA256", zone])
        self._run(["ldns-signzone", "-n", path, ksk, zsk])
        signed = path + ".signed"
        for (z, owner, rtype, newdata) in self.tamper:
            if z != zone:
                continue
            out, hit = [], 0
            with open(signed) as f:
                for line in f:
                    w = line.split()
                    if len(w) > 4 and w[0] == owner and w[3] == rtype:
                        line = "\t".join(w[:4]) + "\t" + newdata + "\n"
                        hit += 1
                    out.append(line)
            if not hit:
                raise tvtest.HarnessError("bogus: %s %s not in %s"
                                          % (owner, rtype, zone))
            with open(signed, "w") as f:
                f.writelines(out)
        with open(os.path.join(self.dir, ksk + ".ds")) as f:
            ds = f.read()
        return os.path.basename(signed), ds

    def _nsd_conf(self, files):
        d = self.dir
        lines = ["server:", "  ip-address: 127.0.0.1@%d" % self.nport,
                 "  port: %d" % self.nport, '  username: ""', '  chroot: ""',
                 "  zonesdir: %s" % d, "  pidfile: %s/nsd.pid" % d,
                 '  database: ""', "  zonelistfile: %s/zone.list" % d,
                 "  xfrdfile: %s/xfrd.state" % d, "  xfrdir: %s" % d,
                 "  logfile: %s/nsd.log" % d, "  server-count: 1",
                 "  verbosity: 2", "  do-ip6: no",
                 "remote-control:", "  control-enable: no"]
        for zone, fname in files:
            lines += ["zone:", "  name: %s" % zone, "  zonefile: %s" % fname]
        path = os.path.join(d, "nsd.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def _unbound_conf(self, ta):
        d = self.dir
        lines = ["server:", "  interface: %s@%d" % (self.listen, self.uport),
                 "  port: %d" % self.uport, '  username: ""',
                 '  chroot: ""', "  directory: %s" % d,
                 "  pidfile: %s/unbound.pid" % d, "  use-syslog: no",
                 "  logfile: %s/unbound.log" % d, "  verbosity: 1",
                 "  val-log-level: 2", "  do-ip6: no",
                 "  do-not-query-localhost: no",
                 "  access-control: 127.0.0.0/8 allow",
                 '  local-zone: "test." nodefault',
                 "  trust-anchor-file: %s" % ta,
                 '  module-config: "validator iterator"',
                 "  qname-minimisation: no", "  cache-max-ttl: 0",
                 "  cache-max-negative-ttl: 0",
                 "remote-control:", "  control-enable: no"]
        for zone in self.signed + self.unsigned:
            lines += ["stub-zone:", '  name: "%s"' % zone,
                      "  stub-addr: 127.0.0.1@%d" % self.nport]
        path = os.path.join(d, "unbound.conf")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def start(self):
        files, anchors = [], []
        for zone in self.signed:
            fname, ds = self._sign(zone)
            files.append((zone, fname))
            anchors.append(ds)
        for zone in self.unsigned:
            files.append((zone, os.path.basename(self._zonefile(zone))))
        ta = os.path.join(self.dir, "trust-anchors")
        with open(ta, "w") as f:
            f.write("".join(anchors))
        self.nsd = tvtest.spawn(self.ctx, ["nsd", "-d", "-c",
                                           self._nsd_conf(files)],
                                stdout=os.path.join(self.dir, "nsd.out"))
        self.ctx.cleanup(self.stop)
        zone0 = (self.signed + self.unsigned)[0]
        tvtest.wait_for(lambda: self._answers(self.nport, zone0), 10,
                        what="nsd answering")
        self.unbound = tvtest.spawn(
            self.ctx, ["unbound", "-d", "-c", self._unbound_conf(ta)],
            stdout=os.path.join(self.dir, "unbound.out"))
        tvtest.wait_for(lambda: self._answers(self.uport, zone0,
                                              self.listen), 10,
                        what="unbound answering")
        return self

    def _answers(self, port, zone, ip="127.0.0.1"):
        try:
            r = tvtest.dns_query(port, zone, "SOA", server=ip)
        except Exception:   # noqa: BLE001 - not up yet
            return False
        return r.get("rcode") == "NOERROR"

    def stop(self):
        for p in (self.unbound, self.nsd):
            if p is not None:
                tvtest.stop(p)
        self.unbound = self.nsd = None
