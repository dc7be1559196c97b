#!/usr/bin/env bash
# Every molecule scenario (or those named), one after another, each one timed; stops at the first red one.
# Images that one scenario builds are kept for the later ones (molecule/shared/images_*.yml): a run starts
# with none, so each image is built exactly once per run.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
if [ $# -eq 0 ]; then
  mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | LC_ALL=C sort)
  set -- "${scenarios[@]}"
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
