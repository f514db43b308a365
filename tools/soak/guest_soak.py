#!/usr/bin/env python3
"""A Debian guest under QEMU kept busy for MINUTES: virtio-fs (files written, checksummed, created and removed on the
share), virtio-gpu (the guest fills /dev/fb0; a real VNC client takes every update), virtio-input (keys typed
through the VNC client, tablet moves through the control socket) and a screenshot a minute (a display sink made
and removed while the VM runs). vmm's and QEMU's RSS, fds and threads are sampled every 30 s; at the end the
memory growth and its slope are printed. Usage: guest_soak.py VMM VNC_TYPE MINUTES (run by guest-soak.sh)."""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

GUEST_SCRIPT = r"""
set -u
i=0
for e in /dev/input/event*; do cat "$e" > /dev/null & done
mkdir -p /mnt/share/work
[ -e /dev/fb0 ] || { echo "soak: no /dev/fb0"; exit 3; }
while [ ! -e /mnt/share/stop ]; do
    i=$((i + 1))
    dd if=/dev/urandom of=/mnt/share/work/data bs=64k count=16 2>/dev/null
    sum=$(md5sum < /mnt/share/work/data)
    [ "$sum" = "$(md5sum < /mnt/share/work/data)" ] || { echo "soak: checksum changed at $i"; exit 4; }
    for n in 1 2 3 4 5 6 7 8; do echo "$n" > /mnt/share/work/m$n; mkdir /mnt/share/work/d$n; done
    rm -f /mnt/share/work/m*; rmdir /mnt/share/work/d*
    dd if=/dev/urandom of=/dev/fb0 bs=64k count=8 2>/dev/null
    [ $((i % 100)) -eq 0 ] && echo "soak: iteration $i"
done
echo "soak: done after $i iterations"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Control:
    """One request a connection on the VM's control socket (JSON lines, docs/cli.md)."""

    def __init__(self, path):
        self.path = path
        self.next_id = 0

    def send(self, command, args=None):
        self.next_id += 1
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(self.path)
            s.sendall((json.dumps({"v": 1, "id": self.next_id, "command": command, "args": args or {}}) + "\n").encode())
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        return json.loads(reply)


def proc_sample(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), len(os.listdir(f"/proc/{pid}/task"))


