"""The in-browser checker's files: the `checker` package as a pure-Python wheel, the compiled
catalogue in parts (an index, and each county's entry in its county's folder), a one-entry Pyodide
lock file, a trimmed standard library, the Pyodide runtime copied from npm under a versioned path,
and the JSON the form is generated from.

`build(site_dir)` is called by `python -m site_build` after mkdocs. Layout in the site:

    assets/pyodide/<npm version>/   pyodide.mjs, pyodide.asm.mjs, pyodide.asm.wasm (verbatim from npm)
    assets/checker/py/              python_stdlib-<hash>.zip, checker-lock-<hash>.json,
                                    <hash>/yanglao_checker-<version>-py3-none-any.whl,
                                    catalogue-<hash>.json (the index: checker/catalogue.py `split`)
    <county folder>/checker-<hash>.json   that county's entry (zhejiang/yongjia/checker-….json)
    assets/checker/build.json       where the worker finds all of the above (paths relative to it)
    assets/checker/form.json        the form's fields, labels and choices (from checker/profile.py)
                                    and the counties (from the catalogue)

Everything that changes with the content carries a content hash in its path, so a browser or the
service worker never mixes files of two builds.

The catalogue is not in the wheel: at national size it is 200 MB, which no phone should download
(and every edit of one county would make a new one). The worker reads the index at its start and
fetches a county's entry when a profile needs it (checker.wanted_json). While all the counties'
entries together stay under ALL_AT_START_BELOW (today's five: 0.2 MB) it fetches them all at its
start instead, so no request depends on a profile (the server learns nothing of where the elder
lives) and the start-up snapshot holds them. Above it, a request for a county's entry tells the
server which county was asked about, as opening that county's page does; "出门前下载" on the county's
pages keeps the entry on the device (it is in the county's offline group, site_build/offline.py).

The standard library is cut down to the modules the checker really imports on Pyodide, listed
in site_build/pyodide_stdlib.txt. Regenerate that list after changing what the checker imports:

    .venv/bin/python -m site_build.checker_assets --trace

(it runs the checker inside Pyodide in Node over every test case and generated profiles, and
records sys.modules). tests/test_checker_node.py fails when the list misses a module. The zip the
site ships holds those modules as bytecode, compiled by Pyodide's own Python in Node
(compiled_stdlib, site_build/compile_stdlib.mjs).

The checker page preloads the big files its worker needs (preload), so they download while the page
itself loads.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import posixpath
import random
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYODIDE_NPM = ROOT / "node_modules" / "pyodide"
CHECKER_DIR = ROOT / "checker"
STDLIB_LIST = Path(__file__).with_name("pyodide_stdlib.txt")
NODE_RUNNER = ROOT / "tests" / "node" / "checker_in_pyodide.mjs"

DIST_NAME = "yanglao-checker"          # the wheel's distribution name; the import name is `checker`
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)       # fixed timestamps: the same sources give the same bytes


def pyodide_version() -> str:
    return json.loads((PYODIDE_NPM / "package.json").read_text(encoding="utf-8"))["version"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it holds exactly that already: a file left as it was keeps its
    mtime, and the later build steps redo only files that changed (site_build/state.py)."""
    path = Path(path)
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def keep_only(folder: Path, names: set):
    """Remove every file under `folder` that is not one of `names` (paths relative to it)."""
    if not folder.is_dir():
        return
    for p in sorted(folder.rglob("*"), reverse=True):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in names:
            p.unlink()
        elif p.is_dir() and not any(p.iterdir()):
            p.rmdir()


def _zip_write(zf: zipfile.ZipFile, name: str, data: bytes, compress: int):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


# ---------------------------------------------------------------- the wheel

