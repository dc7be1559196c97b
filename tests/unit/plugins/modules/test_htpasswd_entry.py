# SPDX-License-Identifier: GPL-3.0-or-later
"""htpasswd_entry over real passlib and bcrypt, on files in tmp_path."""

import os
import stat

import pytest
from ansible_collections.agentopia.toolbox.plugins.module_utils._module import Library
from ansible_collections.agentopia.toolbox.plugins.modules import htpasswd_entry
from passlib.apache import HtpasswdFile
from passlib.context import CryptContext
from passlib.hash import bcrypt

PASSWORD = "Zq8vN3kLp0Rt7sWx2Yb5Hc9Jd4Fg6Mn1"
OTHER = "a-different-random-secret-0123456789"


def entry(path, name="agentopia"):
    """The hash the file holds for name, as text."""
    return HtpasswdFile(str(path)).get_hash(name).decode()


def cost_of(hashed):
    return bcrypt.from_string(hashed).rounds


@pytest.fixture
def path(tmp_path):
    return tmp_path / "htpasswd"


def args(path, **more):
    return {"path": str(path), "name": "agentopia", "password": PASSWORD, **more}


def test_creates_the_file_with_the_entry_at_the_cost(run_module, path):
    result = run_module(htpasswd_entry.main, args(path, mode="0400"), diff=True)
    assert result["changed"] is True
    assert result["entry"] == "created"
    assert result["diff"]["before"] == {"path": str(path), "state": "absent", "entry of agentopia": "absent"}
    assert result["diff"]["after"] == {
        "path": str(path),
        "state": "file",
        "entry of agentopia": "bcrypt, cost 5 (new hash)",
    }
    hashed = entry(path)
    assert hashed.startswith("$2b$05$")
    assert bcrypt.verify(PASSWORD, hashed)
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert [p.name for p in path.parent.iterdir()] == ["htpasswd"]  # no temporary file left


def test_default_cost_is_5_and_a_rerun_is_unchanged(run_module, path):
    run_module(htpasswd_entry.main, args(path, mode="0400"))
    before = path.read_bytes()
    again = run_module(htpasswd_entry.main, args(path, mode="0400"), diff=True)
    assert again["changed"] is False
    assert again["entry"] == "unchanged"
    assert path.read_bytes() == before
    assert cost_of(entry(path)) == 5
    assert again["diff"]["before"] == again["diff"]["after"]


def test_a_new_password_rewrites_the_entry(run_module, path):
    run_module(htpasswd_entry.main, args(path))
    old = entry(path)
    result = run_module(htpasswd_entry.main, args(path, password=OTHER))
    assert result["changed"] is True
    assert result["entry"] == "updated"
    assert entry(path) != old
    assert bcrypt.verify(OTHER, entry(path))
    assert not bcrypt.verify(PASSWORD, entry(path))


@pytest.mark.parametrize(("old_cost", "new_cost"), [(12, 5), (5, 6), (6, 4)])
def test_a_new_cost_rewrites_an_entry_that_still_verifies(run_module, path, old_cost, new_cost):
    # An entry community.general.htpasswd wrote (passlib's default, cost 12) is the upgrade case.
    old = CryptContext(schemes=["bcrypt"], bcrypt__rounds=old_cost).hash(PASSWORD)
    path.write_text(f"agentopia:{old}\n")
    result = run_module(htpasswd_entry.main, args(path, cost=new_cost), diff=True)
    assert result["changed"] is True
    assert result["entry"] == "updated"
    assert cost_of(entry(path)) == new_cost
    assert bcrypt.verify(PASSWORD, entry(path))
    assert result["diff"]["before"]["entry of agentopia"] == f"bcrypt, cost {old_cost}"
    assert result["diff"]["after"]["entry of agentopia"] == f"bcrypt, cost {new_cost} (new hash)"
    assert run_module(htpasswd_entry.main, args(path, cost=new_cost))["changed"] is False


def test_an_entry_that_is_not_bcrypt_is_rewritten(run_module, path):
    path.write_text("agentopia:$apr1$HxI2Uo7b$ugXoDzQF2i3QrDp4eDjg1/\n")
    result = run_module(htpasswd_entry.main, args(path), diff=True)
    assert result["entry"] == "updated"
    assert result["diff"]["before"]["entry of agentopia"] == "not bcrypt"
    assert bcrypt.verify(PASSWORD, entry(path))


