#!/usr/bin/env bash
# The main job: set up, run the `continual` suite (resumes if interrupted), build the leaderboard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/benchbed run suite continual "$@"
.venv/bin/benchbed leaderboard build
echo "open leaderboard/site/index.html"
