// Compiles the checker's trimmed standard library to bytecode with Pyodide's own Python, so a phone
// does not compile ~3 MB of Python source each time the checker starts (that was most of the start
// after the download: site_build/checker_assets.py, compiled_stdlib).
//
// Usage: node site_build/compile_stdlib.mjs PYODIDE_DIR IN.zip OUT.zip
//   IN.zip: stored .py entries (checker_assets.trimmed_stdlib); OUT.zip: the same entries with each
//   X.py replaced by X.pyc (what zipimport loads when there is no source), stored, fixed dates.
// The bytecode is compiled as `python -OO` would (no docstrings, no asserts), and each code object's
// line table says "the line of the def" for every instruction: tracebacks through the standard
// library name the file and the function's first line instead of the exact line. Together that
// makes the zip smaller on the wire than the sources (~0.59 MB brotli against ~0.60 MB).
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, inPath, outPath] = process.argv.slice(2);
const { loadPyodide } = await import(pathToFileURL(join(resolve(pyodideDir), "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: resolve(pyodideDir) + "/", stdout: () => {}, stderr: () => {} });
pyodide.FS.writeFile("/tmp/in.zip", readFileSync(inPath));
pyodide.runPython(`
import io, sys, zipfile
from importlib._bootstrap_external import _code_to_timestamp_pyc

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# where Pyodide puts the standard library zip: tracebacks then name the same files as from source
PREFIX = f"/lib/python{sys.version_info[0]}{sys.version_info[1]}.zip/"
NO_COLUMNS = 13          # location entry kind "line, no columns" (Objects/locations.md)


def one_line(code):
    """code with a line table that maps every code unit to the def's own line (delta 0)."""
    consts = tuple(one_line(c) if hasattr(c, "co_code") else c for c in code.co_consts)
    units = len(code.co_code) // 2
    table = bytes([0x80 | NO_COLUMNS << 3 | 7, 0]) * (units // 8)
    if units % 8:
        table += bytes([0x80 | NO_COLUMNS << 3 | (units % 8 - 1), 0])
    return code.replace(co_linetable=table, co_consts=consts)


src = zipfile.ZipFile("/tmp/in.zip")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as out:
    for info in src.infolist():
        name, data = info.filename, src.read(info)
        if name.endswith(".py"):
            code = compile(data, PREFIX + name, "exec", dont_inherit=True, optimize=2)
            data, name = bytes(_code_to_timestamp_pyc(one_line(code), 0, 0)), name + "c"
        entry = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        entry.compress_type = zipfile.ZIP_STORED
        entry.external_attr = info.external_attr
        out.writestr(entry, data)
with open("/tmp/out.zip", "wb") as f:
    f.write(buf.getvalue())
`);
writeFileSync(outPath, pyodide.FS.readFile("/tmp/out.zip"));
