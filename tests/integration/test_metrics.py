"""Metrics (SPEC 13): [metrics] listen serves the Prometheus text format
0.0.4 at /metrics. A known sequence of recipients through the milter and
of lookups through the policy service, then /metrics parsed by the
prometheus_client text parser (Debian python3-prometheus-client): every
counter equals what the sequence sent, no more series than that. Other
paths 404, other methods 405, HEAD without a body; a client that sends one
byte a second, one that sends garbage and one that sends nothing never
delay a concurrent scrape; a port in use stops the start-up.

Test world: the seed's worked example (SPEC 6) on 127.0.41.2/3
  example.com  required-verify          verified, accepted
  example.net  required-verify-hosted   unverified, deferred 450 4.7.5
  null.test    required                 null MX, rejected 556 5.1.10
  pref.test    preferred, req.test required (policy: no decision), default
  none.
"""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import tvtest  # noqa: E402
import probecase  # noqa: E402
import miltersvc  # noqa: E402
from milterclient import MilterClient  # noqa: E402
from sockmapclient import SockmapClient  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:     # a python3 other than Debian's: its package's place
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

IP1, IP2 = "127.0.41.2", "127.0.41.3"
SMTP = {"{rcpt_mailer}": "smtp"}
W = {}

# (recipient domain, milter reply kind, reply text prefix, the verdict
# counted as (setting, result, action), or None when not judged)
VERIFIED = ("required-verify", "verified", "accept")
UNVERIFIED = ("required-verify-hosted", "unverified", "defer")
NULLMX = ("required", "null-mx", "reject")
MESSAGES = [
    [("example.com", "continue", "", VERIFIED),
     ("example.com", "continue", "", VERIFIED),
     ("example.net", "replycode", "450 4.7.5 ", UNVERIFIED),
     ("null.test", "replycode", "556 5.1.10 ", NULLMX),
     ("pref.test", "continue", "", None),
     ("other.test", "continue", "", None)],
    [("example.net", "replycode", "450 4.7.5 ", UNVERIFIED),
     ("example.com", "continue", "", VERIFIED)],
]
# (request, reply prefix, (map, answer), the verdict counted or None)
LOOKUPS = [
    ("tlspolicy none.test", "OK none", ("tlspolicy", "none"), None),
    ("tlspolicy pref.test", "OK may", ("tlspolicy", "may"), None),
    ("tlspolicy req.test", "OK encrypt", ("tlspolicy", "encrypt"), None),
    ("tlspolicy example.com", "OK secure match=", ("tlspolicy", "secure"),
     VERIFIED),
    ("tlspolicy example.net", "TEMP example.net: ", ("tlspolicy", "temp"),
     UNVERIFIED),
    ("tlspolicy .example.com", "NOTFOUND", ("tlspolicy", "notfound"), None),
    ("transport example.com", "NOTFOUND", ("transport", "notfound"), None),
    ("bogus example.com", "PERM unknown map", ("other", "perm"), None),
]


def setup_module(mctx):
    ca = tvtest.CA(mctx, cn="tlsverify test CA metrics")
    leaf = ca.issue("*.emailhosted.not",
                    sans=["*.emailhosted.not", "emailhosted.not"])
    dns = probecase.seed_dns(tvtest.DNS(mctx), ("example.com", "example.net"),
                             IP1, IP2)
    dns.nullmx("null.test")
    dns.start()
    port = mctx.port()
    for ip in (IP1, IP2):
        tvtest.SMTPServer(mctx, ip, port, leaf=leaf).start()
    ppol, pmet = mctx.port(), mctx.port()
    m = miltersvc.start(
        mctx, probe={"port": port, "ca_file": ca.cert, "timeout": 10},
        dns={"nameserver": dns.nameserver, "timeout": 2},
        destinations={"default": "none", "pref.test": "preferred",
                      "req.test": "required",
                      "example.com": "required-verify",
                      "example.net": "required-verify-hosted",
                      "null.test": "required"},
        extra={"policy": {"socket": "inet:%d@127.0.0.1" % ppol},
               "metrics": {"listen": "127.0.0.1:%d" % pmet}})
    tvtest.wait_tcp("127.0.0.1", ppol, timeout=15)
    tvtest.wait_tcp("127.0.0.1", pmet, timeout=15)
    W.update(m=m, ppol=ppol, pmet=pmet)


