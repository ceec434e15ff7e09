"""Reading and writing the tables cadres keep: CSV (UTF-8 with or without BOM, GB18030/GBK, UTF-16),
XLSX and the old .xls (BIFF8, see xls.py).

Everything streams: `open_table` yields one row at a time with its line (CSV) or row number (XLSX), and
the writers take an iterator of rows and write them as they come, so memory does not grow with the
register (1,000,000 rows screen in a few hundred MB, BENCHMARKS.md).

A file is either read exactly or refused with where and why (TableError, with the line): a text file
whose encoding is mixed (UTF-8 with a GBK fragment) or mislabelled (a UTF-8 BOM on a GBK body) is
refused with the line of the first bad byte instead of being decoded into garbage; an unclosed quote is
named with the line it opens on, never allowed to swallow the next people; a malformed or hostile XLSX
(bad CRC, broken XML, a DOCTYPE or entity, repeated or absurd row numbers, a part that inflates far
beyond its compressed size) is refused with "这不是一个能读的 .xlsx：…" in bounded time and memory.

XLSX is read and written with the standard library (zipfile + xml.etree), not openpyxl: the checker
package must stay standard-library only (it runs in Pyodide, where openpyxl and et_xmlfile would be
two more wheels to ship and ~0.3 s more to import), a register needs only the first sheet's cell values,
and the writer needs only text and number cells. Output is byte-for-byte reproducible (fixed zip
timestamps), so the browser and the command line give identical files. Text cells are written as
inline strings (never formulas); CSV cells that a spreadsheet would run as a formula (starting with
= + - @, a tab or a carriage return) get a leading apostrophe (`neutralise`).
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import itertools
import re
import zipfile
import zlib
from xml.etree import ElementTree as ET


class TableError(ValueError):
    """The file cannot be read as a table at all; `zh` is the message a cadre reads."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


# ---------------------------------------------------------------- opening

MAX_CELL = 100_000            # characters in one CSV cell (csv.field_size_limit)
MAX_ROWS_XLSX = 1_048_576      # Excel's own limits
MAX_COLS_XLSX = 16_384
MAX_XML_BYTES = 2_000_000_000  # one uncompressed XLSX part
MAX_RATIO = 100                # uncompressed / compressed, for parts over 10 MB


class Table:
    """An open register: `rows` yields (line, cells) with cells a list of str (no padding: a row may
    be shorter or longer than the header); `encoding` says how it was read; `size` is the byte size
    (for progress and the browser's limit)."""

    def __init__(self, rows, encoding: str, size: int, lines: int = 0):
        self.rows, self.encoding, self.size, self.lines = rows, encoding, size, lines


def open_table(source, name: str | None = None) -> Table:
    """A Table from a path or bytes. Raises TableError for a file that cannot be read at all; some
    problems (a broken XLSX row further down) only show while iterating, also as TableError."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        fh = io.BytesIO(bytes(source))
    else:
        name = name or str(source)
        try:
            fh = open(source, "rb")
        except IsADirectoryError:
            raise TableError(f"{source} 是一个文件夹，不是登记表文件", f"{source} is a directory, not a file") from None
        except OSError as err:
            raise TableError(f"无法读取文件 {source}：{err.strerror}", f"cannot read {source}: {err.strerror}") from None
    fh.seek(0, 2)
    size = fh.tell()
    fh.seek(0)
    head = fh.read(8)
    fh.seek(0)
    if head[:2] == b"PK":
        table = Table(None, "xlsx", size)
        table.rows = _iter_xlsx(fh, table)
        return table
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return Table(iter_xls(fh.read()), "xls", size)
    if not head.strip(b" \t\r\n\x00") and not fh.read(65536).strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise TableError("文件是空的（没有任何内容）", "the file is empty")
    encoding, lines = _detect(fh)
    return Table(_iter_csv(fh, encoding), encoding, size, lines)


def read_table(source, name: str | None = None):
    """The whole table at once: (header, rows, encoding), the header the first non-empty row, blank
    rows dropped, short rows padded to the header's width. For small tables (tests, settle)."""
    table = open_table(source, name)
    rows = [cells for _, cells in table.rows if any(c.strip() for c in cells)]
    if not rows:
        raise TableError("文件是空的", "the file is empty")
    header, rows = rows[0], rows[1:]
    width = len(header)
    return header, [r + [""] * (width - len(r)) if len(r) < width else r for r in rows], table.encoding


# ---------------------------------------------------------------- text: encodings

