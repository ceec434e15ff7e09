"""慈溪's settlement of home care for 人户分离 elders (seed 004, 附件2 机构结算表 and 附件3 乡镇汇总表).

From a list of served elders (one row per elder per month served) and the per-person amount, the
tables total the subsidy per service centre within each 户籍地 town and per town and month, split
into the city's 65 % and the 户籍地 town's 35 % (正文 "服务经费结算"). Money is Decimal throughout;
each person's amount is split once (city share rounded half-up to the fen, the town gets the rest),
so every subtotal and total is a plain sum and the two tables agree to the fen. Standard library only.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .profile import FIELDS
from .screen import YES, NO, _norm, _strip_paren
from .tables import TableError, read_table, table_format, write_table, xlsx_bytes

CITY_SHARE = Decimal("0.65")  # 市财政承担65%
FEN = Decimal("0.01")

# 附件3's 18 towns (镇、街道) of 慈溪市, in the document's order.
TOWNS = ["浒山街道", "古塘街道", "白沙路街道", "龙山镇", "掌起镇", "观海卫镇", "附海镇", "桥头镇", "匡堰镇", "逍林镇",
         "新浦镇", "胜山镇", "横河镇", "坎墩街道", "崇寿镇", "宗汉街道", "长河镇", "周巷镇"]
# 附件2 writes 白沙街道 where 附件3 writes 白沙路街道 (the street's official name).
TOWN_ALIASES = {"白沙街道": "白沙路街道"}

AGE80, FAMILY = "80", "fp"
CATEGORY_HEADERS = {AGE80: "80周岁及以上居家老年人", FAMILY: "计划生育特殊家庭中70周岁及以上老年人"}
ANNEX2_COLUMNS = ["镇（街道）", "序号", "日间照料中心名称",
                  f"{CATEGORY_HEADERS[AGE80]}人数", f"{CATEGORY_HEADERS[AGE80]}金额",
                  f"{CATEGORY_HEADERS[FAMILY]}人数", f"{CATEGORY_HEADERS[FAMILY]}金额",
                  "总合计", "市财政", "镇财政"]

COLUMNS = {
    "town": ["户籍镇（街道）", "户籍地镇（街道）", "户籍镇街", "户籍所在镇（街道）", "户籍乡镇（街道）", "镇（街道）"],
    "centre": ["服务机构", "日间照料中心名称", "服务机构名称", "居家养老服务中心", "承接服务的机构", "服务中心"],
    "category": ["类别", "服务对象类别", "对象类别", "普惠服务对象"],
    "family": ["计划生育特殊家庭", "计生特殊家庭", "family_planning_special"],
    "month": ["月份", "服务月份", "结算月份"],
    "months": ["服务月数", "月数"],
    "residence_town": ["常住镇（街道）", "现居住镇（街道）", "居住镇（街道）", "常住镇街"],
}
MONTH_NAMES = ["一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月"]


def month_name(n: int) -> str:
    return MONTH_NAMES[n - 1]


def parse_month(text: str):
    """"3", "3月", "三月", "2022-03", "2022年3月" → (year or None, month); ValueError otherwise."""
    t = _norm(text)
    m = re.fullmatch(r"(?:(\d{4})[-/.年])?(\d{1,2}|[一二三四五六七八九十]+)月?", t)
    if not m:
        raise ValueError(t)
    word = m.group(2)
    month = int(word) if word.isdigit() else (MONTH_NAMES.index(word + "月") + 1 if word + "月" in MONTH_NAMES else 0)
    if not 1 <= month <= 12:
        raise ValueError(t)
    return (int(m.group(1)) if m.group(1) else None), month


def money(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "").rstrip("元"))
    except InvalidOperation:
        raise TableError(f"每人金额“{value}”不是数字", f"per-person amount {value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise TableError(f"每人金额“{value}”不对", f"per-person amount {value!r} is not allowed")
    return amount


def canonical_town(name: str) -> str:
    name = name.strip().replace(" ", "")
    name = TOWN_ALIASES.get(name, name)
    if name in TOWNS:
        return name
    for town in TOWNS:
        if name and town in (name + "街道", name + "镇", TOWN_ALIASES.get(name + "街道")):
            return town
    return name


def _columns(header):
    index = {}
    for key, names in COLUMNS.items():
        for n in names:
            index[_norm(n)] = key
    found = {}
    for i, h in enumerate(header):
        key = index.get(_norm(h)) or index.get(_strip_paren(_norm(h)))
        if key and key not in found:
            found[key] = i
    for key, zh in (("town", "户籍镇（街道）"), ("centre", "服务机构")):
        if key not in found:
            raise TableError(f"服务名单里缺少“{zh}”列", f"the list of served elders has no {zh} column")
    return found


def settle(header, rows, per_person) -> dict:
    """Totals per (town, centre, category) and per (town, month); rows the list of served elders."""
    per_person = money(per_person)
    city_each = (per_person * CITY_SHARE).quantize(FEN, rounding=ROUND_HALF_UP)
    town_each = per_person - city_each
    cols = _columns(header)
    cell = lambda r, k: r[cols[k]].strip() if k in cols and cols[k] < len(r) else ""  # noqa: E731
    centres, months, errors, skipped = {}, {}, [], []
    for n, r in enumerate(rows, start=2):
        town, centre = canonical_town(cell(r, "town")), cell(r, "centre")
        problems = []
        if not town:
            problems.append("户籍镇（街道）是空的")
        if not centre:
            problems.append("服务机构是空的")
        category = AGE80
        cat_text = cell(r, "category")
        if cat_text:
            if "计划生育" in cat_text or "计生" in cat_text:
                category = FAMILY
            elif "80" not in cat_text and "八十" not in cat_text and "高龄" not in cat_text:
                problems.append(f"类别“{cat_text}”看不懂：填“80周岁及以上”或“计划生育特殊家庭”")
        elif _norm(cell(r, "family")) in YES:
            category = FAMILY
        elif cell(r, "family") and _norm(cell(r, "family")) not in NO:
            problems.append(f"{FIELDS['family_planning_special'][1]}“{cell(r, 'family')}”看不懂：填“是”或“否”")
        month = None
        if cell(r, "month"):
            try:
                month = parse_month(cell(r, "month"))
            except ValueError:
                problems.append(f"月份“{cell(r, 'month')}”看不懂：填 3、3月、三月或 2022-03")
        count = 1
        if cell(r, "months"):
            m = re.fullmatch(r"(\d+)个?月?", _norm(cell(r, "months")))
            if not m or int(m.group(1)) < 1:
                problems.append(f"服务月数“{cell(r, 'months')}”不是正整数")
            else:
                count = int(m.group(1))
        if problems:
            errors.append({"row": n, "error": "；".join(problems)})
            continue
        r_town = cell(r, "residence_town")
        if r_town and canonical_town(r_town) == town:
            skipped.append({"row": n, "reason": "常住镇（街道）与户籍镇（街道）相同，不属人户分离结算，由所在镇（街道）统筹结算"})
            continue
        key = (town, centre)
        entry = centres.setdefault(key, {AGE80: 0, FAMILY: 0})
        entry[category] += count
        mkey = (town, month)
        months[mkey] = months.get(mkey, 0) + count
    return {"per_person": per_person, "city_each": city_each, "town_each": town_each,
            "centres": centres, "months": months, "errors": errors, "skipped": skipped}


def _split(count, s):
    total = s["per_person"] * count
    return total, s["city_each"] * count, s["town_each"] * count


def _town_order(names):
    known = [t for t in TOWNS if t in names]
    return known + [t for t in dict.fromkeys(names) if t not in TOWNS]


def annex2_rows(s):
    """附件2: per 户籍地 town, one row per service centre, then 小计; a 总合计 row at the end."""
    rows = []
    towns = _town_order([t for t, _ in s["centres"]])
    grand = [0, Decimal(0), 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)]
    for town in towns:
        sub = [0, Decimal(0), 0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)]
        number = 0
        for (t, centre), counts in s["centres"].items():
            if t != town:
                continue
            number += 1
            a80 = s["per_person"] * counts[AGE80]
            afp = s["per_person"] * counts[FAMILY]
            total, city, town_part = _split(counts[AGE80] + counts[FAMILY], s)
            values = [counts[AGE80], a80, counts[FAMILY], afp, total, city, town_part]
            rows.append([town if number == 1 else "", number, centre, *values])
            sub = [x + y for x, y in zip(sub, values)]
        rows.append(["小计", "", "", *sub])
        grand = [x + y for x, y in zip(grand, sub)]
    rows.append(["总合计", "", "", *grand])
    return rows


def annex3(s):
    """附件3: every town of 慈溪 (and any other named), per month 合计/市财政承担/乡镇（街道）承担, then totals."""
    periods = sorted({m for _, m in s["months"] if m is not None}, key=lambda ym: (ym[0] or 0, ym[1]))
    years = {y for y, _ in periods}
    label = (lambda ym: month_name(ym[1])) if len(years) <= 1 else (lambda ym: f"{ym[0] or ''}年{ym[1]}月")
    header = ["序号", "镇（街道）"]
    for p in periods:
        header += [f"{label(p)}合计", f"{label(p)}市财政承担", f"{label(p)}乡镇（街道）承担"]
    header += ["总合计", "市财政承担", "乡镇（街道）承担"]
    towns = _town_order(TOWNS + [t for t, _ in s["months"]])
    rows, grand = [], [Decimal(0)] * (3 * len(periods) + 3)
    for i, town in enumerate(towns, start=1):
        row, totals = [i, town], [Decimal(0)] * 3
        for p in periods:
            count = s["months"].get((town, p), 0)
            if count:
                cells = list(_split(count, s))
                totals = [x + y for x, y in zip(totals, cells)]
                row += cells
            else:
                row += ["", "", ""]
        undated = s["months"].get((town, None), 0)
        if undated:
            totals = [x + y for x, y in zip(totals, _split(undated, s))]
        row += totals
        rows.append(row)
        grand = [g + (v if isinstance(v, Decimal) else 0) for g, v in zip(grand, row[2:])]
    rows.append(["总合计", "", *grand])
    return header, rows


def settle_file(served, output, per_person, *, annex3_path=None) -> dict:
    """Read the list of served elders, write 附件2 to OUTPUT (an .xlsx gets 附件3 as a second sheet)
    and 附件3 to `annex3_path` if given. Returns a summary (money as strings)."""
    header, rows, _ = read_table(served)
    s = settle(header, rows, per_person)
    rows2 = annex2_rows(s)
    header3, rows3 = annex3(s)
    sheet2, sheet3 = "附件2机构结算表", "附件3乡镇汇总表"
    if table_format(output) == "xlsx" and annex3_path is None:
        with open(output, "wb") as fh:
            fh.write(xlsx_bytes([(sheet2, ANNEX2_COLUMNS, rows2), (sheet3, header3, rows3)]))
    else:
        write_table(output, ANNEX2_COLUMNS, rows2, sheet_name=sheet2)
    if annex3_path is not None:
        write_table(annex3_path, header3, rows3, sheet_name=sheet3)
    total = rows2[-1]
    return {
        "served_rows": len(rows), "person_months": total[3] + total[5],
        "per_person": _text(s["per_person"]), "total": _text(total[7]), "city": _text(total[8]), "town": _text(total[9]),
        "errors": s["errors"], "skipped": s["skipped"], "output": str(output),
        **({"annex3": str(annex3_path)} if annex3_path is not None else {}),
    }


def _text(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
