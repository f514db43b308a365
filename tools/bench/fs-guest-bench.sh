#!/usr/bin/env bash
# virtio-fs through a real Linux guest, side by side: the Debian test guest (QEMU 10, TCG, one vCPU) mounts a share
# served by our device (vmm serve-vhost-user) and by the C virtiofsd, in turn, and runs fs-guest-loop (creates, stats,
# unlinks, a 128 KiB sequential write and read, 4 KiB random reads; built static here) on it. Each repetition boots
# both back-ends, the order reversed from one repetition to the next; the summary gives medians [min-max] and ours / C.
#
#   tools/bench/fs-guest-bench.sh [--repeat N] [--files N] [--mib N] [--cache never|auto|always] [--virtiofsd PATH]
#                                 [--also-poll-us N] [--also-build DIR] [--configuration Release|Debug]
#
# Defaults: 3 repetitions, 2000 files, 64 MiB, cache never (virtiofsd: cache=none) so that every operation reaches
# the back-end. Needs the guest image (tools/guest-image/build.sh), gcc with a static libc, and a built vmm and
# virtio-fs plugin (dotnet build src/Vmm.Cli -c Release; dotnet build plugins/Vmm.Plugins.VirtioFs -c Release).
# The "cpu" row is the back-end's CPU time (user + system, its child processes included; sampled every 0.1 s) over
# the whole guest run: boot and the loop, the same work for every back-end.
# --also-poll-us N adds our device with requestPollMicroseconds N as a third contender ("ours-pollN"; ours runs with
# the device's default). --also-build DIR adds our device as built in another checkout DIR (its vmm and virtio-fs
# plugin built as here) as the contender "before": a change and its base in one run. Under TCG the guest's kernel
# path is emulated (milliseconds per request), so these are the figures of a slow guest on a shared host, not of a
# native one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
repeat=3 files=2000 mib=64 cache=never configuration=Release also_poll= also_build=
virtiofsd=$repo/.cache/virtiofsd/virtiofsd
die() { printf 'fs-guest-bench: error: %s\n' "$*" >&2; exit 2; }
positive() { [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive whole number, got '$2'"; }

while [[ $# -gt 0 ]]; do
    [[ $1 == -h || $1 == --help ]] && { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0; }
    [[ $# -ge 2 ]] || die "$1 needs a value"
    case $1 in
        --repeat) positive "$1" "$2"; repeat=$2 ;;
        --files) positive "$1" "$2"; files=$2 ;;
        --mib) positive "$1" "$2"; mib=$2 ;;
        --cache) [[ $2 =~ ^(never|auto|always)$ ]] || die "--cache is never, auto or always, got '$2'"; cache=$2 ;;
        --virtiofsd) virtiofsd=$2 ;;
        --also-poll-us) [[ $2 =~ ^[0-9]+$ ]] || die "--also-poll-us needs microseconds, got '$2'"; also_poll=$2 ;;
        --also-build) also_build=$(cd "$2" && pwd) || die "--also-build: no directory '$2'" ;;
        --configuration) configuration=$2 ;;
        *) die "unknown argument '$1'" ;;
    esac
    shift 2
done

image=$repo/.cache/guest-image
# shellcheck source=../guest-image/boot-on-share.sh
source "$repo/tools/guest-image/boot-on-share.sh"
[[ -f $image/vmlinuz && -f $image/initrd.img ]] || die "no guest image in $image (tools/guest-image/build.sh)"
vmm=$repo/src/Vmm.Cli/bin/$configuration/net10.0/vmm.dll
plugin=$repo/plugins/Vmm.Plugins.VirtioFs/bin/$configuration/net10.0
[[ -f $vmm && -f $plugin/vmm-plugin.json ]] || die "build vmm and the virtio-fs plugin first (dotnet build src/Vmm.Cli -c $configuration; dotnet build plugins/Vmm.Plugins.VirtioFs -c $configuration)"
if [[ -n $also_build ]]; then
    before_vmm=$also_build/src/Vmm.Cli/bin/$configuration/net10.0/vmm.dll
    before_plugin=$also_build/plugins/Vmm.Plugins.VirtioFs/bin/$configuration/net10.0
    [[ -f $before_vmm && -f $before_plugin/vmm-plugin.json ]] || die "--also-build: build vmm and the virtio-fs plugin in $also_build first"
fi
if [[ ! -x $virtiofsd ]]; then
    virtiofsd=$("$repo/tools/guest-image/get-virtiofsd.sh" | sed -n 's/^VIRTIOFSD=//p' | tail -1)
    [[ -x $virtiofsd ]] || die "no C virtiofsd to compare with"
fi
case $cache in never) c_cache=none ;; *) c_cache=$cache ;; esac

