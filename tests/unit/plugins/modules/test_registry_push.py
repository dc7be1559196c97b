# SPDX-License-Identifier: GPL-3.0-or-later
"""registry_push as a whole, over an in-memory engine and registry: what a no-op rerun, a rebuilt image, check mode,
a refused push and the record do."""

import json

import pytest
from ansible.module_utils import basic
from ansible_collections.agentopia.toolbox.plugins.modules import registry_push
from docker.errors import APIError, NotFound

REGISTRY = "molecule-tb1:5000"
BASE = "agentopia/base:0.1.0"
MEMORY = "agentopia/mcp-memory:0.1.0"


def digest(char):
    return "sha256:" + char * 64


class FakeApi:
    """The engine calls registry_push makes, with the registry behind the engine as a set of manifests."""

    def __init__(self, images):
        self.images = images  # ref or tag -> inspect dict (shared dicts: a tag is the same image)
        self.manifests = set()  # "repo@digest" the registry holds
        self.calls = []
        self.refuse = None

    def inspect_image(self, ref):
        if ref not in self.images:
            raise NotFound(f"No such image: {ref}")
        return json.loads(json.dumps(self.images[ref]))

    def inspect_distribution(self, reference):
        self.calls.append(("inspect_distribution", reference))
        if reference not in self.manifests:
            raise NotFound("manifest unknown")
        # Docker 20.10's answer, as recorded on a lab node.
        return {
            "Descriptor": {
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "digest": reference.rpartition("@")[2],
                "size": 529,
            },
            "Platforms": [{"architecture": "amd64", "os": "linux"}],
        }

    def tag(self, ref, repo, tag, force=False):
        self.calls.append(("tag", ref, f"{repo}:{tag}"))
        image = self.images[ref]
        image["RepoTags"].append(f"{repo}:{tag}")
        self.images[f"{repo}:{tag}"] = image
        return True

    def push(self, repo, tag=None, stream=False, decode=False):
        self.calls.append(("push", f"{repo}:{tag}"))
        yield {"status": f"The push refers to repository [{repo}]"}
        if self.refuse:
            yield {"errorDetail": {"message": self.refuse}, "error": self.refuse}
            return
        image = self.images[f"{repo}:{tag}"]
        new = "sha256:" + image["Id"][-64:]
        image["RepoDigests"] = [d for d in image["RepoDigests"] if not d.startswith(repo + "@")] + [f"{repo}@{new}"]
        self.manifests.add(f"{repo}@{new}")
        yield {"status": f"{tag}: digest: {new} size: 1570", "aux": {"Tag": tag, "Digest": new, "Size": 1570}}


class FakeClient:
    def __init__(self, api):
        self.api = api


@pytest.fixture
def warnings(monkeypatch):
    said = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, message: said.append(message))
    return said


@pytest.fixture
def api(monkeypatch):
    images = {
        BASE: {"Id": digest("b"), "RepoTags": [BASE], "RepoDigests": []},
        MEMORY: {"Id": digest("m"), "RepoTags": [MEMORY], "RepoDigests": []},
    }
    fake = FakeApi(images)
    monkeypatch.setattr(registry_push, "docker_client", lambda host, timeout: FakeClient(fake))
    return fake


def args(tmp_path, **more):
    return {
        "images": [BASE, MEMORY],
        "registry": REGISTRY,
        "keys": {"memory": MEMORY},
        "record": str(tmp_path / "agentopia" / "registry-published.json"),
        **more,
    }


def pushes(api):
    return [call for call in api.calls if call[0] in ("tag", "push")]


