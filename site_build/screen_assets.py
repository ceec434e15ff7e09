"""The 批量排摸 page's files: a build.json for its worker that reuses the checker's Pyodide runtime,
wheel, lock and trimmed standard library (site_build/checker_assets.py), plus a small zip of the
standard-library files screening needs beyond the checker's (csv, xml.etree for XLSX, the GB18030
codec …), which the worker puts on sys.path. So the page costs the offline precache ~30 KB, not a
second 3 MB standard library, and the single-profile checker page does not grow.

Those files are listed in site_build/pyodide_stdlib_screen.txt (if the checker's list ever holds
them all, no extra zip is built). Regenerate the list after changing what checker/screen.py or
checker/tables.py import:

    .venv/bin/python -m site_build.screen_assets --trace

`build(site_dir)` runs after checker_assets.build (it reads assets/checker/build.json). Layout:

    assets/screen/build.json                     where screen-worker.mjs finds everything
    assets/screen/py/screen-stdlib-<hash>.zip    the extra standard-library files
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import checker_assets

ROOT = Path(__file__).resolve().parent.parent
SCREEN_STDLIB_LIST = Path(__file__).with_name("pyodide_stdlib_screen.txt")
NODE_RUNNER = ROOT / "tests" / "node" / "screen_in_pyodide.mjs"


def screen_keep() -> list[str]:
    lines = SCREEN_STDLIB_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def extra_keep() -> list[str]:
    """The screening files the checker's trimmed stdlib lacks."""
    have = set(checker_assets.stdlib_keep())
    return [name for name in screen_keep() if name not in have]


# Where the worker and the Node runner put the extra zip, and the Python they run before importing
# checker.screen: the zip joins sys.path (csv, xml) and the encodings package's path (gb18030).
# content/pages/assets/checker/boot.mjs (addExtraStdlib) holds the same two lines; the browser tests prove them.
EXTRA_ZIP_PATH = "/lib/screen-stdlib.zip"
EXTRA_PATH_CODE = (f"import sys, encodings\nsys.path.append({EXTRA_ZIP_PATH!r})\n"
                   f"encodings.__path__.append({EXTRA_ZIP_PATH!r} + '/encodings')\n")


def run_node(job: dict, timeout: int = 600, isolate: bool = True) -> dict:
    """Run tests/node/screen_in_pyodide.mjs on `job`; with `isolate`, in an empty network namespace."""
    job = {**job, "extra_zip_path": EXTRA_ZIP_PATH, "extra_path_code": EXTRA_PATH_CODE}
    with tempfile.TemporaryDirectory() as tmp:
        job_path, out_path = Path(tmp) / "job.json", Path(tmp) / "out.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        cmd = ["node", str(NODE_RUNNER), str(job_path), str(out_path)]
        if isolate and shutil.which("unshare") and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0:
            cmd = ["unshare", "-rn"] + cmd
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"node failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return json.loads(out_path.read_text(encoding="utf-8"))


def build_py(out_dir: Path, keep: list[str] | None = None) -> dict:
    """The checker's wheel, lock and trimmed stdlib, plus the extra zip, written into out_dir (for
    Node). With `keep`, the stdlib holds exactly those files and there is no extra zip (the trace)."""
    if keep is not None:
        return {**checker_assets.build_py(out_dir, keep=keep), "extra": None}
    files = checker_assets.build_py(out_dir)
    extra = extra_zip()
    name = None
    if extra is not None:
        name = f"screen-stdlib-{hashlib.sha256(extra).hexdigest()[:12]}.zip"
        (out_dir / name).write_bytes(extra)
    return {**files, "extra": name}


def extra_zip() -> bytes | None:
    names = extra_keep()
    return checker_assets.trimmed_stdlib(names) if names else None


