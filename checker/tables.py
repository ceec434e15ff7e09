"""Reading and writing the tables cadres keep: CSV (UTF-8 with or without BOM, GB18030, UTF-16) and XLSX.

XLSX is read and written with the standard library (zipfile + xml.etree), not openpyxl: the checker
package must stay standard-library only (it runs in Pyodide, where openpyxl and et_xmlfile would be
two more wheels to ship and ~0.3 s more to import), a register needs only the first sheet's cell
values, and the writer needs only text and number cells. This also makes the output byte-for-byte
reproducible (fixed zip timestamps), so the browser and the command line give identical files.
openpyxl is used by the tests to prove both directions interoperate with a real implementation
(tests/test_screen.py also checks that nothing outside the standard library is imported). In the
browser, site_build/screen_assets.py ships the stdlib files this needs (csv, xml.etree, the GB18030
codec) next to the checker's trimmed standard library.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import re
import zipfile
from xml.etree import ElementTree as ET


class TableError(ValueError):
    """The file cannot be read as a table at all; `zh` is the message a cadre reads."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


# ---------------------------------------------------------------- reading

def read_table(source, name: str | None = None):
    """Read CSV or XLSX from a path or bytes; returns (header, rows, encoding) with every cell a str
    (empty string for an empty cell). Dates in XLSX date-formatted cells come back as YYYY-MM-DD."""
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    else:
        name = name or str(source)
        try:
            with open(source, "rb") as fh:
                data = fh.read()
        except OSError as err:
            raise TableError(f"无法读取文件 {source}：{err.strerror}", f"cannot read {source}: {err.strerror}") from None
    if data[:2] == b"PK":
        header, rows = _read_xlsx(data)
        encoding = "xlsx"
    elif data[:4] == b"\xd0\xcf\x11\xe0":
        raise TableError("这是旧的 .xls 格式：请在 Excel/WPS 里“另存为” .xlsx 或 CSV（UTF-8）后再用",
                         "this is an old .xls file: save it as .xlsx or CSV first")
    else:
        text, encoding = decode_text(data)
        header, rows = _read_csv(text)
    # drop rows with nothing in them (Excel leaves formatted empty rows behind)
    rows = [r for r in rows if any(c.strip() for c in r)]
    width = len(header)
    rows = [r + [""] * (width - len(r)) if len(r) < width else r for r in rows]
    return header, rows, encoding


