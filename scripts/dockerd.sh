#!/usr/bin/env bash
# Make sure a Docker engine answers. These machines have no systemd: start dockerd in the
# background when none answers, and wait for it. Leftovers of an earlier run are reused.
set -euo pipefail
log=/var/log/agentopia-dockerd.log
if docker info >/dev/null 2>&1; then exit 0; fi
# A pid file left by a dockerd that is gone would stop the new one from starting.
if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi
echo "==> starting dockerd (log: $log)"
setsid dockerd >"$log" 2>&1 < /dev/null &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2
exit 1
