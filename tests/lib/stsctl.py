"""stsctl - run tests/lib/stsserver.py (an MTA-STS policy HTTPS server) for
a test: STSServer(ctx, ip, port, leaf, text, mode, name) serves text as
https://IP:PORT/.well-known/mta-sts.txt with leaf's chain and key, in one
of stsserver.py's modes; set_policy() changes the text, requests() lists
what it received, stop() stops it by PID (also a ctx cleanup).
"""
import os
import sys

import tvtest

STSSERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         "stsserver.py")


class STSServer:
    """stsserver.py with its own policy file and request log."""

    def __init__(self, ctx, ip, port, leaf, text, mode="ok", name="sts"):
        self.ctx, self.ip, self.port, self.leaf = ctx, ip, port, leaf
        self.mode, self.proc = mode, None
        self.policy = ctx.path("policy-%s.txt" % name)
        self.log = ctx.path("requests-%s.log" % name)
        self.set_policy(text or "")

    def set_policy(self, text):
        with open(self.policy, "w") as f:
            f.write(text)

    def start(self):
        self.proc = self.ctx.spawn([sys.executable, STSSERVER, self.ip,
                                    str(self.port), self.leaf.chain,
                                    self.leaf.key, self.policy, self.log,
                                    self.mode])
        self.ctx.cleanup(self.stop)
        tvtest.wait_tcp(self.ip, self.port)
        return self

    def stop(self):
        if self.proc is not None:
            tvtest.stop(self.proc)
            self.proc = None

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [ln.split() for ln in f if ln.strip()]
