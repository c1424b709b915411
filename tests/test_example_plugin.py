"""The README's third-party plugin, installed with pip and run through the CLI, as a user would."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "benchbed-example"


def test_the_readme_shows_the_example_exactly():
    readme = (ROOT / "README.md").read_text()
    assert (EXAMPLE / "benchbed_example.py").read_text().strip() in readme
    assert (EXAMPLE / "pyproject.toml").read_text().strip() in readme


def test_the_example_installs_with_pip_and_runs_through_the_cli(tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(EXAMPLE),
        ],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "BENCHBED_DB": str(tmp_path / "r.db")}

    def benchbed(*args):
        return subprocess.run(
            [sys.executable, "-m", "benchbed.cli", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert "benchbed-example" in benchbed("plugins")
    out = benchbed("run", "example/digits", "--model", "nearest-centroid", "--seed", "0")
    error_rate = float(out.split("error_rate")[1].split()[0])
    assert 0.02 < error_rate < 0.2  # nearest centroid on digits: about 90% accuracy
    rows = benchbed("results", "--format", "csv")
    assert "example/digits,nearest-centroid" in rows
