#!/usr/bin/env bash
# Where an X11 round trip's work goes, direct to Xvfb and through the bridge: context switches and system calls per
# GetInputFocus round trip of the client (x11-probe), Xvfb and the bench process (the guest bridge, the in-process
# virtio-gpu and its cross-domain context), counted by perf over the same window, and the bench's threads one by one
# (voluntary: blocked; involuntary: preempted or yielded) from /proc. Needs the built bench and perf (as root).
#   tools/bench/x11-profile.sh [ROUND_TRIPS] [TIMES]
# Each side runs TIMES times (default 3), alternating. Pass 1 counts context switches only (its rate is the real
# one); pass 2 counts system calls, sched_yield and futex calls (tracing them slows the bridge many times over, so
# its rate is not printed). An idle second of the bench process shows what its own timers cost.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
trips=${1:-20000}
times=${2:-3}
dll="$here/Vmm.X11Bench/bin/Release/net10.0/Vmm.X11Bench.dll"
command -v perf >/dev/null || { echo "x11-profile: perf is not installed (apt-get install linux-perf)" >&2; exit 2; }
[[ -f $dll ]] || { echo "x11-profile: build first: dotnet build -c Release tools/bench/Vmm.X11Bench" >&2; exit 2; }
work=$(mktemp -d)
mkfifo "$work/stdin"
dotnet "$dll" --serve <"$work/stdin" >"$work/serve" 2>&1 &
bench=$!
exec 3>"$work/stdin" # the bench serves until this closes
trap 'exec 3>&-; wait "$bench" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 300); do [[ -s $work/serve ]] && break; sleep 0.1; done
read -r _ direct _ bridge _ _ _ probe <"$work/serve"
xvfb=$(pgrep -P "$bench" -x Xvfb)

# perf's CSV (-x,): "count,,event,..."; one count per event, divided by the round trips.
per_trip() { awk -F, -v n="$1" -v e="$3" '$3 ~ e {printf "%6.2f", $1 / n}' "$2"; }
threads() { awk '/^Name:/ {sub(/^Name:[ \t]*/, ""); gsub(/ /, "_"); name = $0} /^voluntary_ctxt/ {v = $2}
    /^nonvoluntary_ctxt/ {print FILENAME, name, v, $2}' /proc/"$bench"/task/*/status 2>/dev/null; }

run() { # pass side display events
    perf stat -x, -e "$4" --inherit -p "$xvfb" -o "$work/xvfb" &
    local xp=$!
    perf stat -x, -e "$4" --inherit -p "$bench" -o "$work/bench" &
    local bp=$!
    sleep 0.3
    threads >"$work/t0"
    local start end
    start=$(date +%s.%N)
    DISPLAY=$3 perf stat -x, -e "$4" -o "$work/probe" "$probe" rtt "$trips" >/dev/null &
    local pp=$!
    sleep 0.2
    threads >"$work/t1" # the bridge's threads for this client exist now, until the client leaves
    local t1 t2
    t1=$(date +%s.%N)
    sleep 1
    threads >"$work/t2"
    t2=$(date +%s.%N)
    wait "$pp"
    end=$(date +%s.%N)
    kill -INT "$xp" "$bp"
    wait "$xp" "$bp" || true
    if [[ $1 == 1 ]]; then
        local rate
        rate=$(echo "$trips / ($end - $start)" | bc -l)
        printf '%-6s %8.0f trips/s | context switches per trip: client %s, Xvfb %s, bench %s\n' "$2" "$rate" \
            "$(per_trip "$trips" "$work/probe" context-switches)" "$(per_trip "$trips" "$work/xvfb" context-switches)" "$(per_trip "$trips" "$work/bench" context-switches)"
        # The bench's threads over the second from 0.2 s in, at the run's rate (only while the run lasted that long).
        if [[ $(echo "$end - $start > 1.3" | bc) == 1 ]]; then
            awk -v n="$(echo "$rate * ($t2 - $t1)" | bc -l)" 'NR == FNR {v[$1] = $3; i[$1] = $4; next}
                ($1 in v) && $2 !~ /^\.NET/ && ($3 - v[$1] + $4 - i[$1]) > 0.05 * n {
                printf "         %-18s blocked %5.2f  preempted or yielded %5.2f per trip\n", $2, ($3 - v[$1]) / n, ($4 - i[$1]) / n }' "$work/t1" "$work/t2"
        fi
    else
        local p
        for p in probe xvfb bench; do
            printf '%-6s   %-6s system calls per trip %s (sched_yield %s, futex %s)\n' "$2" "$p" "$(per_trip "$trips" "$work/$p" raw_syscalls)" \
                "$(per_trip "$trips" "$work/$p" sched_yield)" "$(per_trip "$trips" "$work/$p" enter_futex)"
        done
    fi
}

echo "x11-profile: $trips GetInputFocus round trips a run, direct $direct and bridge $bridge; load: $(cut -d' ' -f1-3 /proc/loadavg)"
DISPLAY=$bridge "$probe" rtt 500 >/dev/null # the bridge's first client JITs its code: not in the counts
perf stat -x, -e context-switches,raw_syscalls:sys_enter --inherit -p "$bench" -o "$work/idle" -- sleep 1 2>/dev/null
echo "idle bench process, 1 s: $(awk -F, '{printf "%s %s  ", $1, $3}' <(grep -v '^#' "$work/idle" | grep .))"
for ((i = 0; i < times; i++)); do
    run 1 direct "$direct" context-switches
    run 1 bridge "$bridge" context-switches
done
for ((i = 0; i < times; i++)); do
    run 2 direct "$direct" raw_syscalls:sys_enter,syscalls:sys_enter_sched_yield,syscalls:sys_enter_futex
    run 2 bridge "$bridge" raw_syscalls:sys_enter,syscalls:sys_enter_sched_yield,syscalls:sys_enter_futex
done
