#!/usr/bin/env python3
"""Times commands that boot a guest: process start -> first byte on stdout (the guest's first UART byte),
process start -> exit, and peak RSS (wait4's ru_maxrss). Runs the commands alternately, N times each, and prints
medians and ratios against the first command. Usage: boot_time.py N "label=command" ..."""
import os
import shlex
import statistics
import subprocess
import sys
import time


def run_once(argv):
    start = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = process.stdout.read(1)
    first_byte = time.monotonic() - start
    rest = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    total = time.monotonic() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return first_byte, total, usage.ru_maxrss / 1024.0, process.returncode, (first + rest).decode(errors="replace")


def main():
    runs = int(sys.argv[1])
    commands = [(spec.split("=", 1)[0], shlex.split(spec.split("=", 1)[1])) for spec in sys.argv[2:]]
    results = {label: [] for label, _ in commands}
    for label, argv in commands:  # one unmeasured warm-up each (page cache, JIT-free R2R images)
        _, _, _, code, output = run_once(argv)
        print(f"warm-up {label}: exit {code}, output {output.strip()[:60]!r}", file=sys.stderr)
    for _ in range(runs):
        for label, argv in commands:
            results[label].append(run_once(argv))

    base_first = base_total = base_rss = None
    print(f"{'':52} {'first UART byte':>16} {'exit':>10} {'peak RSS':>10}   (median of {runs})")
    for label, samples in results.items():
        first = statistics.median(s[0] for s in samples) * 1000
        total = statistics.median(s[1] for s in samples) * 1000
        rss = statistics.median(s[2] for s in samples)
        codes = sorted({s[3] for s in samples})
        print(f"{label:52} {first:13.1f} ms {total:7.1f} ms {rss:6.1f} MiB   exit codes {codes}")
        if base_first is None:
            base_first, base_total, base_rss = first, total, rss
    labels = list(results)
    if len(labels) > 1:
        other = labels[1]
        first = statistics.median(s[0] for s in results[other]) * 1000
        total = statistics.median(s[1] for s in results[other]) * 1000
        rss = statistics.median(s[2] for s in results[other])
        print(f"ratio ours/QEMU: first byte {base_first / first:.2f}x, exit {base_total / total:.2f}x, peak RSS {base_rss / rss:.2f}x")


if __name__ == "__main__":
    main()
