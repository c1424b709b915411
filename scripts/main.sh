#!/usr/bin/env bash
# The main job: set up, run the `continual` suite (resumes if interrupted), build the leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

status=0
.venv/bin/benchbed run suite continual "$@" || status=$?
# Results files under results/ (e.g. GPU rows made with scripts/gpu_rows.sh) merge in.
shopt -s nullglob
merged=()
for file in results/*.db; do merged+=(--db "$file"); done
.venv/bin/benchbed leaderboard build --db benchbed.db "${merged[@]}"
echo "open leaderboard/site/index.html"
exit "$status"
