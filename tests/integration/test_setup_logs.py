"""The set-up steps' output is plain text: `make test` (and CI) write it to a log file, where
colour codes are noise. Maven 3.8 writes "\\e[0m" resets even in batch mode with
style.color=never; scripts/mongo-java.sh strips them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
M2 = ROOT / ".cache" / "m2"


@pytest.mark.skipif(
    shutil.which("mvn") is None or not M2.is_dir(),
    reason="needs Maven and its downloads in .cache/m2 (`make install` brings both)",
)
def test_the_mongo_java_build_writes_no_colour_codes(tmp_path):
    """A real build of the launcher, in a copy of the project (its .cache/bin/ is not
    touched: other test sessions run that jar), with Maven's downloads shared."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "mongo-java.sh", tmp_path / "scripts")
    shutil.copytree(ROOT / "tools" / "mongo-java-server", tmp_path / "tools" / "mongo-java-server")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "m2").symlink_to(M2)
    done = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "mongo-java.sh"), "build"],
        env={k: v for k, v in os.environ.items() if k != "MAVEN_OPTS"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=300,
    )
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 0, out
    assert (tmp_path / ".cache" / "bin" / "mongo-java-server.jar").is_file(), out
    assert "building the mongo-java-server" in out
    assert "\x1b[" not in out, repr(out)
