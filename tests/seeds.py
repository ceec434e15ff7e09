"""Reading the source documents in catalogue/sources for tests: their text, item numbers and numbers."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

SOURCES = Path(__file__).resolve().parent.parent / "catalogue" / "sources"


def seed_path(file_name: str) -> Path:
    """The document's text file, found by its name in catalogue/sources/<province>/<county>/."""
    found = sorted(SOURCES.glob(f"*/*/{file_name}"))
    if len(found) != 1:
        raise FileNotFoundError(f"{file_name}: {len(found)} files of that name under {SOURCES} (expected 1)")
    return found[0]


@lru_cache(maxsize=None)
def seed_text(file_name: str) -> str:
    return seed_path(file_name).read_text(encoding="utf-8")


def item_numbers(file_name: str) -> list[int]:
    """The item numbers of a document's service list, read from the document itself."""
    text = seed_text(file_name)
    if file_name.startswith("001_"):  # 永嘉: pipe table rows "N | …"
        return [int(m) for m in re.findall(r"^(\d+) \| ", text, flags=re.M)]
    if file_name.startswith("002_"):  # 东阳: the 清单 after its second title, one cell per line
        table = text[text.rindex("东阳市基本养老服务清单"):]
        return [int(m) for m in re.findall(r"^(\d+)\s*$", table, flags=re.M)]
    if file_name.startswith("003_"):  # 会同: tab-indented cells after 附件
        table = text[text.index("附件："):]
        return [int(m) for m in re.findall(r"^\t(\d+)\s*$", table, flags=re.M)]
    return []


def numbers_in(file_name: str) -> set[str]:
    return set(re.findall(r"\d+(?:\.\d+)?", seed_text(file_name)))