def _cjk_only(text: str) -> bool:
    """True when every non-ASCII character is CJK or full-width punctuation (real Chinese text decoded
    right), so a GBK line that happens to be valid UTF-8 (Cyrillic, Latin-1 look-alikes) does not count."""
    return all(ch < "\x80" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" or ch == "\ufeff" for ch in text)


def detect_encoding(fh) -> str:
    return _detect(fh)[0]


def _detect(fh):
    """(encoding, number of lines): the encoding of a text table, by reading it once line by line (constant memory): a UTF-8 BOM
    or UTF-16 BOM, else UTF-8 if every line is UTF-8, else GB18030 if every line is and no line is
    Chinese in UTF-8. Anything else is refused with the line of the first bad byte."""
    fh.seek(0)
    head = fh.read(4)
    fh.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = fh.read()
        try:
            data.decode("utf-16")
        except UnicodeDecodeError as err:
            line = data[:err.start].decode("utf-16", "replace").count("\n") + 1
            raise TableError(f"文件标着 UTF-16 编码，但第{line}行有不是 UTF-16 的字节：请另存为 CSV（UTF-8）或 .xlsx",
                             f"the file says UTF-16 but line {line} is not") from None
        fh.seek(0)
        return "utf-16", data.count(b"\n\x00") or data.count(b"\x00\n")
    bom = head.startswith(b"\xef\xbb\xbf")
    first_bad = utf8_line = None
    n = 0
    for n, line in enumerate(fh, 1):
        if line.isascii():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            if first_bad is None:
                first_bad = n
            if bom or utf8_line:
                break
            continue
        if utf8_line is None and _cjk_only(text) and not text.isascii():
            utf8_line = n
            if first_bad:
                break
    fh.seek(0)
    if first_bad is None:
        return ("utf-8-sig" if bom else "utf-8"), n
    if bom:
        raise TableError(f"文件开头标着 UTF-8 编码，但第{first_bad}行有不是 UTF-8 的字节（多半是混进了 GBK 编码的文字）："
                         "请在 Excel/WPS 里另存为 CSV（UTF-8）或 .xlsx 后再用",
                         f"the file starts with a UTF-8 byte order mark but line {first_bad} is not UTF-8 (GBK text mixed in?)")
    if utf8_line:
        raise TableError(f"文件混了两种编码：第{utf8_line}行是 UTF-8，第{first_bad}行有不是 UTF-8 的字节（多半是 GBK 编码的文字，或坏了的字节）。"
                         "照这样读会把姓名读成乱码，所以没有排摸：请在 Excel/WPS 里另存为 CSV（UTF-8）或 .xlsx 后再用",
                         f"mixed encodings: line {utf8_line} is UTF-8, line {first_bad} is not")
    n = 0
    for n, line in enumerate(fh, 1):
        if not line.isascii():
            try:
                line.decode("gb18030")
            except UnicodeDecodeError:
                fh.seek(0)
                raise TableError(f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（第{n}行有读不懂的字节）："
                                 "请另存为 CSV（UTF-8）或 .xlsx", f"neither UTF-8 nor GB18030 (line {n})") from None
    fh.seek(0)
    return "gb18030", n


def decode_text(data: bytes):
    """Bytes of a text table → (text, encoding name), with the checks of detect_encoding."""
    encoding = detect_encoding(io.BytesIO(data))
    return data.decode(encoding), encoding


# ---------------------------------------------------------------- text: CSV

def _iter_csv(fh, encoding):
    text = io.TextIOWrapper(fh, encoding=encoding, newline="")
    first = text.readline()
    text.seek(0)
    delimiter = max([",", "\t", ";"], key=first.count) if first else ","
    csv.field_size_limit(MAX_CELL)
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    line = 1
    while True:
        start = line
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise _csv_error(err, start, reader.line_num) from None
        except UnicodeDecodeError:  # detect_encoding read every line, so only a file changed meanwhile
            raise TableError(f"第{start}行有读不懂的字节", f"undecodable bytes at line {start}") from None
        line = reader.line_num + 1
        if reader.line_num > start:  # a quoted cell spans lines: fine, unless it holds whole rows
            for i, cell in enumerate(cells):
                if "\n" in cell or "\r" in cell:
                    rest = cell.splitlines()[1:]
                    if any(part.count(delimiter) >= 2 for part in rest):
                        raise TableError(
                            f"第{start}行第{i + 1}格的引号好像没有配对：这一格跨了{reader.line_num - start + 1}行，"
                            f"里面还有整行的逗号，多半把后面的人吞进了这一格。请检查第{start}行的引号",
                            f"line {start}, cell {i + 1}: an unclosed quote seems to swallow the following lines")
        yield start, cells


def _csv_error(err, start, line_num):
    msg = str(err)
    if "end of data" in msg or "unexpected end" in msg:
        return TableError(f"第{start}行有一个引号（\"）没有配对，一直到文件末尾都没有结束：后面的人会被吞进这一格，所以没有排摸。"
                          f"请删去或补上第{start}行的引号", f"line {start}: a quote is never closed")
    if "field larger" in msg:
        return TableError(f"第{start}行有一格超过 {MAX_CELL} 个字：多半是引号没有配对。请检查第{start}行",
                          f"line {start}: a cell longer than {MAX_CELL} characters (an unclosed quote?)")
    if "NUL" in msg:
        return TableError(f"第{start}行有空字符（NUL），不像是文字表格：请在 Excel/WPS 里另存为 CSV（UTF-8）或 .xlsx",
                          f"line {start}: a NUL character")
    return TableError(f"第{start}行的 CSV 格式有误（引号用法不对：{msg}）。请检查这一行的引号",
                      f"line {start}: malformed CSV ({msg})")


# ---------------------------------------------------------------- XLSX

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_BUILTIN_DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_EXCEL_EPOCH = _dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 counting Excel's phantom 1900-02-29
_EPOCH_1904 = _dt.date(1904, 1, 1)


def _bad_xlsx(why_zh: str, why_en: str) -> TableError:
    return TableError(f"这不是一个能读的 .xlsx：{why_zh}。请在 Excel/WPS 里打开后重新“另存为” .xlsx，或另存为 CSV（UTF-8）",
                      f"not a readable .xlsx: {why_en}")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


_REF = re.compile(r"([A-Z]{1,3})(\d{1,7})")


class _Part:
    """One XML part of the zip, checked before it is read: its size and ratio bounded, no DOCTYPE."""

    def __init__(self, z, name):
        try:
            info = z.getinfo(name)
        except KeyError:
            raise _bad_xlsx(f"缺少 {name}", f"{name} is missing") from None
        if info.flag_bits & 0x1:
            raise _bad_xlsx("文件加了密码", "the workbook is encrypted")
        if info.file_size > MAX_XML_BYTES or (info.file_size > 10_000_000 and info.file_size > MAX_RATIO * max(1, info.compress_size)):
            raise _bad_xlsx(f"{name} 解压后有 {info.file_size // 1_000_000} MB，是压缩前的 {info.file_size // max(1, info.compress_size)} 倍，不像正常的表格",
                            f"{name} inflates to {info.file_size} bytes ({info.file_size // max(1, info.compress_size)}×): a zip bomb?")
        self.z, self.name = z, name

    def events(self, tags=("end",)):
        """Streamed (event, element) pairs; DOCTYPE/ENTITY refused before any parsing."""
        parser = ET.XMLPullParser(events=tags)
        with self.z.open(self.name) as fh:
            head = fh.read(65536)
            root_at = re.search(rb"<(?![?!])", head)
            prolog = head[:root_at.start()] if root_at else head
            if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
                raise _bad_xlsx(f"{self.name} 里有 DOCTYPE/ENTITY 声明（表格文件不会有）", f"{self.name} has a DOCTYPE/ENTITY declaration")
            if root_at is None and len(head) == 65536:
                raise _bad_xlsx(f"{self.name} 的开头找不到内容", f"{self.name} has no root element in its first 64 KB")
            chunk = head
            while chunk:
                parser.feed(chunk)
                yield from parser.read_events()
                chunk = fh.read(1 << 20)
            parser.close()
            yield from parser.read_events()

    def root(self):
        root = None
        for _, el in self.events(("start", "end")):
            if root is None:
                root = el
        return root


def _iter_xlsx(fh, table):
    try:
        yield from _xlsx_rows(fh, table)
    except TableError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise _bad_xlsx("压缩数据损坏（校验不对或文件不完整）", "corrupt zip data (CRC or truncated)") from None
    except ET.ParseError as err:
        raise _bad_xlsx(f"里面的 XML 格式有误（{err}）", f"malformed XML ({err})") from None
    except (RuntimeError, NotImplementedError) as err:
        raise _bad_xlsx(f"用了读不了的压缩或加密方式（{err}）", f"unsupported compression or encryption ({err})") from None
    except (ValueError, KeyError, IndexError, OverflowError, MemoryError, OSError) as err:
        raise _bad_xlsx(f"内容不合格式（{type(err).__name__}）", f"malformed content ({type(err).__name__}: {err})") from None


def _xlsx_rows(fh, table):
    z = zipfile.ZipFile(fh)
    names = set(z.namelist())
    epoch, sheet_rid = _EXCEL_EPOCH, None
    workbook = _Part(z, "xl/workbook.xml").root()
    for el in workbook.iter():
        tag = _local(el.tag)
        if tag == "workbookPr" and el.get("date1904") in ("1", "true"):
            epoch = _EPOCH_1904
        elif tag == "sheet" and sheet_rid is None:
            sheet_rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
    sheet_path = "xl/worksheets/sheet1.xml"
    if sheet_rid and "xl/_rels/workbook.xml.rels" in names:
        for rel in _Part(z, "xl/_rels/workbook.xml.rels").root():
            if rel.get("Id") == sheet_rid:
                target = rel.get("Target", "")
                sheet_path = target.lstrip("/") if target.startswith("/") else "xl/" + target
                break
    sheet_path = re.sub(r"[^/]+/\.\./", "", sheet_path)
    if sheet_path not in names:
        raise _bad_xlsx("找不到第一个工作表", "the first worksheet is missing")
    shared = []
    if "xl/sharedStrings.xml" in names:
        for _, el in _Part(z, "xl/sharedStrings.xml").events():
            if _local(el.tag) == "si":
                shared.append((el[0].text or "") if len(el) == 1 and _local(el[0].tag) == "t" else _text_of(el))
                el.clear()
    date_styles = _date_styles(_Part(z, "xl/styles.xml").root()) if "xl/styles.xml" in names else set()
    n_shared = len(shared)
    ns = None
    last_row = 0
    columns: dict = {}
    sheet_data = None
    for event, el in _Part(z, sheet_path).events(("start", "end")):
        if ns is None:
            tag = el.tag
            ns = tag[:tag.index("}") + 1] if tag.startswith("{") else ""
            ROW, C, V, IS, T, DATA, DIM = (ns + "row", ns + "c", ns + "v", ns + "is", ns + "t", ns + "sheetData",
                                           ns + "dimension")
        if event == "start":
            if el.tag == DATA:
                sheet_data = el
            continue
        if el.tag == DIM:
            m = re.fullmatch(r"[A-Z]{1,3}\d{1,7}:[A-Z]{1,3}(\d{1,7})", el.get("ref", ""))
            table.lines = min(int(m.group(1)), MAX_ROWS_XLSX) if m else 0
        if el.tag != ROW:
            continue
        r = el.get("r")
        if r is None:
            number = last_row + 1
        else:
            if not r.isdigit() or not 1 <= int(r) <= MAX_ROWS_XLSX:
                raise _bad_xlsx(f"行号“{r[:20]}”不对（行号是1到{MAX_ROWS_XLSX}的整数）", f"row number {r[:20]!r} is not 1..{MAX_ROWS_XLSX}")
            number = int(r)
            if number <= last_row:
                raise _bad_xlsx(f"第{number}行在工作表里出现了两次或顺序颠倒（前一行是第{last_row}行），照这样读会丢人",
                                f"row {number} repeats or comes after row {last_row}")
        last_row = number
        cells: list = []
        for c in el:
            if c.tag != C:
                continue
            ref = c.get("r")
            if ref:
                col = columns.get(ref)
                if col is None:
                    m = _REF.fullmatch(ref)
                    if not m or int(m.group(2)) != number:
                        raise _bad_xlsx(f"第{number}行有一个单元格的位置“{ref[:20]}”不对", f"cell reference {ref[:20]!r} in row {number}")
                    col = _col_index(m.group(1))
                    if col >= MAX_COLS_XLSX:
                        raise _bad_xlsx(f"单元格 {ref} 超出了 Excel 的最大列", f"cell {ref} is past column XFD")
                    if len(columns) < 100_000:
                        columns[ref] = col
            else:
                col = len(cells)
            if col < len(cells):
                raise _bad_xlsx(f"第{number}行的单元格 {ref} 重复或顺序颠倒", f"cell {ref} repeats in row {number}")
            kind = c.get("t")
            if kind == "s":  # shared string: what Excel and WPS write for text
                v = c.find(V)
                text = (v.text or "").strip() if v is not None else ""
                if not text.isdigit() or int(text) >= n_shared:
                    raise _bad_xlsx(f"单元格 {ref or col + 1} 指向不存在的共享文字（第{text[:12]}条，一共只有{n_shared}条）",
                                    f"cell {ref} points to shared string {text[:12]!r} of {n_shared}")
                value = shared[int(text)]
            elif kind == "inlineStr":
                el_is = c.find(IS)
                if el_is is None:
                    value = ""
                elif len(el_is) == 1 and el_is[0].tag == T:
                    value = el_is[0].text or ""
                else:
                    value = _text_of(el_is)
            else:
                v = c.find(V)
                text = (v.text or "") if v is not None else ""
                if kind == "b":
                    value = "是" if text.strip() == "1" else "否"
                elif kind in ("str", "e", "d"):
                    value = text[:10] if kind == "d" else text
                else:
                    value = _number(text, c.get("s"), date_styles, epoch)
            if col > len(cells):
                cells.extend([""] * (col - len(cells)))
            cells.append(value)
        if sheet_data is not None:
            sheet_data.clear()
        else:
            el.clear()
        yield number, cells


def _text_of(el) -> str:
    """Concatenated <t> text of a shared or inline string, skipping phonetic runs (<rPh>)."""
    parts = []
    for child in el:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            for t in child:
                if _local(t.tag) == "t":
                    parts.append(t.text or "")
    return "".join(parts)


def _number(v: str, style, date_styles, epoch) -> str:
    v = v.strip()
    if not v:
        return ""
    try:
        x = float(v)
    except ValueError:
        return v
    if x != x or x in (float("inf"), float("-inf")):
        return v
    if style is not None and style.isdigit() and int(style) in date_styles and 0 < x < 2958466:
        return (epoch + _dt.timedelta(days=int(x))).isoformat()
    if re.fullmatch(r"-?\d{1,18}", v):
        return v.lstrip("+")
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return v  # keep "3.30282194501011E+17" as written: an ID number stored as a number has lost digits


def _date_styles(root) -> set:
    """Indexes into cellXfs whose number format shows a date."""
    custom = {}
    for el in root.iter():
        if _local(el.tag) == "numFmt":
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", el.get("formatCode", "")).lower()
            fmt_id = el.get("numFmtId", "")
            if fmt_id.isdigit():
                custom[int(fmt_id)] = bool(re.search(r"[dy]", code)) or ("m" in code and "h" not in code and "s" not in code)
    out = set()
    for el in root.iter():
        if _local(el.tag) == "cellXfs":
            for i, xf in enumerate(x for x in el if _local(x.tag) == "xf"):
                fmt = xf.get("numFmtId", "0")
                fmt = int(fmt) if fmt.isdigit() else -1
                if fmt in _BUILTIN_DATE_FORMATS or custom.get(fmt):
                    out.add(i)
    return out


# ---------------------------------------------------------------- writing

def table_format(path: str) -> str:
    return "xlsx" if str(path).lower().endswith(".xlsx") else "csv"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DANGER = re.compile(r"\n[=+\-@\t\r]")
_PLAIN = {str, int}


def neutralise(text: str) -> str:
    """A CSV cell a spreadsheet would run as a formula gets a leading ' (OWASP's advice): Excel and WPS
    then show it as text. Only text cells: numbers we write ourselves are never negative."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value):
    cls = value.__class__
    if cls is str:
        return "'" + value if value.startswith(_FORMULA_START) else value
    if value is None:
        return ""
    if cls is bool:
        return "是" if value else "否"
    if cls is int or cls is float or cls.__name__ == "Decimal":
        return _num_text(value)
    return neutralise(str(value))


def write_csv(fh, head_rows, rows) -> None:
    """UTF-8 with BOM (so Excel opens it as UTF-8), CRLF line ends, formula-looking cells neutralised.
    `fh` a binary file; rows any iterable (written as they come)."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=False)
    text.write("\ufeff")
    writer = csv.writer(text)
    danger = _DANGER.search
    plain = _PLAIN
    for r in itertools.chain(head_rows, rows):
        # fast path (C loops only): every cell str or int, and no cell starting like a formula
        if not set(map(type, r)) <= plain or danger("\n" + "\n".join(map(str, r))):
            r = [_csv_cell(x) for x in r]
        writer.writerow(r)
    text.flush()
    text.detach()


def csv_bytes(header, rows) -> bytes:
    out = io.BytesIO()
    write_csv(out, [header], rows)
    return out.getvalue()


def table_bytes(fmt: str, header, rows, sheet_name="Sheet1", head_rows=None) -> bytes:
    """The bytes of a one-sheet table: fmt "xlsx" or "csv". `head_rows` (title rows) go above the header."""
    out = io.BytesIO()
    write_table_to(out, fmt, [(sheet_name, [*(head_rows or []), header], rows)])
    return out.getvalue()


def write_table_to(fh, fmt: str, sheets, *, large: bool = False) -> None:
    """sheets: [(name, head rows, rows iterable)]. CSV takes the sheets one after another, a blank line
    between. `large`: an XLSX sheet may pass 4 GB uncompressed (zip64 entries)."""
    if fmt == "xlsx":
        write_xlsx(fh, sheets, zip64=large)
        return
    for i, (_, head, rows) in enumerate(sheets):
        if i:
            fh.write(b"\r\n")
        if i == 0:
            write_csv(fh, head, rows)
        else:
            buf = io.BytesIO()
            write_csv(buf, head, rows)
            fh.write(buf.getvalue()[3:])


def write_table(path, header, rows, sheet_name="Sheet1", head_rows=None) -> bytes:
    """Write CSV or XLSX by the file name's extension; returns the bytes written."""
    data = table_bytes(table_format(path), header, rows, sheet_name, head_rows)
    with open(path, "wb") as fh:
        fh.write(data)
    return data


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_NEEDS_ESCAPE = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]')
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _esc(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _col_name(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def _num_text(value) -> str:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return repr(int(value)) if value == int(value) and abs(value) < 1e16 else repr(value)
    text = format(value, "f") if not isinstance(value, int) else str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _xml_cell(ref: str, value, style: str) -> str:
    """One <c>: numbers as numbers, text as an inline string (never a formula)."""
    cls = value.__class__
    if cls is not str:
        if value is None:
            return f'<c r="{ref}"{style}/>' if style else ""
        if cls is bool:
            value = "是" if value else "否"
        elif cls is int or cls is float or cls.__name__ == "Decimal":
            text = _num_text(value)
            return f'<c r="{ref}"{style}><v>{text}</v></c>' if text else ""
        else:
            value = str(value)
    if not value:
        return f'<c r="{ref}"{style}/>' if style else ""
    if _NEEDS_ESCAPE.search(value):
        value = _esc(value)
    space = ' xml:space="preserve"' if value[0] in " \n\t" or value[-1] in " \n\t" or "\n" in value else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2e80 else 1 for ch in text[:40])


_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<numFmts count="1"><numFmt numFmtId="164" formatCode="@"/></numFmts>'
           '<fonts count="2"><font><sz val="11"/><name val="宋体"/></font><font><b/><sz val="11"/><name val="宋体"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def _sheet_title(name: str, used: set) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "", name)[:31] or "Sheet"
    base, n = title, 2
    while title in used:
        suffix = f"({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title


def _write_sheet(out, head_rows, rows):
    """Stream one worksheet's XML into `out` (a binary writer); the first 200 rows set column widths."""
    rows = iter(rows)
    first = list(itertools.islice(rows, 200))
    width = max([len(r) for r in head_rows] + [len(r) for r in first] + [1])
    widths = [8] * width
    for r in [*head_rows[-1:], *first]:
        for i, v in enumerate(r):
            if v not in (None, ""):
                widths[i] = min(60, max(widths[i], _display_width(str(v)) + 2))
    names = [_col_name(i) for i in range(max(width, 64))]
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths))
    n_head = len(head_rows)
    pane = (f'<pane ySplit="{n_head}" topLeftCell="A{n_head + 1}" activePane="bottomLeft" state="frozen"/>' if n_head else "")
    buf = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
           f"<cols>{cols}</cols><sheetData>"]
    n = 0
    for n, r in enumerate(itertools.chain(head_rows, first, rows), start=1):
        if len(r) > len(names):
            names += [_col_name(i) for i in range(len(names), len(r))]
        style = ' s="1"' if n <= n_head else ""
        buf.append(f'<row r="{n}">' + "".join(_xml_cell(f"{names[i]}{n}", v, style) for i, v in enumerate(r)) + "</row>")
        if len(buf) >= 2000:
            out.write("".join(buf).encode("utf-8"))
            buf.clear()
    buf.append("</sheetData></worksheet>")
    out.write("".join(buf).encode("utf-8"))