def sample_files() -> list[dict]:
    """Registers in every format the page accepts, for the trace and the Node test."""
    sys.path.insert(0, str(ROOT / "tests"))
    from registers import make_register
    from checker.tables import csv_bytes, xlsx_bytes
    header, rows, _ = make_register(120, seed=3)
    text = "\r\n".join(",".join(r) for r in [header, *rows])
    tsv = "\r\n".join("\t".join(r) for r in [header, *rows])
    files = {
        "utf8-bom.csv": csv_bytes(header, rows),
        "utf8.csv": text.encode("utf-8"),
        "gb18030.csv": text.encode("gb18030"),
        "utf16.txt": tsv.encode("utf-16"),
        "register.xlsx": xlsx_bytes([("登记表", header, rows)]),
        # the same 120 rows saved as .xls by LibreOffice Calc (its CSV import turned the ID numbers into numbers)
        "register.xls": (ROOT / "tests" / "fixtures" / "registers" / "libreoffice-register-120.xls").read_bytes(),
    }
    return [{"name": n, "b64": base64.b64encode(b).decode()} for n, b in files.items()]


def trace() -> list[str]:
    """Screen every sample format, to CSV and XLSX, in Pyodide with the full stdlib; return the
    stdlib files loaded that the checker's own list does not already have."""
    with zipfile.ZipFile(checker_assets.PYODIDE_NPM / "python_stdlib.zip") as src:
        everything = [n for n in src.namelist() if not n.endswith("/")]
        names = set(src.namelist())
    used = set()
    with tempfile.TemporaryDirectory() as tmp:
        files = build_py(Path(tmp), keep=everything)
        for ext in ("csv", "xlsx"):
            out = run_node({"dir": tmp, **files, "files": sample_files(), "as_of": "2026-11-23", "annex1": True,
                            "out_ext": ext, "trace": True})
            used.update(out["modules"])
    have = set(checker_assets.stdlib_keep())
    return sorted(u for u in used if u in names and u not in have)


def build(site_dir) -> dict:
    site = Path(site_dir)
    checker_config = json.loads((site / "assets" / "checker" / "build.json").read_text(encoding="utf-8"))
    screen_dir = site / "assets" / "screen"
    py_dir = screen_dir / "py"
    extra = extra_zip()
    extra_rel = None
    if extra is not None:
        extra_rel = f"py/screen-stdlib-{hashlib.sha256(extra).hexdigest()[:12]}.zip"
        checker_assets.write_if_changed(screen_dir / extra_rel, extra)   # unchanged: its mtime kept
    checker_assets.keep_only(py_dir, {extra_rel[3:]} if extra_rel else set())
    build_id = hashlib.sha256((checker_config["build"] + str(extra_rel)).encode()).hexdigest()[:16]
    config = {
        "build": build_id,
        "pyodide": {"version": checker_config["pyodide"]["version"],
                    "index": "../checker/" + checker_config["pyodide"]["index"]},
        "stdlib": "../checker/" + checker_config["stdlib"],
        "extra_stdlib": extra_rel,
        "lock": "../checker/" + checker_config["lock"],
        "package": checker_config["package"],
        # the catalogue's index and the site's root, as the checker's: every county's entry at the
        # worker's start while the catalogue is small, else those a register's rows name, before it
        # is screened (checker/screen.py wanted_json)
        "catalogue": "../checker/" + checker_config["catalogue"],
        "root": checker_config["root"],
        "all_at_start": checker_config["all_at_start"],
    }
    if checker_config.get("wheel"):
        config["wheel"] = "../checker/" + checker_config["wheel"]
    checker_assets.write_if_changed(screen_dir / "build.json", json.dumps(config, indent=1).encode("utf-8"))
    # the page starts its worker at once: let it download Pyodide while the page loads, as the checker does
    checker_assets.preload(site, "screen/index.html", "assets/screen/", config)
    return config


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--trace" in argv:
        extra = trace()
        header = ("# Standard-library files batch screening loads on Pyodide beyond site_build/pyodide_stdlib.txt\n"
                  "# (site_build/screen_assets.py --trace). The 批量排摸 page's stdlib zip holds both lists.\n")
        SCREEN_STDLIB_LIST.write_text(header + "\n".join(extra) + "\n", encoding="utf-8")
        print(f"wrote {SCREEN_STDLIB_LIST.relative_to(ROOT)}: {len(extra)} files")
        return 0
    site = Path(argv[0]) if argv else ROOT / "site"
    print(json.dumps(build(site), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
