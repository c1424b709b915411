"""The built leaderboard in a real browser: headless Chromium opens it from file://.

Chromium is driven through its DevTools protocol over a pipe (--remote-debugging-pipe), so
nothing but the `chromium` package is needed: no driver binary, no websocket library.
"""

from __future__ import annotations

import importlib.util
import json
import os
import select
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

import benchbed
from benchbed import Kind, Metric, ModelSpec, Result, Score, Task
from benchbed.cells import make_cell
from benchbed.leaderboard import build_site
from benchbed.plugins import load_registry
from benchbed.runner import run_cells
from benchbed.store import Store

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

EVIL = '<img src=x onerror="alert(1)">'


class Browser:
    """A headless Chromium page, with every console error, exception, dialog and network
    request outside file:// and data: collected in `problems`."""

    def __init__(self, profile: Path):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()

        def wire_pipes():  # Chromium reads commands on fd 3 and answers on fd 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
                f"--user-data-dir={profile}", "--window-size=1400,1000", "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire_pipes, close_fds=False,
        )  # fmt: skip
        os.close(to_child_r)
        os.close(from_child_w)
        self.out, self.inp = to_child_w, from_child_r
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []
        self.problems: list[str] = []
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=True)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.out)
        os.close(self.inp)

    # -- the protocol ------------------------------------------------------------------

    def send(self, method: str, session: bool = False, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self.out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive(timeout=30)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def _receive(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.inp], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.inp, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self._note(message)
        return message

    def _note(self, event: dict) -> None:
        self.events.append(event)
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.problems.append(f"exception: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = [a.get("value", a.get("description")) for a in params.get("args", [])]
            self.problems.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.problems.append(
                f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}"
            )
        elif method == "Page.javascriptDialogOpening":
            self.problems.append(f"dialog opened: {params.get('message')}")
            self.send("Page.handleJavaScriptDialog", session=True, accept=True)
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("file:", "data:")):
                self.problems.append(f"network request: {url}")

    # -- what a test does --------------------------------------------------------------

    def open(self, path: Path) -> None:
        self.events.clear()
        self.send("Page.navigate", session=True, url=path.resolve().as_uri())
        deadline = time.monotonic() + 30
        while not any(e["method"] == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not load")
            self._receive(timeout=30)

    def follow(self, selector: str) -> None:
        """Open the target of the link `selector` (as a click would, but waiting for it)."""
        href = self.js(f"document.querySelector({json.dumps(selector)}).href")
        self.open(Path(url2pathname(urlparse(href).path)))

    def js(self, expression: str):
        reply = self.send(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True,
            awaitPromise=True,
        )  # fmt: skip
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element."""
        box = self.js(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1],
                button="left", clickCount=1,
            )  # fmt: skip


# -- a store from real runs: the example plugin, a failing model, hostile names, a GPU file ---


class Hostile:
    """A plugin whose every name is an injection attempt, and one of whose models fails."""

    kind = Kind("echo", "answers", methods=("answer",))

    class Model:
        def __init__(self, bias=0.0, crash=False):
            self.bias, self.crash = bias, crash

        def answer(self, i):
            if self.crash:
                raise RuntimeError(f"{EVIL} exploded\nsecond line")
            return (i * 7 + len(str(self.bias))) % 3 != 0

    class EchoTask(Task):
        name = f"evil/{EVIL}"
        kind = Kind("echo", "answers", methods=("answer",))
        metrics = (f"acc{EVIL}",)

        def evaluate(self, model, ctx):
            with ctx.timer.phase("inference", items=60) as phase:
                scores = []
                for i in range(60):
                    with phase.step():
                        scores.append(float(model.answer(i + ctx.seed)))
            return Result({f"acc{EVIL}": Score.mean_of(scores)}, artifacts={"curve": scores[:5]})

    @benchbed.hookimpl
    def benchbed_metrics(self):
        return [Metric(f"acc{EVIL}", benchbed.HIGHER)]

    @benchbed.hookimpl
    def benchbed_tasks(self):
        return [self.EchoTask()]

    @benchbed.hookimpl
    def benchbed_models(self):
        return [ModelSpec(EVIL, ("echo",), self.Model, defaults={"bias": 0.0, "crash": False})]

    @benchbed.hookimpl
    def benchbed_figures(self, task, artifact_name, artifact):
        # A figure with a script in it: shown as an image, the script must never run.
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40">'
            f'<script>alert("figure")</script><text y="20">{len(artifact)} points</text></svg>'
        )


def _example_plugin():
    """The README's example plugin, loaded from its file (installed or not)."""
    path = Path(__file__).parent.parent / "examples" / "benchbed-example" / "benchbed_example.py"
    spec = importlib.util.spec_from_file_location("benchbed_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sklearn", reason="the example plugin needs scikit-learn")
    benchbed_example = _example_plugin()
    tmp = tmp_path_factory.mktemp("browser")
    registry = load_registry(
        extra=[("example", benchbed_example), ("hostile", Hostile())], entry_point_plugins=False
    )
    cpu = Store(tmp / "cpu.db")
    cells = [
        make_cell(registry, "example/digits", "nearest-centroid", params, seed, "cpu")
        for params, seeds in (
            ({}, (0, 1, 2)),
            ({"shrink_threshold": 0.5}, (0,)),
            ({"shrink_threshold": 8}, (0,)),
        )
        for seed in seeds
    ]
    cells += [
        make_cell(registry, Hostile.EchoTask.name, EVIL, params, 0, "cpu")
        for params in ({"bias": f'"><b>{EVIL}'}, {"crash": True})
    ]
    run_cells(registry, cpu, cells, suite="<mixed> & suite", progress=False)
    cpu.close()
    # A GPU results file as scripts/gpu_rows.sh leaves it, written here without a GPU.
    gpu = Store(tmp / "gpu.db")
    with gpu.db.conn:
        gpu.db["cells"].insert(
            {
                "cell_key": "gpu0", "task": "example/digits", "model": "nearest-centroid",
                "params": '{"shrink_threshold": null}', "seed": 0, "device": "cuda",
                "device_name": "NVIDIA H100 80GB HBM3", "status": "ok", "run_id": "gpurun",
                "finished_at": "2026-01-01T00:00:00+00:00", "task_plugin": "benchbed-example@0.1.0",
                "model_plugin": "benchbed-example@0.1.0",
            }
        )  # fmt: skip
        gpu.db["metric_values"].insert({"cell_key": "gpu0", "metric": "error_rate", "value": 0.2})
        gpu.db["timings"].insert(
            {"cell_key": "gpu0", "phase": "inference", "device": "cuda",
             "device_name": "NVIDIA H100 80GB HBM3", "throughput": 9.9e9,
             "latency_p50_ms": 0.01, "latency_p99_ms": 0.02}
        )  # fmt: skip
        gpu.db["runs"].insert(
            {"run_id": "gpurun", "benchbed_version": "0.1.0", "gpu": "NVIDIA H100 80GB HBM3"}
        )
    gpu.close()
    index = build_site([tmp / "cpu.db", tmp / "gpu.db"], tmp / "site", registry=registry)
    return index, [tmp / "cpu.db", tmp / "gpu.db"]


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    chrome = Browser(tmp_path_factory.mktemp("profile"))
    yield chrome
    chrome.close()


@pytest.fixture
def browser(chromium):
    chromium.problems.clear()  # each test answers for its own pages
    return chromium


ROWS_JS = """Array.from(document.querySelectorAll('table.leaderboard tbody tr')).map(tr =>
  Array.from(tr.cells).map(td => td.dataset.value))"""
HEADERS_JS = """Array.from(document.querySelectorAll('table.leaderboard thead th')).map(th =>
  th.textContent.trim())"""


def _expected_digits_rows(dbs) -> dict[tuple, float]:
    """(params, device name) -> mean error rate over ok seeds, straight from the files."""
    expected: dict[tuple, list[float]] = {}
    for db in dbs:
        conn = sqlite3.connect(db)
        for params, device_name, value in conn.execute(
            "SELECT c.params, c.device_name, m.value FROM cells c JOIN metric_values m "
            "USING (cell_key) WHERE c.task = 'example/digits' AND c.status = 'ok'"
        ):
            label = ", ".join(
                f"{k}={'null' if v is None else v}" for k, v in sorted(json.loads(params).items())
            )
            expected.setdefault((label, device_name), []).append(value)
        conn.close()
    return {key: sum(v) / len(v) for key, v in expected.items()}


def test_task_page_rows_match_the_store_and_sort_on_click(site, browser):
    index, dbs = site
    browser.open(index)
    assert browser.js("document.querySelectorAll('#tasks tbody tr').length") == 2
    browser.follow("#tasks tbody tr:nth-child(2) a")
    assert browser.js("document.querySelector('h1 code').textContent") == "example/digits"
    headers = browser.js(HEADERS_JS)
    column = {name.split(" ")[0]: i for i, name in enumerate(headers)}
    rows = browser.js(ROWS_JS)
    shown = {
        (r[column["params"]], r[column["device"]].split(": ", 1)[1]): float(r[column["error_rate"]])
        for r in rows
    }
    expected = _expected_digits_rows(dbs)
    assert shown.keys() == expected.keys()
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value, rel=1e-12)
    # Ranked best first: error rate is lower-is-better.
    means = [float(r[column["error_rate"]]) for r in rows]
    assert means == sorted(means)
    gpu = [r for r in rows if r[column["device"]] == "GPU: NVIDIA H100 80GB HBM3"]
    assert len(gpu) == 1

    browser.click(f"table.leaderboard th:nth-child({column['throughput/s'] + 1})")
    after = [r[column["throughput/s"]] for r in browser.js(ROWS_JS)]
    assert [float(v) for v in after] == sorted(float(v) for v in after)
    assert after != [r[column["throughput/s"]] for r in rows]  # the click changed the order
    browser.click(f"table.leaderboard th:nth-child({column['throughput/s'] + 1})")
    again = [float(r[column["throughput/s"]]) for r in browser.js(ROWS_JS)]
    assert again == sorted(again, reverse=True)
    assert again[0] == 9.9e9  # the GPU row
    assert browser.problems == []