work=$(mktemp -d /tmp/fs-guest-bench.XXXXXX)
daemon=
cleanup() { [[ -n $daemon ]] && kill "$daemon" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
gcc -O2 -static -o "$work/fs-guest-loop" "$here/fs-guest-loop.c" || die "could not build fs-guest-loop (gcc with a static libc is needed)"
printf 'cd /mnt/share && ./fs-guest-loop d %s %s\n' "$files" "$mib" >"$work/t.sh"

# once NAME RUN: serves a fresh share on a socket, boots the guest on it, appends "NAME RUN WORKLOAD VALUE UNIT" lines.
once() {
    local name=$1 run=$2 share=$work/$1-$2 sock=$work/$1-$2.sock
    mkdir -p "$share"
    cp "$work/fs-guest-loop" "$work/t.sh" "$share/"
    if [[ $name == ours* || $name == before ]]; then
        local poll=() dll=$vmm dir=$plugin
        [[ $name == ours-poll* ]] && poll=(--option "requestPollMicroseconds=${name#ours-poll}")
        [[ $name == before ]] && { dll=$before_vmm; dir=$before_plugin; }
        dotnet "$dll" serve-vhost-user --socket "$sock" --device virtio-fs --plugin-path "$dir" \
            --option "sharedDir=$share" --option tag=bench --option "cache=$cache" "${poll[@]}" >"$work/$name-$run.daemon.log" 2>&1 &
    else
        "$virtiofsd" --socket-path="$sock" -o source="$share" -o cache="$c_cache" >"$work/$name-$run.daemon.log" 2>&1 &
    fi
    daemon=$!
    for _ in $(seq 300); do [[ -S $sock ]] && break; sleep 0.1; done
    [[ -S $sock ]] || die "$name did not open its socket: $(cat "$work/$name-$run.daemon.log")"
    # The C daemon ends with the guest's connection and is reaped at once, so its CPU time is sampled while it runs;
    # the largest sample counts (one taken as the process vanished reads nothing).
    (best=0; while kill -0 "$daemon" 2>/dev/null; do
        now=$(cpu_seconds "$daemon")
        awk -v a="$now" -v b="$best" 'BEGIN { exit !(a > b) }' && { best=$now; echo "$best" >"$work/cpu.tmp"; mv "$work/cpu.tmp" "$work/cpu"; }
        sleep 0.1
    done) &
    local sampler=$!
    # A device that failed (DEVICE_NEEDS_RESET: vhost-user has no reset the guest would do) leaves the guest waiting
    # forever: stop its QEMU at once and count the run as failed rather than wait for the time limit.
    (while [[ ! -s $work/qemu.pid ]] && kill -0 "$daemon" 2>/dev/null; do sleep 0.5; done
     while kill -0 "$daemon" 2>/dev/null; do
        if grep -q "front-end must reset it" "$work/$name-$run.daemon.log" 2>/dev/null; then
            kill "$(cat "$work/qemu.pid")" 2>/dev/null; break
        fi
        sleep 0.5
    done) &
    local watcher=$!
    BOOT_ON_SHARE_PIDFILE=$work/qemu.pid boot_on_share "$image" "$sock" bench 900 "$work/$name-$run.console.log"
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
    rm -f "$work/qemu.pid"
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" "$sampler" 2>/dev/null || true
    local cpu
    cpu=$(cat "$work/cpu" 2>/dev/null || echo 0)
    rm -f "$work/cpu"
    daemon=
    local results
    results=$(tr -d '\r' <"$work/$name-$run.console.log" | sed -n 's/^RESULT //p')
    if [[ $(wc -l <<<"$results") -ne 6 ]]; then
        # Counted, shown and left out of the medians: one broken run should not cost the others.
        echo "$name $run failed" >>"$work/failed"
        printf 'fs-guest-bench: %s run %s: the guest did not finish its loop; back-end log and console:\n%s\n%s\n' "$name" "$run" \
            "$(grep -E "fail|error" "$work/$name-$run.daemon.log" | tail -3)" "$(tail -5 "$work/$name-$run.console.log")" >&2
        return 0
    fi
    printf '%s\ncpu %s s\n' "$results" "$cpu" | sed "s/^/$name $run /" | tee -a "$work/results"
}

# cpu_seconds PID: user + system time of PID, of the children it reaped and of its live children (the C daemon's
# sandboxed child).
cpu_seconds() {
    local ticks=0 p
    [[ -r /proc/$1/stat ]] && ticks=$(sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 + $14 + $15 }')
    for p in $(pgrep -P "$1" || true); do
        [[ -r /proc/$p/stat ]] && ticks=$((ticks + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 + $14 + $15 }')))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

echo "fs-guest-bench: $repeat repetitions, $files files, $mib MiB, cache $cache; load: $(cut -d' ' -f1-3 /proc/loadavg)"
contenders=(ours virtiofsd ${also_poll:+ours-poll$also_poll} ${also_build:+before})
for ((r = 1; r <= repeat; r++)); do
    order=("${contenders[@]}")
    ((r % 2)) || order=($(printf '%s\n' "${contenders[@]}" | tac))
    for name in "${order[@]}"; do once "$name" "$r"; done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -s $work/failed ]] && echo "failed runs (left out): $(sort "$work/failed" | tr '\n' ' ')"
[[ -s $work/results ]] || die "no run finished"
python3 - "$work/results" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(list)
units = {}
for line in open(sys.argv[1]):
    name, _, workload, value, unit = line.split()
    runs[(workload, name)].append(float(value))
    units[workload] = unit
names = sorted({name for _, name in runs}, key=lambda n: (n != "ours", n == "virtiofsd", n))
others = [n for n in names if n != "virtiofsd"]
print("| workload | " + " | ".join(names) + " | " + " | ".join(f"{n} / C" for n in others) + " |")
print("| --- " * (1 + len(names) + len(others)) + "|")
for workload, unit in units.items():
    digits = 2 if unit == "s" else 0
    cell = lambda v: f"{statistics.median(v):.{digits}f} {unit} [{min(v):.{digits}f}-{max(v):.{digits}f}]"
    c = statistics.median(runs[(workload, "virtiofsd")])
    ratios = [f"{statistics.median(runs[(workload, n)]) / c:.2f}" if c else "-" for n in others]
    print(f"| {workload} | " + " | ".join(cell(runs[(workload, n)]) for n in names) + " | " + " | ".join(ratios) + " |")
EOF
