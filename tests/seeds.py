"""Reading the source documents in ../shared/seeds for tests: repaired text and item numbers."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


def repair_utf8(raw: bytes) -> str:
    """Seed 003 has line breaks inserted inside multi-byte UTF-8 characters: drop those bytes."""
    out, need = bytearray(), 0
    for byte in raw:
        if need:
            if byte in (0x0A, 0x0D):
                continue
            if 0x80 <= byte < 0xC0:
                out.append(byte)
                need -= 1
                continue
            need = 0
        need = 3 if byte >= 0xF0 else 2 if byte >= 0xE0 else 1 if byte >= 0xC0 else 0
        out.append(byte)
    return out.decode("utf-8")


@lru_cache(maxsize=None)
def seed_text(file_name: str) -> str:
    return repair_utf8((SEEDS / file_name).read_bytes())


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
