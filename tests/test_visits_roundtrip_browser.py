"""走访 (issue #14) in Debian's Chromium with the real Pyodide build: a register from the fixtures is
opened as the visit list through the checker page's worker (api.js importRegister), the visits are
exported as XLSX and CSV (exportVisits), and each export is screened again by the 批量排摸 page's own
worker. The drafts and the exported files are CPython's (checker/visits.py) byte for byte, and the
re-screened result is `python -m checker screen`'s for the same file; nothing goes to another host.
Build the site first (MB_SITE_DIR=… python -m site_build --no-pdf); skips otherwise.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.visits import export_bytes, from_register

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "registers"
AS_OF = "2026-11-23"
READY_TIMEOUT = 120_000  # ms: a cold Pyodide start on a busy 2-core machine

IN_PAGE = """async ([b64, name, asOf, screenWorker]) => {
  const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const toB64 = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  };
  const checker = window.yanglaoChecker;
  await checker.ready;
  const t0 = performance.now();
  const drafts = await checker.importRegister(new File([fromB64(b64)], name), { as_of: asOf });
  // what the page saves for each row once visited (nothing changed at the door)
  const visits = drafts.rows.map((d, n) => ({
    id: "v-" + n, visited: asOf, status: "visited", village: d.village, name: d.name, note: d.note,
    id_number: d.id_number, profile: { ...d.profile, as_of: asOf }, source: d.source,
    register_cells: d.register_cells, summary: "" }));
  const out = { drafts, visits, exports: {}, screened: {} };
  for (const fmt of ["xlsx", "csv"]) {
    const e = await checker.exportVisits(visits, fmt, { as_of: asOf });
    out.exports[fmt] = { name: e.name, type: e.type, rows: e.rows, size: e.blob.size, b64: toB64(e.bytes) };
  }
  out.ms = Math.round(performance.now() - t0);
  let bad = null;
  try { await checker.importRegister(new File([new TextEncoder().encode("名字,地址\\n张三,某村\\n")], "名单.csv")); }
  catch (err) { bad = { zh: err.zh, en: err.en }; }
  out.bad = bad;
  // the 批量排摸 page's worker screens each export, as the page does
  const worker = new Worker(screenWorker, { type: "module" });
  const replies = new Map();
  const waiting = new Map();
  worker.onmessage = (event) => {
    const msg = event.data;
    if (msg.id === undefined || msg.type === "progress") return;
    if (waiting.has(msg.id)) waiting.get(msg.id)(msg); else replies.set(msg.id, msg);
  };
  const screen = (id, fmt) => new Promise((resolve) => {
    waiting.set(id, resolve);
    const bytes = fromB64(out.exports[fmt].b64).buffer;
    worker.postMessage({ id, name: out.exports[fmt].name, bytes, as_of: asOf, out_format: "csv", annex1_format: null }, [bytes]);
  });
  for (const [id, fmt] of [[1, "xlsx"], [2, "csv"]]) {
    const msg = await screen(id, fmt);
    out.screened[fmt] = msg.error ? { error: msg.error } : { summary: msg.summary, b64: toB64(msg.output) };
  }
  worker.terminate();
  return out;
}"""


@pytest.mark.parametrize("fixture", ["real-register.xlsx"])
def test_register_to_visits_to_export_to_the_screening_worker_in_chromium(page, site_server, site_dir, tmp_path, fixture):
    if not (site_dir / "assets" / "screen" / "build.json").is_file():
        pytest.skip("the site has no 批量排摸 build")
    data = (FIXTURES / fixture).read_bytes()
    page.add_init_script("window.yanglaoCheckerSnapshots = false")
    page.goto(site_server + "checker/")
    page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
    # the checker's start fetches nothing of the screening page: the first export or import does
    assert [u for u in page.requests if "/assets/screen/" in u] == []
    out = page.evaluate(IN_PAGE, [base64.b64encode(data).decode(), fixture, AS_OF,
                                  site_server + "assets/screen/screen-worker.mjs"])

    # the register, row for row, as CPython reads it (the same drafts, 错误 texts and all)
    expected = from_register(data, fixture, AS_OF)
    assert out["drafts"]["rows"] == json.loads(json.dumps(expected["rows"], ensure_ascii=False))
    assert out["drafts"]["summary"]["rows"] == len(out["drafts"]["rows"]) > 0
    assert out["bad"]["zh"].startswith("登记表里没有出生日期、年龄或身份证号")

    for fmt in ("xlsx", "csv"):
        export = base64.b64decode(out["exports"][fmt]["b64"])
        assert out["exports"][fmt]["name"] == f"走访登记表-{AS_OF}.{fmt}"
        assert out["exports"][fmt]["rows"] == len(out["visits"]) and out["exports"][fmt]["size"] == len(export)
        # the same file as CPython writes for the same visits
        assert export == export_bytes(out["visits"], fmt, as_of=AS_OF), fmt
        # screened again on the 批量排摸 page's worker: the command line's result for the same file
        path = tmp_path / f"走访.{fmt}"
        path.write_bytes(export)
        done = subprocess.run([sys.executable, "-m", "checker", "screen", str(path), "-o", str(tmp_path / f"cli-{fmt}.csv"),
                               "--as-of", AS_OF], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        screened = out["screened"][fmt]
        assert "error" not in screened, screened
        assert base64.b64decode(screened["b64"]) == (tmp_path / f"cli-{fmt}.csv").read_bytes()
        assert screened["summary"]["rows"] == len(out["visits"])

    foreign = [u for u in page.requests if not u.startswith(site_server) and not u.startswith(("blob:", "data:"))]
    assert foreign == [], "nothing may go to another host"
    names = [r["name"] for r in out["drafts"]["rows"] if r["name"]]
    assert names and not [u for u in page.requests if any(n in u for n in names)], "no request carries a name"
    extra = [u for u in page.requests if "screen-stdlib-" in u]
    assert len(extra) == 2, "the extra stdlib zip: once for the checker's worker on the first export, once for screening's"


def test_export_and_import_work_after_a_start_from_the_devices_snapshot(page, site_server, site_dir):
    """A later visit starts from the start-up snapshot (boot.mjs), which holds the imported checker but
    not the wheel's files: the first export or import installs them and answers as after a normal start."""
    data = (FIXTURES / "real-register.csv").read_bytes()
    page.goto(site_server + "checker/")
    page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
    page.wait_for_function("() => window.yanglaoChecker.snapshotSaved", timeout=READY_TIMEOUT)
    if "error" in page.evaluate("window.yanglaoChecker.snapshotSaved"):
        pytest.skip("this browser made no start-up snapshot")
    later = page.context.new_page()
    later.goto(site_server + "checker/")
    later.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
    assert later.evaluate("window.yanglaoChecker.snapshot") == "restored"
    out = later.evaluate("""async ([b64, name, asOf]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const drafts = await window.yanglaoChecker.importRegister(new File([bytes], name), { as_of: asOf });
      const visits = drafts.rows.map((d) => ({ visited: asOf, status: "visited", name: d.name, profile: { ...d.profile, as_of: asOf } }));
      const e = await window.yanglaoChecker.exportVisits(visits, "csv", { as_of: asOf });
      const answer = await window.yanglaoChecker.evaluate({ as_of: asOf, hukou: "330324", birth_date: "1936-05-04" });
      return { rows: drafts.rows, visits, csv: Array.from(new Uint8Array(e.bytes)), answer: answer.as_of };
    }""", [base64.b64encode(data).decode(), "real-register.csv", AS_OF])
    assert out["rows"] == json.loads(json.dumps(from_register(data, "real-register.csv", AS_OF)["rows"], ensure_ascii=False))
    assert bytes(out["csv"]) == export_bytes(out["visits"], "csv", as_of=AS_OF)
    assert out["answer"] == AS_OF


