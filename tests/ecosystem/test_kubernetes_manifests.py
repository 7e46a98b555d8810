"""deploy/kubernetes: schema-valid for Kubernetes >= 1.29 and consistent with the image and config.

The schema check runs `kubernetes-validate --strict` (unknown fields are errors), which
tools/check_ecosystem.sh installs; the other checks read the manifests with PyYAML.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service import config
from tests.ecosystem.conftest import REPO_ROOT

MANIFESTS = REPO_ROOT / "deploy" / "kubernetes"
UDS_DEPLOYMENT = MANIFESTS / "deployment.yaml"
TCP_DEPLOYMENT = MANIFESTS / "deployment-tcp.yaml"
DEPLOYMENTS = [UDS_DEPLOYMENT, TCP_DEPLOYMENT]
SIDECAR = "cloudfront-facade"
# Native sidecars (restartPolicy: Always on an init container) are on by default from 1.29.
OLDEST_SUPPORTED = "1.29.0"

yaml = pytest.importorskip("yaml", reason="PyYAML is missing (check_ecosystem.sh installs it)")

Manifest = dict[str, Any]


def load(path: Path) -> Manifest:
    document: Manifest = yaml.safe_load(path.read_text())
    return document


def pod(path: Path) -> Manifest:
    spec: Manifest = load(path)["spec"]["template"]["spec"]
    return spec


def sidecar(path: Path) -> Manifest:
    found: list[Manifest] = [c for c in pod(path)["initContainers"] if c["name"] == SIDECAR]
    assert len(found) == 1
    return found[0]


def container(path: Path, name: str) -> Manifest:
    found: list[Manifest] = [c for c in pod(path)["containers"] if c["name"] == name]
    assert len(found) == 1
    return found[0]


def env_of(entry: Manifest) -> dict[str, str]:
    return {item["name"]: item["value"] for item in entry.get("env", []) if "value" in item}


def image_uid() -> int:
    match = re.search(r"^USER\s+(\d+)", (REPO_ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match is not None, "the Dockerfile sets no numeric USER"
    return int(match.group(1))


@pytest.mark.parametrize("version", [OLDEST_SUPPORTED, None], ids=["oldest", "newest-known"])
def test_manifests_pass_strict_schema_validation(version: str | None) -> None:
    if importlib.util.find_spec("kubernetes_validate") is None:
        pytest.skip("kubernetes-validate is not installed (tools/check_ecosystem.sh installs it)")
    pinned = ["--kubernetes-version", version] if version else []
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            *pinned,
            *sorted(str(p) for p in MANIFESTS.glob("*.yaml")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.name)
def test_facade_is_a_native_sidecar_init_container(path: Path) -> None:
    assert sidecar(path)["restartPolicy"] == "Always"
    assert SIDECAR not in {c["name"] for c in pod(path)["containers"]}


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.name)
def test_every_container_is_locked_down(path: Path) -> None:
    spec = pod(path)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for entry in spec["initContainers"] + spec["containers"]:
        context = entry["securityContext"]
        assert context["runAsNonRoot"] is True, entry["name"]
        assert context["readOnlyRootFilesystem"] is True, entry["name"]
        assert context["allowPrivilegeEscalation"] is False, entry["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, entry["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, entry["name"]


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.name)
def test_pod_runs_as_the_images_numeric_user(path: Path) -> None:
    assert pod(path)["securityContext"]["runAsUser"] == image_uid()


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.name)
def test_facade_environment_is_a_valid_configuration(path: Path, tmp_path: Path) -> None:
    environ = env_of(sidecar(path))
    if "CLOUDFRONT_FACADE_AUTH_TOKEN_FILE" in environ:  # the Secret's file, stood in for
        token = tmp_path / "token"
        token.write_text("example-token\n")
        environ["CLOUDFRONT_FACADE_AUTH_TOKEN_FILE"] = str(token)
    settings = config.load([], environ)
    assert settings.listen == env_of(sidecar(path))["CLOUDFRONT_FACADE_LISTEN"]


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.name)
def test_termination_grace_outlasts_the_facade_drain(path: Path) -> None:
    grace = float(env_of(sidecar(path))["CLOUDFRONT_FACADE_SHUTDOWN_GRACE"])
    assert pod(path)["terminationGracePeriodSeconds"] > grace


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.name)
def test_facade_requests_cpu_and_memory_and_limits_memory_only(path: Path) -> None:
    assert sidecar(path)["resources"] == {
        "requests": {"cpu": "100m", "memory": "96Mi"},
        "limits": {"memory": "192Mi"},
    }


def test_unix_socket_probes_exec_the_health_check_on_the_listen_socket() -> None:
    facade = sidecar(UDS_DEPLOYMENT)
    listen = env_of(facade)["CLOUDFRONT_FACADE_LISTEN"]
    assert listen.startswith("unix:/")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert facade[probe]["exec"]["command"] == [
            "cloudfront-facade",
            "health",
            "--target",
            listen,
        ]


def test_unix_socket_lives_on_a_volume_shared_with_the_app() -> None:
    socket_dir = str(Path(env_of(sidecar(UDS_DEPLOYMENT))["CLOUDFRONT_FACADE_LISTEN"][5:]).parent)
    app = container(UDS_DEPLOYMENT, "app")
    facade_mounts = {m["mountPath"]: m["name"] for m in sidecar(UDS_DEPLOYMENT)["volumeMounts"]}
    app_mounts = {m["mountPath"]: m["name"] for m in app["volumeMounts"]}
    assert facade_mounts[socket_dir] == app_mounts[socket_dir]
    volume = {v["name"]: v for v in pod(UDS_DEPLOYMENT)["volumes"]}[facade_mounts[socket_dir]]
    assert "emptyDir" in volume
    assert env_of(app)["FACADE_ADDR"] == env_of(sidecar(UDS_DEPLOYMENT))["CLOUDFRONT_FACADE_LISTEN"]


def test_tcp_probes_are_native_grpc_probes_on_the_listen_port() -> None:
    facade = sidecar(TCP_DEPLOYMENT)
    host, _, port = env_of(facade)["CLOUDFRONT_FACADE_LISTEN"].rpartition(":")
    assert host == "0.0.0.0"  # kubelet probes the pod IP
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert facade[probe]["grpc"] == {"port": int(port)}


def test_tcp_variant_requires_callers_to_present_a_token() -> None:
    assert "CLOUDFRONT_FACADE_AUTH_TOKEN_FILE" in env_of(sidecar(TCP_DEPLOYMENT))


def test_service_account_is_annotated_for_irsa_and_used_by_both_deployments() -> None:
    account = load(MANIFESTS / "serviceaccount.yaml")
    role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", role)
    for path in DEPLOYMENTS:
        assert pod(path)["serviceAccountName"] == account["metadata"]["name"]
