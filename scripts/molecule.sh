#!/usr/bin/env bash
# Every molecule scenario (or those named), in ORDER, each one timed; stops at the first red one.
# Images that one scenario builds are kept for the later ones (molecule/shared/images_*.yml): a run starts
# with none, so each image is built exactly once per run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# The order matters for the kept images: base_image builds the base and the registry, toolbox every MCP, gateway
# and exporter image, so rollout (which needs a subset) builds none.
ORDER=(docker_engine swarm swarm_ha base_image toolbox rollout)
if [ $# -eq 0 ]; then
  mapfile -t found < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | LC_ALL=C sort)
  unlisted=$(printf '%s\n' "${found[@]}" | grep -vxF -f <(printf '%s\n' "${ORDER[@]}") || true)
  if [ -n "$unlisted" ]; then
    echo "scripts/molecule.sh: scenario(s) $unlisted not in ORDER; add them there so make test runs them" >&2
    exit 2
  fi
  set -- "${ORDER[@]}"
  rm -rf .cache/molecule-images
fi
declare -a report=()
status=0
for scenario in "$@"; do
  echo
  echo "==> molecule scenario: $scenario"
  start=$SECONDS
  if molecule test -s "$scenario"; then
    report+=("$(printf '%-14s %4ds  ok' "$scenario" $((SECONDS - start)))")
  else
    report+=("$(printf '%-14s %4ds  FAILED' "$scenario" $((SECONDS - start)))")
    status=1
    break
  fi
done
docker volume prune -f >/dev/null
echo
echo "==> molecule scenario times"
printf '    %s\n' "${report[@]}"
exit $status