def decode_text(data: bytes):
    """Bytes of a text table → (text, encoding name): BOMs first, then UTF-8, then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as err:
        raise TableError(f"文件既不是 UTF-8 也不是 GB18030/GBK 编码（第{err.start}字节）：请另存为 CSV（UTF-8）或 .xlsx",
                         f"neither UTF-8 nor GB18030 (byte {err.start})") from None


def _read_csv(text: str):
    first = text.split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table = list(reader)
    except csv.Error as err:
        raise TableError(f"CSV 文件格式有误：{err}", f"malformed CSV: {err}") from None
    if not table:
        raise TableError("文件是空的", "the file is empty")
    return table[0], table[1:]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_BUILTIN_DATE_FORMATS = set(range(14, 23)) | set(range(27, 37)) | set(range(45, 48)) | set(range(50, 59))
_EXCEL_EPOCH = _dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 counting Excel's phantom 1900-02-29
_EPOCH_1904 = _dt.date(1904, 1, 1)


def _col_index(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        else:
            break
    return n - 1


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


def _read_xlsx(data: bytes):
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        names = set(z.namelist())
        workbook = ET.fromstring(z.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, ET.ParseError):
        raise TableError("不是有效的 .xlsx 文件", "not a valid .xlsx file") from None
    epoch = _EXCEL_EPOCH
    sheet_rid = None
    for el in workbook.iter():
        tag = _local(el.tag)
        if tag == "workbookPr" and el.get("date1904") in ("1", "true"):
            epoch = _EPOCH_1904
        elif tag == "sheet" and sheet_rid is None:
            sheet_rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
    sheet_path = "xl/worksheets/sheet1.xml"
    if sheet_rid and "xl/_rels/workbook.xml.rels" in names:
        for rel in ET.fromstring(z.read("xl/_rels/workbook.xml.rels")):
            if rel.get("Id") == sheet_rid:
                target = rel.get("Target", "")
                sheet_path = target.lstrip("/") if target.startswith("/") else "xl/" + target
                break
    if sheet_path not in names:
        raise TableError("在 .xlsx 文件里找不到第一个工作表", "the first worksheet is missing")
    shared = []
    if "xl/sharedStrings.xml" in names:
        shared = [(si[0].text or "") if len(si) == 1 and _local(si[0].tag) == "t" else _text_of(si)
                  for si in ET.fromstring(z.read("xl/sharedStrings.xml")) if _local(si.tag) == "si"]
    date_styles = _date_styles(z.read("xl/styles.xml")) if "xl/styles.xml" in names else set()

    sheet = ET.fromstring(z.read(sheet_path))
    ns = sheet.tag[:sheet.tag.index("}") + 1] if sheet.tag.startswith("{") else ""
    ROW, C, V, IS, T = ns + "row", ns + "c", ns + "v", ns + "is", ns + "t"
    columns: dict = {}  # "AB" → 27
    table = []
    n_shared = len(shared)
    for row in sheet.iter(ROW):
        index = int(row.get("r", len(table) + 1)) - 1
        while len(table) < index:
            table.append([])
        cells: list = []
        append = cells.append
        for c in row:
            if c.tag != C:
                continue
            ref = c.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = columns.get(letters)
                if col is None:
                    col = columns[letters] = _col_index(letters)
            else:
                col = len(cells)
            kind = c.get("t")
            if kind == "s":  # shared string: what Excel and WPS write for text
                el = c.find(V)
                try:
                    i = int(el.text)
                    value = shared[i] if 0 <= i < n_shared else ""
                except (AttributeError, TypeError, ValueError):
                    value = ""
            elif kind == "inlineStr":
                el = c.find(IS)
                if el is None:
                    value = ""
                elif len(el) == 1 and el[0].tag == T:  # the usual <is><t>text</t></is>
                    value = el[0].text or ""
                else:
                    value = _text_of(el)
            else:
                el = c.find(V)
                v = (el.text or "") if el is not None else ""
                if kind == "b":
                    value = "是" if v.strip() == "1" else "否"
                elif kind in ("str", "e", "d"):
                    value = v[:10] if kind == "d" else v
                else:
                    value = _number(v, c.get("s"), date_styles, epoch)
            n = len(cells)
            if n == col:
                append(value)
            elif n < col:
                cells.extend([""] * (col - n))
                append(value)
            else:
                cells[col] = value
        if len(table) == index:
            table.append(cells)
        else:
            table[index] = cells
    if not table:
        raise TableError("工作表是空的", "the worksheet is empty")
    return table[0], table[1:]


def _number(v: str, style, date_styles, epoch) -> str:
    v = v.strip()
    if not v:
        return ""
    try:
        x = float(v)
    except ValueError:
        return v
    if style is not None and style.isdigit() and int(style) in date_styles and 0 < x < 2958466:
        return (epoch + _dt.timedelta(days=int(x))).isoformat()
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return v  # keep "3.30282194501011E+17" as written: an ID number stored as a number has lost digits


def _date_styles(styles_xml: bytes) -> set:
    """Indexes into cellXfs whose number format shows a date."""
    root = ET.fromstring(styles_xml)
    custom = {}
    for el in root.iter():
        if _local(el.tag) == "numFmt":
            code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", el.get("formatCode", "")).lower()
            custom[int(el.get("numFmtId", "0"))] = bool(re.search(r"[dy]", code)) or ("m" in code and "h" not in code and "s" not in code)
    out = set()
    for el in root.iter():
        if _local(el.tag) == "cellXfs":
            for i, xf in enumerate(x for x in el if _local(x.tag) == "xf"):
                fmt = int(xf.get("numFmtId", "0"))
                if fmt in _BUILTIN_DATE_FORMATS or custom.get(fmt):
                    out.add(i)
    return out


# ---------------------------------------------------------------- writing

def table_format(path: str) -> str:
    return "xlsx" if str(path).lower().endswith(".xlsx") else "csv"


def csv_bytes(header, rows) -> bytes:
    """UTF-8 with BOM (so Excel opens it as UTF-8), CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    plain = (str, int)  # what csv writes as we want; floats, Decimals, bools and None are converted
    writer.writerows(r if all(c.__class__ in plain for c in r) else [c if c.__class__ in plain else _csv_value(c) for c in r]
                     for r in rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return _num_text(value)
    return value


def table_bytes(fmt: str, header, rows, sheet_name="Sheet1") -> bytes:
    """The bytes of a one-sheet table: fmt "xlsx" or "csv"."""
    return xlsx_bytes([(sheet_name, header, rows)]) if fmt == "xlsx" else csv_bytes(header, rows)


def write_table(path, header, rows, sheet_name="Sheet1") -> bytes:
    """Write CSV or XLSX by the file name's extension; returns the bytes written."""
    data = table_bytes(table_format(path), header, rows, sheet_name)
    with open(path, "wb") as fh:
        fh.write(data)
    return data


_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
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


def _cell(ref: str, value, style: int, strings: dict) -> str:
    """One <c>: numbers as numbers, text as an index into the shared strings (`strings`: text → index)."""
    s = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f'<c r="{ref}"{s}/>' if style else ""
    if value.__class__ is not str:
        if isinstance(value, bool):
            value = "是" if value else "否"
        elif isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
            return f'<c r="{ref}"{s}><v>{_num_text(value)}</v></c>'
        else:
            value = str(value)
    index = strings.get(value)
    if index is None:
        index = strings[value] = len(strings)
    return f'<c r="{ref}"{s} t="s"><v>{index}</v></c>'


def _shared_strings_xml(strings: dict) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">']
    for text in strings:  # dicts keep insertion order = index order
        if _NEEDS_ESCAPE.search(text):
            text = _esc(text)
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        parts.append(f"<si><t{space}>{text}</t></si>")
    parts.append("</sst>")
    return "".join(parts)


_NEEDS_ESCAPE = re.compile('[&<>"\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]')


def _num_text(value) -> str:
    if isinstance(value, float):
        return repr(int(value)) if value == int(value) else repr(value)
    text = format(value, "f") if not isinstance(value, int) else str(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _sheet_xml(header, rows, strings: dict) -> str:
    widths = [min(60, max(8, _display_width(h) + 2)) for h in header]
    for r in rows[:200]:
        for i, v in enumerate(r[:len(widths)]):
            widths[i] = min(60, max(widths[i], _display_width(str(v)) + 2 if v not in (None, "") else 0))
    cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths))
    names = [_col_name(i) for i in range(max([len(header)] + [len(r) for r in rows]))]
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
             '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>']
    if cols:
        parts.append(f"<cols>{cols}</cols>")
    parts.append("<sheetData>")
    parts.append('<row r="1">' + "".join(_cell(f"{names[i]}1", h, 1, strings) for i, h in enumerate(header)) + "</row>")
    for n, r in enumerate(rows, start=2):
        parts.append(f'<row r="{n}">' + "".join(_cell(f"{names[i]}{n}", v, 0, strings) for i, v in enumerate(r)) + "</row>")
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2e80 else 1 for ch in text[:40])


_STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
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


def xlsx_bytes(sheets) -> bytes:
    """sheets: [(name, header, rows)] → the bytes of an .xlsx workbook (same input, same bytes)."""
    used: set = set()
    titles = [_sheet_title(name, used) for name, _, _ in sheets]
    n = len(sheets)
    content_types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                     '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                     '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
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
               + f'<Relationship Id="rId{n + 2}" Type="{_REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
               "</Relationships>")
    files = [("[Content_Types].xml", content_types), ("_rels/.rels", root_rels), ("xl/workbook.xml", workbook),
             ("xl/_rels/workbook.xml.rels", wb_rels), ("xl/styles.xml", _STYLES)]
    strings: dict = {}
    files += [(f"xl/worksheets/sheet{i + 1}.xml", _sheet_xml(header, rows, strings)) for i, (_, header, rows) in enumerate(sheets)]
    files.append(("xl/sharedStrings.xml", _shared_strings_xml(strings)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"), compresslevel=6)
    return buf.getvalue()
