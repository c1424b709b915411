import os
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).parent / "plugins"
sys.path.insert(0, str(PLUGINS))  # spawned worker processes inherit sys.path

import toy_plugin  # noqa: E402

from benchbed.plugins import load_registry  # noqa: E402


@pytest.fixture
def registry():
    return load_registry(extra=[("toy", toy_plugin)], entry_point_plugins=False)


def _dist_info(root: Path, dist: str, version: str, entry_points: dict[str, str]) -> None:
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
    (info / "entry_points.txt").write_text(f"[benchbed]\n{lines}")


@pytest.fixture(scope="session")
def installed_plugins(tmp_path_factory) -> Path:
    """A site folder where the test plugins are installed as real distributions."""
    site = tmp_path_factory.mktemp("site")
    _dist_info(site, "toy-plugin", "1.2.3", {"toy": "toy_plugin"})
    _dist_info(site, "broken-plugin", "0.1", {"broken": "broken_import"})
    _dist_info(site, "raising-plugin", "0.2", {"raising": "raising_hook"})
    return site


@pytest.fixture
def cli(installed_plugins, tmp_path):
    """Run the real `benchbed` command in a fresh folder with the test plugins installed."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(installed_plugins), str(PLUGINS)]),
        "BENCHBED_DB": str(tmp_path / "results.db"),
        "BENCHBED_CACHE": str(tmp_path / "cache"),
    }

    def run(*args: str, check: int | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [sys.executable, "-m", "benchbed.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check is not None:
            assert proc.returncode == check, proc.stdout + proc.stderr
        return proc

    run.env = env
    run.cwd = tmp_path
    return run
