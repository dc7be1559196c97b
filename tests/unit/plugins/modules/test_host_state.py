# SPDX-License-Identifier: GPL-3.0-or-later
"""host_state reads and never changes: dpkg and systemctl faked, real paths, a fake engine socket, real /proc."""

import base64
import contextlib
import grp
import hashlib
import http.server
import json
import os
import pwd
import resource
import socketserver
import threading
import types

import pytest
from ansible.module_utils import basic
from ansible_collections.agentopia.toolbox.plugins.modules import host_state

DPKG_OUTPUT = (
    "docker.io\t20.10.24+dfsg1-1+deb12u1\thold ok installed\n"
    "containerd\t1.6.20~ds1-1+b1\tinstall ok installed\n"
    "runc\t1.1.5+ds1-1+b1\tdeinstall ok config-files\n"
    "docker-doc\t20.10.24+dfsg1-1+deb12u1\tinstall ok installed\n"
)
INFO = {"ServerVersion": "20.10.24+dfsg1", "Swarm": {"LocalNodeState": "active", "NodeID": "abc"}}
NO_ENGINE = {"version": None, "swarm": {}}


@pytest.fixture(name="host")
def fixture_host(monkeypatch):
    """Fakes the host's tools: `tools` is what shutil.which finds, `answers` maps a command prefix to (rc, out, err);
    every command the module runs is recorded in `calls`."""
    host = types.SimpleNamespace(tools={}, answers=[], calls=[])

    def which(name):
        return host.tools.get(name)

    def run_command(self, args, **kwargs):
        host.calls.append(list(args))
        for prefix, answer in host.answers:
            if list(args[: len(prefix)]) == prefix:
                return answer
        raise AssertionError(f"unexpected command {args}")

    monkeypatch.setattr(host_state, "shutil", types.SimpleNamespace(which=which))
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    return host


class EngineHandler(http.server.BaseHTTPRequestHandler):
    """The engine's API on its socket: GET /info answers the server's `info` with the server's `status`."""

    def do_GET(self):
        self.server.requests.append(self.path)
        if self.path == "/info":
            status, body = self.server.status, json.dumps(self.server.info).encode()
        elif self.path in self.server.objects:
            status, body = 200, json.dumps(self.server.objects[self.path]).encode()
        else:
            status, body = 404, b'{"message": "page not found"}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The module closes without reading the body of an error it does not need.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format, *args):  # a unix socket has no client address to log
        pass


@pytest.fixture(name="engine")
def fixture_engine(monkeypatch, tmp_path):
    """A fake engine on a unix socket in tmp_path, which host_state is pointed at; shut down after the test."""
    path = str(tmp_path / "docker.sock")
    server = socketserver.UnixStreamServer(path, EngineHandler)
    server.status, server.info, server.requests, server.objects = 200, INFO, [], {}
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setattr(host_state, "DOCKER_SOCKET", path)
    monkeypatch.setattr(host_state, "ENGINE_TIMEOUT", 2)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(name="my_name")
def fixture_my_name():
    """Gives this process a command name no other process has, and puts the old one back afterwards."""
    with open("/proc/self/comm") as handle:
        old = handle.read().rstrip("\n")
    name = f"hstate{os.getpid()}"[:15]
    with open("/proc/self/comm", "w") as handle:
        handle.write(name)
    try:
        yield name
    finally:
        with open("/proc/self/comm", "w") as handle:
            handle.write(old)


def test_packages_report_installed_version_and_selection_from_one_dpkg_query(run_module, host):
    host.tools["dpkg-query"] = "/usr/bin/dpkg-query"
    # dpkg-query exits 1 when one name is unknown, and still prints the others.
    host.answers.append((["dpkg-query"], (1, DPKG_OUTPUT, "dpkg-query: no packages found matching nosuch\n")))
    result = run_module(host_state.main, {"packages": ["docker.io", "containerd", "runc", "nosuch"]})
    assert result["packages"] == {
        "docker.io": {"installed": True, "version": "20.10.24+dfsg1-1+deb12u1", "selection": "hold"},
        "containerd": {"installed": True, "version": "1.6.20~ds1-1+b1", "selection": "install"},
        "runc": {"installed": False, "version": None, "selection": None},
        "nosuch": {"installed": False, "version": None, "selection": None},
    }
    # A line for a name not asked for (a pattern's match) is left out.
    assert len(host.calls) == 1
    assert host.calls[0][:3] == ["dpkg-query", "-W", "-f"]
    assert host.calls[0][4:] == ["docker.io", "containerd", "runc", "nosuch"]


