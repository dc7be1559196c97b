#!/usr/bin/env bash
# HEALTHCHECK of the gateway: GET its own /health on loopback; 200 means it serves (the body says which
# backends are ready). In bash over /dev/tcp: a Python check spends about 20 times its CPU, every interval.
# Bash cannot speak TLS: with GATEWAY_TLS_CERT_FILE set, http_health.py makes the same request over HTTPS.
set -u
[[ -n ${GATEWAY_TLS_CERT_FILE:-} ]] && exec python3 /opt/agentopia/http_health.py
listen=${GATEWAY_LISTEN:-0.0.0.0:8811}
port=${listen##*:}
# A gateway still starting (importing) gets up to 3 s to listen: Docker would not look again for a whole
# interval, so answering as soon as it serves is what makes a fresh gateway healthy early.
for _ in {1..30}; do
  { exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null && break
  sleep 0.1
done
if [[ ! -e /dev/fd/3 ]]; then
  echo "unhealthy: nothing listens on 127.0.0.1:${port}"
  exit 1
fi
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
reply=""
IFS= read -r -d '' -t 4 reply <&3
if [[ $reply == "HTTP/1."?" 200"* ]]; then
  [[ $reply =~ (\{.*\}) ]] && echo "healthy: /health ${BASH_REMATCH[1]}" || echo "healthy: /health 200"
  exit 0
fi
echo "unhealthy: /health answered ${reply%%$'\r'*}"
exit 1