def test_first_push_then_a_rerun_does_nothing(run_module, api, tmp_path):
    first = run_module(registry_push.main, args(tmp_path))
    assert first["changed"] and first["pushed"] == [BASE, MEMORY] and first["current"] == []
    assert first["digests"] == {
        BASE: f"{REGISTRY}/agentopia/base@{digest('b')}",
        MEMORY: f"{REGISTRY}/agentopia/mcp-memory@{digest('m')}",
    }
    record = json.loads((tmp_path / "agentopia" / "registry-published.json").read_text())
    assert record == {"schema": 1, "registry": REGISTRY, "digests": first["digests"], "keys": {"memory": MEMORY}}

    api.calls.clear()
    again = run_module(registry_push.main, args(tmp_path))
    assert not again["changed"] and again["pushed"] == [] and again["current"] == [BASE, MEMORY]
    assert again["digests"] == first["digests"]
    # One manifest check per image, nothing tagged or pushed.
    assert api.calls == [("inspect_distribution", d) for d in first["digests"].values()]


def test_a_rebuilt_image_alone_is_pushed(run_module, api, tmp_path):
    run_module(registry_push.main, args(tmp_path))
    api.images[MEMORY] = {"Id": digest("n"), "RepoTags": [MEMORY], "RepoDigests": []}
    api.calls.clear()
    result = run_module(registry_push.main, args(tmp_path))
    assert result["changed"] and result["pushed"] == [MEMORY] and result["current"] == [BASE]
    assert pushes(api) == [("tag", MEMORY, f"{REGISTRY}/{MEMORY}"), ("push", f"{REGISTRY}/{MEMORY}")]
    assert result["digests"][MEMORY] == f"{REGISTRY}/agentopia/mcp-memory@{digest('n')}"


def test_a_registry_that_lost_its_data_gets_everything_again(run_module, api, tmp_path):
    run_module(registry_push.main, args(tmp_path))
    api.manifests.clear()
    api.calls.clear()
    result = run_module(registry_push.main, args(tmp_path))
    # The images keep their registry tags: only pushed.
    assert result["pushed"] == [BASE, MEMORY]
    assert [call[0] for call in pushes(api)] == ["tag", "push", "tag", "push"]


def test_check_mode_names_what_it_would_push_and_changes_nothing(run_module, api, tmp_path):
    run_module(registry_push.main, args(tmp_path))
    path = tmp_path / "agentopia" / "registry-published.json"
    before = path.read_text()
    api.images[MEMORY] = {"Id": digest("n"), "RepoTags": [MEMORY], "RepoDigests": []}
    api.calls.clear()
    result = run_module(registry_push.main, args(tmp_path), check_mode=True, diff=True)
    assert result["changed"] and result["pushed"] == [MEMORY] and result["current"] == [BASE]
    assert pushes(api) == [] and path.read_text() == before
    # The new digest is not known before the push: the image is left out rather than given a stale one.
    assert list(result["digests"]) == [BASE]
    assert "diff" not in result  # the record would not change: the old digest stays until the push


def test_check_mode_on_a_new_registry_shows_the_record_it_would_write(run_module, api, tmp_path):
    result = run_module(registry_push.main, args(tmp_path), check_mode=True, diff=True)
    assert result["pushed"] == [BASE, MEMORY] and result["digests"] == {}
    assert result["diff"]["before"] == "" and json.loads(result["diff"]["after"])["keys"] == {"memory": MEMORY}
    assert not (tmp_path / "agentopia").exists()


def test_check_mode_reports_a_pending_image_as_to_push_whatever_the_registry_holds(run_module, api, tmp_path):
    first = run_module(registry_push.main, args(tmp_path))
    path = tmp_path / "agentopia" / "registry-published.json"
    before = path.read_text()
    api.calls.clear()
    # The images stage's check run will rebuild the memory image; the engine and the registry still hold the old one.
    result = run_module(registry_push.main, args(tmp_path, pending=[MEMORY]), check_mode=True, diff=True)
    assert result["changed"] and result["pushed"] == [MEMORY] and result["current"] == [BASE]
    # No digest for it (the new one is not known), the other image current with its digest.
    assert result["digests"] == {BASE: first["digests"][BASE]}
    # The registry was asked about the base only, and nothing was tagged, pushed or written.
    assert api.calls == [("inspect_distribution", first["digests"][BASE])]
    assert path.read_text() == before and "diff" not in result


