#!/usr/bin/env bash
# Runs a suite on this machine's GPU into a results file of its own. Copied back next to the
# CPU results, it merges into one leaderboard where every row names the hardware behind it:
#
#   scripts/gpu_rows.sh SUITE [RESULTS_FILE] [-- RUN_OPTIONS...]     # on the GPU machine
#   benchbed leaderboard build --db benchbed.db --db RESULTS_FILE
#
# SUITE is a suite name (`benchbed list suites`) or a suite's TOML file. RESULTS_FILE defaults
# to results/gpu-HOST.db. RUN_OPTIONS go to `benchbed run`: small models leave a large GPU
# idle, and `-- --executor process --workers 14 --threads 1` runs 14 cells on it at once
# (their rows then say so: their cost figures are each a share of the card).
# Rerunning resumes: cells already in the file are not run again.
# Exit status: that of `benchbed run` (0 all ran, 1 some cells failed, 2 a usage error).
set -euo pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
[[ $# -ge 1 && $1 != -* ]] || usage
suite=$1
shift
results=results/gpu-$(hostname -s).db
if [[ $# -gt 0 && $1 != -- ]]; then
    results=$1
    shift
fi
if [[ $# -gt 0 ]]; then
    [[ $1 == -- ]] || usage
    shift
fi

if command -v benchbed >/dev/null; then
    benchbed=(benchbed)
else
    benchbed=(python3 -m benchbed.cli)
fi

mkdir -p "$(dirname "$results")"
status=0
"${benchbed[@]}" run suite "$suite" --device cuda --db "$results" "$@" || status=$?
if [[ $status -le 1 && -s $results ]]; then
    echo "GPU results are in $results; merge them into the leaderboard with:" >&2
    echo "  benchbed leaderboard build --db benchbed.db --db $results" >&2
fi
exit "$status"
