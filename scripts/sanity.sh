#!/usr/bin/env bash
# ansible-test wants the collection at .../ansible_collections/<ns>/<name> inside a git tree:
# copy the tracked files (plus uncommitted edits) there and run every sanity test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# SANITY_BUILD lets parallel runs use their own copy.
dest="${SANITY_BUILD:-$root/.build}/ansible_collections/agentopia/toolbox"
# A fresh copy each run, but keep tests/output: it holds ansible-test's venvs.
mkdir -p "$dest/tests"
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
(cd "$root" && git ls-files -co --exclude-standard) | rsync -a --files-from=- "$root/" "$dest/"
(cd "$dest" && git init -q . && git add -A)
# ansible-test's pip bootstrap comes from a host we cannot reach; use the offline stand-in.
cache=~/.ansible/test/cache
mkdir -p "$cache"
for version in 24.2 25.3; do
  cp "$root/scripts/get_pip_offline.py" "$cache/get_pip_${version//./_}.py"
done
cd "$dest"
exec ansible-test sanity --python 3.11 --venv --requirements --color no "$@"
