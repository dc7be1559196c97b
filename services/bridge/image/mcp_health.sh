#!/usr/bin/env bash
# HEALTHCHECK of an MCP server image: a real MCP exchange over streamable HTTP on loopback, in bash alone.
#   mcp_health.sh [PORT] [PATH]        (default 8000 /mcp)
# initialize (the bridge answers once its server is initialized), ping (forwarded to the server itself, so a
# hung server fails it), then DELETE of the session. Exit 0 only when both answer with a JSON-RPC result.
# Why bash: Docker runs it every interval in every container, and a Python check (the bridge's `--check`)
# spends about 100 ms of CPU per run on its interpreter and imports, this one about 5 ms.
set -u
shopt -s nocasematch
port=${1:-8000} path=${2:-/mcp}
reply=""

# request METHOD BODY [HEADER]: one HTTP/1.1 exchange on a fresh connection, the whole answer in $reply.
request() {
  local method=$1 body=$2 header=${3:-}
  reply=""
  if ! { exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null; then
    reply="connection refused"
    return 1
  fi
  # User-Agent: the bridge logs a passing check's requests at DEBUG, so they do not bury a client's.
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: agentopia-health\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %d\r\nConnection: close\r\n%s\r\n%s' \
    "$method" "$path" "$port" "${#body}" "$header" "$body" >&3
  # Read to the end of the answer (the server closes after it: Connection: close); -d '' ends at EOF.
  IFS= read -r -d '' -t 4 reply <&3
  exec 3>&-
  [[ -n $reply ]] || reply="no answer within 4 s"
  [[ $reply == "HTTP/1.1 2"* ]]
}

fail() {
  echo "unhealthy: 127.0.0.1:${port}${path}: $1: ${reply%%$'\r'*}"
  exit 1
}

initialize='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"agentopia-health","version":"1"}}}'
request POST "$initialize" || fail "initialize"
[[ $reply == *'"protocolVersion"'* ]] || fail "initialize answered no result"
[[ $reply =~ mcp-session-id:\ *([!-~]+) ]] || fail "initialize gave no Mcp-Session-Id"
session="Mcp-Session-Id: ${BASH_REMATCH[1]}"$'\r\n'
name=""
[[ $reply =~ \"serverInfo\":\{[^}]*\"name\":\"([^\"]*)\" ]] && name=${BASH_REMATCH[1]}

request POST '{"jsonrpc":"2.0","id":2,"method":"ping"}' "$session" || fail "ping"
[[ $reply == *'"result"'* ]] || fail "ping answered no result"
request DELETE "" "$session" || true # the session expires on its own if this fails
echo "healthy: ${name:-the server} answered initialize and ping"