def test_packages_are_not_installed_without_dpkg_query_and_nothing_runs(run_module, host):
    result = run_module(host_state.main, {"packages": ["docker.io"]})
    assert result["packages"] == {"docker.io": {"installed": False, "version": None, "selection": None}}
    assert host.calls == []


def test_a_package_dpkg_does_not_print_is_not_installed(run_module, host):
    host.tools["dpkg-query"] = "/usr/bin/dpkg-query"
    host.answers.append((["dpkg-query"], (0, "containerd\t1.6.20~ds1-1+b1\tinstall ok installed\n", "")))
    result = run_module(host_state.main, {"packages": ["containerd", "runc"]})
    assert result["packages"]["containerd"]["installed"] is True
    assert result["packages"]["runc"] == {"installed": False, "version": None, "selection": None}


def test_services_are_active_and_enabled_by_systemctl_exit_codes(run_module, host):
    host.tools["systemctl"] = "/usr/bin/systemctl"
    host.answers.append((["/usr/bin/systemctl", "is-active"], (0, "", "")))
    host.answers.append((["/usr/bin/systemctl", "is-enabled"], (3, "", "")))
    result = run_module(host_state.main, {"services": ["docker"]})
    assert result["services"] == {"docker": {"active": True, "enabled": False}}
    assert sorted(host.calls) == [
        ["/usr/bin/systemctl", "is-active", "--quiet", "docker"],
        ["/usr/bin/systemctl", "is-enabled", "--quiet", "docker"],
    ]


def test_an_inactive_enabled_service(run_module, host):
    host.tools["systemctl"] = "/usr/bin/systemctl"
    host.answers.append((["/usr/bin/systemctl", "is-active"], (3, "", "")))
    host.answers.append((["/usr/bin/systemctl", "is-enabled"], (0, "", "")))
    result = run_module(host_state.main, {"services": ["containerd"]})
    assert result["services"] == {"containerd": {"active": False, "enabled": True}}


def test_services_are_neither_active_nor_enabled_without_systemctl(run_module, host):
    result = run_module(host_state.main, {"services": ["docker", "containerd"]})
    assert result["services"] == {
        "docker": {"active": False, "enabled": False},
        "containerd": {"active": False, "enabled": False},
    }
    assert host.calls == []


def test_paths_report_owner_group_and_mode_of_real_files(run_module, tmp_path):
    secret = tmp_path / "daemon.json"
    secret.write_text("{}\n")
    os.chmod(secret, 0o640)
    missing = tmp_path / "absent.sock"
    result = run_module(host_state.main, {"paths": [str(secret), str(missing)]})
    assert result["paths"] == {
        str(secret): {
            "exists": True,
            "owner": pwd.getpwuid(os.getuid()).pw_name,
            "group": grp.getgrgid(os.getgid()).gr_name,
            "mode": "0640",
        },
        str(missing): {"exists": False},
    }


def unused(lookup, start=40000):
    number = start
    while True:
        try:
            lookup(number)
        except KeyError:
            return number
        number += 1


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_an_owner_without_a_name_is_its_id_and_the_group_its_own_name(run_module, tmp_path):
    orphan = tmp_path / "orphan"
    orphan.write_text("x\n")
    uid = unused(pwd.getpwuid)
    group = next(entry for entry in grp.getgrall() if entry.gr_name != str(uid) and entry.gr_gid != os.getgid())
    os.chown(orphan, uid, group.gr_gid)
    result = run_module(host_state.main, {"paths": [str(orphan)]})
    assert result["paths"][str(orphan)]["owner"] == str(uid)
    assert result["paths"][str(orphan)]["group"] == group.gr_name


def test_a_symlink_is_not_followed(run_module, tmp_path):
    target = tmp_path / "target"
    target.write_text("x\n")
    os.chmod(target, 0o600)
    link = tmp_path / "link"
    link.symlink_to(target)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    result = run_module(host_state.main, {"paths": [str(link), str(dangling)]})
    assert result["paths"][str(link)]["mode"] == f"{os.lstat(link).st_mode & 0o7777:04o}"
    assert result["paths"][str(link)]["mode"] != "0600"
    # A link to nowhere still exists itself.
    assert result["paths"][str(dangling)]["exists"] is True


def test_docker_reports_the_engine_version_and_swarm(run_module, engine):
    result = run_module(host_state.main, {"docker": True})
    assert result["docker"] == {"version": "20.10.24+dfsg1", "swarm": {"LocalNodeState": "active", "NodeID": "abc"}}
    assert engine.requests == ["/info"]


def test_docker_without_a_socket_reports_no_engine(run_module, monkeypatch, tmp_path):
    monkeypatch.setattr(host_state, "DOCKER_SOCKET", str(tmp_path / "docker.sock"))
    result = run_module(host_state.main, {"docker": True})
    assert result["docker"] == NO_ENGINE