def test_other_lines_are_kept(run_module, path):
    theirs = CryptContext(schemes=["bcrypt"], bcrypt__rounds=4).hash("theirs")
    ours = CryptContext(schemes=["bcrypt"], bcrypt__rounds=12).hash(PASSWORD)
    path.write_text(f"# managed in part\nalice:{theirs}\nagentopia:{ours}\nbob:$apr1$HxI2Uo7b$ugXoDzQF2i3QrDp4eDjg1/\n")
    run_module(htpasswd_entry.main, args(path))
    lines = path.read_text().splitlines()
    assert lines[0] == "# managed in part"
    assert lines[1] == f"alice:{theirs}"
    assert lines[2].startswith("agentopia:$2b$05$")
    assert lines[3] == "bob:$apr1$HxI2Uo7b$ugXoDzQF2i3QrDp4eDjg1/"


def test_a_new_user_is_added_after_the_others(run_module, path):
    path.write_text("alice:$apr1$HxI2Uo7b$ugXoDzQF2i3QrDp4eDjg1/\n")
    result = run_module(htpasswd_entry.main, args(path))
    assert result["entry"] == "created"
    assert path.read_text().splitlines()[0] == "alice:$apr1$HxI2Uo7b$ugXoDzQF2i3QrDp4eDjg1/"
    assert bcrypt.verify(PASSWORD, entry(path))


def test_a_rewrite_keeps_the_file_mode(run_module, path):
    run_module(htpasswd_entry.main, args(path, mode="0440"))
    run_module(htpasswd_entry.main, args(path, password=OTHER))
    assert stat.S_IMODE(path.stat().st_mode) == 0o440


def test_a_new_mode_alone_is_a_change(run_module, path):
    run_module(htpasswd_entry.main, args(path, mode="0400"))
    before = path.read_bytes()
    result = run_module(htpasswd_entry.main, args(path, mode="0440"), diff=True)
    assert result["changed"] is True
    assert result["entry"] == "unchanged"
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o440
    assert result["diff"]["before"]["mode"] == "0400"
    assert result["diff"]["after"]["mode"] == "0440"


def test_check_mode_writes_nothing(run_module, path):
    result = run_module(htpasswd_entry.main, args(path, mode="0400"), check_mode=True)
    assert result["changed"] is True
    assert result["entry"] == "created"
    assert not path.exists()

    run_module(htpasswd_entry.main, args(path, mode="0400"))
    before = path.read_bytes()
    for changed in ({"password": OTHER}, {"cost": 6}, {"mode": "0440"}):
        result = run_module(htpasswd_entry.main, args(path, **{"mode": "0400", **changed}), check_mode=True)
        assert result["changed"] is True, changed
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert run_module(htpasswd_entry.main, args(path, mode="0400"), check_mode=True)["changed"] is False


def test_neither_the_password_nor_the_hash_is_in_the_result(run_module, path):
    run_module(htpasswd_entry.main, args(path, cost=12))
    old = entry(path)
    result = run_module(htpasswd_entry.main, args(path, password=OTHER), diff=True)
    text = repr(result)
    for secret in (PASSWORD, OTHER, old, entry(path), old[7:29], entry(path)[7:29]):
        assert secret not in text
    assert result["diff"]["before"] == {"path": str(path), "state": "file", "entry of agentopia": "bcrypt, cost 12"}
    assert result["diff"]["after"] == {
        "path": str(path),
        "state": "file",
        "entry of agentopia": "bcrypt, cost 5 (new hash)",
    }


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"cost": 3}, "htpasswd_entry: cost must be from 4 to 31, got 3"),
        ({"cost": 32}, "htpasswd_entry: cost must be from 4 to 31, got 32"),
        ({"password": ""}, "htpasswd_entry: password of agentopia is empty"),
        ({"name": "a:b"}, "htpasswd_entry: "),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(run_module, path, more, message):
    with pytest.raises(run_module.Fail) as failed:
        run_module(htpasswd_entry.main, args(path, **more))
    assert message in failed.value.result["msg"]
    assert not path.exists()


def test_a_missing_directory_fails_naming_the_file(run_module, tmp_path):
    missing = tmp_path / "nowhere" / "htpasswd"
    with pytest.raises(run_module.Fail) as failed:
        run_module(htpasswd_entry.main, args(missing))
    assert failed.value.result["msg"].startswith(f"htpasswd_entry: cannot write {missing}: ")


def test_without_passlib_it_says_what_to_install(run_module, path, monkeypatch):
    monkeypatch.setattr(htpasswd_entry, "PASSLIB", Library(htpasswd_entry.PASSLIB.name, "ImportError: passlib"))
    with pytest.raises(run_module.Fail) as failed:
        run_module(htpasswd_entry.main, args(path))
    assert "python3-passlib" in failed.value.result["msg"]
    assert not os.path.exists(path)
