"""Shared fixtures for the ecosystem checks: the image, the manifests, the policy, the clients."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# The environment is already free of AWS, facade, gRPC and proxy settings (tests/conftest.py);
# a child that installs or imports the package must also not see this checkout on its path.
_DROPPED_NAMES = {"PYTHONPATH", "PYTHONHOME"}


@pytest.fixture(scope="session")
def child_env() -> dict[str, str]:
    """The environment for child processes: this one without a Python path of its own."""
    return {name: value for name, value in os.environ.items() if name not in _DROPPED_NAMES}


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A fresh directory with a short path: a unix socket path must fit in 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="cff-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
