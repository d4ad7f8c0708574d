#!/usr/bin/env bash
# Instructions per call of each hot path, counted by callgrind (independent of machine load).
# Usage: tools/bench/instructions.sh [CASE...]   (default: every case of benches/instructions.rs)
# Counts the whole measured function: model and data setup (a few thousand instructions, once)
# plus CALLS = 100 calls; divided by 100.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench --bench instructions --no-run >/dev/null 2>&1
bin=$(cargo bench --bench instructions --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
cases=("$@")
[ ${#cases[@]} -eq 0 ] && mapfile -t cases < <("$bin")
out=$(mktemp -d)
for case in "${cases[@]}"; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$case.out" \
        --toggle-collect='instructions::measured_*' "$bin" "$case" >/dev/null 2>"$out/$case.log"
    total=$(grep -E '^(summary|totals):' "$out/$case.out" | head -1 | awk '{print $2}')
    printf '%-24s %12d instructions/call\n' "$case" $((total / 100))
done
echo "callgrind outputs: $out (callgrind_annotate FILE for a profile)"
