#!/usr/bin/env bash
# Every molecule scenario, each one timed. With no arguments: two lanes side by side, each in order, stopping at the
# first red scenario (and then stopping the other lane too). With scenario names: those, one after another.
#
# Images one scenario builds are kept for the later ones (molecule/shared/images_*.yml) and a run starts with none,
# so each image is built once per run: base_image builds the base and the registry image, toolbox every MCP, gateway
# and exporter image; rollout, in the other lane, waits in its prepare until the images it needs are kept.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
LANE_IMAGES=(base_image toolbox)
LANE_FLEET=(docker_engine swarm swarm_ha rollout)
LOGS=.cache/molecule-logs

# One lane: its scenarios in order; a line "<scenario> <seconds> ok|FAILED" each in $LOGS/<lane>.times.
run_lane() {
  local lane=$1 scenario start status
  shift
  : >"$LOGS/$lane.times"
  for scenario in "$@"; do
    echo "==> molecule scenario: $scenario"
    start=$SECONDS
    molecule test -s "$scenario"
    status=$?
    printf '%-14s %4ds  %s\n' "$scenario" $((SECONDS - start)) "$([ $status -eq 0 ] && echo ok || echo FAILED)" >>"$LOGS/$lane.times"
    [ $status -eq 0 ] || return 1
  done
}

mkdir -p "$LOGS"
if [ $# -gt 0 ]; then
  run_lane named "$@"
  status=$?
  echo
  echo "==> molecule scenario times"
  sed 's/^/    /' "$LOGS/named.times"
  exit $status
fi

mapfile -t found < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -n1 basename | LC_ALL=C sort)
unlisted=$(printf '%s\n' "${found[@]}" | grep -vxF -f <(printf '%s\n' "${LANE_IMAGES[@]}" "${LANE_FLEET[@]}") || true)
if [ -n "$unlisted" ]; then
  echo "scripts/molecule.sh: scenario(s) $unlisted in no lane; add them to LANE_IMAGES or LANE_FLEET" >&2
  exit 2
fi
rm -rf .cache/molecule-images
export MOLECULE_IMAGE_WAIT=3000
start=$SECONDS
# Each lane's whole output goes to its log and, prefixed, to the terminal; each lane in a process group of its own.
declare -A pids
for lane in images fleet; do
  declare -n scenarios="LANE_${lane^^}"
  setsid bash -c "$(declare -f run_lane); LOGS=$LOGS; run_lane $lane ${scenarios[*]}" \
    > >(tee "$LOGS/$lane.log" | sed -u "s/^/[$lane] /") 2>&1 &
  pids[$lane]=$!
  unset -n scenarios
done
status=0
failed=''
pending='images fleet'
while [ -n "$pending" ]; do
  for lane in $pending; do
    kill -0 "${pids[$lane]}" 2>/dev/null && continue
    pending=$(tr ' ' '\n' <<<"$pending" | grep -vxF "$lane" | xargs)
    wait "${pids[$lane]}" && continue
    [ $status -eq 0 ] || continue  # stopped because the other lane failed
    status=1
    failed=$lane
    # One lane is red: the other one's result no longer decides anything.
    for other in $pending; do kill -- -"${pids[$other]}" 2>/dev/null; done
  done
  sleep 2
done
wait
docker volume prune -f >/dev/null
echo
echo "==> molecule scenario times (two lanes side by side, $((SECONDS - start))s in all)"
for lane in images fleet; do
  echo "    lane $lane:"
  sed 's/^/      /' "$LOGS/$lane.times"
done
if [ -n "$failed" ]; then
  echo
  echo "==> lane $failed failed; its last 80 lines (whole log: $LOGS/$failed.log):"
  tail -n 80 "$LOGS/$failed.log"
fi
exit $status