def test_docker_reports_no_engine_when_it_answers_an_error(run_module, engine):
    engine.status = 500
    result = run_module(host_state.main, {"docker": True})
    assert result["docker"] == NO_ENGINE
    assert engine.requests == ["/info"]


def test_docker_is_not_read_unless_asked(run_module, engine):
    result = run_module(host_state.main, {"paths": []})
    assert "docker" not in result
    assert engine.requests == []


def test_nofile_of_reads_the_hard_limit_of_a_running_process(run_module, my_name):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    expected = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
    # A soft limit below the hard one, so that reading the soft one instead would show.
    if soft == hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024 if hard == resource.RLIM_INFINITY else hard - 1, hard))
    try:
        result = run_module(host_state.main, {"nofile_of": [my_name, "no-such-proc"]})
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert result["nofile_of"] == {my_name: expected, "no-such-proc": None}


def test_reading_changes_nothing_and_check_mode_reads_the_same(run_module, tmp_path):
    unit = tmp_path / "docker.service"
    unit.write_text("[Unit]\n")
    os.chmod(unit, 0o644)
    args = {"paths": [str(unit), str(tmp_path / "absent")]}
    real = run_module(host_state.main, args)
    checked = run_module(host_state.main, args, check_mode=True)
    assert real["changed"] is False
    assert checked == real
    assert real["paths"][str(unit)]["mode"] == "0644"
    assert unit.read_text() == "[Unit]\n"
    assert sorted(os.listdir(tmp_path)) == ["docker.service"]


def test_a_path_under_a_file_does_not_exist(run_module, tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x\n")
    result = run_module(host_state.main, {"paths": [str(plain / "child")]})
    assert result["paths"] == {str(plain / "child"): {"exists": False}}


def test_a_path_it_may_not_read_fails_naming_it(run_module, tmp_path, monkeypatch):
    def refused(path):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(host_state.os, "lstat", refused)
    with pytest.raises(run_module.Fail) as failed:
        run_module(host_state.main, {"paths": [str(tmp_path / "secret")]})
    assert (
        failed.value.result["msg"]
        == f"host_state: cannot read {tmp_path / 'secret'}: [Errno 13] Permission denied: '{tmp_path / 'secret'}'"
    )


def test_images_and_containers_found_on_the_engine_and_the_others_left_out(run_module, engine):
    engine.objects["/images/agentopia/base:0.1.0/json"] = {
        "Id": "sha256:c967",
        "Config": {"Labels": {"org.agentopia.base.inputs": "ab6a"}},
    }
    engine.objects["/containers/agentopia-registry/json"] = {
        "Image": "sha256:3a49",
        "State": {"Running": True, "Health": {"Status": "healthy"}},
        "Config": {"Labels": {"org.agentopia.registry.inputs": "5c0e"}},
    }
    engine.objects["/containers/plain/json"] = {"Image": "sha256:0001", "State": {"Running": False}, "Config": {}}
    result = run_module(
        host_state.main,
        {"images": ["agentopia/base:0.1.0", "absent:1"], "containers": ["agentopia-registry", "plain", "gone"]},
    )
    assert result["images"] == {
        "agentopia/base:0.1.0": {"id": "sha256:c967", "labels": {"org.agentopia.base.inputs": "ab6a"}}
    }
    assert result["containers"] == {
        "agentopia-registry": {
            "image": "sha256:3a49",
            "running": True,
            "health": "healthy",
            "labels": {"org.agentopia.registry.inputs": "5c0e"},
        },
        "plain": {"image": "sha256:0001", "running": False, "health": None, "labels": {}},
    }


def test_logins_are_read_as_a_hash_of_the_stored_credentials_never_as_text(run_module, tmp_path):
    auth = base64.b64encode(b"agentopia:a-long-random-registry-password").decode()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"10.0.0.1:5000": {"auth": auth}, "other:5000": {}}}))
    result = run_module(
        host_state.main,
        {"docker_logins": ["10.0.0.1:5000", "other:5000", "never:5000"], "docker_config": str(config)},
    )
    assert result["docker_logins"] == {
        "10.0.0.1:5000": hashlib.sha256(auth.encode()).hexdigest(),
        "other:5000": None,
        "never:5000": None,
    }
    assert auth not in json.dumps(result) and "a-long-random" not in json.dumps(result)
    missing = run_module(host_state.main, {"docker_logins": ["10.0.0.1:5000"], "docker_config": str(tmp_path / "no")})
    assert missing["docker_logins"] == {"10.0.0.1:5000": None}
