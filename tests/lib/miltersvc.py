"""miltersvc - start and stop the built tlsverify-milter daemon for a test.

start(ctx, sections) writes the configuration (tvtest.write_conf keyword
sections; [milter] socket is set to inet:PORT@127.0.0.1 on a fresh port),
runs `tlsverify-milter -f -c CONF` with ctx.spawn (env: extra environment) (stderr log in
proc.log) and waits until the socket accepts. stop(proc) sends SIGTERM by
PID (libmilter notices it within its 5 s listener poll), checks the log for
sanitizer reports and that the exit status was 0. The same approach as
tests/integration/test_milter.py.
"""

import os

import tvtest


class Milter:
    def __init__(self, proc, conf, port):
        self.proc, self.conf, self.port = proc, conf, port
        self.postfix_spec = "inet:127.0.0.1:%d" % port
        self.libmilter_spec = "inet:%d@127.0.0.1" % port

    def log(self):
        with open(self.proc.log, errors="replace") as f:
            return f.read()

    def stop(self):
        stop(self.proc)


def start(ctx, name="milter.conf", env=None, **sections):
    port = ctx.port()
    milter = dict(sections.pop("milter", None) or {})
    milter["socket"] = "inet:%d@127.0.0.1" % port
    conf = tvtest.write_conf(ctx, name=name, milter=milter, **sections)
    proc = ctx.spawn([os.path.join(ctx.build, "tlsverify-milter"), "-f",
                      "-c", conf], env=env)
    ctx.cleanup(stop, proc)
    try:
        tvtest.wait_tcp("127.0.0.1", port, timeout=15)
    except AssertionError:
        raise AssertionError("milter did not listen (rc %r): %s" % (
            proc.poll(), open(proc.log, errors="replace").read()[-2000:]))
    return Milter(proc, conf, port)


def stop(proc):
    """SIGTERM by PID; a graceful stop exits 0. Idempotent."""
    rc = proc.poll()
    if rc is None:
        rc = tvtest.stop(proc, grace=15)
    if proc.log:
        tvtest.log_sanitizer_check(proc.log)
    assert rc == 0, "milter exit status %r after SIGTERM" % rc