def test_check_mode_lets_a_pending_image_be_missing_from_the_engine(run_module, api, tmp_path):
    # A first run: the images stage's check run did not build it, so it is not there yet.
    del api.images[MEMORY]
    result = run_module(registry_push.main, args(tmp_path, pending=[MEMORY]), check_mode=True)
    assert result["pushed"] == [BASE, MEMORY] and result["digests"] == {}
    # A real run still needs it there.
    with pytest.raises(run_module.Fail) as failed:
        run_module(registry_push.main, args(tmp_path, pending=[MEMORY]))
    assert f"{MEMORY} not on this host's engine" in failed.value.result["msg"]
    assert pushes(api) == []


def test_a_pending_image_in_a_real_run_is_pushed_again(run_module, api, tmp_path):
    first = run_module(registry_push.main, args(tmp_path))
    api.calls.clear()
    result = run_module(registry_push.main, args(tmp_path, pending=[MEMORY]))
    assert result["changed"] and result["pushed"] == [MEMORY] and result["current"] == [BASE]
    assert pushes(api) == [("tag", MEMORY, f"{REGISTRY}/{MEMORY}"), ("push", f"{REGISTRY}/{MEMORY}")]
    # The same bytes again: the same digest.
    assert result["digests"] == first["digests"]


def test_a_pending_image_that_is_not_one_of_images_fails_before_any_push(run_module, api, tmp_path):
    with pytest.raises(run_module.Fail) as failed:
        run_module(registry_push.main, args(tmp_path, pending=["agentopia/mcp-time:0.1.0"]))
    assert failed.value.result["msg"] == (
        "registry_push: pending names 'agentopia/mcp-time:0.1.0', which is not one of images; "
        "add it to images or drop it from pending"
    )
    assert api.calls == []
    assert not (tmp_path / "agentopia").exists()


def test_a_refused_push_fails_naming_the_image_with_what_was_done(run_module, api, tmp_path):
    api.refuse = "unauthorized: authentication required"
    with pytest.raises(run_module.Fail) as failed:
        run_module(registry_push.main, args(tmp_path))
    result = failed.value.result
    assert result["msg"] == f"registry_push: pushing {BASE} to {REGISTRY} failed: unauthorized: authentication required"
    assert result["pushed"] == [BASE]


def test_a_registry_that_cannot_be_asked_is_warned_about_and_pushed_to(
    run_module, api, tmp_path, monkeypatch, warnings
):
    run_module(registry_push.main, args(tmp_path))

    def refused(reference):
        raise APIError("500 Server Error: connection refused")

    monkeypatch.setattr(api, "inspect_distribution", refused)
    result = run_module(registry_push.main, args(tmp_path, record=None))
    assert result["pushed"] == [BASE, MEMORY]
    assert any("could not ask the registry about agentopia/base:0.1.0" in w for w in warnings)


def test_a_missing_image_and_a_bad_key_fail_before_any_push(run_module, api, tmp_path):
    with pytest.raises(run_module.Fail) as failed:
        run_module(registry_push.main, args(tmp_path, images=[BASE, "agentopia/nothing:1"], keys={}))
    assert "agentopia/nothing:1 not on this host's engine" in failed.value.result["msg"]
    with pytest.raises(run_module.Fail) as failed:
        run_module(registry_push.main, args(tmp_path, keys={"gateway": "agentopia/gateway:0.1.0"}))
    assert "keys.gateway names 'agentopia/gateway:0.1.0', which is not one of images" in failed.value.result["msg"]
    with pytest.raises(run_module.Fail) as failed:
        run_module(registry_push.main, args(tmp_path, images=["agentopia/base"], keys={}))
    assert "'agentopia/base' is not a local name:tag" in failed.value.result["msg"]
    # The missing image was found missing before anything was tagged or pushed.
    assert pushes(api) == []


def test_a_file_that_is_not_a_record_is_replaced_with_a_warning(run_module, api, tmp_path, warnings):
    path = tmp_path / "agentopia" / "registry-published.json"
    path.parent.mkdir()
    path.write_text("not json")
    result = run_module(registry_push.main, args(tmp_path))
    assert json.loads(path.read_text())["digests"] == result["digests"]
    assert any("is not a registry record" in w for w in warnings)
