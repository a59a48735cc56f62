"""certs - test certificates made with the openssl CLI (EC P-256 keys).

CA(ctx, cn, parent=None)   a root (or, with parent, an intermediate) CA run
                           with `openssl ca` in its own dir under ctx.tmp.
CA.issue(...) -> Leaf      a server certificate (serverAuth, digitalSignature)
CA.intermediate(cn) -> CA  a sub-CA signed by this one
CA.revoke(leaf), CA.crl(), CA.crl_der()
self_signed(ctx, cn, sans) -> Leaf   a self-signed server certificate
A subject with non-ASCII characters (a CN in U-labels) is given to
`openssl req -utf8` and so encoded as a UTF8String.
ca_bundle(ctx, *cas) -> path         several CA certificates in one file

Validity is given in days relative to now (may be negative or fractional):
not_before_days=-1, not_after_days=365 by default; an expired certificate
is not_after_days < 0, a not-yet-valid one not_before_days > 0.
"""

import datetime
import os
import random
import re
import subprocess

_OPENSSL = "openssl"
_n = [0]


def _uniq():
    _n[0] += 1
    return _n[0]


def _slug(s):
    s = re.sub(r"[^A-Za-z0-9.-]+", "_", s or "").strip("_.")
    return s[:40] or "x"


def _date(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y%m%d%H%M%SZ")


def _dates(nb, na):
    if na <= nb:
        nb = na - 1
    return _date(nb), _date(na)


def _ossl(args, cwd=None, input=None):
    cp = subprocess.run([_OPENSSL] + [str(a) for a in args], cwd=cwd,
                        capture_output=True, text=True, input=input)
    if cp.returncode != 0:
        raise RuntimeError("openssl %s failed (%d): %s%s"
                           % (" ".join(str(a) for a in args[:3]), cp.returncode,
                              cp.stdout[-1000:], cp.stderr[-2000:]))
    return cp.stdout


def _genkey(path):
    _ossl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-out", path])
    os.chmod(path, 0o600)


def _subject(cn, subject):
    if subject is not None:
        return subject
    if cn is None:
        return "/"
    if isinstance(cn, (list, tuple)):
        return "".join("/CN=" + _esc(c) for c in cn)
    return "/CN=" + _esc(cn)


def _esc(v):
    return v.replace("\\", "\\\\").replace("/", "\\/")


def _san_value(sans, critical):
    items = []
    for s in sans:
        if re.match(r"^(DNS|IP|email|URI|RID|dirName|otherName):", s):
            items.append(s)
        else:
            items.append("DNS:" + s)
    return ("critical, " if critical else "") + ", ".join(items)


_CA_CONF = """\
[ca]
default_ca = tv
[tv]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
crlnumber = {dir}/crlnumber
default_md = sha256
policy = pol
email_in_dn = no
copy_extensions = none
unique_subject = no
preserve = yes
default_crl_days = 30
crl_extensions = crl_ext
[pol]
commonName = optional
[crl_ext]
authorityKeyIdentifier = keyid:always
[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


class Leaf:
    """A certificate and its key. .cert: the certificate only; .key;
    .chain: certificate + intermediates (what a server sends); .serial:
    hex string as `openssl x509 -serial` prints it; .cn, .sans, .ca."""

    def __init__(self, cert, key, chain, serial, cn, sans, ca):
        self.cert, self.key, self.chain = cert, key, chain
        self.serial, self.cn, self.sans, self.ca = serial, cn, tuple(sans), ca

    def __repr__(self):
        return "Leaf(cn=%r, sans=%r, serial=%s)" % (self.cn, self.sans, self.serial)


class CA:
    """A certificate authority. .cert (PEM path), .key, .dir, .cn, .parent.
    A root is self-signed; with parent=CA it is an intermediate signed by
    parent. Its certificate has basicConstraints CA:TRUE (critical) and
    keyUsage keyCertSign, cRLSign."""

    def __init__(self, ctx, cn="tlsverify Test CA", parent=None,
                 not_before_days=-2, not_after_days=3650):
        self.ctx, self.cn, self.parent = ctx, cn, parent
        self.dir = ctx.path("ca-%s-%d" % (_slug(cn), _uniq()))
        os.makedirs(os.path.join(self.dir, "newcerts"))
        with open(os.path.join(self.dir, "index.txt"), "w"):
            pass
        with open(os.path.join(self.dir, "index.txt.attr"), "w") as f:
            f.write("unique_subject = no\n")
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("%X\n" % random.randrange(0x100000, 0xFFFFFF))
        with open(os.path.join(self.dir, "crlnumber"), "w") as f:
            f.write("1000\n")
        self.conf = os.path.join(self.dir, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write(_CA_CONF.format(dir=self.dir))
        self.key = os.path.join(self.dir, "ca.key")
        self.cert = os.path.join(self.dir, "ca.pem")
        _genkey(self.key)
        csr = os.path.join(self.dir, "ca.csr")
        _ossl(["req", "-new", "-key", self.key, "-subj", _subject(cn, None),
               "-config", self.conf, "-out", csr])
        start, end = _dates(not_before_days, not_after_days)
        signer = parent if parent is not None else self
        args = ["ca", "-batch", "-config", signer.conf, "-in", csr,
                "-out", self.cert, "-startdate", start, "-enddate", end,
                "-extensions", "v3_ca", "-notext", "-preserveDN"]
        if parent is None:
            args += ["-selfsign", "-keyfile", self.key]
        else:
            args += ["-cert", parent.cert, "-keyfile", parent.key]
        _ossl(args)
        self.serial = _serial(self.cert)
        self._ncrl = 0

    def __repr__(self):
        return "CA(%r)" % self.cn

    def ancestors(self):
        """[self, parent, ..., root]"""
        out, c = [], self
        while c is not None:
            out.append(c)
            c = c.parent
        return out

    def intermediate(self, cn, **kw):
        return CA(self.ctx, cn, parent=self, **kw)

    def issue(self, cn=None, sans=(), not_before_days=-1, not_after_days=365,
              name=None, subject=None, eku="serverAuth", crl_url=None,
              ocsp_url=None, extra_ext=(), san_critical=None):
        """Issue a server certificate. cn=None: empty subject (then sans
        must be given; the SAN is marked critical). cn may be a list for
        several CNs; subject ("/O=x/CN=y") overrides cn. sans: DNS names
        or "IP:1.2.3.4" (or any "TYPE:value" openssl accepts)."""
        sans = list(sans)
        if cn is None and subject is None and not sans:
            raise ValueError("issue(): a certificate without subject needs SANs")
        base = _slug(name or (cn if isinstance(cn, str) else None) or
                     (sans[0] if sans else None) or "leaf")
        base = "%s-%d" % (base, _uniq())
        d = os.path.dirname(self.dir)
        key = os.path.join(d, base + ".key")
        cert = os.path.join(d, base + ".pem")
        chain = os.path.join(d, base + ".chain.pem")
        csr = os.path.join(self.dir, base + ".csr")
        ext = os.path.join(self.dir, base + ".ext")
        _genkey(key)
        subj = _subject(cn, subject)
        utf8 = ["-utf8"] if any(ord(c) > 127 for c in subj) else []
        _ossl(["req", "-new", "-key", key, "-subj", subj, "-config", self.conf,
               "-out", csr] + utf8)
        lines = ["[ext]", "basicConstraints = critical, CA:FALSE",
                 "keyUsage = critical, digitalSignature",
                 "subjectKeyIdentifier = hash",
                 "authorityKeyIdentifier = keyid:always"]
        if eku:
            lines.append("extendedKeyUsage = " + eku)
        if sans:
            crit = san_critical if san_critical is not None else subj == "/"
            lines.append("subjectAltName = " + _san_value(sans, crit))
        if crl_url:
            lines.append("crlDistributionPoints = URI:" + crl_url)
        if ocsp_url:
            lines.append("authorityInfoAccess = OCSP;URI:" + ocsp_url)
        lines += list(extra_ext)
        with open(ext, "w") as f:
            f.write("\n".join(lines) + "\n")
        start, end = _dates(not_before_days, not_after_days)
        _ossl(["ca", "-batch", "-config", self.conf, "-cert", self.cert,
               "-keyfile", self.key, "-in", csr, "-out", cert,
               "-startdate", start, "-enddate", end, "-extfile", ext,
               "-extensions", "ext", "-notext", "-preserveDN"])
        with open(chain, "w") as out:
            for p in [cert] + [c.cert for c in self.ancestors() if c.parent is not None]:
                with open(p) as f:
                    out.write(f.read())
        return Leaf(cert, key, chain, _serial(cert), cn, sans, self)

    def revoke(self, leaf, reason="keyCompromise"):
        """Revoke a certificate this CA issued (a Leaf or a sub-CA)."""
        _ossl(["ca", "-batch", "-config", self.conf, "-cert", self.cert,
               "-keyfile", self.key, "-revoke", leaf.cert, "-crl_reason", reason])

    def crl(self, next_update_days=30, name=None):
        """A fresh PEM CRL (path) listing everything revoked so far."""
        self._ncrl += 1
        path = os.path.join(self.dir, name or "crl-%d.pem" % self._ncrl)
        hours = max(1, int(round(next_update_days * 24)))
        _ossl(["ca", "-batch", "-config", self.conf, "-cert", self.cert,
               "-keyfile", self.key, "-gencrl", "-crlhours", hours, "-out", path])
        return path

    def crl_der(self, next_update_days=30, name=None):
        pem = self.crl(next_update_days)
        der = os.path.join(self.dir, name or pem[:-4] + ".der")
        _ossl(["crl", "-in", pem, "-outform", "DER", "-out", der])
        return der


def _serial(cert):
    out = _ossl(["x509", "-in", cert, "-noout", "-serial"])
    return out.strip().split("=", 1)[1]


def self_signed(ctx, cn=None, sans=(), not_before_days=-1, not_after_days=365,
                name=None):
    """A self-signed server certificate (not a CA): a Leaf whose .chain is
    the certificate alone and .ca is None."""
    sans = list(sans)
    base = "%s-selfsigned-%d" % (_slug(name or cn or (sans[0] if sans else "x")), _uniq())
    key = ctx.path(base + ".key")
    cert = ctx.path(base + ".pem")
    cfg = ctx.path(base + ".cnf")
    _genkey(key)
    lines = ["[req]", "distinguished_name = dn", "prompt = no", "[dn]", "[ext]",
             "basicConstraints = critical, CA:FALSE",
             "keyUsage = critical, digitalSignature",
             "extendedKeyUsage = serverAuth", "subjectKeyIdentifier = hash"]
    if sans:
        lines.append("subjectAltName = " + _san_value(sans, cn is None))
    with open(cfg, "w") as f:
        f.write("\n".join(lines) + "\n")
    days = max(1, int(not_after_days))
    _ossl(["req", "-x509", "-new", "-key", key, "-subj", _subject(cn, None),
           "-config", cfg, "-extensions", "ext", "-days", days, "-out", cert])
    return Leaf(cert, key, cert, _serial(cert), cn, sans, None)


def ca_bundle(ctx, *cas, name=None):
    """Concatenate the certificates of several CAs (CA objects or PEM
    paths) into one file in ctx.tmp; returns its path."""
    path = ctx.path(name or "ca-bundle-%d.pem" % _uniq())
    with open(path, "w") as out:
        for c in cas:
            p = c if isinstance(c, str) else c.cert
            with open(p) as f:
                data = f.read()
            out.write(data if data.endswith("\n") else data + "\n")
    return path
