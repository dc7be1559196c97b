# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parts of the gateway: settings, name prefixes, tokens, rate limit, Host/Origin policy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from agentopia_gateway.aggregate import prefix_name, prefix_uri, split_name, split_uri
from agentopia_gateway.auth import HostPolicy, RateLimiter, TokenFileError, TokenStore, token_id
from agentopia_gateway.config import DEFAULTS, NUMERIC_SETTINGS, ConfigError, Settings, load_settings

BACKENDS = json.dumps({"files": "http://research_files:8000/mcp", "git": {"url": "http://git:8000/mcp", "timeout": 5}})


def test_settings_from_env() -> None:
    s = load_settings(
        {
            "GATEWAY_BACKENDS": BACKENDS,
            "GATEWAY_TOKEN_FILES": "/run/secrets/a, /run/secrets/b",
            "GATEWAY_LISTEN": "127.0.0.1:9000",
            "GATEWAY_RATE_LIMIT": "10",
        }
    )
    assert (s.host, s.port) == ("127.0.0.1", 9000)
    assert s.token_files == ("/run/secrets/a", "/run/secrets/b")
    assert [(b.name, b.hostname, b.port, b.path, b.timeout) for b in s.backends] == [
        ("files", "research_files", 8000, "/mcp", 30.0),
        ("git", "git", 8000, "/mcp", 5.0),
    ]
    assert s.rate_limit == 10 and s.rate_burst == 20


def test_unset_variables_give_the_settings_own_defaults() -> None:
    """The defaults live once, on Settings: reading an environment that sets nothing else gives exactly those."""
    loaded = load_settings({"GATEWAY_BACKENDS": BACKENDS, "GATEWAY_TOKEN_FILES": "/t"})
    defaults = Settings(backends=loaded.backends, token_files=loaded.token_files)
    assert loaded == defaults
    assert {name for name, _variable, _minimum in NUMERIC_SETTINGS} <= set(DEFAULTS)


@pytest.mark.parametrize(("variable", "value"), [(variable, "7") for _name, variable, _minimum in NUMERIC_SETTINGS])
def test_each_numeric_variable_reaches_its_setting(variable: str, value: str) -> None:
    loaded = load_settings({"GATEWAY_BACKENDS": BACKENDS, "GATEWAY_TOKEN_FILES": "/t", variable: value})
    name = next(name for name, var, _minimum in NUMERIC_SETTINGS if var == variable)
    assert getattr(loaded, name) == 7


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"GATEWAY_BACKENDS": ""}, "GATEWAY_BACKENDS"),
        ({"GATEWAY_BACKENDS": "{nope"}, "GATEWAY_BACKENDS"),
        ({"GATEWAY_BACKENDS": '{"Bad": "http://x/mcp"}'}, "must match"),
        ({"GATEWAY_BACKENDS": '{"a__b": "http://x/mcp"}'}, "must match"),
        ({"GATEWAY_BACKENDS": '{"a": "ftp://x/mcp"}'}, "http:// or https://"),
        ({"GATEWAY_BACKENDS": '{"a": {"url": "http://x/mcp", "timeout": 0}}'}, "timeout"),
        ({"GATEWAY_TOKEN_FILES": ""}, "GATEWAY_TOKEN_FILES"),
        ({"GATEWAY_TLS_CERT_FILE": "/c"}, "GATEWAY_TLS_KEY_FILE"),
        ({"GATEWAY_LISTEN": "8811"}, "GATEWAY_LISTEN"),
        ({"GATEWAY_MAX_BODY_BYTES": "lots"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_LOG_LEVEL": "loud"}, "GATEWAY_LOG_LEVEL"),
    ],
)
def test_settings_errors_name_the_variable(env: dict[str, str], names: str) -> None:
    base = {"GATEWAY_BACKENDS": BACKENDS, "GATEWAY_TOKEN_FILES": "/t"}
    with pytest.raises(ConfigError, match=names):
        load_settings({**base, **env})


