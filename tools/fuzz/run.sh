#!/usr/bin/env bash
# Runs one coverage-guided fuzz campaign: builds tools/fuzz/Vmm.Fuzz, instruments our assemblies with
# SharpFuzz, and runs afl-fuzz on TARGET for MINUTES from the seed corpus tools/fuzz/corpus/TARGET.
#
#   tools/fuzz/run.sh TARGET MINUTES
#
# Needs afl++ and the SharpFuzz.CommandLine dotnet tool: `tools/install-deps.sh --with-fuzz` installs both.
# Output (git-ignored) lands in tools/fuzz/out/afl/TARGET; a summary of fuzzer_stats is printed at the end.
# A crash there replays with `dotnet tools/fuzz/out/bin/TARGET/Vmm.Fuzz.dll TARGET FILE (uninstrumented: dotnet run --project tools/fuzz/Vmm.Fuzz -- TARGET FILE)`; once understood, copy it to
# tools/fuzz/repro/TARGET/ (it then replays in the default test suite) and fix it.
set -euo pipefail

usage() { echo "usage: tools/fuzz/run.sh TARGET MINUTES" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
target=$1
minutes=$2
[[ $minutes =~ ^[0-9]+$ && $minutes -gt 0 ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$here/out
bin=$out/bin/$target
corpus=$here/corpus/$target
[[ -d $corpus ]] || { echo "run.sh: no seed corpus at $corpus (targets: $(ls "$here/corpus" | tr '\n' ' '))" >&2; exit 2; }

export PATH=$PATH:$HOME/.dotnet/tools
command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz missing: tools/install-deps.sh --with-fuzz" >&2; exit 1; }
command -v sharpfuzz >/dev/null || { echo "run.sh: sharpfuzz missing: tools/install-deps.sh --with-fuzz" >&2; exit 1; }

# A fresh copy of the build each run: SharpFuzz instruments in place and refuses an assembly twice. Debug by
# default, the build the tests already made (FUZZ_CONFIGURATION=Release runs faster but builds everything again).
configuration=${FUZZ_CONFIGURATION:-Debug}
# FUZZ_NO_BUILD=1 skips the build (several campaigns started side by side share one).
[[ ${FUZZ_NO_BUILD:-0} == 1 ]] || dotnet build "$here/Vmm.Fuzz/Vmm.Fuzz.csproj" -c "$configuration" --nologo -v quiet
rm -rf "$bin"
mkdir -p "$out/bin"
cp -r "$here/Vmm.Fuzz/bin/$configuration/net10.0" "$bin"
# Only the assemblies that hold the target's parser are instrumented: coverage then means that code, and the
# instrumentation (minutes per assembly on a loaded machine) stays short.
case $target in
    virtqueue) assemblies=(Vmm.Core Vmm.Contracts) ;;
    config|control) assemblies=(Vmm.Core) ;;
    loader) assemblies=(Vmm.Kvm) ;;
    pci) assemblies=(Vmm.Core) ;;
    virtio-input) assemblies=(Vmm.Plugins.VirtioInput Vmm.Core) ;;
    vhost-user) assemblies=(Vmm.VhostUser Vmm.Core) ;;
    rfb) assemblies=(Vmm.Plugins.Display) ;;
    lgmp) assemblies=(Vmm.Plugins.Ivshmem) ;;
    virtio-fs) assemblies=(Vmm.Plugins.VirtioFs Vmm.Core) ;;
    virtio-gpu) assemblies=(Vmm.Plugins.VirtioGpu Vmm.Plugins.CrossDomain Vmm.Core) ;;
    *) echo "run.sh: no assembly list for target '$target'" >&2; exit 2 ;;
esac
for assembly in "${assemblies[@]}"; do
    sharpfuzz "$bin/$assembly.dll" >/dev/null
done

# Our harness binary is `dotnet`, which afl cannot check for instrumentation; SharpFuzz talks the forkserver protocol.
export FUZZ_CRASH_LOG=$out/crashes-$target.log # the exception behind each crash afl saves (Program.cs)
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
findings=$out/afl/$target
input=$corpus
if [[ ${FUZZ_RESUME:-0} == 1 && -d $findings/default/queue ]]; then
    input=- # FUZZ_RESUME=1 goes on from the last campaign's queue instead of the seeds
else
    rm -rf "$findings"
    mkdir -p "$findings"
fi
# FUZZ_EXECS=N also stops the campaign after N executions (issue 18: one hour or 10 M executions).
limits=(-V $((minutes * 60)))
[[ -z ${FUZZ_EXECS:-} ]] || limits+=(-E "$FUZZ_EXECS")
# FUZZ_TIMEOUT_MS (10000) is afl's -t: with SharpFuzz's in-process loop an input killed at -t ends the campaign (afl
# reports a dead fork server), so on a loaded machine, where a starved input can stall for seconds, give it more.
afl-fuzz -i "$input" -o "$findings" "${limits[@]}" -t "${FUZZ_TIMEOUT_MS:-10000}" -m none -- dotnet "$bin/Vmm.Fuzz.dll" "$target" \
    >"$out/afl-$target.log" 2>&1 || { tail -n 30 "$out/afl-$target.log" >&2; exit 1; }

stats=$findings/default/fuzzer_stats
echo "run.sh: $target for $minutes min"
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|bitmap_cvg|edges_found|total_edges|saved_crashes|saved_hangs|stability) ' "$stats"
ls "$findings/default/crashes" "$findings/default/hangs" 2>/dev/null | grep -v README || true