def write_xlsx(fh, sheets, zip64: bool = False) -> None:
    """sheets: [(name, head rows, rows iterable)] → an .xlsx workbook written to the binary file `fh`
    as the rows come (same input, same bytes)."""
    sheets = list(sheets)
    used: set = set()
    titles = [_sheet_title(name, used) for name, _, _ in sheets]
    n = len(sheets)
    content_types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                     '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                     + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
                               'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                               for i in range(n))
                     + "</Types>")
    root_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                 "</Relationships>")
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                f'xmlns:r="{_REL_NS}"><sheets>'
                + "".join(f'<sheet name="{_esc(t)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, t in enumerate(titles))
                + "</sheets></workbook>")
    wb_rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
               + "".join(f'<Relationship Id="rId{i + 1}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
                         for i in range(n))
               + f'<Relationship Id="rId{n + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
               "</Relationships>")
    with zipfile.ZipFile(fh, "w") as z:
        for name, text in (("[Content_Types].xml", content_types), ("_rels/.rels", root_rels), ("xl/workbook.xml", workbook),
                           ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/styles.xml", _STYLES)):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"), compresslevel=6)
        for i, (_, head, rows) in enumerate(sheets):
            info = zipfile.ZipInfo(f"xl/worksheets/sheet{i + 1}.xml", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=zip64) as out:
                _write_sheet(out, list(head), rows)


