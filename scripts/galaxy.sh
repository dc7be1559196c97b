#!/usr/bin/env bash
# The collection as a user gets it: build the tarball, install it into an empty collections path, and from
# there run ansible-doc on every module, filter, lookup and role and a playbook by its FQCN. A file the build
# leaves out, or a dependency galaxy.yml does not declare, fails here rather than on a user's machine.
#
# Dependencies come from the pinned `ansible` package in .venv (Galaxy is not reachable here), so the install
# uses --no-deps and the collections path is: the empty install path, then the venv's site-packages. Neither
# .collections nor the checkout is on it, ANSIBLE_CONFIG is an empty file, and everything runs from a temp dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
work=$(mktemp -d /tmp/agentopia-galaxy.XXXXXX)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "galaxy: $*" >&2
  exit 1
}

: >"$work/ansible.cfg"
export ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_COLLECTIONS_PATH="$work/collections:$site_packages"
export ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_HOME="$work/home" ANSIBLE_NOCOLOR=1
export PATH="$venv/bin:$PATH"
cd "$work"

echo "==> build"
ansible-galaxy collection build --output-path "$work/dist" "$root" >"$work/build.log" 2>&1 || {
  cat "$work/build.log"
  fail "ansible-galaxy collection build failed"
}
tarball=$(echo "$work"/dist/agentopia-toolbox-*.tar.gz)
[[ -f $tarball ]] || fail "no tarball in $work/dist"
echo "    $(basename "$tarball"), $(du -k "$tarball" | cut -f1) KiB, $(tar -tzf "$tarball" | grep -vc '/$') files"
# What git ignores (caches, ansible-lint's .ansible, the lab) is local state: it must not ship.
shipped_ignored=$(tar -tzf "$tarball" | grep -v '/$' | grep -Evx 'MANIFEST\.json|FILES\.json' |
  git -C "$root" check-ignore --no-index --stdin || true)
[[ -z $shipped_ignored ]] || fail "the tarball holds files git ignores (add them to build_ignore):"$'\n'"$shipped_ignored"

echo "==> install into an empty collections path"
mkdir "$work/collections"
ansible-galaxy collection install --no-deps -p "$work/collections" "$tarball" >"$work/install.log" 2>&1 || {
  cat "$work/install.log"
  fail "ansible-galaxy collection install failed"
}
installed="$work/collections/ansible_collections/agentopia/toolbox"
[[ -f $installed/MANIFEST.json ]] || fail "the install has no MANIFEST.json"

echo "==> every tracked file the content needs is in it"
# roles/ build their images from roles/<role>/../../services/<name>; the services' tests are build_ignored.
missing=$(git -C "$root" ls-files -- roles plugins playbooks meta services examples galaxy.yml README.md |
  grep -Ev '^services/[^/]+/tests/|^galaxy\.yml$' |
  while read -r path; do [[ -e $installed/$path ]] || echo "$path"; done)
[[ -z $missing ]] || fail "tracked files missing from the installed collection:"$'\n'"$missing"
for service in "$root"/services/*/; do
  name=$(basename "$service")
  [[ -f $installed/services/$name/pyproject.toml ]] || fail "services/$name/pyproject.toml is not in the tarball"
done

# Run one ansible-doc over a list of names; fail on any error or warning, or a doc not read from the install.
doc_all() {
  local type=$1
  shift
  (($# > 0)) || fail "no $type plugins found in the installed collection"
  ansible-doc -t "$type" --json "$@" >"$work/doc.json" 2>"$work/doc.err" || {
    cat "$work/doc.err" >&2
    fail "ansible-doc -t $type failed"
  }
  if [[ -s $work/doc.err ]]; then
    cat "$work/doc.err" >&2
    fail "ansible-doc -t $type printed warnings"
  fi
  "$venv/bin/python" - "$type" "$installed" "$work/doc.json" "$@" <<'EOF'
import json, sys
plugin_type, installed, path, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
docs = json.load(open(path))
if plugin_type == "role":  # {"path": the role's collection, "entry_points": {"main": its argument spec}}
    documented = {name: doc["path"] for name, doc in docs.items() if doc.get("entry_points", {}).get("main")}
else:
    documented = {name: doc["doc"]["filename"] for name, doc in docs.items() if doc.get("doc")}
missing = [name for name in names if name not in documented]
if missing:
    sys.exit(f"galaxy: ansible-doc -t {plugin_type} has no documentation for {', '.join(missing)}")
elsewhere = [name for name in names if not documented[name].startswith(installed)]
if elsewhere:
    sys.exit(f"galaxy: {', '.join(elsewhere)} documented from outside the installed copy")
EOF
  echo "    ansible-doc -t $type: $# ok"
}

names() { # names of the files matching a glob under the install, as agentopia.toolbox.<name>
  local file
  for file in "$installed"/$1; do
    [[ -e $file ]] || continue
    file=$(basename "$file")
    file=${file%.*}
    [[ $file == __init__ ]] || echo "agentopia.toolbox.$file"
  done
}

echo "==> ansible-doc on everything, from the install"
mapfile -t modules < <(names 'plugins/modules/*.py')
mapfile -t filters < <(names 'plugins/filter/*.yml')
mapfile -t lookups < <(names 'plugins/lookup/*.py')
mapfile -t roles < <(for spec in "$installed"/roles/*/meta/argument_specs.yml; do
  spec=${spec%/meta/argument_specs.yml}
  echo "agentopia.toolbox.${spec##*/}"
