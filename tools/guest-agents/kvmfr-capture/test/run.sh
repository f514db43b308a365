#!/usr/bin/env bash
# Host-side test of kvmfr-capture against our own LGMP client (lgmp-reader.c), through a plain shm file
# (after convert-test.c: pixel format conversion and damage rects):
#   1. drive: pictures written into the file source arrive complete, with partial damage for small changes,
#      full damage past 64 rects, no frame without a change, and a new formatVer on a mode change;
#   2. a late second subscriber gets the last frame re-posted (nothing changed in the source);
#   3. SIGTERM ends the agent with status 0;
#   4. a restart on the same shm takes a new session id;
#   5. zeroing the header while it runs makes the agent start a new session that a reader can join;
#   6. --once: one frame reaches a waiting reader and the agent exits 0 by itself;
#   7. in an 8 MiB shm a 1000x700 frame comes truncated (652 rows here, FRAME_FLAG_TRUNCATED), rows intact.
# Exit 0 when all pass. Needs gcc with a static libc and the DRM uapi headers (libdrm-dev).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
agent_dir=$(cd "$here/.." && pwd)
work=$(mktemp -d /tmp/kvmfr-test.XXXXXX)
agent_pid=
cleanup() {
    [[ -z $agent_pid ]] || kill "$agent_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf 'run.sh: %s\n' "$*"; }
die() { printf 'run.sh: FAIL: %s\n' "$*" >&2; [[ ! -f $work/agent.log ]] || tail -n 20 "$work/agent.log" >&2; exit 1; }

make -s -C "$agent_dir" OUT="$work/build" >/dev/null
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$work/lgmp-reader" "$here/lgmp-reader.c"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -I/usr/include/libdrm -o "$work/convert-test" "$here/convert-test.c" \
    "$agent_dir"/capture*.c "$agent_dir/damage.c"
"$work/convert-test" || die "convert-test"
agent=$work/build/kvmfr-capture
reader=$work/lgmp-reader
shm=$work/shm
src=$work/src.raw
size=1000x600
session() { od -An -tx4 -j8 -N4 "$shm" | tr -d ' '; }

start_agent() {
    "$agent" --shm "$shm" --source "file:$src:$size" --fps 60 -v "$@" >>"$work/agent.log" 2>&1 &
    agent_pid=$!
}

say "1. drive"
start_agent
"$reader" --shm "$shm" --drive "$src:$size" --timeout 30 || die "drive"

say "2. late subscriber gets the last frame again"
"$reader" --shm "$shm" --expect "$src:$size" --timeout 10 --quiet || die "late subscriber"

say "3. SIGTERM"
first_session=$(session)
kill -TERM "$agent_pid"
rc=0
wait "$agent_pid" || rc=$?
agent_pid=
[[ $rc -eq 0 ]] || die "agent exited $rc on SIGTERM"
grep -q 'kvmfr-capture: exit after' "$work/agent.log" || die "no exit line"

say "4. restart takes a new session"
start_agent
for _ in $(seq 50); do [[ $(session) != "$first_session" ]] && break; sleep 0.1; done
[[ $(session) != "$first_session" ]] || die "session id $first_session kept across a restart"
"$reader" --shm "$shm" --expect "$src:$size" --timeout 10 --quiet || die "after restart"

say "5. header wiped while running: the agent starts a new session"
second_session=$(session)
dd if=/dev/zero of="$shm" bs=4096 count=2 conv=notrunc status=none
for _ in $(seq 50); do [[ $(session) != 00000000 ]] && break; sleep 0.1; done
[[ $(session) != 00000000 && $(session) != "$second_session" ]] || die "no new session after the header was wiped"
"$reader" --shm "$shm" --expect "$src:$size" --timeout 10 --quiet || die "after the wipe"
grep -q 'header was lost' "$work/agent.log" || die "no 'header was lost' line"
kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=

say "6. --once"
rm -f "$shm"
"$reader" --shm "$shm" --expect "$src:$size" --timeout 15 --quiet &
reader_pid=$!
sleep 0.5
start=$(date +%s.%N)
"$agent" --shm "$shm" --source "file:$src:$size" --once >>"$work/agent.log" 2>&1 || die "--once exited $?"
took=$(echo "$(date +%s.%N) - $start" | bc)
wait "$reader_pid" || die "the reader did not get the --once frame"
say "--once took ${took}s"

say "7. a frame larger than the buffer is truncated"
rm -f "$shm"
truncate -s 8M "$shm"
big=$work/big.raw
head -c $((1000 * 700 * 4)) /dev/urandom >"$big"
start_agent_big() { "$agent" --shm "$shm" --source "file:$big:1000x700" >>"$work/agent.log" 2>&1 & agent_pid=$!; }
start_agent_big
"$reader" --shm "$shm" --expect "$big:1000x700" --timeout 10 >"$work/big.log" 2>&1 || { cat "$work/big.log"; die "truncated frame"; }
# 652 rows here; the exact count moves with the udata size (the CPU model and OS name strings).
grep -q 'truncated to 6[0-9][0-9] of 700 rows' "$work/big.log" || { cat "$work/big.log"; die "expected about 652 of 700 rows with an 8 MiB shm"; }
grep 'truncated' "$work/big.log"
kill -TERM "$agent_pid"; wait "$agent_pid" || true; agent_pid=

say "all passed ($(grep -c 'posted$' "$work/agent.log") frames posted in all)"
