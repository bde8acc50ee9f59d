"""A small tmpfs for the tests that need a file system of their own (full disk, read-only remount): mounted
when running as root, the test skipped with the reason otherwise. Shared by tests/journal and tests/adversarial.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "2m") -> Iterator[Path]:
    """`where` (created) with a tmpfs of `size` on it for the `with` block; lazily unmounted after."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root (and mount) to mount a small tmpfs")
    where.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if proc.returncode:
        pytest.skip(f"this container may not mount a tmpfs: {proc.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