def xlsx_bytes(sheets) -> bytes:
    """sheets: [(name, header, rows)] → the bytes of an .xlsx workbook (the header bold and frozen)."""
    out = io.BytesIO()
    write_xlsx(out, [(name, [header], rows) for name, header, rows in sheets])
    return out.getvalue()


# ---------------------------------------------------------------- the old .xls (BIFF8)
#
# Our own reader (about 200 lines) rather than xlrd: the checker package stays standard-library only and
# runs unchanged in the browser (xlrd would be a third-party wheel to vendor and keep; its 2.x reads
# only .xls anyway, so .xlsx stays with the reader above). A register needs only the first sheet's
# cell values: the compound-file container (sectors, FAT, mini stream), the shared strings (SST with
# CONTINUE), LABELSST/LABEL/NUMBER/RK/MULRK/FORMULA/BOOLERR cells, XF/FORMAT for date cells and
# DATEMODE. Every offset and chain is bounded; anything unexpected is TableError, never a traceback.

def _bad_xls(why_zh: str, why_en: str) -> TableError:
    return TableError(f"这不是一个能读的 .xls：{why_zh}。请在 Excel/WPS 里打开后“另存为” .xlsx 或 CSV（UTF-8）",
                      f"not a readable .xls: {why_en}")


def iter_xls(data: bytes):
    import struct
    try:
        yield from _xls_rows(data)
    except TableError:
        raise
    except (IndexError, ValueError, KeyError, OverflowError, UnicodeDecodeError, MemoryError, struct.error) as err:
        raise _bad_xls(f"内容不合格式（{type(err).__name__}）", f"malformed ({type(err).__name__}: {err})") from None


