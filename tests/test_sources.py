"""The source documents live in the repository (catalogue/sources): every county's text is there
unchanged with valid metadata, nothing refers to a folder beside the checkout, and every answer
says the document's status and date — a draft as 征求意见稿, a yearly standard with its year."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from site_build.catalogue import (DOCUMENT_STATUS, SEEDS_DIR, CatalogueError, date_cn, load_catalogue,
                                  stale_documents)

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "catalogue" / "sources"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


# ---------------------------------------------------------------- nothing outside the repository

OUTSIDE = re.compile(r"\.\./" + "shared|shared/" + "seeds|/work/" + "shared")
AUDIT_NAME = re.compile(r"audits/\d{4}-\d{2}-\d{2}-[\w-]+\.md")   # prose may name an audit report


def _tracked_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        return [ROOT / name for name in out.decode("utf-8").split("\0") if name]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked archive)
        skip = {".git", ".venv", "node_modules", "site", "build", "dist", "__pycache__"}
        return [p for p in ROOT.rglob("*") if p.is_file() and not skip & set(p.relative_to(ROOT).parts)]


def test_nothing_in_the_repository_reads_or_names_a_folder_beside_it():
    found = []
    for path in _tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line) and not AUDIT_NAME.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:120]}")
    assert not found, "references to a folder beside the checkout (the project must stand alone):\n" + "\n".join(found)


def test_the_loader_reads_documents_from_the_repository():
    assert SEEDS_DIR == SOURCES


# ---------------------------------------------------------------- the documents and their metadata

def test_every_county_document_is_in_its_folder_with_valid_metadata(catalogue):
    # load_catalogue() already refused any broken metadata; here, what it carried over
    for county in catalogue["counties"].values():
        doc = county["document"]
        folder = SOURCES / county["province_slug"] / county["slug"]
        assert (folder / doc["file"]).is_file(), county["file"]
        assert doc["path"] == f"catalogue/sources/{county['province_slug']}/{county['slug']}/{doc['file']}"
        assert doc["status"] in DOCUMENT_STATUS and doc["status_text"] == DOCUMENT_STATUS[doc["status"]]
        assert dt.date.fromisoformat(doc["compared"]) <= dt.date.today()
        assert isinstance(doc["numbers"], dict)


def test_every_text_has_its_metadata_and_is_unchanged():
    texts = sorted(SOURCES.glob("*/*/*.txt"))
    assert len(texts) >= 5
    assert sorted(p.with_suffix(".txt") for p in SOURCES.glob("*/*/*.yaml")) == texts
    for text in texts:
        meta = yaml.safe_load(text.with_suffix(".yaml").read_text(encoding="utf-8"))
        assert meta["file"] == text.name
        assert meta["sha256"] == hashlib.sha256(text.read_bytes()).hexdigest(), f"{text.name} was edited"
        text.read_bytes().decode("utf-8")  # plain UTF-8


def test_every_source_folder_belongs_to_a_county(catalogue):
    folders = {p.parent for p in SOURCES.glob("*/*/*.txt")}
    counties = {SOURCES / c["province_slug"] / c["slug"] for c in catalogue["counties"].values()}
    assert folders == counties


def test_statuses_come_from_the_documents_own_words(catalogue):
    status = {code: c["document"]["status"] for code, c in catalogue["counties"].items()}
    assert status["330324"] == "征求意见稿"     # 永嘉: 《…(意见征集稿)》, 征求意见 2023-12-18 to 12-27
    assert status["330783"] == "有效"           # 东阳: 有效性: 有效
    assert catalogue["counties"]["330783"]["document"]["numbers"]["文号"] == "东政办发〔2024〕3号"
    for code in ("330922", "431225", "330282"):  # the documents do not say
        assert status[code] == "未注明"


# ---------------------------------------------------------------- every answer says status and date

def test_every_answer_names_its_documents_status_and_date(catalogue):
    import checker
    engine = checker.engine()
    for code, county in catalogue["counties"].items():
        doc = county["document"]
        answer = engine.check({"hukou": code, "age": 85, "as_of": "2026-11-29"})
        for r in answer["results"]:
            assert doc["status_text"] in r["basis_doc"] and date_cn(doc["date"]) in r["basis_doc"], r["service"]
    yongjia = engine.check({"hukou": "330324", "age": 85, "as_of": "2026-11-29"})
    assert all("征求意见稿" in r["basis_doc"] and "2023年12月28日" in r["basis_doc"] for r in yongjia["results"])


# ---------------------------------------------------------------- a fixture catalogue: yearly standards, broken metadata

def _fixture_catalogue(tmp: Path, amount_extra: str = "", meta_change=None) -> Path:
    """tmp/zhejiang/sample.yaml (tests/fixtures/valid-county.yaml) with 永嘉's document as its source."""
    county = (ROOT / "tests" / "fixtures" / "valid-county.yaml").read_text(encoding="utf-8").replace("SLUG", "sample")
    if amount_extra:
        county = county.replace("    amount:\n", f"    amount:\n      {amount_extra}\n", 1)
    (tmp / "zhejiang").mkdir()
    (tmp / "zhejiang" / "sample.yaml").write_text(county, encoding="utf-8")
    folder = tmp / "sources" / "zhejiang" / "sample"
    folder.mkdir(parents=True)
    real = SOURCES / "zhejiang" / "yongjia" / "001_ad73a97c7bcfe62c"
    shutil.copy(real.with_suffix(".txt"), folder)
    meta = real.with_suffix(".yaml").read_text(encoding="utf-8")
    if meta_change:
        meta = meta_change(meta)
    (folder / "001_ad73a97c7bcfe62c.yaml").write_text(meta, encoding="utf-8")
    return tmp


