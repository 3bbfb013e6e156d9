"""report.html opened in headless Chromium: the summary reads, every plot decodes, the page is not blank."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from dbsynth.config import resolve_url
from dbsynth.read import read_tables
from dbsynth.reflect import reflect
from dbsynth.report import evaluate
from dbsynth.report.plots import REAL_COLOR
from dbsynth.report.render import write_report
from dbsynth.synthesizers import HMASynthesizer

# Written into a copy of the page (the report itself has no script): once every image has loaded, list
# what the browser decoded, so --dump-dom shows it.
_PROBE = """<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify([...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight]));
  document.body.appendChild(out);
});
</script>"""


def _chromium(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={profile}", "--virtual-time-budget=10000"]
    proc = subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _decoded_images(chromium: str, html: Path, tmp_path: Path) -> tuple[str, list[list]]:
    """The DOM after load and, per <img>, [complete, naturalWidth, naturalHeight] as the browser saw it."""
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text().replace("</body>", _PROBE + "</body>"))
    dom = _chromium(chromium, tmp_path, "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: the page did not finish loading"
    return dom, json.loads(found.group(1))


def _check_page(chromium: str, out: Path, tmp_path: Path, overall: float) -> None:
    html = out / "report.html"
    dom, images = _decoded_images(chromium, html, tmp_path)
    assert f'<span id="overall">{overall:.1%}</span>' in dom
    assert "Summary: overall quality" in dom and "Column shapes" in dom
    assert len(images) == html.read_text().count("<img ") >= 3
    assert all(complete and width > 100 and height > 100 for complete, width, height in images), images


def test_chinook_report_in_chromium(chromium, tmp_path):
    url = resolve_url("builtin:chinook")
    metadata = reflect(url)
    real = read_tables(url, metadata)
    synthetic = HMASynthesizer(metadata, seed=0, verbose=False).fit(real).sample()
    report = evaluate(real, synthetic, metadata)
    out = tmp_path / "report"
    write_report(report, out)
    _check_page(chromium, out, tmp_path, report.overall)

    # The top of the page (summary, detection and rules first, then the plots): not blank, the "real" colour drawn.
    from PIL import Image

    shot = tmp_path / "shot.png"
    _chromium(chromium, tmp_path, "--window-size=1280,4800", f"--screenshot={shot}", (out / "report.html").as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (4800, 1280)
    assert (pixels.sum(axis=2) < 600).mean() > 0.01  # text, bars and plots, not a white page
    real_colour = np.array([int(REAL_COLOR[i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(pixels - real_colour).sum(axis=2) < 30).sum() > 200


@pytest.mark.db
def test_pagila_report_in_chromium(chromium, pg_dataset, tmp_path):
    url = pg_dataset("pagila")
    report = evaluate(url, url)  # enums, tz timestamps, arrays, tsvector: every pagila type reaches the plots
    out = tmp_path / "report"
    write_report(report, out)
    _check_page(chromium, out, tmp_path, report.overall)
    assert "Table film" in (out / "report.html").read_text()
