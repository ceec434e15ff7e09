"""Settlement of a service across a county's towns, from the county's `settlement` block in the
catalogue (慈溪: home care for 人户分离 elders, seed 004 正文“服务经费结算”, 附件2 机构结算表, 附件3 乡镇汇总表).

From a list of served elders (one row per elder per month served, or with a 服务月数 column) and the
per-person amount, the tables total the subsidy per service centre within each 户籍地 town (附件2) and
per town and month (附件3), split between the payers of the block (慈溪: 市财政 65 %, 户籍地镇（街道）35 %).
The towns, their other spellings, the shares, the categories and the titles all come from the
catalogue: a county with its own settlement needs a block, not code.

Rules (README, "Settlement"):
- a 户籍镇 that is not one of the block's towns (or their spellings) is that row's error and is never paid;
- money is Decimal; the per-person amount is at most to the fen (0.01) and at most 100,000 yuan;
- each table row's total is split once: every payer but the last rounded half-up to the fen, the last
  gets the rest, so each row adds up exactly; subtotals and totals are plain sums. When a share of the
  per-person amount is not a whole number of fen (慈溪: the amount is not a multiple of 0.20 yuan), the
  split of 附件2 (per centre) and of 附件3 (per town and month) can differ by a few fen, and the
  summary says so;
- months: "3", "3月", "三月", "2022-03", "2022年3月"; when some rows give a year and others not, the year
  is filled in if there is only one, otherwise those rows are errors.
Standard library only.
"""
from __future__ import annotations

import datetime as _dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .engine import in_force
from .profile import FIELDS
from .screen import NO, YES, Outputs, norm_text, short_text, strip_paren, find_header
from .tables import TableError, open_table, table_format, write_table_to

FEN = Decimal("0.01")
MAX_PER_PERSON = Decimal(100000)
MAX_MONTHS = 12

COLUMNS = {
    "town": ["户籍镇（街道）", "户籍地镇（街道）", "户籍镇街", "户籍所在镇（街道）", "户籍乡镇（街道）", "镇（街道）"],
    "centre": ["服务机构", "日间照料中心名称", "服务机构名称", "居家养老服务中心", "承接服务的机构", "服务中心"],
    "category": ["类别", "服务对象类别", "对象类别", "普惠服务对象"],
    "month": ["月份", "服务月份", "结算月份"],
    "months": ["服务月数", "月数"],
    "residence_town": ["常住镇（街道）", "现居住镇（街道）", "居住镇（街道）", "常住镇街"],
}
MONTH_NAMES = ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"]
QUARTERS = ["一", "二", "三", "四"]


def month_name(n: int) -> str:
    return MONTH_NAMES[n - 1]


def parse_month(text: str):
    """"3", "3月", "三月", "2022-03", "2022年3月" → (year or None, month); ValueError otherwise."""
    t = norm_text(text)
    m = re.fullmatch(r"(?:(\d{4})[-/.年])?(\d{1,2}|[一二三四五六七八九十]+)月?(?:份)?", t)
    if not m:
        raise ValueError(t)
    word = m.group(2)
    month = int(word) if word.isdigit() else (MONTH_NAMES.index(word + "月") + 1 if word + "月" in MONTH_NAMES else 0)
    if not 1 <= month <= 12:
        raise ValueError(t)
    return (int(m.group(1)) if m.group(1) else None), month


