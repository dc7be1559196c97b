#!/usr/bin/env bash
# Check the alert rules shipped with roles/exporters and run their unit tests (tests/rules/), with the promtool of
# Debian's prometheus package - the same Prometheus the role runs. Installs the package when promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null; then
  echo "==> installing Debian's prometheus package for promtool"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: promtool only; the package's service is not started where there is no init system.
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
shopt -s nullglob
rules=(roles/exporters/files/rules/*.yml)
tests=(tests/rules/*.yml)
((${#rules[@]})) || { echo "no rule files under roles/exporters/files/rules" >&2; exit 1; }
((${#tests[@]})) || { echo "no rule tests under tests/rules" >&2; exit 1; }
promtool check rules "${rules[@]}"
promtool test rules "${tests[@]}"
