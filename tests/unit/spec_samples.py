# SPDX-License-Identifier: GPL-3.0-or-later
"""A reference toolbox spec and hypothesis strategies for malformed ones, shared by the spec's tests."""

import copy

from hypothesis import strategies as st

VALID = {
    "name": "research",
    "version": "1.4.0",
    "gateway": {
        "port": 8811,
        "token_secrets": ["research_token"],
        "tls": {"cert_secret": "gw_cert", "key_secret": "gw_key"},
        "memory": "128M",
        "cpus": 0.5,
    },
    "servers": [
        {
            "name": "files",
            "kind": "filesystem",
            "args": ["/data"],
            "volumes": [{"source": "research_data", "target": "/data", "read_only": True}],
        },
        {
            "name": "git",
            "kind": "git",
            "version": "0.1.0",
            "args": ["--repository", "/repos/notes"],
            "volumes": [{"source": "research_repos", "target": "/repos", "read_only": False}],
        },
        {
            "name": "clock",
            "kind": "time",
            "args": ["--local-timezone", "Europe/Berlin"],
            "env": {"LOG_LEVEL": "info", "RETRIES": 3, "DEBUG": False},
        },
        {
            "name": "notes",
            "kind": "memory",
            "memory": "128m",
            "memory_reservation": "32M",
            "cpus": 0.25,
            "cpus_reservation": 0.05,
            "replicas": 2,
            "placement": ["node.role==worker", "node.labels.toolbox == research"],
        },
        {"name": "db", "kind": "postgres", "postgres": {"database": "research", "password_secret": "research_db_pw"}},
        {"name": "web", "kind": "fetch"},
        {
            "name": "custom",
            "image": "registry.lab:5000/acme/tool:1.2",
            "port": 9000,
            "path": "/rpc",
            "transport": "streamable-http",
            "secrets": [{"name": "research_api", "env": "API_FILE"}],
        },
    ],
}
SECRETS = ["research_token", "gw_cert", "gw_key", "research_db_pw", "research_api"]


def changed(path, value=None, delete=False):
    """VALID with the field at ``path`` (a tuple of keys and indexes) set to ``value`` or deleted."""
    spec = copy.deepcopy(VALID)
    target = spec
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return spec


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["256M", "research", "/data", "/run/secrets/x", "files", "time", "postgres", "node.role==x"])
)
KEYS = st.sampled_from(
    [
        "name",
        "version",
        "gateway",
        "servers",
        "kind",
        "image",
        "env",
        "secrets",
        "volumes",
        "memory",
        "cpus",
        "replicas",
        "tls",
        "postgres",
        "target",
        "source",
        "port",
        "path",
        "LOG_LEVEL",
        "API_TOKEN",
    ]
) | st.text(max_size=12)
ANY_KEYS = KEYS | st.integers() | st.none() | st.booleans() | st.tuples(st.integers())
JSONISH = st.recursive(
    SCALARS | st.tuples(SCALARS) | st.sets(st.integers(), max_size=2) | st.binary(max_size=4),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ANY_KEYS, children, max_size=5),
    max_leaves=25,
)


def all_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from all_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from all_paths(item, (*prefix, index))


FIELD_PATHS = [path for path in all_paths(VALID) if path]


@st.composite
def mutated(draw):
    spec = copy.deepcopy(VALID)
    for _step in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(FIELD_PATHS))
        target = spec
        try:
            for part in path[:-1]:
                target = target[part]
            action = draw(st.sampled_from(["replace", "delete", "extra", "bad-name", "bad-size"]))
            if action == "delete":
                del target[path[-1]]
            elif action == "extra" and isinstance(target, dict):
                target[draw(ANY_KEYS)] = draw(JSONISH)
            elif action == "bad-name":
                target[path[-1]] = draw(st.sampled_from(["", "Files", "-x", "a" * 300, "gateway", "files", "x y"]))
            elif action == "bad-size":
                target[path[-1]] = draw(st.sampled_from(["0M", "256MB", "1T", "-1G", "99999999999G", "1.5G", 512]))
            else:
                target[path[-1]] = draw(JSONISH)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced this path: the spec is still worth checking
    return spec
