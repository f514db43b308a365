#!/usr/bin/env python3
"""Times commands that boot a guest: process start -> first byte on stdout (the guest's first UART byte),
process start -> exit, and peak RSS (wait4's ru_maxrss). Runs the commands alternately, N times each, and prints
medians, min-max spreads and ratios against the first command.
Usage: boot_time.py [--trace] N "label=command" ...
With --trace, every command also gets VMM_STARTUP_TRACE=<CLOCK_MONOTONIC ns at spawn>, and the start-up marks vmm
prints on stderr ("vmm: startup: 12.3 ms what") are collected and printed as medians per command."""
import os
import shlex
import statistics
import subprocess
import sys
import time

TRACE_PREFIX = "vmm: startup:"


def run_once(argv, trace):
    env = None
    start_ns = time.monotonic_ns()
    if trace:
        env = dict(os.environ, VMM_STARTUP_TRACE=str(start_ns))
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE if trace else subprocess.DEVNULL, env=env)
    first = process.stdout.read(1)
    first_byte = (time.monotonic_ns() - start_ns) / 1e9
    rest = process.stdout.read()
    errors = process.stderr.read().decode(errors="replace") if trace else ""
    _, status, usage = os.wait4(process.pid, 0)
    total = (time.monotonic_ns() - start_ns) / 1e9
    process.returncode = os.waitstatus_to_exitcode(status)
    marks = {}
    for line in errors.splitlines():
        if line.startswith(TRACE_PREFIX):
            ms, _, what = line[len(TRACE_PREFIX):].strip().partition(" ms ")
            marks.setdefault(what, float(ms))
    cpu = usage.ru_utime + usage.ru_stime
    return first_byte, total, usage.ru_maxrss / 1024.0, process.returncode, (first + rest).decode(errors="replace"), marks, cpu


def spread(values, scale=1.0):
    values = [v * scale for v in values]
    return statistics.median(values), min(values), max(values)


def main():
    args = sys.argv[1:]
    trace = args[:1] == ["--trace"]
    if trace:
        args = args[1:]
    runs = int(args[0])
    commands = [(spec.split("=", 1)[0], shlex.split(spec.split("=", 1)[1])) for spec in args[1:]]
    results = {label: [] for label, _ in commands}
    for label, argv in commands:  # one unmeasured warm-up each (page cache)
        _, _, _, code, output, _, _ = run_once(argv, trace)
        print(f"warm-up {label}: exit {code}, output {output.strip()[:60]!r}", file=sys.stderr)
    for _ in range(runs):
        for label, argv in commands:
            results[label].append(run_once(argv, trace))

    print(f"{'':52} {'first UART byte [min-max]':>28} {'exit [min-max]':>24} {'CPU user+sys [min-max]':>24} {'peak RSS [min-max]':>22}"
          f"   (median of {runs})")
    medians = {}
    for label, samples in results.items():
        first = spread([s[0] for s in samples], 1000)
        total = spread([s[1] for s in samples], 1000)
        rss = spread([s[2] for s in samples])
        cpu = spread([s[6] for s in samples], 1000)
        medians[label] = (first[0], total[0], rss[0], cpu[0])
        codes = sorted({s[3] for s in samples})
        print(f"{label:52} {first[0]:7.1f} ms [{first[1]:.1f}-{first[2]:.1f}] {total[0]:8.1f} ms [{total[1]:.1f}-{total[2]:.1f}]"
              f" {cpu[0]:8.1f} ms [{cpu[1]:.1f}-{cpu[2]:.1f}] {rss[0]:6.1f} MiB [{rss[1]:.1f}-{rss[2]:.1f}]   exit codes {codes}")
    labels = list(results)
    qemu = next((label for label in labels if label.startswith("QEMU")), None)
    if qemu is not None:
        for label in labels:
            if label != qemu:
                first, total, rss, cpu = medians[label]
                print(f"ratio {label} / QEMU: first byte {first / medians[qemu][0]:.2f}x, exit {total / medians[qemu][1]:.2f}x,"
                      f" CPU {cpu / medians[qemu][3]:.2f}x, peak RSS {rss / medians[qemu][2]:.2f}x")
    if trace:
        for label, samples in results.items():
            names = [name for name in samples[0][5]]
            if not names:
                continue
            print(f"\nstart-up marks of {label} (ms since spawn, median [min-max] of {runs}):")
            for name in names:
                values = [s[5][name] for s in samples if name in s[5]]
                median, low, high = spread(values)
                print(f"  {median:7.1f} [{low:.1f}-{high:.1f}]  {name}")


if __name__ == "__main__":
    main()