def money(value) -> Decimal:
    """The per-person amount: a positive number of yuan, at most to the fen and at most 100,000."""
    text = str(value).strip().replace(",", "").replace("，", "").rstrip("元").strip()
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise TableError(f"每人金额“{short_text(str(value))}”不是数字：请写成 75 或 75.5", f"per-person amount {str(value)[:40]!r} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_PER_PERSON:
        raise TableError(f"每人金额“{short_text(str(value))}”不对：要大于0、不超过{MAX_PER_PERSON}元",
                         f"per-person amount {str(value)[:40]!r} must be > 0 and at most {MAX_PER_PERSON}")
    if amount != amount.quantize(FEN):
        raise TableError(f"每人金额“{short_text(str(value))}”写到了分以下：最多写到分（两位小数）",
                         f"per-person amount {str(value)[:40]!r} has more than two decimals")
    return amount.quantize(FEN)


class Block:
    """A county's `settlement` block, read from the compiled catalogue."""

    def __init__(self, county: dict):
        b = county["settlement"]
        self.county = county
        self.name = county["name"]
        self.towns = list(b["towns"])
        self.aliases = dict(b.get("town_aliases") or {})
        self.dated_shares = b["shares"]  # each may carry dated `changes` of its percent
        self.shares = self.shares_on(_dt.date.today())
        self.categories = [(c["name"], [str(w) for w in c["words"]], c.get("field")) for c in b["categories"]]
        self.annex2_title = b.get("annex2_title") or f"{self.name}结算表"
        self.annex3_title = b.get("annex3_title") or f"{self.name}汇总表"
        self.unit = b.get("unit") or "（单位：元）"

    def shares_on(self, day):
        """[(payer, annex3 heading, share)] in force on `day`."""
        return [(s["payer"], s.get("annex3") or s["payer"], Decimal(in_force(s, day)[0]["percent"]) / 100)
                for s in self.dated_shares]

    def change_days(self) -> list:
        return sorted({ch["from"] for s in self.dated_shares for ch in s.get("changes") or []})

    def town(self, text: str):
        """The block's name for a 户籍镇 cell (浒山, 浒山街道, 慈溪市浒山街道, 白沙街道), or None."""
        name = re.sub(r"\s+", "", text)
        for prefix in (self.county.get("province", "") + self.county.get("prefecture", "") + self.name,
                       self.county.get("prefecture", "") + self.name, self.name):
            if prefix and name.startswith(prefix) and len(name) > len(prefix):
                name = name[len(prefix):]
                break
        name = self.aliases.get(name, name)
        if name in self.towns:
            return name
        for suffix in ("街道", "镇", "乡"):
            full = self.aliases.get(name + suffix, name + suffix)
            if name and full in self.towns:
                return full
        return None

    def split(self, total: Decimal):
        """[share per payer]: all but the last rounded half-up to the fen, the last gets the rest."""
        parts = [(total * pct).quantize(FEN, rounding=ROUND_HALF_UP) for _, _, pct in self.shares[:-1]]
        return parts + [total - sum(parts, Decimal(0))]


def settlement_block(catalogue, county=None) -> Block:
    """The settlement block of `county` (code or name), or of the only county that has one."""
    having = {code: c for code, c in catalogue["counties"].items() if c.get("settlement")}
    if county:
        hit = [c for code, c in having.items() if county in (code, c["name"], c["name"][:-1])]
        if not hit:
            raise TableError(f"目录里“{short_text(county)}”没有结算办法（settlement）。有结算办法的：{'、'.join(c['name'] for c in having.values()) or '没有'}",
                             f"{county!r} has no settlement block in the catalogue")
        return Block(hit[0])
    if len(having) != 1:
        raise TableError("目录里有结算办法的县（市）不止一个（或一个也没有）：请指明县（市）",
                         "the catalogue has more than one (or no) county with a settlement block: name the county")
    return Block(next(iter(having.values())))


def _columns(header, block):
    index = {}
    for key, names in COLUMNS.items():
        for n in names:
            index[norm_text(n)] = key
    for name, _, field in block.categories:
        if field:
            for n in (field, FIELDS[field][1], "计划生育特殊家庭", "计生特殊家庭"):
                index.setdefault(norm_text(n), ("field", field))
    found = {}
    for i, h in enumerate(header):
        key = index.get(norm_text(h)) or index.get(strip_paren(norm_text(h)))
        if key and key not in found:
            found[key] = i
    return found


def _is_served_header(block):
    def check(cells):
        found = _columns(cells, block)
        return "town" in found and "centre" in found
    return check


def settle(header, rows, per_person, *, catalogue=None, county=None, lines=None) -> dict:
    """Totals per (town, centre, category) and per (town, month); rows the list of served elders
    (`lines` their line numbers in the file, else counted from 2)."""
    if catalogue is None:
        from . import engine
        catalogue = engine().catalogue
    block = settlement_block(catalogue, county)
    per_person = money(per_person)
    cols = _columns(header, block)
    for key, zh in (("town", "户籍镇（街道）"), ("centre", "服务机构")):
        if key not in cols:
            raise TableError(f"服务名单里缺少“{zh}”列", f"the list of served elders has no {zh} column")
    cell = lambda r, k: r[cols[k]].strip() if k in cols and cols[k] < len(r) else ""  # noqa: E731
    field_cols = {k[1]: i for k, i in cols.items() if isinstance(k, tuple)}
    names = [name for name, _, _ in block.categories]
    kept, errors, skipped = [], [], []
    for n, r in zip(lines or range(2, len(rows) + 2), rows):
        if not any(c.strip() for c in r):
            continue
        problems = []
        town_text, centre = cell(r, "town"), cell(r, "centre")
        town = block.town(town_text) if town_text else None
        if not town_text:
            problems.append("户籍镇（街道）是空的")
        elif town is None:
            problems.append(f"户籍镇（街道）“{short_text(town_text)}”不是{block.name}的镇（街道）（附件所列：{'、'.join(block.towns)}），"
                            "没有结算")
        if not centre:
            problems.append("服务机构是空的")
        category = names[0]
        cat_text = cell(r, "category")
        if cat_text:
            hits = [name for name, words, _ in block.categories if any(w in cat_text for w in words)]
            if not hits:
                problems.append(f"类别“{short_text(cat_text)}”看不懂：填 {' 或 '.join(names)}")
            else:
                category = hits[-1] if len(hits) > 1 else hits[0]
        else:
            for name, _, field in block.categories:
                i = field_cols.get(field)
                value = r[i].strip() if i is not None and i < len(r) else ""
                if value and norm_text(value) in YES:
                    category = name
                elif value and norm_text(value) not in NO:
                    problems.append(f"{FIELDS[field][1]}“{short_text(value)}”看不懂：填“是”或“否”")
        month = None
        if cell(r, "month"):
            try:
                month = parse_month(cell(r, "month"))
            except ValueError:
                problems.append(f"月份“{short_text(cell(r, 'month'))}”看不懂：填 3、3月、三月或 2022-03")
        count = 1
        if cell(r, "months"):
            m = re.fullmatch(r"(\d{1,3})个?月?", norm_text(cell(r, "months")))
            if not m or not 1 <= int(m.group(1)) <= MAX_MONTHS:
                problems.append(f"服务月数“{short_text(cell(r, 'months'))}”不对：填1到{MAX_MONTHS}的整数")
            else:
                count = int(m.group(1))
        if problems:
            errors.append({"row": n, "error": "；".join(problems)})
            continue
        r_town = cell(r, "residence_town")
        if r_town and block.town(r_town) == town:
            skipped.append({"row": n, "reason": "常住镇（街道）与户籍镇（街道）相同，不属人户分离结算，由所在镇（街道）统筹结算"})
            continue
        kept.append((n, town, centre, category, month, count))
    # months: fill a single year into rows without one; with several years, those rows are errors
    years = {m[0] for *_, m, _ in kept if m and m[0] is not None}
    if len(years) == 1:
        year = next(iter(years))
        kept = [(n, t, c, cat, (year, m[1]) if m and m[0] is None else m, k) for n, t, c, cat, m, k in kept]
    elif len(years) > 1:
        bad = [x for x in kept if x[4] and x[4][0] is None]
        for x in bad:
            errors.append({"row": x[0], "error": f"月份“{month_name(x[4][1])}”没有写年份，而别的行写了不同的年份（{'、'.join(map(str, sorted(years)))}）：请写成 2022-03 这样"})
        kept = [x for x in kept if not (x[4] and x[4][0] is None)]
    errors.sort(key=lambda e: e["row"])
    warnings = []
    # the shares in force in the months settled: one settlement never mixes two splits
    if block.change_days():
        dated = sorted({m for *_, m, _ in kept if m and m[0] is not None})
        splits = {}
        for y, mo in dated:
            splits.setdefault(tuple(p for *_, p in block.shares_on(_dt.date(y, mo, 1))), []).append(f"{y}年{mo}月")
        if len(splits) > 1:
            raise TableError("这份名单跨过了分摊比例改变的日期（" + "、".join(block.change_days()) + "）：请按改变前后分成两份，各结算一次",
                             "the list spans a date on which the shares change: settle the months before and after separately")
        if dated:
            y, mo = dated[0]
            block.shares = block.shares_on(_dt.date(y, mo, 1))
        else:
            warnings.append("名单没有写年月，按今天的分摊比例结算；分摊比例曾经改变过（" + "、".join(block.change_days()) + "），"
                            "结算以前月份的，请在月份里写上年份")
    centres, months = {}, {}
    for _, town, centre, category, month, count in kept:
        entry = centres.setdefault((town, centre), dict.fromkeys(names, 0))
        entry[category] += count
        months[(town, month)] = months.get((town, month), 0) + count
    if any(per_person * pct != (per_person * pct).quantize(FEN) for _, _, pct in block.shares):
        warnings.append(f"每人金额 {_text(per_person)} 元按 {'/'.join(str(int(p * 100)) for _, _, p in block.shares)} 分摊不是整分："
                        "附件2每行、附件3每镇每月的合计各自四舍五入到分（最后一方得余数），两张表的分摊可能差几分")
    return {"per_person": per_person, "block": block, "centres": centres, "months": months,
            "errors": errors, "skipped": skipped, "warnings": warnings, "categories": names}


def _period(s):
    """(label function, title prefix like "2022年第一季度" or "2022年3月至5月")."""
    periods = sorted({m for _, m in s["months"] if m is not None}, key=lambda ym: (ym[0] or 0, ym[1]))
    years = {y for y, _ in periods}
    label = (lambda ym: month_name(ym[1])) if len(years) <= 1 else (lambda ym: f"{ym[0]}年{ym[1]}月")
    if not periods:
        return periods, label, ""
    year = f"{next(iter(years))}年" if len(years) == 1 and None not in years else ("" if len(years) > 1 else "____年")
    quarters = {(y, (m - 1) // 3) for y, m in periods}
    if len(years) == 1 and len(quarters) == 1:
        prefix = f"{year}第{QUARTERS[next(iter(quarters))[1]]}季度"
    elif len(years) == 1:
        prefix = f"{year}{periods[0][1]}月至{periods[-1][1]}月"
    else:
        prefix = f"{periods[0][0]}年{periods[0][1]}月至{periods[-1][0]}年{periods[-1][1]}月"
    return periods, label, prefix


def annex2_rows(s):
    """附件2 data rows: per 户籍地 town (in the order the list first names it, as the printed 附件2 does),
    one row per service centre, then 小计. Columns: town, 序号, centre, (人数, 金额) per category, 总合计, payers."""
    rows = []
    block = s["block"]
    towns = list(dict.fromkeys(t for t, _ in s["centres"]))
    width = 2 * len(s["categories"]) + 1 + len(block.shares)
    for town in towns:
        sub = [Decimal(0)] * width
        number = 0
        for (t, centre), counts in s["centres"].items():
            if t != town:
                continue
            number += 1
            values = []
            for name in s["categories"]:
                values += [counts[name], s["per_person"] * counts[name]]
            total = s["per_person"] * sum(counts.values())
            values += [total, *block.split(total)]
            rows.append([town if number == 1 else "", number, centre, *values])
            sub = [x + y for x, y in zip(sub, values)]
        rows.append(["小计", "", "", *[int(x) if i < 2 * len(s["categories"]) and i % 2 == 0 else x for i, x in enumerate(sub)]])
    return rows


def annex2_head(s):
    block, cats = s["block"], s["categories"]
    _, _, prefix = _period(s)
    width = 3 + 2 * len(cats) + 1 + len(block.shares)
    group = ["镇（街道）", "序号", "日间照料中心名称", "普惠服务对象服务补助", *[""] * (2 * len(cats) - 1), "总合计",
             *[p for p, _, _ in block.shares]]
    level2 = ["", "", "", *[x for name in cats for x in (name, "")], *[""] * (1 + len(block.shares))]
    level3 = ["", "", "", *["人数", "金额"] * len(cats), *[""] * (1 + len(block.shares))]
    return [[f"{prefix}{block.annex2_title}"], [""] * (width - 1) + [block.unit], group, level2, level3]


ANNEX2_COLUMNS = ["镇（街道）", "序号", "日间照料中心名称", "80周岁及以上居家老年人人数", "80周岁及以上居家老年人金额",
                  "计划生育特殊家庭中70周岁及以上老年人人数", "计划生育特殊家庭中70周岁及以上老年人金额",
                  "总合计", "市财政", "镇财政"]  # 慈溪's 附件2 as one header row (the file prints it on three)


def annex3(s):
    """附件3: every town of the block in its order, per month 合计 and each payer, then totals; a flat header."""
    block = s["block"]
    periods, label, _ = _period(s)
    header = ["序号", "镇（街道）"]
    for p in periods:
        header += [f"{label(p)}合计", *[f"{label(p)}{a3}" for _, a3, _ in block.shares]]
    header += ["总合计", *[a3 for _, a3, _ in block.shares]]
    k = 1 + len(block.shares)
    rows, grand = [], [Decimal(0)] * (k * len(periods) + k)
    for i, town in enumerate(block.towns, start=1):
        row, totals = [i, town], [Decimal(0)] * k
        for p in periods:
            count = s["months"].get((town, p), 0)
            if count:
                total = s["per_person"] * count
                cells = [total, *block.split(total)]
                totals = [x + y for x, y in zip(totals, cells)]
                row += cells
            else:
                row += [""] * k
        undated = s["months"].get((town, None), 0)
        if undated:
            total = s["per_person"] * undated
            totals = [x + y for x, y in zip(totals, [total, *block.split(total)])]
        row += totals
        rows.append(row)
        grand = [g + (v if isinstance(v, Decimal) else 0) for g, v in zip(grand, row[2:])]
    rows.append(["总合计", "", *grand])
    return header, rows


def annex3_head(s):
    block = s["block"]
    periods, label, prefix = _period(s)
    k = 1 + len(block.shares)
    width = 2 + k * len(periods) + k
    top = ["序号", "镇（街道）", *[x for p in periods for x in (label(p), *[""] * (k - 1))], "总合计",
           *[a3 for _, a3, _ in block.shares]]
    second = ["", "", *[x for _ in periods for x in ("合计", *[a3 for _, a3, _ in block.shares])], *[""] * k]
    return [[f"{prefix}{block.annex3_title}"], [""] * (width - 1) + [block.unit], top, second]


def settle_file(served, output, per_person, *, annex3_path=None, county=None, catalogue=None) -> dict:
    """Read the list of served elders, write 附件2 to OUTPUT (an .xlsx gets 附件3 as a second sheet)
    and 附件3 to `annex3_path` if given. Returns a summary (money as strings). Raises TableError (or
    ProfileError) for anything that is not right, with nothing written."""
    per_person = money(per_person)
    if catalogue is None:
        from . import engine
        catalogue = engine().catalogue
    block = settlement_block(catalogue, county)
    table = open_table(served)
    line, header, above, rest = find_header(table.rows, _is_served_header(block))
    lines, rows = [], []
    for n, cells in rest:
        lines.append(n)
        rows.append(cells)
    s = settle(header, rows, per_person, catalogue=catalogue, county=block.county["code"], lines=lines)
    rows2 = annex2_rows(s)
    header3, rows3 = annex3(s)
    head2, head3 = annex2_head(s), annex3_head(s)
    sheet2, sheet3 = "附件2机构结算表", "附件3乡镇汇总表"
    paths = [output] + ([annex3_path] if annex3_path is not None else [])
    outputs = Outputs(paths)
    try:
        if table_format(output) == "xlsx" and annex3_path is None:
            write_table_to(outputs[0], "xlsx", [(sheet2, head2, rows2), (sheet3, head3, rows3)])
        else:
            write_table_to(outputs[0], table_format(output), [(sheet2, head2, rows2)])
        if annex3_path is not None:
            write_table_to(outputs[1], table_format(annex3_path), [(sheet3, head3, rows3)])
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise
    total = rows3[-1]
    k = 1 + len(block.shares)
    person_months = sum(sum(c.values()) for c in s["centres"].values())
    summary = {
        "served_rows": len([r for r in rows if any(c.strip() for c in r)]), "person_months": person_months,
        "per_person": _text(s["per_person"]), "total": _text(total[-k]),
        **{("city" if i == 0 else "town" if i == len(block.shares) - 1 else f"payer{i + 1}"): _text(total[-k + 1 + i])
           for i in range(len(block.shares))},
        "payers": [p for p, _, _ in block.shares],
        "errors": s["errors"], "skipped": s["skipped"], "output": str(output),
        **({"annex3": str(annex3_path)} if annex3_path is not None else {}),
    }
    if s["warnings"]:
        summary["warnings"] = s["warnings"]
    if line != 1:
        summary["header_line"] = line
    return summary


def _text(d) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
