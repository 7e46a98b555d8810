"""`npm ci`, once per directory however many pytest workers need it at the same moment.

Two concurrent `npm ci` runs in one directory delete each other's files (each starts by removing
node_modules), so every caller takes an exclusive lock first and skips the install when the
file it needs is there by the time it holds the lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path


def npm_ci(directory: Path, needs: Path, env: Mapping[str, str] | None = None) -> None:
    """Run `npm ci --no-audit --no-fund` in `directory` unless `needs` exists already."""
    key = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"cloudfront-facade-npm-ci-{key}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if needs.exists():
            return
        npm = shutil.which("npm")
        assert npm is not None, f"npm is needed to install {directory / 'package.json'}"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=directory,
            env=None if env is None else dict(env),
            capture_output=True,
            timeout=600,
            check=True,
        )
