#!/usr/bin/env bash
# HEALTHCHECK for images without curl or Python: an HTTP/1.0 GET over bash's /dev/tcp.
# http_probe.sh PORT PATH [ACCEPTED_STATUS_REGEX]   exits 0 when the status line matches (default 200).
set -eu
port=$1 path=$2 accepted=${3:-200}
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
IFS= read -r -t 5 status <&3
code=$(printf '%s' "$status" | cut -d ' ' -f 2)
if [[ $code =~ ^(${accepted})$ ]]; then
  echo "healthy: ${path} answered ${code}"
  exit 0
fi
echo "unhealthy: ${path} answered ${status:-nothing}"
exit 1