def http(raw, port=None, timeout=10):
    """Send raw bytes, read to EOF: (status line, {header: value}, body)."""
    s = socket.create_connection(("127.0.0.1", port or W["pmet"]),
                                 timeout=timeout)
    try:
        s.sendall(raw)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdrs = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], hdrs, body


def scrape():
    status, hdrs, body = http(b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                              b"Accept: text/plain\r\n\r\n")
    assert status == "HTTP/1.1 200 OK", status
    assert hdrs["Content-Type"] == \
        "text/plain; version=0.0.4; charset=utf-8", hdrs
    assert int(hdrs["Content-Length"]) == len(body), (hdrs, len(body))
    return body.decode()


def samples(text):
    """{(sample name, sorted label items): value} and {family: type}."""
    out, types = {}, {}
    for fam in text_string_to_metric_families(text):
        types[fam.name] = fam.type
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out, types


def series(smp, name):
    return {k[1]: v for k, v in smp.items() if k[0] == name}


def send_messages():
    verdicts, hits = {}, 0
    for rcpts in MESSAGES:
        c = MilterClient("127.0.0.1", W["m"].port, timeout=60)
        try:
            c.negotiate()
            c.mail("<sender@relay.test>")
            for i, (dom, kind, text, v) in enumerate(rcpts):
                got = c.rcpt("<u%d@%s>" % (i, dom), macros=SMTP)
                assert got[0] == kind and got[1].startswith(text), \
                    (dom, got)
                if v is not None:
                    verdicts[v] = verdicts.get(v, 0) + 1
            c.eom()
            c.quit()
        finally:
            c.close()
    return verdicts


def test_counters_equal_what_was_sent(ctx):
    verdicts = send_messages()
    policy = {}
    c = SockmapClient(W["ppol"])
    try:
        for req, want, key, v in LOOKUPS:
            ans = c.query(req)
            assert ans.startswith(want), (req, ans)
            policy[key] = policy.get(key, 0) + 1
            if v is not None:
                verdicts[v] = verdicts.get(v, 0) + 1
    finally:
        c.close()
    smp, types = samples(scrape())
    # verdicts: exactly the judged ones, by setting, result and action
    got = series(smp, "tlsverify_verdicts_total")
    want = {(("action", a), ("result", r), ("setting", s)): float(n)
            for (s, r, a), n in verdicts.items()}
    assert got == want, (got, want)
    # cache: each judged domain missed once (its probe), then hits
    judged = sum(verdicts.values())
    cold = len(set(verdicts))
    got = series(smp, "tlsverify_cache_lookups_total")
    assert got == {(("result", "hit"),): float(judged - cold),
                   (("result", "miss"),): float(cold)}, got
    assert smp[("tlsverify_cache_entries", ())] == cold
    # one network probe per cold domain, none running now
    assert smp[("tlsverify_probe_duration_seconds_count", ())] == cold
    assert smp[("tlsverify_probe_duration_seconds_bucket",
                (("le", "+Inf"),))] == cold
    assert 0 < smp[("tlsverify_probe_duration_seconds_sum", ())] < 60
    assert smp[("tlsverify_probes_in_flight", ())] == 0
    got = series(smp, "tlsverify_policy_lookups_total")
    want = {(("answer", a), ("map", m)): float(n)
            for (m, a), n in policy.items()}
    assert got == want, (got, want)
    assert series(smp, "tlsverify_query_lookups_total") == {}
    ver = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-V"],
                  expect_rc=0).stdout.split()[-1]
    assert series(smp, "tlsverify_build_info") == \
        {(("version", ver),): 1.0}
    assert types["tlsverify_verdicts"] == "counter" and \
        types["tlsverify_probe_duration_seconds"] == "histogram" and \
        types["tlsverify_cache_entries"] == "gauge" and \
        types["tlsverify_probes_in_flight"] == "gauge", types
    assert "tlsverify_redis_up" not in types, "no Redis configured"


