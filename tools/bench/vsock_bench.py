#!/usr/bin/env python3
"""Guest-to-host stream throughput and connect latency over our virtio-vsock (hybrid Unix socket, vmm-exec-agent in
a Debian guest under QEMU TCG), side by side with the same agent on a host Unix socket (the ceiling).

The client speaks MultiplexingStream protocol v1 itself (tools/guest-agents/vmm-exec-agent/protocol.h), so both
sides run the same agent and the same client and only the transport differs. Usage (vsock-bench.sh sets it up):
  vsock_bench.py --vsock-uds PATH --unix-agent PATH [--repeat N] [--mib M] [--connects C]
"""
import argparse, os, socket, statistics, struct, time

MAGIC = bytes([0x2F, 0xDF, 0x1D, 0x50])
OFFER, ACCEPTED, CONTENT, COMPLETED = 0, 1, 2, 3


def read_exactly(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection ended")
        data += chunk
    return bytes(data)


def frame(code, channel, payload=b""):
    return struct.pack(">BIH", code, channel, len(payload)) + payload


def open_vsock(uds, port=1024):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(uds)
    sock.sendall(b"CONNECT %d\n" % port)
    line = b""
    while not line.endswith(b"\n"):
        line += read_exactly(sock, 1)
    if not line.startswith(b"OK "):
        raise RuntimeError("vsock device answered %r" % line)
    return sock


def open_unix(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def run(sock, argv):
    """Runs argv through the agent; returns (stdout bytes, seconds from the request to the exit record)."""
    sock.sendall(MAGIC + os.urandom(16))
    if read_exactly(sock, 20)[:4] != MAGIC:
        raise RuntimeError("bad handshake")
    names = ["control", "stdin", "stdout", "stderr"]
    ids = {name: 2 * i + 1 for i, name in enumerate(names)}  # the numbering does not matter to the agent
    sock.sendall(b"".join(frame(OFFER, ids[n], n.encode()) for n in names))
    accepted = 0
    while accepted < 4:
        code, _, length = struct.unpack(">BIH", read_exactly(sock, 7))
        read_exactly(sock, length)
        accepted += code == ACCEPTED
    request = b"".join(b"arg=" + a.encode() + b"\0" for a in argv) + b"run\0"
    start = time.perf_counter()
    sock.sendall(frame(CONTENT, ids["control"], request) + frame(COMPLETED, ids["stdin"]))
    received, control = 0, b""
    while True:
        code, channel, length = struct.unpack(">BIH", read_exactly(sock, 7))
        payload = read_exactly(sock, length) if length else b""
        if code == CONTENT and channel == ids["stdout"]:
            received += length
        elif code == CONTENT and channel == ids["control"]:
            control += payload
            if b"exit=" in control or b"signal=" in control or b"error=" in control:
                if not control.endswith(b"\0"):
                    continue
                elapsed = time.perf_counter() - start
                sock.close()
                if b"exit=0\0" not in control:
                    raise RuntimeError("command failed: %r" % control)
                return received, elapsed


def throughput(opener, mib, repeat):
    rates = []
    for _ in range(repeat):
        got, seconds = run(opener(), ["head", "-c", str(mib << 20), "/dev/zero"])
        if got != mib << 20:
            raise RuntimeError("got %d bytes of %d" % (got, mib << 20))
        rates.append(got / seconds / (1 << 20))
    return rates


def connects(opener, count):
    times = []
    for _ in range(count):
        start = time.perf_counter()
        sock = opener()
        sock.sendall(MAGIC + os.urandom(16))
        read_exactly(sock, 20)  # the agent's handshake: a connection that reached it
        times.append((time.perf_counter() - start) * 1000)
        sock.close()
    return times


def summary(values, unit):
    q = statistics.quantiles(values, n=10) if len(values) > 2 else [min(values), max(values)]
    return "median %.2f %s (p10 %.2f, p90 %.2f, n=%d)" % (statistics.median(values), unit, q[0], q[-1], len(values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vsock-uds", required=True)
    parser.add_argument("--unix-agent", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--connects", type=int, default=50)
    args = parser.parse_args()
    paths = [("our vsock (QEMU TCG, vhost-user-vsock-pci)", lambda: open_vsock(args.vsock_uds)),
             ("host Unix socket (ceiling)", lambda: open_unix(args.unix_agent))]
    results = {}
    for name, opener in paths:
        results[name] = (throughput(opener, args.mib, args.repeat), connects(opener, args.connects))
    print("| path | guest-to-host stream (MiB/s, %d MiB of stdout) | connect + agent handshake (ms) |" % args.mib)
    print("| --- | --- | --- |")
    for name, (rates, times) in results.items():
        print("| %s | %s | %s |" % (name, summary(rates, "MiB/s"), summary(times, "ms")))
    ours, ceiling = (statistics.median(results[n][0]) for n, _ in paths)
    print("\nthroughput ratio ours/ceiling: %.3f" % (ours / ceiling))
    if not os.path.exists("/dev/vhost-vsock"):
        print("QEMU's built-in vhost-vsock-pci: skipped, this host has no /dev/vhost-vsock (the vhost_vsock module is not loaded)")


if __name__ == "__main__":
    main()
