#!/usr/bin/env bash
# Runs AFL++ on one fuzz target for a given time, then minimises what it found into the
# committed corpus (docs/reliability.md, "Fuzzing").
#   tools/Paperclip.Fuzz/fuzz.sh TARGET MINUTES     (targets: dotnet run --project tools/Paperclip.Fuzz -- list)
# Publishes the targets (artifacts/fuzz/plain) and instruments a copy (artifacts/fuzz/bin: the
# Protocol, Transport and Backend assemblies, with SharpFuzz), again only when the sources
# changed; seeds from corpus/TARGET plus the target's own seeds (vectors.json and
# writer-made inputs); runs afl-fuzz niced for MINUTES; replaces corpus/TARGET with the
# afl-cmin of the queue; prints the figures of fuzzer_stats. Work files, the previous run's
# findings among them, go to artifacts/fuzz/TARGET (not committed), cleared at each run.
# Needs Debian's afl++ (apt-get install afl++).
# Exit code 1 when AFL++ saved a crash or a hang: replay them with
#   dotnet artifacts/fuzz/plain/Paperclip.Fuzz.dll run TARGET artifacts/fuzz/TARGET/out/default/crashes
set -euo pipefail

if [ $# -ne 2 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
target=$1
minutes=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=$repo/artifacts/fuzz
plain=$work/plain
bin=$work/bin
run=$work/$target
# One execution may take this long before AFL++ calls it a hang (the first ones JIT the code).
timeout_ms=${FUZZ_TIMEOUT_MS:-5000}

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }

# Build and instrument, unless the build there is of these sources already.
stamp=$(cd "$repo" && git ls-files -z --cached --others --exclude-standard -- src tools/Paperclip.Fuzz ':!tools/Paperclip.Fuzz/corpus' \
  | xargs -0 sha1sum 2>/dev/null | sha1sum | cut -d' ' -f1)
if [ ! -d "$plain" ] || [ "$(cat "$bin/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$plain" "$bin"
  dotnet publish "$here/Paperclip.Fuzz.csproj" -c Release -o "$plain" --nologo -v quiet
  # Instrumented code runs only under afl-fuzz; seeds and replays use the plain build.
  cp -r "$plain" "$bin"
  if [ ! -x "$work/tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$work/tools" >/dev/null
  fi
  for assembly in Paperclip.Protocol.dll Paperclip.Transport.dll Paperclip.Backend.dll; do
    "$work/tools/sharpfuzz" "$bin/$assembly"
  done
  echo "$stamp" > "$bin/.stamp"
fi
# afl-cmin wants the program as a path.
fuzz=("$(command -v dotnet)" "$bin/Paperclip.Fuzz.dll")
replay=(dotnet "$plain/Paperclip.Fuzz.dll")

# Seeds: the committed corpus and the target's own seeds.
rm -rf "$run"
mkdir -p "$run/in"
if [ -d "$here/corpus/$target" ]; then
  cp "$here/corpus/$target"/* "$run/in/"
fi
"${replay[@]}" seed "$target" "$run/seeds" >/dev/null
cp "$run/seeds"/* "$run/in/"

# The child processes SharpFuzz starts are not instrumented binaries AFL++ can check, and this
# shared machine has neither a core per fuzzer nor a CPU governor to set.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_FORKSRV_INIT_TMOUT=60000
nice -n 10 afl-fuzz -i "$run/in" -o "$run/out" -V $((minutes * 60)) -t "$timeout_ms" -m none \
  -- "${fuzz[@]}" afl "$target" > "$run/afl.log" 2>&1 || { tail -30 "$run/afl.log" >&2; exit 1; }

# Minimise the queue into the committed corpus, with names that are the content's hash.
nice -n 10 afl-cmin -i "$run/out/default/queue" -o "$run/cmin" -t "$timeout_ms" -m none \
  -- "${fuzz[@]}" afl "$target" > "$run/cmin.log" 2>&1 || { tail -30 "$run/cmin.log" >&2; exit 1; }
rm -rf "$here/corpus/$target"
mkdir -p "$here/corpus/$target"
for file in "$run/cmin"/*; do
  cp "$file" "$here/corpus/$target/$(sha1sum "$file" | cut -c1-16)"
done

stats=$run/out/default/fuzzer_stats
field() { sed -n "s/^$1 *: //p" "$stats"; }
crashes=$(field saved_crashes)
hangs=$(field saved_hangs)
echo "$target: $(( $(field run_time) / 60 )) min, $(field execs_done) execs ($(field execs_per_sec)/s)," \
  "corpus $(field corpus_count) ($(field corpus_found) found, minimised to $(ls "$here/corpus/$target" | wc -l))," \
  "edges $(field edges_found), stability $(field stability), crashes $crashes, hangs $hangs" | tee "$run/summary.txt"
[ "$crashes" = 0 ] && [ "$hangs" = 0 ]
