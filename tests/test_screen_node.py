"""Batch screening inside Pyodide (Node, no network) with the 批量排摸 page's own trimmed standard
library: every input format gives the same bytes as CPython. Guards site_build/pyodide_stdlib_screen.txt:
a module missing from it fails here, not in a cadre's browser."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from checker.screen import screen_bytes
from site_build import screen_assets

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-23"

pytestmark = pytest.mark.skipif(shutil.which("node") is None or not (ROOT / "node_modules" / "pyodide").is_dir(),
                                reason="node and the npm pyodide package are needed (make setup)")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_pyodide_gives_cpythons_bytes_for_every_input_format(tmp_path, fmt):
    files = screen_assets.build_py(tmp_path)
    samples = screen_assets.sample_files()
    out = screen_assets.run_node({"dir": str(tmp_path), **files, "files": samples, "as_of": AS_OF, "annex1": True,
                                  "out_ext": fmt})
    assert [r["name"] for r in out["results"]] == [s["name"] for s in samples]
    for sample, result in zip(samples, out["results"]):
        want = screen_bytes(base64.b64decode(sample["b64"]), sample["name"], AS_OF, out_format=fmt, annex1_format=fmt)
        assert base64.b64decode(result["output_b64"]) == want["output"], sample["name"]
        assert base64.b64decode(result["annex1_b64"]) == want["annex1"], sample["name"]
        assert result["summary"]["rows"] == 120


def test_a_large_catalogue_adds_the_counties_a_register_names_then_screens(tmp_path):
    """Above ALL_AT_START_BELOW (build.json all_at_start false) the worker reads which counties a
    register's rows name (checker/screen.py wanted_json), adds their entries, and screens: CPython's
    bytes, and each entry read once, for the first file that needs it."""
    files = screen_assets.build_py(tmp_path)
    samples = screen_assets.sample_files()[:2]
    out = screen_assets.run_node({"dir": str(tmp_path), **files, "all_at_start": False, "files": samples,
                                  "as_of": AS_OF, "annex1": True, "out_ext": "csv"})
    for sample, result in zip(samples, out["results"]):
        want = screen_bytes(base64.b64decode(sample["b64"]), sample["name"], AS_OF, out_format="csv", annex1_format="csv")
        assert base64.b64decode(result["output_b64"]) == want["output"], sample["name"]
        assert base64.b64decode(result["annex1_b64"]) == want["annex1"], sample["name"]
    first, second = (r["read_files"] for r in out["results"])
    assert len(first) == 5 and len(set(first)) == 5 and second == [], (first, second)   # the sample names all five