def checker_version() -> str:
    for line in (CHECKER_DIR / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    raise RuntimeError("checker/__init__.py has no __version__")


def wheel_bytes() -> tuple[str, bytes]:
    """The checker as a pure-Python wheel (file name, bytes): checker/*.py (the catalogue comes in
    parts: catalogue_parts)."""
    version = checker_version()
    dist = DIST_NAME.replace("-", "_")
    info_dir = f"{dist}-{version}.dist-info"
    files = {f"checker/{p.name}": p.read_bytes() for p in sorted(CHECKER_DIR.glob("*.py"))}
    files[f"{info_dir}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {version}\n"
        "Summary: 养老服务明白卡 eligibility checker (standard library only)\nRequires-Python: >=3.10\n").encode()
    files[f"{info_dir}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: site_build.checker_assets\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info_dir}/top_level.txt"] = b"checker\n"
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{info_dir}/RECORD,,")
    files[f"{info_dir}/RECORD"] = ("\n".join(record) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            _zip_write(zf, name, data, zipfile.ZIP_STORED)  # served compressed: see trimmed_stdlib
    return f"{dist}-{version}-py3-none-any.whl", buf.getvalue()


def lock_contents(wheel_path: str, sha256: str) -> dict:
    """A Pyodide lock file holding only the checker (the npm lock lists 357 packages we never load)."""
    npm_lock = json.loads((PYODIDE_NPM / "pyodide-lock.json").read_text(encoding="utf-8"))
    return {
        "info": npm_lock["info"],
        "packages": {
            DIST_NAME: {
                "name": DIST_NAME,
                "version": checker_version(),
                "file_name": wheel_path,
                "install_dir": "site",
                "sha256": sha256,
                "imports": ["checker"],
                "package_type": "package",
                "depends": [],
                "unvendored_tests": False,
            }
        },
    }


# ---------------------------------------------------------------- the catalogue in parts

ALL_AT_START_BELOW = 2 * 2**20   # bytes of all counties' entries: below it the worker fetches them all at its start
PART_NAME = "checker-{hash}.json"


def _json_bytes(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def catalogue_parts(catalogue: dict) -> tuple[bytes, dict, bool]:
    """(index bytes, {path from the site's root: county entry bytes}, all_at_start): the compiled
    catalogue as the worker fetches it (checker/catalogue.py `split`). Each county's entry is at
    `<its folder>checker-<hash>.json`, which the index names."""
    from checker.catalogue import split
    entries = {code: _json_bytes(c) for code, c in catalogue["counties"].items()}
    files = {code: f"{catalogue['counties'][code]['url']}{PART_NAME.format(hash=_sha256(data)[:12])}"
             for code, data in entries.items()}
    index, _ = split(catalogue, files.get)
    all_at_start = sum(len(d) for d in entries.values()) < ALL_AT_START_BELOW
    return _json_bytes(index), {files[code]: data for code, data in entries.items()}, all_at_start


def write_parts(out_dir: Path, root: Path, catalogue: dict) -> dict:
    """The index in out_dir and each county's entry under `root`; each county folder keeps only its
    current entry. Returns {"catalogue": index path relative to out_dir, "all_at_start": bool}."""
    index, parts, all_at_start = catalogue_parts(catalogue)
    index_rel = f"catalogue-{_sha256(index)[:12]}.json"
    write_if_changed(out_dir / index_rel, index)
    for rel, data in parts.items():
        path = root / rel
        if not path.is_file():        # a new entry (its name is its hash): the county's last one goes
            for old in path.parent.glob(PART_NAME.format(hash="*")):
                old.unlink()
            write_if_changed(path, data)
    return {"catalogue": index_rel, "all_at_start": all_at_start}


# ---------------------------------------------------------------- the standard library

def stdlib_keep() -> list[str]:
    """Zip entries of python_stdlib.zip the checker needs (site_build/pyodide_stdlib.txt)."""
    lines = STDLIB_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def trimmed_stdlib(keep: list[str] | None = None) -> bytes:
    """python_stdlib.zip cut to `keep`, entries stored uncompressed.

    Pyodide's own zip deflates each entry, so HTTP compression gains nothing on it; stored
    entries let the server's gzip/brotli compress across files (measured.md: 1.61 MB brotli for
    the full library that way, ~0.6 MB for what a small program imports)."""
    keep = stdlib_keep() if keep is None else keep
    wanted = set(keep)
    for name in keep:  # every package directory on the way
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            wanted.add("/".join(parts[:i]) + "/")
    buf = io.BytesIO()
    with zipfile.ZipFile(PYODIDE_NPM / "python_stdlib.zip") as src, zipfile.ZipFile(buf, "w") as out:
        names = set(src.namelist())
        missing = [n for n in keep if n not in names]
        if missing:
            raise RuntimeError(f"{STDLIB_LIST.name} names files that python_stdlib.zip lacks: {missing[:5]}")
        for info in src.infolist():
            if info.filename in wanted:
                data = b"" if info.is_dir() else src.read(info)
                _zip_write(out, info.filename, data, zipfile.ZIP_STORED)
    return buf.getvalue()


COMPILER = Path(__file__).with_name("compile_stdlib.mjs")
COMPILED_CACHE = ROOT / "build" / "stdlib-pyc"


def compiled_stdlib(data: bytes) -> bytes:
    """The trimmed stdlib zip with bytecode instead of sources (site_build/compile_stdlib.mjs, run in
    Node with Pyodide's own Python, so the bytecode is that Python's). On a first visit the checker
    waits for Python to start after the last byte of Pyodide has arrived; most of that start was
    CPython compiling the ~150 standard-library modules Pyodide imports (~3 MB of source) — seconds
    on a phone, 2–5 s in bench/served.py here — while their bytecode costs no more on the wire.
    Kept in build/stdlib-pyc/ by the hash of its inputs. Without Node (or if it fails) the sources
    are shipped as before, and the build says so."""
    key = _sha256(data + pyodide_version().encode() + COMPILER.read_bytes())[:16]
    cached = COMPILED_CACHE / f"{key}.zip"
    if cached.is_file():
        return cached.read_bytes()
    node = shutil.which("node")
    if node is None:
        print("checker_assets: no node: the stdlib is shipped as source (a slower first start)", file=sys.stderr)
        return data
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.zip", Path(tmp) / "out.zip"
        src.write_bytes(data)
        proc = subprocess.run([node, str(COMPILER), str(PYODIDE_NPM), str(src), str(out)],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not out.is_file():
            print(f"checker_assets: compiling the stdlib failed, shipped as source:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return data
        compiled = out.read_bytes()
    COMPILED_CACHE.mkdir(parents=True, exist_ok=True)
    tmp_file = cached.with_suffix(".tmp")
    tmp_file.write_bytes(compiled)
    tmp_file.replace(cached)
    return compiled


# ---------------------------------------------------------------- the form's data

def form_data(catalogue: dict) -> dict:
    """Fields with labels and choices (generated from checker/profile.py), the counties, and the
    question order of the engine, so the page never retypes a label or a value."""
    from checker.engine import QUESTION_ORDER
    from checker.profile import FIELDS, INT_RANGE
    fields = {}
    for name, (kind, label, values) in FIELDS.items():
        entry = {"kind": kind, "label": label}
        if values is not None:
            entry["choices"] = [[value, zh] for value, zh in values.items()]
        if name in INT_RANGE:
            entry["min"], entry["max"] = INT_RANGE[name]
        fields[name] = entry
    counties = []
    for code, c in sorted(catalogue["counties"].items(), key=lambda kv: kv[0]):
        doc = c["document"]
        counties.append({
            "code": code, "name": c["name"], "prefecture": c["prefecture"], "province": c["province"],
            "url": c["url"], "phones": [{"name": p["name"], "number": p["number"]} for p in c.get("phones") or []],
            "document": {"title": doc["title"], "date": doc.get("date"), "date_text": doc.get("date_text"),
                         "issuer": doc.get("issuer"), "status_text": doc.get("status_text")},
        })
    return {"fields": fields, "counties": counties, "question_order": QUESTION_ORDER}


# ---------------------------------------------------------------- profiles for tests and traces

def sample_profile(rng: random.Random, codes: list, as_of: str = "2026-11-23") -> dict:
    """One profile over the whole profile vocabulary: every field is sometimes unknown, ages
    straddle 60/70/80/90/100. The one generator the traces, tests and benchmarks share."""
    from checker.profile import FIELDS
    year = int(as_of[:4])
    p: dict = {"as_of": as_of}
    for name, (kind, _label, values) in FIELDS.items():
        if name == "as_of" or rng.random() < 0.45:
            continue
        if name == "birth_date":
            age = rng.choice([55, 59, 60, 65, 69, 70, 75, 79, 80, 85, 89, 90, 95, 99, 100, 104])
            p[name] = f"{year - age - rng.choice([0, 1])}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif name == "age":
            continue  # set below when there is no birth date
        elif name == "relocated_on":
            p[name] = f"{rng.randint(2000, year - 1)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        elif kind == "county":
            p[name] = rng.choice(codes)
        elif kind == "bool":
            p[name] = rng.random() < 0.5
        elif kind == "enum":
            p[name] = rng.choice(list(values))
        elif kind == "enum_list":
            p[name] = rng.sample(list(values), rng.randint(0, len(values)))
        elif kind == "int":
            p[name] = rng.randint(0, 240)
        elif kind == "number":
            p[name] = rng.choice([0, 300, 800.5, 1110, 1600, 2500])
    if "birth_date" not in p and rng.random() < 0.6:
        p["age"] = rng.randint(55, 105)
    return p


def profile_counties() -> list:
    """The catalogue's counties and one outside it (杭州市西湖区)."""
    from checker import engine
    return sorted(engine().catalogue["counties"]) + ["330106"]


def sample_profiles(n: int, seed: int = 20261123, as_of: str = "2026-11-23") -> list[dict]:
    """`n` profiles drawn with a fixed seed (sample_profile)."""
    rng = random.Random(seed)
    codes = profile_counties()
    return [sample_profile(rng, codes, as_of) for _ in range(n)]


def case_profiles() -> list[dict]:
    """The profiles of the YAML cases in tests/cases/**.yaml."""
    import yaml
    out = []
    for path in sorted((ROOT / "tests" / "cases").glob("**/*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out.append(case["profile"])
    return out


# ---------------------------------------------------------------- build

def build_py(out_dir: Path, keep: list[str] | None = None, compiled: bool | None = None,
             catalogue: dict | None = None, root: Path | None = None) -> dict:
    """Write the wheel, its lock file, the trimmed stdlib and the catalogue's index into out_dir,
    and each county's entry under `root` (default: out_dir); return their paths relative to out_dir
    (for build.json, the Node test and the benchmark). The stdlib is compiled to bytecode
    (compiled_stdlib) unless `compiled` is false; by default only the real one, not a `keep` list of
    a trace (which records the sources' names). `catalogue`: the compiled catalogue, if the caller
    has it loaded (else checker/catalogue.json is read)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if catalogue is None:
        from checker.catalogue import load_catalogue
        catalogue = load_catalogue()
    parts = write_parts(out_dir, out_dir if root is None else root, catalogue)
    wheel_name, wheel = wheel_bytes()
    wheel_sha = _sha256(wheel)
    wheel_rel = f"{wheel_sha[:12]}/{wheel_name}"
    write_if_changed(out_dir / wheel_rel, wheel)
    lock = lock_contents(wheel_rel, wheel_sha)
    lock_text = json.dumps(lock, ensure_ascii=False, indent=1, sort_keys=True)
    lock_rel = f"checker-lock-{_sha256(lock_text.encode())[:12]}.json"
    write_if_changed(out_dir / lock_rel, lock_text.encode("utf-8"))
    stdlib = trimmed_stdlib(keep)
    if compiled is None:
        compiled = keep is None
    if compiled:
        stdlib = compiled_stdlib(stdlib)
    stdlib_rel = f"python_stdlib-{_sha256(stdlib)[:12]}.zip"
    write_if_changed(out_dir / stdlib_rel, stdlib)
    return {"wheel": wheel_rel, "wheel_sha256": wheel_sha, "lock": lock_rel, "stdlib": stdlib_rel,
            "package": DIST_NAME, **parts}


def build(site_dir, catalogue: dict | None = None) -> dict:
    """The checker's files in site_dir; `catalogue`: the compiled catalogue if the caller has it
    loaded already (else checker/catalogue.json is read)."""
    site = Path(site_dir)
    version = pyodide_version()
    # Every file is written only if its bytes differ (write_if_changed): on a kept site folder the
    # runtime and an unchanged wheel keep their mtimes, so later steps do not redo them.
    runtime = site / "assets" / "pyodide" / version
    for name in PYODIDE_FILES:
        write_if_changed(runtime / name, (PYODIDE_NPM / name).read_bytes())
    keep_only(site / "assets" / "pyodide", {f"{version}/{name}" for name in PYODIDE_FILES})
    checker_dir = site / "assets" / "checker"
    py_dir = checker_dir / "py"
    if catalogue is None:                      # the JSON alone: form_data needs no compiled engine
        from checker.catalogue import load_catalogue
        catalogue = load_catalogue()
    files = build_py(py_dir, catalogue=catalogue, root=site)
    keep_only(py_dir, {files["wheel"], files["lock"], files["stdlib"], files["catalogue"]})
    build_id = _sha256("".join((version, files["wheel_sha256"], files["lock"], files["stdlib"],
                                files["catalogue"], str(files["all_at_start"]))).encode())[:16]
    config = {
        "build": build_id,
        "pyodide": {"version": version, "index": f"../pyodide/{version}/"},
        "stdlib": f"py/{files['stdlib']}",
        "lock": f"py/{files['lock']}",
        "wheel": f"py/{files['wheel']}",
        "package": DIST_NAME,
        "catalogue": f"py/{files['catalogue']}",      # the index (checker/catalogue.py split)
        "root": "../../",                              # the site's root: the index names county files from it
        "all_at_start": files["all_at_start"],
    }
    write_if_changed(checker_dir / "build.json", json.dumps(config, indent=1).encode("utf-8"))
    preload(site, "checker/index.html", "assets/checker/", config)
    form = form_data(catalogue)
    form["build"] = build_id
    if not files["all_at_start"]:      # the page says that a county's list is fetched when chosen
        form["county_on_demand"] = True
    write_if_changed(checker_dir / "form.json", json.dumps(form, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return config


# ---------------------------------------------------------------- preloads in the tool's page

PRELOAD_MARK = "<!-- preload: site_build/checker_assets.py -->"
PRELOAD_RE = re.compile(re.escape(PRELOAD_MARK) + r".*?" + re.escape(PRELOAD_MARK) + "\n", re.S)


def preload_files(config: dict) -> list[tuple[str, str]]:
    """(path relative to build.json, `as`) of what a tool's page preloads for its worker: Pyodide's
    WebAssembly alone. It is 3/4 of the bytes and nothing can start before it has arrived, so on a
    slow line it must download from the first moment; one download fills the line by itself, and the
    worker asks for the smaller files (the stdlib, pyodide.asm.mjs) 2–3 s later, well before the
    wasm is done. Preloading those too only delays the page's own CSS and scripts: on HTTP/1.1 a
    browser opens 6 connections to a site (measured in bench/served.py: the form showed 1 s later)."""
    return [(config["pyodide"]["index"] + "pyodide.asm.wasm", "fetch")]


PRELOAD_SCRIPT = ("<script>(function(){if(navigator.serviceWorker&&navigator.serviceWorker.controller)return;"
                  "%s.forEach(function(f){var l=document.createElement(\"link\");l.rel=\"preload\";l.href=f[0];"
                  "l.as=f[1];l.crossOrigin=\"anonymous\";document.head.appendChild(l)})})()</script>")
PRELOAD_LIST = re.compile(r"<script>\(function\(\)\{if\(navigator\.serviceWorker[^<]*?(\[\[.*?\]\])\.forEach")


def preload(site: Path, page_rel: str, config_rel: str, config: dict, extra: tuple = ()):
    """Let the tool's page start its worker's downloads (Pyodide, the stdlib …) while the page itself
    is still loading, instead of after the chain page → form.js → api.js → worker.mjs → boot.mjs →
    build.json → pyodide.mjs (about 2 s on a phone's 150 ms round trip). The worker's own requests
    then find the file in the HTTP cache, or join its download in flight: every file is downloaded
    once (tests/test_nginx.py). `crossorigin` makes the preload a CORS request with the site's
    credentials, as Pyodide's fetch() and import() are. All these files carry a hash or a version in
    their path and are cached as immutable, so the worker does not even revalidate them.

    A small script in <head> adds the <link rel="preload">s, and only while no service worker controls
    the page: on a later visit the worker reads the files from the service worker's cache itself, and
    a preload would only copy 13 MB more through the page. (Its hash joins the page's
    Content-Security-Policy like any inline script's: site_build/offline.py.)

    Not done, measured in bench/served.py: starting the worker earlier too (api.js as an async module
    from <head>). The first visit waits for the wasm either way, and the worker's own downloads and
    work then compete with the page's: the form showed later, and so did a later visit's ready."""
    page = site / page_rel
    if not page.is_file():
        return
    text = PRELOAD_RE.sub("", page.read_text(encoding="utf-8"))
    base = Path(config_rel)
    depth = page_rel.count("/")
    files = [["../" * depth + posixpath.normpath((base / rel).as_posix()), kind]
             for rel, kind in list(preload_files(config)) + list(extra)]
    script = PRELOAD_SCRIPT % json.dumps(files, separators=(",", ":"))
    block = PRELOAD_MARK + "\n" + script + "\n" + PRELOAD_MARK + "\n"
    # early in <head>: before the stylesheets, so the browser asks for them first of all
    anchor = next((a for a in ('<link rel="stylesheet"', "</head>") if a in text), None)
    if anchor:
        write_if_changed(page, text.replace(anchor, block + anchor, 1).encode("utf-8"))


def preloaded(html: str) -> list:
    """[[href, as], …] that preload() wrote into a page (tests)."""
    m = PRELOAD_LIST.search(html)
    return json.loads(m.group(1)) if m else []


# ---------------------------------------------------------------- trace: which stdlib modules are used

def run_node(job: dict, timeout: int = 300, isolate: bool = True) -> dict:
    """Run tests/node/checker_in_pyodide.mjs on `job` (see that file); return its JSON output.
    With `isolate`, inside an empty network namespace (`unshare -rn`) so nothing can be fetched."""
    with tempfile.TemporaryDirectory() as tmp:
        job_path, out_path = Path(tmp) / "job.json", Path(tmp) / "out.json"
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        cmd = ["node", str(NODE_RUNNER), str(job_path), str(out_path)]
        if isolate and shutil.which("unshare"):
            probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
            if probe.returncode == 0:
                cmd = ["unshare", "-rn"] + cmd
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"node failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return json.loads(out_path.read_text(encoding="utf-8"))


def trace(n_generated: int = 300) -> list[str]:
    """Run the checker in Pyodide with the full stdlib; return the stdlib zip entries it loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(PYODIDE_NPM / "python_stdlib.zip") as src:
            everything = [n for n in src.namelist() if not n.endswith("/")]
        files = build_py(Path(tmp), keep=everything)
        profiles = case_profiles() + sample_profiles(n_generated) + [{"birth_date": "1950-02-30"}, {"hukou": 330324}]
        out = run_node({"dir": tmp, **files, "profiles": profiles, "trace": True})
    used = sorted(set(out["modules"]))
    with zipfile.ZipFile(PYODIDE_NPM / "python_stdlib.zip") as src:
        names = set(src.namelist())
    return [u for u in used if u in names]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--trace" in argv:
        used = trace()
        header = ("# Standard-library files the checker loads on Pyodide (site_build/checker_assets.py --trace).\n"
                  "# Only these go into the browser's python_stdlib zip; tests/test_checker_node.py guards it.\n")
        STDLIB_LIST.write_text(header + "\n".join(used) + "\n", encoding="utf-8")
        print(f"wrote {STDLIB_LIST.relative_to(ROOT)}: {len(used)} files")
        return 0
    site = Path(argv[0]) if argv else ROOT / "site"
    print(json.dumps(build(site), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