def test_hostile_names_stay_text_and_failed_cells_show(site, browser):
    index, _ = site
    browser.open(index)
    browser.follow("#tasks tbody tr:nth-child(1) a")
    assert browser.js("document.querySelector('h1 code').textContent") == f"evil/{EVIL}"
    # Nothing a plugin named became markup: one script (sort.js), no injected image.
    assert browser.js("document.scripts.length") == 1
    assert browser.js("document.querySelectorAll('img[src=x], table.leaderboard b').length") == 0
    cells = browser.js(
        "Array.from(document.querySelectorAll('table.leaderboard td.model')).map(td => td.textContent)"
    )
    assert cells == [EVIL, EVIL]
    failed = browser.js("document.querySelector('tr.failed').textContent")
    assert "failed" in failed and f"RuntimeError: {EVIL} exploded" in failed
    assert "second line" not in failed
    assert browser.js(
        "Array.from(document.querySelectorAll('figure img')).map(i => i.complete && i.naturalWidth)"
    ) == [120]
    assert browser.problems == []


def test_suite_page_and_index_load_without_errors(site, browser):
    index, _ = site
    browser.open(index)
    browser.follow("#suites tbody a")
    assert browser.js("document.querySelector('h1 code').textContent") == "<mixed> & suite"
    assert browser.js("document.querySelectorAll('table.leaderboard').length") == 2
    # The GPU cell belongs to no suite, so it is on the task page only.
    assert "NVIDIA" not in browser.js("document.querySelector('table.leaderboard').textContent")
    assert browser.problems == []
