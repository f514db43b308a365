#!/usr/bin/env bash
# Runs one coverage-guided fuzz campaign: builds tools/fuzz/Vmm.Fuzz, instruments our assemblies with
# SharpFuzz, and runs afl-fuzz on TARGET for MINUTES from the seed corpus tools/fuzz/corpus/TARGET.
#
#   tools/fuzz/run.sh TARGET MINUTES
#
# Needs afl++ and the SharpFuzz.CommandLine dotnet tool: `tools/install-deps.sh --with-fuzz` installs both.
# Output (git-ignored) lands in tools/fuzz/out/afl/TARGET; a summary of fuzzer_stats is printed at the end.
# A crash there replays with `dotnet tools/fuzz/out/bin/Vmm.Fuzz.dll TARGET FILE (uninstrumented: dotnet run --project tools/fuzz/Vmm.Fuzz -- TARGET FILE)`; once understood, copy it to
# tools/fuzz/repro/TARGET/ (it then replays in the default test suite) and fix it.
set -euo pipefail

usage() { echo "usage: tools/fuzz/run.sh TARGET MINUTES" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
target=$1
minutes=$2
[[ $minutes =~ ^[0-9]+$ && $minutes -gt 0 ]] || usage

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$here/out
bin=$out/bin
corpus=$here/corpus/$target
[[ -d $corpus ]] || { echo "run.sh: no seed corpus at $corpus (targets: $(ls "$here/corpus" | tr '\n' ' '))" >&2; exit 2; }

export PATH=$PATH:$HOME/.dotnet/tools
command -v afl-fuzz >/dev/null || { echo "run.sh: afl-fuzz missing: tools/install-deps.sh --with-fuzz" >&2; exit 1; }
command -v sharpfuzz >/dev/null || { echo "run.sh: sharpfuzz missing: tools/install-deps.sh --with-fuzz" >&2; exit 1; }

# A fresh copy of the build each run: SharpFuzz instruments in place and refuses an assembly twice. Debug by
# default, the build the tests already made (FUZZ_CONFIGURATION=Release runs faster but builds everything again).
configuration=${FUZZ_CONFIGURATION:-Debug}
dotnet build "$here/Vmm.Fuzz/Vmm.Fuzz.csproj" -c "$configuration" --nologo -v quiet
rm -rf "$bin"
cp -r "$here/Vmm.Fuzz/bin/$configuration/net10.0" "$bin"
for assembly in "$bin"/Vmm.*.dll; do
    case $(basename "$assembly") in
        Vmm.Fuzz.dll|Vmm.Testing.dll) continue ;; # the harness and the test driver are not under test
    esac
    sharpfuzz "$assembly" >/dev/null
done

# Our harness binary is `dotnet`, which afl cannot check for instrumentation; SharpFuzz talks the forkserver protocol.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
findings=$out/afl/$target
rm -rf "$findings"
mkdir -p "$findings"
afl-fuzz -i "$corpus" -o "$findings" -V $((minutes * 60)) -t 10000 -m none -- dotnet "$bin/Vmm.Fuzz.dll" "$target" \
    >"$out/afl-$target.log" 2>&1 || { tail -n 30 "$out/afl-$target.log" >&2; exit 1; }

stats=$findings/default/fuzzer_stats
echo "run.sh: $target for $minutes min"
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|bitmap_cvg|edges_found|total_edges|saved_crashes|saved_hangs|stability) ' "$stats"
ls "$findings/default/crashes" "$findings/default/hangs" 2>/dev/null | grep -v README || true