done)
# An action plugin is documented by the module of its name (ansible-doc has no action type).
for action in $(names 'plugins/action/*.py'); do
  [[ " ${modules[*]} " == *" $action "* ]] || fail "action plugin $action has no module documentation"
done
[[ $(find "$installed/roles" -mindepth 1 -maxdepth 1 -type d | wc -l) == "${#roles[@]}" ]] ||
  fail "a role has no meta/argument_specs.yml"
doc_all module "${modules[@]}"
doc_all filter "${filters[@]}"
doc_all lookup "${lookups[@]}"
doc_all role "${roles[@]}"

echo "==> playbooks by their FQCN, from the install"
# By path: a name with '-' (lab-destroy.yml, rotate-secrets.yml, ...) is no valid FQCN; roles still resolve
# from the install.
playbooks=("$installed"/playbooks/*.yml)
[[ -e ${playbooks[0]} ]] || fail "no playbooks in the installed collection"
ansible-playbook -i localhost, --syntax-check "${playbooks[@]}" >"$work/syntax.log" 2>&1 || {
  cat "$work/syntax.log"
  fail "a playbook does not parse from the installed collection"
}
echo "    ansible-playbook --syntax-check: ${#playbooks[@]} playbooks ok"

ansible-playbook -i localhost, agentopia.toolbox.validate -e "@$installed/examples/toolbox-research.yml" \
  >"$work/validate.log" 2>&1 || {
  cat "$work/validate.log"
  fail "agentopia.toolbox.validate failed on the shipped example"
}
grep -q "research 1.0.0: valid" "$work/validate.log" || {
  cat "$work/validate.log"
  fail "agentopia.toolbox.validate did not report the example valid"
}
if grep -q WARNING "$work/validate.log"; then
  cat "$work/validate.log"
  fail "agentopia.toolbox.validate printed warnings"
fi
printf 'toolbox: {name: research, version: "1", servers: [{name: clock, kind: sundial}]}\n' >"$work/bad.yml"
if ansible-playbook -i localhost, agentopia.toolbox.validate -e "@$work/bad.yml" >"$work/bad.log" 2>&1; then
  fail "agentopia.toolbox.validate accepted a server of an unknown kind"
fi
grep -q "toolbox.servers\[0\].kind" "$work/bad.log" || {
  cat "$work/bad.log"
  fail "agentopia.toolbox.validate failed without naming the bad field"
}
echo "    ansible-playbook agentopia.toolbox.validate: the example valid, a bad kind refused by its field path"

version=$(ansible localhost -i localhost, -c local -m ansible.builtin.debug \
  -a "msg={{ lookup('agentopia.toolbox.collection_version') }}" 2>"$work/lookup.err" | sed -n 's/.*"msg": "\(.*\)".*/\1/p')
expected=$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' \
  "$installed/MANIFEST.json")
[[ $version == "$expected" ]] || fail "collection_version read '$version' from the install, MANIFEST.json says '$expected'"
echo "    collection_version from the install: $version (MANIFEST.json)"
echo "galaxy: ok"