def _cfb_stream(data: bytes, wanted=("Workbook", "Book")):
    """The bytes of the first of `wanted` streams in an OLE2 compound file."""
    import struct
    if len(data) < 512:
        raise _bad_xls("文件不完整", "truncated header")
    shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if shift not in (9, 12) or mini_shift != 6:
        raise _bad_xls("文件头不对", "bad sector sizes")
    ss = 1 << shift
    n_sectors = (len(data) - 512 + ss - 1) // ss
    n_fat, first_dir, _, cutoff, first_minifat, n_minifat, first_difat, n_difat = struct.unpack_from("<IIIIIIII", data, 0x2C)

    def sector(sid):
        if not 0 <= sid < n_sectors:
            raise _bad_xls("扇区编号超出文件", f"sector {sid} out of range")
        off = 512 + sid * ss
        return data[off:off + ss]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    sid, seen = first_difat, set()
    for _ in range(min(n_difat, n_sectors)):
        if sid >= 0xFFFFFFFA or sid in seen:
            break
        seen.add(sid)
        block = struct.unpack(f"<{ss // 4}I", sector(sid))
        difat += block[:-1]
        sid = block[-1]
    fat = []
    for sid in difat[:n_fat]:
        if sid >= 0xFFFFFFFA:
            continue
        fat += struct.unpack(f"<{ss // 4}I", sector(sid))

    def chain(start, limit):
        out, sid, seen = [], start, set()
        while sid < 0xFFFFFFFA:
            if sid in seen or sid >= len(fat) or len(out) > limit:
                raise _bad_xls("扇区链有环或断了", "broken sector chain")
            seen.add(sid)
            out.append(sid)
            sid = fat[sid]
        return out

    directory = b"".join(sector(s) for s in chain(first_dir, n_sectors))
    entries = []
    for off in range(0, len(directory) - 127, 128):
        name_len, kind = struct.unpack_from("<HB", directory, off + 64)
        start, size = struct.unpack_from("<II", directory, off + 116)
        name = directory[off:off + max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
        entries.append((name, kind, start, size))
    if not entries:
        raise _bad_xls("没有目录", "no directory")
    by_name = {name: (kind, start, size) for name, kind, start, size in entries if kind in (1, 2, 5)}
    if "Book" in by_name and "Workbook" not in by_name:
        raise _bad_xls("这是 Excel 95 以前的格式（BIFF5），太旧了", "BIFF5 (Excel 95) is not supported")
    hit = next((by_name[n] for n in wanted if n in by_name and by_name[n][0] == 2), None)
    if hit is None:
        raise _bad_xls("里面没有工作簿", "no Workbook stream")
    _, start, size = hit
    if size > len(data) * 2 + 4096:
        raise _bad_xls("工作簿的长度不对", "stream size larger than the file")
    if size < cutoff:  # in the mini stream
        root = entries[0]
        mini_stream = b"".join(sector(s) for s in chain(root[2], n_sectors))
        minifat = []
        for sid in chain(first_minifat, n_sectors) if n_minifat else []:
            minifat += struct.unpack(f"<{ss // 4}I", sector(sid))
        out, sid, seen = [], start, set()
        while sid < 0xFFFFFFFA and len(out) * 64 < size:
            if sid in seen or sid >= len(minifat):
                raise _bad_xls("小扇区链断了", "broken mini sector chain")
            seen.add(sid)
            out.append(mini_stream[sid * 64:sid * 64 + 64])
            sid = minifat[sid]
        return b"".join(out)[:size]
    return b"".join(sector(s) for s in chain(start, n_sectors))[:size]


def _xls_records(stream: bytes, pos: int = 0):
    import struct
    end = len(stream)
    while pos + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, pos)
        yield pos, kind, stream[pos + 4:pos + 4 + length]
        pos += 4 + length