def test_other_paths_methods_and_head(ctx):
    for path in (b"/", b"/metric", b"/metrics/", b"/index.html"):
        status, hdrs, body = http(b"GET " + path + b" HTTP/1.1\r\n\r\n")
        assert status == "HTTP/1.1 404 Not Found", (path, status)
    status, hdrs, _ = http(b"POST /metrics HTTP/1.1\r\nContent-Length: 2"
                           b"\r\n\r\nab")
    assert status == "HTTP/1.1 405 Method Not Allowed" and \
        hdrs["Allow"] == "GET, HEAD", (status, hdrs)
    status, hdrs, body = http(b"HEAD /metrics HTTP/1.0\r\n\r\n")
    assert status == "HTTP/1.1 200 OK" and body == b"", (status, body)
    assert int(hdrs["Content-Length"]) == len(scrape().encode()), hdrs
    status, _, _ = http(b"GET /metrics HTTP/9.9\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request", status


def timed_scrape():
    t0 = time.monotonic()
    text = scrape()
    samples(text)
    return time.monotonic() - t0


def test_slow_and_garbage_clients_do_not_delay_a_scrape(ctx):
    result = {}

    def slow():     # one byte a second: never a whole head within 5 s
        s = socket.create_connection(("127.0.0.1", W["pmet"]), timeout=30)
        t0 = time.monotonic()
        data = b""
        try:
            for ch in b"GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n":
                s.sendall(bytes([ch]))
                time.sleep(1)
                s.setblocking(False)
                try:
                    data += s.recv(4096)
                except BlockingIOError:
                    pass
                s.setblocking(True)
                if data:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.settimeout(10)
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        s.close()
        result["slow"] = (data, time.monotonic() - t0)

    th = threading.Thread(target=slow)
    th.start()
    idle = socket.create_connection(("127.0.0.1", W["pmet"]))    # silent
    status, _, body = http(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" +
                           os.urandom(64))
    assert status == "HTTP/1.1 400 Bad Request", status
    status, _, body = http(b"GET /" + b"A" * 20000 + b" HTTP/1.1\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request" and b"too long" in body, \
        (status, body)
    times = []
    for _ in range(6):      # while the slow client dribbles
        times.append(timed_scrape())
        time.sleep(0.5)
    th.join(60)
    idle.close()
    assert max(times) < 1.0, times
    data, took = result["slow"]
    assert data.startswith(b"HTTP/1.1 400 Bad Request") and \
        b"request timeout" in data, data
    assert 4 <= took <= 9, took


def test_listen_port_in_use_stops_start(ctx):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        conf = tvtest.write_conf(
            ctx, milter={"socket": "inet:%d@127.0.0.1" % ctx.port()},
            destinations={"default": "none"},
            extra={"metrics": {"listen": "127.0.0.1:%d" %
                               busy.getsockname()[1]}})
        cp = ctx.run([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf], timeout=30)
    finally:
        busy.close()
    assert cp.returncode == 71, (cp.returncode, cp.stderr)
    assert "cannot open metrics listener" in cp.stderr, cp.stderr


def test_grafana_dashboard_uses_exposed_metrics(ctx):
    """Every series a query of docs/grafana-tlsverify.json names is one
    /metrics serves or declares (tlsverify_redis_up only with a Redis backend: its
    HELP line is in the source, checked here), and every metric family is
    shown somewhere."""
    import json
    import re
    with open(os.path.join(ctx.root, "docs/grafana-tlsverify.json")) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs.append(json.dumps(dash["templating"]))
    used = set(re.findall(r"tlsverify_[a-z_]+", " ".join(exprs)))
    text = scrape()
    smp, types = samples(text)
    served = {k[0] for k in smp}
    served |= set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    with open(os.path.join(ctx.root, "milter/metrics.c")) as f:
        assert '"tlsverify_redis_up", "gauge"' in f.read()
    served.add("tlsverify_redis_up")
    assert used <= served, used - served
    fams = set(types) | {"tlsverify_redis_up"}
    shown = {n for n in fams if any(u.startswith(n) for u in used)}
    assert shown == fams, fams - shown
