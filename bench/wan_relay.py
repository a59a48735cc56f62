#!/usr/bin/env python3
"""wan_relay.py - an emulated WAN on loopback for bench/wan.py (issue 14).

This kernel has no netem, so the latency is added in user space:

  --tcp LIP:LPORT=TIP:TPORT   a TCP relay. A connection accepted on LIP:LPORT
                              is connected on to TIP:TPORT one RTT later (the
                              TCP handshake of a real path); then every chunk
                              read on either side is written to the other
                              side RTT/2 after it was read, in order (an EOF
                              too), so a command and its reply cost one RTT.
  --dns LPORT=TPORT           a UDP DNS forwarder on 127.0.0.1:LPORT: each
                              query goes to 127.0.0.1:TPORT (dnsmasq) after
                              DNS_RTT/2, its answer back after DNS_RTT/2.
                              (No TCP: the bench's answers fit in UDP.)
  --rtt MS / --dns-rtt MS     the two round-trip times (default 50 / 20).
  --ready FILE                written (our PID) once every socket listens.

Only loopback addresses are accepted. Stops on SIGTERM/SIGINT.
"""
import argparse
import asyncio
import ipaddress
import os
import signal
import socket
import sys


def endpoint(text):
    ip, port = text.rsplit(":", 1)
    if not ipaddress.ip_address(ip).is_loopback:
        raise SystemExit("wan_relay: only loopback, not %s" % ip)
    return ip, int(port)


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def pipe(reader, writer, delay):
    """Copy reader to writer, each chunk delay seconds after it was read."""
    loop = asyncio.get_running_loop()
    q = asyncio.Queue()

    async def sender():
        while True:
            due, data = await q.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()
    task = asyncio.ensure_future(sender())
    try:
        while True:
            data = await reader.read(65536)
            q.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await task
    except (ConnectionError, OSError):
        task.cancel()


async def relay_conn(creader, cwriter, target, rtt):
    nodelay(cwriter)
    try:
        await asyncio.sleep(rtt)        # the TCP handshake of the path
        sreader, swriter = await asyncio.open_connection(*target)
    except OSError:
        cwriter.close()
        return
    nodelay(swriter)
    try:
        await asyncio.gather(pipe(creader, swriter, rtt / 2),
                             pipe(sreader, cwriter, rtt / 2))
    finally:
        for w in (cwriter, swriter):
            w.close()


class DNSFwd(asyncio.DatagramProtocol):
    def __init__(self, upstream, rtt):
        self.upstream, self.rtt = upstream, rtt

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        asyncio.ensure_future(self.forward(data, addr))

    async def forward(self, data, addr):
        loop = asyncio.get_running_loop()
        await asyncio.sleep(self.rtt / 2)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            s.connect(self.upstream)
            await loop.sock_sendall(s, data)
            ans = await asyncio.wait_for(loop.sock_recv(s, 65535), 5)
        except (OSError, asyncio.TimeoutError):
            return
        finally:
            s.close()
        await asyncio.sleep(self.rtt / 2)
        self.transport.sendto(ans, addr)


async def main(a):
    loop = asyncio.get_running_loop()
    rtt, drtt = a.rtt / 1000.0, a.dns_rtt / 1000.0
    servers = []
    for spec in a.tcp:
        lhs, rhs = spec.split("=", 1)
        lip, lport = endpoint(lhs)
        target = endpoint(rhs)
        servers.append(await asyncio.start_server(
            lambda r, w, t=target: relay_conn(r, w, t, rtt),
            lip, lport, reuse_address=True, backlog=256))
    for spec in a.dns:
        lport, tport = (int(x) for x in spec.split("=", 1))
        await loop.create_datagram_endpoint(
            lambda t=tport: DNSFwd(("127.0.0.1", t), drtt),
            local_addr=("127.0.0.1", lport))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if a.ready:
        tmp = a.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, a.ready)
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", action="append", default=[])
    ap.add_argument("--dns", action="append", default=[])
    ap.add_argument("--rtt", type=float, default=50)
    ap.add_argument("--dns-rtt", type=float, default=20)
    ap.add_argument("--ready")
    asyncio.run(main(ap.parse_args()))
    sys.exit(0)