class _Pieces:
    """The bytes of a record and its CONTINUE records, read across their boundaries (BIFF8 strings)."""

    def __init__(self, parts):
        self.parts, self.i, self.pos = parts, 0, 0

    def take(self, n: int) -> bytes:
        out = b""
        while n > 0:
            if self.i >= len(self.parts):
                raise _bad_xls("共享文字表不完整", "truncated SST")
            part = self.parts[self.i]
            chunk = part[self.pos:self.pos + n]
            out += chunk
            n -= len(chunk)
            self.pos += len(chunk)
            if self.pos >= len(part) and n > 0:
                self.i, self.pos = self.i + 1, 0
        return out

    def chars(self, count: int, high: bool) -> str:
        """`count` characters; a CONTINUE boundary inside starts with a new option byte."""
        out = []
        while count > 0:
            part = self.parts[self.i] if self.i < len(self.parts) else b""
            if self.pos >= len(part):
                self.i, self.pos = self.i + 1, 0
                if self.i >= len(self.parts):
                    raise _bad_xls("共享文字表不完整", "truncated SST")
                high = bool(self.parts[self.i][0] & 1)
                self.pos = 1
                continue
            width = 2 if high else 1
            n = min(count, (len(part) - self.pos) // width)
            if n <= 0:
                raise _bad_xls("共享文字表格式不对", "misaligned SST")
            raw = part[self.pos:self.pos + n * width]
            out.append(raw.decode("utf-16-le") if high else raw.decode("latin-1"))
            self.pos += n * width
            count -= n
        return "".join(out)


def _xls_string(p: _Pieces) -> str:
    import struct
    count, flags = struct.unpack("<HB", p.take(3))
    runs = struct.unpack("<H", p.take(2))[0] if flags & 8 else 0
    ext = struct.unpack("<i", p.take(4))[0] if flags & 4 else 0
    text = p.chars(count, bool(flags & 1))
    p.take(4 * runs + max(0, ext))
    return text


def _xls_short_string(data: bytes, pos: int):
    """A LABEL/STRING record's string (16-bit length, option byte)."""
    import struct
    count, flags = struct.unpack_from("<HB", data, pos)
    pos += 3
    if flags & 8:
        pos += 2
    if flags & 4:
        pos += 4
    width = 2 if flags & 1 else 1
    raw = data[pos:pos + count * width]
    return raw.decode("utf-16-le") if width == 2 else raw.decode("latin-1")


def _rk(value: int) -> float:
    import struct
    if value & 2:
        x = float(value >> 2 if value < 0x80000000 else (value >> 2) - (1 << 30))
    else:
        x = struct.unpack("<d", struct.pack("<Q", (value & 0xFFFFFFFC) << 32))[0]
    return x / 100 if value & 1 else x


def _xls_number(x: float, xf: int, date_xfs, epoch) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        return ""
    if xf in date_xfs and 0 < x < 2958466:
        return (epoch + _dt.timedelta(days=int(x))).isoformat()
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 1e15:  # what Excel shows in 常规 format: the digits past the 15th are gone
        mantissa, exp = f"{x:.14E}".split("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exp):02d}"
    return repr(x)


def _xls_rows(data: bytes):
    import struct
    stream = _cfb_stream(data)
    sst, formats, xf_formats, epoch, first_sheet = [], {}, [], _EXCEL_EPOCH, None
    records = list(_xls_records(stream))
    i = 0
    if not records or records[0][1] != 0x0809:
        raise _bad_xls("工作簿开头不对", "no BOF record")
    version = struct.unpack_from("<H", records[0][2], 0)[0] if len(records[0][2]) >= 2 else 0
    if version != 0x0600:
        raise _bad_xls("这是 Excel 95 以前的格式，太旧了", f"BIFF version {version:#x} is not BIFF8")
    while i < len(records):
        pos, kind, body = records[i]
        if kind == 0x000A:  # EOF of the globals
            break
        if kind == 0x002F:
            raise _bad_xls("文件加了密码", "the workbook is encrypted")
        if kind == 0x0022 and len(body) >= 2 and struct.unpack_from("<H", body)[0] == 1:
            epoch = _EPOCH_1904
        elif kind == 0x041E and len(body) >= 5:
            formats[struct.unpack_from("<H", body)[0]] = _xls_short_string(body, 2)
        elif kind == 0x00E0 and len(body) >= 4:
            xf_formats.append(struct.unpack_from("<H", body, 2)[0])
        elif kind == 0x0085 and first_sheet is None and len(body) >= 6:
            if body[5] == 0:  # a worksheet (not a chart or macro sheet)
                first_sheet = struct.unpack_from("<I", body)[0]
        elif kind == 0x00FC:
            parts = [body[8:]]
            while i + 1 < len(records) and records[i + 1][1] == 0x003C:
                i += 1
                parts.append(records[i][2])
            total = struct.unpack_from("<I", body, 4)[0] if len(body) >= 8 else 0
            p = _Pieces(parts)
            for _ in range(min(total, 10_000_000)):
                if p.i >= len(parts) or (p.i == len(parts) - 1 and p.pos >= len(parts[-1])):
                    break
                sst.append(_xls_string(p))
        i += 1
    if first_sheet is None or not 0 <= first_sheet < len(stream):
        raise _bad_xls("找不到第一个工作表", "the first worksheet is missing")
    date_xfs = set()
    for n, fmt in enumerate(xf_formats):
        code = formats.get(fmt)
        if fmt in _BUILTIN_DATE_FORMATS:
            date_xfs.add(n)
        elif code:
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code).lower()
            if re.search(r"[dy]", code) or ("m" in code and "h" not in code and "s" not in code):
                date_xfs.add(n)
    cells: dict = {}

    def put(r, c, value):
        if r >= 65536 or c >= 256:
            raise _bad_xls(f"单元格位置不对（第{r + 1}行第{c + 1}列）", f"cell {r},{c} out of range")
        cells.setdefault(r, {})[c] = value

    pending_formula = None
    for pos, kind, body in _xls_records(stream, first_sheet):
        if kind == 0x000A:
            break
        if kind == 0x002F:
            raise _bad_xls("文件加了密码", "the workbook is encrypted")
        if kind in (0x00FD, 0x0203, 0x027E, 0x0204, 0x0006, 0x0205, 0x00BD) and len(body) < 6:
            raise _bad_xls("单元格记录太短", "short cell record")
        if kind == 0x00FD:  # LABELSST
            r, c, _, k = struct.unpack_from("<HHHI", body)
            if k >= len(sst):
                raise _bad_xls(f"第{r + 1}行第{c + 1}列指向不存在的共享文字", f"SST index {k} of {len(sst)}")
            put(r, c, sst[k])
        elif kind == 0x0204:  # LABEL
            r, c, _ = struct.unpack_from("<HHH", body)
            put(r, c, _xls_short_string(body, 6))
        elif kind == 0x0203:  # NUMBER
            r, c, xf, x = struct.unpack_from("<HHHd", body)
            put(r, c, _xls_number(x, xf, date_xfs, epoch))
        elif kind == 0x027E:  # RK
            r, c, xf, v = struct.unpack_from("<HHHI", body)
            put(r, c, _xls_number(_rk(v), xf, date_xfs, epoch))
        elif kind == 0x00BD:  # MULRK
            r, first = struct.unpack_from("<HH", body)
            n = (len(body) - 6) // 6
            for j in range(n):
                xf, v = struct.unpack_from("<HI", body, 4 + 6 * j)
                put(r, first + j, _xls_number(_rk(v), xf, date_xfs, epoch))
        elif kind == 0x0006 and len(body) >= 14:  # FORMULA: its cached result
            r, c, xf = struct.unpack_from("<HHH", body)
            result = body[6:14]
            if result[6:8] == b"\xff\xff":
                if result[0] == 0:
                    pending_formula = (r, c)
                elif result[0] == 1:
                    put(r, c, "是" if result[2] else "否")
            else:
                put(r, c, _xls_number(struct.unpack("<d", result)[0], xf, date_xfs, epoch))
        elif kind == 0x0207 and pending_formula:  # STRING after a FORMULA
            put(*pending_formula, _xls_short_string(body, 0))
            pending_formula = None
        elif kind == 0x0205:  # BOOLERR
            r, c, _, v, is_error = struct.unpack_from("<HHHBB", body)
            if not is_error:
                put(r, c, "是" if v else "否")
    for r in sorted(cells):
        row = cells[r]
        yield r + 1, [row.get(c, "") for c in range(max(row) + 1)]
