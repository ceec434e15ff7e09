"""The 批量排摸 page in Debian's Chromium with the real Pyodide build of site/: the cadre picks the
1,000-row generated register, the worker screens it on the device, and the downloaded result and
附件1 list are byte-for-byte the command line's; nothing goes to another host; a file that is not a
register gets a Chinese message; the blank template downloads. Needs `make site` (skips otherwise).
"""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from checker.screen import template_bytes
from registers import make_register

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-23"
READY_TIMEOUT = 120_000  # ms: a cold Pyodide start on a busy 2-core machine


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    header, rows, _ = make_register(1000, seed=8, as_of=AS_OF)
    folder = tmp_path_factory.mktemp("browser-register")
    path = folder / "登记表.csv"
    text = io.StringIO(newline="")
    csv.writer(text).writerows([header, *rows])
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def cli(register: Path, fmt: str, folder: Path):
    out, annex = folder / f"cli.{fmt}", folder / f"cli-annex1.{fmt}"
    done = subprocess.run([sys.executable, "-m", "checker", "screen", str(register), "-o", str(out), "--as-of", AS_OF,
                           "--annex1", str(annex)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return out.read_bytes(), annex.read_bytes()


def open_page(page, site_server):
    page.goto(site_server + "screen/")
    page.wait_for_selector("body[data-screen-ready]", timeout=READY_TIMEOUT)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_page_gives_the_command_lines_result_byte_for_byte(page, site_server, register, tmp_path, fmt):
    expected, expected_annex = cli(register, fmt, tmp_path)
    open_page(page, site_server)
    page.set_input_files("#ys-file", str(register))
    page.fill("#ys-asof", AS_OF)
    page.check(f"input[name=format][value={fmt}]")
    page.check("#ys-annex1")
    with page.expect_download(timeout=READY_TIMEOUT) as download:
        page.click("#ys-start")
    assert download.value.suggested_filename == f"登记表-排摸结果-{AS_OF}.{fmt}"
    got = Path(download.value.path()).read_bytes()
    assert got == expected
    with page.expect_download() as annex:
        page.click("#ys-download-annex1")
    assert Path(annex.value.path()).read_bytes() == expected_annex
    summary = page.inner_text("#ys-summary")
    assert "共 1000 行" in summary and "行填写有误" in summary
    assert page.get_attribute("#ys-progress", "value") == page.get_attribute("#ys-progress", "max")
    foreign = [u for u in page.requests if not u.startswith(site_server) and not u.startswith(("blob:", "data:"))]
    assert foreign == [], "nothing may go to another host"


def test_a_file_that_is_not_a_register_is_refused_in_chinese(page, site_server, tmp_path):
    bad = tmp_path / "名单.csv"
    bad.write_text("名字,地址\n张三,某村\n", encoding="utf-8")
    open_page(page, site_server)
    page.set_input_files("#ys-file", str(bad))
    page.click("#ys-start")
    page.wait_for_selector(".ys-status--failed", timeout=READY_TIMEOUT)
    assert "没有出生日期、年龄或身份证号" in page.inner_text("#ys-status-text")
    assert page.is_hidden("#ys-result")


def test_the_blank_template_downloads(page, site_server):
    page.goto(site_server + "screen/")
    with page.expect_download() as download:
        page.click("a[href$='register-template.csv']")
    assert Path(download.value.path()).read_bytes() == template_bytes()


def test_a_register_past_the_size_limit_is_refused_before_it_starts_with_how_to_split_it(page, site_server, tmp_path):
    from checker.screen import BROWSER_LIMIT
    big = tmp_path / "全镇.csv"
    row = "张三,1940-01-01,慈溪市,否\n".encode()
    big.write_bytes("姓名,出生日期,户籍,是否入住养老机构\n".encode() + row * (BROWSER_LIMIT["csv"] // len(row) + 10))
    open_page(page, site_server)
    page.set_input_files("#ys-file", str(big))
    page.click("#ys-start")
    page.wait_for_selector(".ys-status--failed", timeout=10_000)
    text = page.inner_text("#ys-status-text")
    assert f"超过了本页一次能排摸的 {BROWSER_LIMIT['csv'] / 1e6:.1f} MB" in text and "拆成至少 2 个文件" in text and "表头" in text
    assert page.is_hidden("#ys-result") and f"CSV 文件 {BROWSER_LIMIT['csv'] // 1_000_000} MB" in page.inner_text("#ys-limit")


def test_an_unclosed_quote_is_named_in_the_browser_too(page, site_server):
    open_page(page, site_server)
    page.set_input_files("#ys-file", str(ROOT / "tests" / "fixtures" / "registers" / "unclosed-quote.csv"))
    page.click("#ys-start")
    page.wait_for_selector(".ys-status--failed", timeout=READY_TIMEOUT)
    assert "第2行有一个引号" in page.inner_text("#ys-status-text")