@pytest.mark.parametrize(
    ("server", "name"), [("files", "read_file"), ("my-db", "query__raw"), ("a", "x"), ("git", "__init")]
)
def test_prefixes_are_reversible(server: str, name: str) -> None:
    assert split_name(prefix_name(server, name)) == (server, name)
    uri = f"file:///{name}"
    assert split_uri(prefix_uri(server, uri)) == (server, uri)


@pytest.mark.parametrize("bad", ["plain", "__x", "Files__x", "files__", "9a__x"])
def test_unprefixed_names_do_not_split(bad: str) -> None:
    assert split_name(bad) is None


def test_token_store_rotation(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_text("alpha\n# comment\n\nbeta\n")
    new.write_text("")
    store = TokenStore([str(old), str(new)])
    assert store.reload() is True
    assert store.verify("alpha") and store.verify("beta")
    assert store.verify("alph") is None and store.verify("") is None
    assert store.reload() is False  # nothing changed, nothing re-read
    new.write_text("gamma\n")
    old.unlink()
    assert store.reload() is True
    assert store.verify("gamma") and store.verify("alpha") is None
    assert store.verify("gamma") != store.verify("beta")


def test_token_store_digests(tmp_path: Path) -> None:
    """A file of sha256 digests admits the tokens behind them, and changing it under the store takes effect."""
    secret, hashes = tmp_path / "secret", tmp_path / "hashes"
    secret.write_text("old-token\n")
    hashes.write_text("")
    store = TokenStore([str(secret), str(hashes)])
    store.reload()
    assert store.verify("new-token") is None
    new_digest = hashlib.sha256(b"new-token").hexdigest()
    hashes.write_text(f"# rotation\nsha256:{new_digest.upper()}\nsha256:{hashlib.sha256(b'old-token').hexdigest()}\n")
    assert store.reload() is True
    assert store.count == 2  # the old token's digest adds nothing to the plain token
    assert store.verify("new-token") == token_id("new-token") == new_digest[:12]
    assert store.verify("old-token") == token_id("old-token")
    assert store.verify(new_digest) is None and store.verify("sha256:" + new_digest) is None
    hashes.write_text("sha256:not-hex\n")  # malformed: it admits nothing, not even itself as a token
    store.reload()
    assert store.count == 1
    assert store.verify("new-token") is None and store.verify("sha256:not-hex") is None


def test_token_store_needs_a_token(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    store = TokenStore([str(empty), str(tmp_path / "missing")])
    store.reload()
    with pytest.raises(TokenFileError, match="no token found"):
        store.require_some()


def test_rate_limiter_bucket() -> None:
    limiter = RateLimiter(rate=2, burst=3)
    assert [limiter.allow("k", now=0.0)[0] for _round in range(4)] == [True, True, True, False]
    allowed, retry = limiter.allow("k", now=0.0)
    assert not allowed and retry == pytest.approx(0.5)
    assert limiter.allow("k", now=0.5)[0] is True
    assert limiter.allow("other", now=0.0)[0] is True  # per key
    assert RateLimiter(rate=0, burst=1).allow("k") == (True, 0.0)


def test_host_policy() -> None:
    policy = HostPolicy(["localhost", "127.0.0.1", "[::1]", "gw.example.org:8811"])
    assert policy.host_ok("localhost:8811") and policy.host_ok("127.0.0.1") and policy.host_ok("[::1]:9")
    assert policy.host_ok("gw.example.org:8811") and not policy.host_ok("gw.example.org:80")
    assert not policy.host_ok("evil.example.com") and not policy.host_ok(None)
    assert policy.origin_ok(None)
    assert policy.origin_ok("http://localhost:3000") and not policy.origin_ok("http://evil.example.com")
    assert not policy.origin_ok("null")
    explicit = HostPolicy(["*"], ["https://app.example.org"])
    assert explicit.host_ok("anything") and explicit.origin_ok("https://app.example.org")
    assert not explicit.origin_ok("https://other.example.org")