def child_named(pid, name):
    out = subprocess.run(["pgrep", "-P", str(pid), name], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else None


def slope_per_hour(points):
    """Least-squares slope of (seconds, KiB) in MiB per hour."""
    if len(points) < 2:
        return 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den * 3600 / 1024


def main():
    vmm, vnc_type, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3])
    work = tempfile.mkdtemp(prefix="vmm-guest-soak-")
    share = os.path.join(work, "share")
    os.mkdir(share)
    with open(os.path.join(share, "soak.sh"), "w") as f:
        f.write(GUEST_SCRIPT)
    port = free_port()
    control_path = os.path.join(work, "control.sock")
    config = {
        "machine": {"memory": "512M", "vcpus": 1, "cmdline": "console=ttyS0 quiet vmm.share=share vmm.script=soak.sh"},
        "platform": "qemu",
        "control": {"socket": control_path},
        "devices": [
            {"id": "fs0", "plugin": "virtio-fs", "type": "virtio-fs", "options": {"sharedDir": share, "tag": "share"}},
            {"id": "gpu0", "plugin": "virtio-gpu", "type": "virtio-gpu", "options": {"scanouts": [{"width": 800, "height": 600}]}},
            {"id": "kbd0", "plugin": "virtio-input", "type": "virtio-input", "options": {"kind": "keyboard"}},
            {"id": "tablet0", "plugin": "virtio-input", "type": "virtio-input", "options": {"kind": "tablet"}},
            {"id": "vnc0", "plugin": "display", "type": "display-vnc", "options": {"listen": "127.0.0.1", "port": port}},
        ],
        "display": {"source": "gpu0", "sinks": ["vnc0"]},
    }
    config_path = os.path.join(work, "soak.json")
    with open(config_path, "w") as f:
        json.dump(config, f)

    log = open(os.path.join(work, "vmm.log"), "w")
    start = time.monotonic()
    vm = subprocess.Popen([vmm, "run", "--config", config_path], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    control = Control(control_path)
    while True:
        if vm.poll() is not None:
            sys.exit(f"guest-soak: vmm ended early ({vm.returncode}); log: {log.name}")
        try:
            if control.send("status")["result"]["state"] == "running":
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(1)
    print(f"guest-soak: VM running after {time.monotonic() - start:.1f} s; work folder {work}", flush=True)
    time.sleep(20)  # the guest boots and loads its modules; the VNC client's first update comes from the fbcon
    vnc = subprocess.Popen([vnc_type, "127.0.0.1", str(port)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)

    qemu = child_named(vm.pid, "qemu-system")
    samples = []  # (seconds, vmm KiB, vmm fds, vmm threads, qemu KiB)
    deadline = time.monotonic() + minutes * 60
    next_sample = next_shot = time.monotonic()
    typed = moves = shots = 0
    failures = []
    print(" minute  vmm rss MiB  fds threads  qemu rss MiB", flush=True)
    while time.monotonic() < deadline and vm.poll() is None and vnc.poll() is None:
        now = time.monotonic()
        vnc.stdin.write("type soak\n")
        vnc.stdin.flush()
        typed += 1
        x, y = (moves * 997) % 32768, (moves * 577) % 32768
        control.send("input", {"kind": "tablet", "events": [
            {"type": "abs", "code": 0, "value": x}, {"type": "abs", "code": 1, "value": y}]})
        moves += 1
        if now >= next_shot:
            shot = os.path.join(work, "shot.png")
            reply = control.send("screenshot", {"path": shot})
            if reply.get("ok"):
                shots += 1
                os.unlink(shot)
            next_shot = now + 60
        if now >= next_sample:
            rss, fds, threads = proc_sample(vm.pid)
            qrss = proc_sample(qemu)[0] if qemu else 0
            samples.append((now - start, rss, fds, threads, qrss))
            if len(samples) % 10 == 1:
                print(f"{(now - start) / 60:7.1f} {rss / 1024:12.1f} {fds:4} {threads:7} {qrss / 1024:13.1f}", flush=True)
            devices = control.send("status")["result"]["devices"]
            failures += [d for d in devices if d.get("state") == "needs-reset" or d.get("reason")]
            next_sample = now + 30
        time.sleep(2)

    vnc_ended_early = vnc.poll()
    try:
        vnc.stdin.write("quit\n")
        vnc.stdin.close()
    except BrokenPipeError:
        pass  # the client already ended (it prints why)
    vnc.wait(timeout=30)
    open(os.path.join(share, "stop"), "w").close()
    try:
        code = vm.wait(timeout=600)
    except subprocess.TimeoutExpired:
        vm.kill()
        code = "killed after 10 min"
    log.close()
    text = open(log.name, errors="replace").read()
    done = [line for line in text.splitlines() if "soak: done" in line or "soak: no" in line or "soak: checksum" in line]

    steady = [s for s in samples if s[0] >= samples[0][0] + 300] or samples  # after five minutes of warm-up
    first, last = steady[: max(1, len(steady) // 10)], steady[-max(1, len(steady) // 10):]
    half = steady[len(steady) // 2:]
    vmm_growth = (statistics.median(s[1] for s in last) - statistics.median(s[1] for s in first)) / 1024
    qemu_growth = (statistics.median(s[4] for s in last) - statistics.median(s[4] for s in first)) / 1024
    print(f"guest-soak: {minutes:g} min, {len(samples)} samples, {typed} typed strings, {moves} tablet moves, {shots} screenshots")
    print(f"guest-soak: guest: {done[-1] if done else 'no end line'}; vmm exit {code}")
    print(f"guest-soak: vmm RSS {statistics.median(s[1] for s in first) / 1024:.1f} -> {statistics.median(s[1] for s in last) / 1024:.1f} MiB "
          f"(first and last tenth after 5 min, medians; {vmm_growth:+.1f} MiB), slope over the second half {slope_per_hour([(s[0], s[1]) for s in half]):+.2f} MiB/h, "
          f"max {max(s[1] for s in samples) / 1024:.1f} MiB")
    print(f"guest-soak: vmm fds {samples[0][2]} -> {samples[-1][2]}, threads {samples[0][3]} -> {samples[-1][3]}")
    print(f"guest-soak: QEMU RSS {statistics.median(s[4] for s in first) / 1024:.1f} -> {statistics.median(s[4] for s in last) / 1024:.1f} MiB ({qemu_growth:+.1f} MiB)")
    print(f"guest-soak: devices failed: {failures if failures else 'none'}; VNC client {'connected to the end' if vnc_ended_early is None else f'ended early ({vnc_ended_early})'}")
    ok = code == 0 and done and "done" in done[-1] and not failures and vnc_ended_early is None
    print("guest-soak: PASS" if ok else f"guest-soak: FAIL (log {log.name})")
    if ok:
        shutil.rmtree(work)  # kept on failure: the log and the share are what to look at
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