def test_a_yearly_standard_says_its_year_and_whom_to_ask(tmp_path):
    from checker.engine import DEFAULT_ASK, Engine
    compiled = load_catalogue(_fixture_catalogue(tmp_path, "revised: yearly"))
    s = compiled["counties"]["330324"]["services"][0]
    assert s["revised_note"] == f"这是2023年的标准，现在可能更高，请问{DEFAULT_ASK}"
    answer = Engine(compiled).check({"hukou": "330324", "age": 85, "as_of": "2026-11-29"})
    assert "征求意见稿" in answer["results"][0]["basis_doc"]
    assert "这是2023年的标准，现在可能更高" in answer["results"][0]["basis_doc"]


def test_an_amount_without_the_mark_has_no_year_note(tmp_path):
    s = load_catalogue(_fixture_catalogue(tmp_path))["counties"]["330324"]["services"][0]
    assert "revised_note" not in s and "现在可能更高" not in s["basis_doc"]


def test_revised_takes_only_yearly(tmp_path):
    with pytest.raises(CatalogueError, match=r"amount\.revised: 'monthly' is not allowed — use one of yearly"):
        load_catalogue(_fixture_catalogue(tmp_path, "revised: monthly"))


@pytest.mark.parametrize("change, message", [
    (lambda m: m.replace("status: 征求意见稿", "status: 草稿"), r"document\.status: '草稿' is not allowed"),
    (lambda m: re.sub(r"sha256: \w+", "sha256: " + "0" * 64, m), r"document\.sha256: does not match 001_ad73a97c7bcfe62c\.txt"),
    (lambda m: m.replace('date: "2023-12-28"', 'date: "2023-12-18"'), r"document\.date: '2023-12-18' differs from county\.document\.date"),
    (lambda m: re.sub(r"compared: .*", "", m), r"document\.compared: is required"),
])
def test_broken_metadata_is_refused_with_file_and_field(tmp_path, change, message):
    with pytest.raises(CatalogueError, match=r"sources/zhejiang/sample/001_ad73a97c7bcfe62c\.yaml:\d+: " + message):
        load_catalogue(_fixture_catalogue(tmp_path, meta_change=change))


def test_a_missing_document_is_refused_naming_the_folder(tmp_path):
    root = _fixture_catalogue(tmp_path)
    (root / "sources" / "zhejiang" / "sample" / "001_ad73a97c7bcfe62c.txt").unlink()
    with pytest.raises(CatalogueError, match=r"zhejiang/sample\.yaml:\d+: county\.document\.file: '001_ad73a97c7bcfe62c\.txt' "
                                             r"is not in .*sources/zhejiang/sample/"):
        load_catalogue(root)


# ---------------------------------------------------------------- age of the comparison

def test_the_build_warns_when_a_county_was_compared_more_than_a_year_ago(catalogue):
    yongjia = catalogue["counties"]["330324"]
    compared = dt.date.fromisoformat(yongjia["document"]["compared"])
    year_later = compared.replace(year=compared.year + 1)
    assert not any("yongjia" in w for w in stale_documents(catalogue, year_later))
    warnings = stale_documents(catalogue, year_later + dt.timedelta(days=1))
    assert [w for w in warnings if yongjia["file"] in w and yongjia["document"]["compared"] in w]
    newest = max(dt.date.fromisoformat(c["document"]["compared"]) for c in catalogue["counties"].values())
    assert len(stale_documents(catalogue, newest.replace(year=newest.year + 2))) == len(catalogue["counties"])