def test_export_and_import_work_offline_after_the_checker_page_was_opened_once(browser, site_dir):
    """The first export and import load files the checker's own start does not (the screening page's
    extra stdlib zip and its build.json): the offline group `checker` keeps them, so with the server
    gone they still work."""
    from test_checker_browser import PHONE, SiteServer
    data = (FIXTURES / "real-register.xlsx").read_bytes()
    srv = SiteServer(site_dir)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(srv.url + "checker/")
        page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
        page.wait_for_selector("html[data-offline-cached~='checker']", state="attached", timeout=READY_TIMEOUT)
        srv.stop()
        ctx.set_offline(True)
        page.reload()
        page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
        out = page.evaluate("""async ([b64, asOf]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const drafts = await window.yanglaoChecker.importRegister(new File([bytes], "real-register.xlsx"), { as_of: asOf });
          const visits = drafts.rows.map((d) => ({ visited: asOf, status: "visited", name: d.name, profile: { ...d.profile, as_of: asOf } }));
          const e = await window.yanglaoChecker.exportVisits(visits, "xlsx", { as_of: asOf });
          return { n: drafts.rows.length, visits, xlsx: Array.from(new Uint8Array(e.bytes)) };
        }""", [base64.b64encode(data).decode(), AS_OF])
        assert out["n"] == len(from_register(data, "real-register.xlsx", AS_OF)["rows"])
        assert bytes(out["xlsx"]) == export_bytes(out["visits"], "xlsx", as_of=AS_OF)
    finally:
        ctx.close()
        srv.stop()
