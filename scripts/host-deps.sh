#!/usr/bin/env bash
# Install the Debian packages the controller needs, only those missing.
set -euo pipefail
# prometheus: promtool for `make rules` (scripts/promtool.sh).
packages=(docker.io debootstrap rsync openssh-client git ca-certificates python3-venv shellcheck prometheus)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
# npm brings Node 22 and the conformance suite (scripts/conformance.sh); an npm that came with
# another Node package counts, so look for the command rather than Debian's package.
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
