"""The eligibility engine: one generic evaluator over the compiled catalogue.

Each condition is met, not met, unknown, or "later" (not met now, met from a known date because
only age or time is short). A service's status follows from its conditions; amounts, where to
apply and the explanation come from the catalogue entry. Standard library only.
"""
from __future__ import annotations

import calendar
import datetime as dt

from .profile import FIELDS, OTHER_COUNTY, age_on, birthday, parse_profile

MET, UNKNOWN, DOUBT, LATER, UNMET = "met", "unknown", "doubt", "later", "unmet"
# DOUBT: nothing is unknown, but the answer rests on our reading of the document (a convention or an
# inference that fails, a branch the document leaves to other rules, or a contested band): `maybe`.
STATUS = {MET: "eligible", UNKNOWN: "maybe", DOUBT: "maybe", LATER: "upcoming", UNMET: "ineligible"}
MARK = {MET: "✓", UNMET: "✗", UNKNOWN: "？还不知道", DOUBT: "？说不准"}
READING_KIND = {"convention": "本页的约定，文件没有写", "inference": "本页的推断，文件没有明说",
                "at_most": "文件没有写清楚条件", "contested": "文件前后说法不一"}
PER_TEXT = {"month": "每月", "year": "每年", "once": "一次性", "household": "每户"}

# Order in which unknown facts are asked when they settle equally many answers.
QUESTION_ORDER = [
    "hukou", "birth_date", "residence", "economic", "care_level", "family_planning_special", "living",
    "tekun_mode", "disability_grade", "disability_type", "has_disability_card", "sex", "dementia",
    "island_relocated", "lives_outside_hukou_town", "months_at_residence", "fixed_residence", "military",
    "state_pension_for_entitled", "no_supporter", "employee_pension", "resident_pension", "resident_medical",
    "chronic", "in_institution", "retrofit_done", "per_capita_income", "rural_veteran_soldier", "heroic_injury",
    "homeless", "child_hukou", "lives_with_child_in_town", "relocated_on",
    "barrier_free_done", "only_child_died", "lives_with_child_in_urban_area",
]
QUESTION_RANK = {f: i for i, f in enumerate(QUESTION_ORDER)}
_ORDER = QUESTION_RANK  # old private name, kept for callers not yet moved to QUESTION_RANK
DEFAULT_ASK = "当地乡镇（街道）或拨打政务服务热线12345"

# The order of the answer's `plan` (checker/README.md): groups in this order, and inside each the
# services by whom they are for, then what they give (the catalogue's `for` and `benefit`), then the
# monthly money, then the document's order. Data on the service decides, never the page.
PLAN_GROUPS = ("apply", "automatic", "maybe", "upcoming")
PLAN_TITLES = {"apply": "要去办的事", "automatic": "不用申请，会自动给您", "maybe": "可能可以，先问清楚", "upcoming": "以后可以"}
FOR_RANK = {"elder": 0, "family": 1, "after_death": 2}
FOR_TEXT = {"family": "（给家人的）", "after_death": "（老人去世后，家人办）"}
BENEFIT_RANK = {"cash": 0, "care": 1, "once": 2, "perk": 3}


def _ymd(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


class Facts:
    """A validated profile plus what is derived from it once per evaluation."""
    __slots__ = ("p", "as_of", "birth", "age", "age_month")

    def __init__(self, profile: dict):
        self.p = profile
        self.as_of = profile["as_of"]
        self.birth = profile.get("birth_date")
        if self.birth is not None:
            self.age = age_on(self.birth, self.as_of)
            last = self.as_of.replace(day=calendar.monthrange(self.as_of.year, self.as_of.month)[1])
            self.age_month = age_on(self.birth, last)  # age reached by the end of this month (当月起)
        else:
            self.age = profile.get("age")
            self.age_month = self.age


# ---------------------------------------------------------------- conditions

def briefs(catalogue) -> dict:
    """{code: {code, name, prefecture, province, …}} of every county of the catalogue: its `index`
    when it is the browser's catalogue (checker/catalogue.py `split`: the counties' entries are
    added as they are fetched), else its counties themselves."""
    return catalogue.get("index") or catalogue["counties"]


def _county_names(catalogue, codes):
    known = briefs(catalogue)
    names = [known[c]["name"] if c in known else c for c in codes]
    return "或".join(names)


def _age_label(spec) -> str:
    def part(v, word):
        if isinstance(v, dict):
            return f"男{word}{v['male']}周岁、女{word}{v['female']}周岁"
        return f"{word}{v}周岁"
    lo, hi = spec.get("min"), spec.get("max")
    if lo is not None and hi is not None and not isinstance(lo, dict) and not isinstance(hi, dict):
        return f"{lo}至{hi}周岁"
    if lo is not None:
        return part(lo, "年满")
    return f"不超过{hi}周岁" if not isinstance(hi, dict) else part(hi, "不超过")


def _field_label(cond) -> str:
    name = cond["field"]
    kind, label, values = FIELDS[name]
    if "in" in cond:
        return f"{label}：" + "或".join(str(values[v]) for v in cond["in"])
    if "is" in cond:
        return label if cond["is"] else f"不是（没有）{label}"
    if "within_months" in cond:
        n = cond["within_months"]
        return f"{label}起{n // 12}年内" if n % 12 == 0 else f"{label}起{n}个月内"
    parts = []
    if "min" in cond:
        parts.append(f"至少{cond['min']}")
    if "max" in cond:
        parts.append(f"至多{cond['max']}")
    return f"{label}{'、'.join(parts)}"


def _province_names(catalogue, prefixes):
    names = {c["code"][:2]: c["province"] for c in briefs(catalogue).values()}
    return "或".join(names.get(p, f"省级代码{p}") for p in prefixes)


def compile_condition(cond, catalogue):
    """Turn one catalogue condition into (label, fn); fn(facts) -> (state, from_date, missing, doubts).

    `reading` (our convention or inference): failing it gives DOUBT (maybe), never a certain UNMET.
    `at_most: maybe`: meeting it gives DOUBT. Both carry the plain reason in `doubt`."""
    label, fn = _compile_kind(cond, catalogue)
    doubt = (cond.get("doubt"),)
    if cond.get("reading"):
        def fn(f, inner=fn, doubt=doubt):
            r = inner(f)
            return (DOUBT, None, (), doubt) if r[0] is UNMET else r
    if cond.get("at_most") == "maybe":
        def fn(f, inner=fn, doubt=doubt):
            r = inner(f)
            if r[0] is MET:
                return DOUBT, None, (), r[3] + doubt
            if r[0] is LATER:  # later, and even then only maybe: upcoming with the doubt said
                return LATER, r[1], r[2], r[3] + doubt
            return r
    return label, fn


def _compile_kind(cond, catalogue):
    kind = next(k for k in ("hukou", "residence", "hukou_province", "age", "field", "any", "all", "not", "contested")
                if k in cond)
    label = cond.get("label")
    if kind in ("hukou", "residence"):
        codes = frozenset(cond[kind])
        default = f"{_county_names(catalogue, cond[kind])}{'户籍' if kind == 'hukou' else '常住（住在当地）'}"

        def fn(f, key=kind, codes=codes):
            value = f.p.get(key)
            if value is None:
                return UNKNOWN, None, (key,), ()
            return (MET if value in codes else UNMET), None, (), ()
        return label or default, fn
    if kind == "hukou_province":
        prefixes = frozenset(cond[kind])

        def fn(f, prefixes=prefixes):
            value = f.p.get("hukou")
            if value is None or value == OTHER_COUNTY:  # a county outside the catalogue: which province?
                return UNKNOWN, None, ("hukou",), ()
            return (MET if value[:2] in prefixes else UNMET), None, (), ()
        return label or f"{_province_names(catalogue, cond[kind])}户籍", fn
    if kind == "age":
        spec = cond["age"]
        return label or _age_label(spec), _age_fn(spec)
    if kind == "field":
        if FIELDS[cond["field"]][0] == "county" and "in" in cond:
            default = f"{FIELDS[cond['field']][1]}：{_county_names(catalogue, cond['in'])}"
            return label or default, _field_fn(cond)
        return label or _field_label(cond), _field_fn(cond)
    if kind == "not":
        inner_label, inner = compile_condition(cond["not"], catalogue)

        def fn(f, inner=inner):
            state, _, missing, doubts = inner(f)
            if state is UNKNOWN or state is DOUBT:
                return state, None, missing, doubts
            return (UNMET if state is MET else MET), None, (), ()
        return label or f"不属于：{inner_label}", fn
    parts = [compile_condition(c, catalogue) for c in cond[kind]]
    fns = tuple(fn for _, fn in parts)
    if kind == "all":
        return label or "；".join(l for l, _ in parts), lambda f, fns=fns: _all(f, fns)
    if kind == "contested":
        doubt = (cond["doubt"],)

        def fn(f, fns=fns, doubt=doubt):
            a, b = fns[0](f), fns[1](f)
            if a[0] is MET and b[0] is MET:
                return MET, None, (), ()
            if a[0] is UNMET and b[0] is UNMET:
                return UNMET, None, (), ()
            if a[0] is MET or b[0] is MET:
                other = b if a[0] is MET else a
                if other[0] is UNKNOWN:  # the other reading might hold too: ask, don't doubt yet
                    return UNKNOWN, None, other[2], other[3]
                return DOUBT, None, (), doubt  # the contested band: one reading says yes, the other no
            r = _any(f, fns)
            if r[0] is LATER and UNMET in (a[0], b[0]):  # later by one reading only: upcoming, and in doubt
                return LATER, r[1], r[2], r[3] + doubt
            return r
        return label or "文件前后说法不一：" + " / ".join(l for l, _ in parts), fn
    return label or "以下之一：" + "；".join(l for l, _ in parts), lambda f, fns=fns: _any(f, fns)


def _all(f, fns):
    state, start, missing, doubts = MET, None, (), ()
    for fn in fns:
        s, d, m, q = fn(f)
        if s is UNMET:
            return UNMET, None, (), ()
        if s is LATER:
            state = LATER
            if d is not None:
                start = d if start is None else max(start, d)
        elif s is UNKNOWN and state is not LATER:
            state = UNKNOWN
        elif s is DOUBT and state is MET:
            state = DOUBT
        missing += m
        doubts += q
    return state, start, missing, doubts


def _any(f, fns):
    """Met if one is met; else maybe (unknown before doubt) if one might be; else later (with the
    doubts of the earliest branch only: a certain branch as early makes it certain); else not met."""
    best, start, missing, doubts, later_doubts = UNMET, None, (), (), ()
    for fn in fns:
        s, d, m, q = fn(f)
        if s is MET:
            return MET, None, (), ()
        if s is UNKNOWN:
            best = UNKNOWN
            missing += m
            doubts += q
        elif s is DOUBT:
            if best is not UNKNOWN:
                best = DOUBT
            missing += m
            doubts += q
        elif s is LATER and best is UNMET or (s is LATER and best is LATER):
            if start is None or (d is not None and d < start):
                later_doubts = q
            elif d == start and not q:
                later_doubts = ()
            best = LATER
            start = d if start is None or (d is not None and d < start) else start
            missing += m
    if best is LATER:
        return LATER, start, missing, later_doubts
    return best, None, missing, doubts


def _age_fn(spec):
    lo, hi, month_start = spec.get("min"), spec.get("max"), spec.get("month_start", False)

    def threshold(v, f):
        if isinstance(v, dict):
            sex = f.p.get("sex")
            return v.get(sex) if sex else None
        return v

    def fn(f):
        age = f.age_month if month_start else f.age
        if age is None:
            return UNKNOWN, None, ("birth_date",), ()
        low = threshold(lo, f) if lo is not None else None
        high = threshold(hi, f) if hi is not None else None
        if (lo is not None and low is None) or (hi is not None and high is None):
            # sex unknown: decide where both sexes agree
            lows = sorted(lo.values()) if isinstance(lo, dict) else [lo] if lo is not None else []
            highs = sorted(hi.values()) if isinstance(hi, dict) else [hi] if hi is not None else []
            if (not lows or age >= lows[-1]) and (not highs or age <= highs[0]):
                return MET, None, (), ()
            if (highs and age > highs[-1]):
                return UNMET, None, (), ()
            if lows and age < lows[0]:
                pass  # too young for both: fall through as unknown-by-sex, later date depends on sex
            return UNKNOWN, None, ("sex",), ()
        if high is not None and age > high:
            return UNMET, None, (), ()
        if low is not None and age < low:
            if f.birth is None:
                return LATER, None, (), ()
            start = birthday(f.birth, low)
            if month_start:
                start = _month_start(start)
            return LATER, start, (), ()
        return MET, None, (), ()
    return fn


# A field that cannot have a value given another answer: no disability card → no grade or type;
# not 特困 → no 特困 供养方式. Conditions on it then fail instead of staying unknown.
RULED_OUT = {
    "disability_grade": lambda p: p.get("has_disability_card") is False,
    "disability_type": lambda p: p.get("has_disability_card") is False,
    "tekun_mode": lambda p: p.get("economic") not in (None, "tekun"),
    "only_child_died": lambda p: p.get("family_planning_special") is False,  # 独生子女死亡的家庭 are 计生特殊家庭
}


def _unknown_or_ruled_out(name, p):
    ruled = RULED_OUT.get(name)
    if ruled is not None and ruled(p):
        return UNMET, None, (), ()
    return UNKNOWN, None, (name,), ()


def _field_fn(cond):
    name = cond["field"]
    kind = FIELDS[name][0]
    if "in" in cond:
        allowed = frozenset(cond["in"])
        if kind == "enum_list":
            def fn(f):
                value = f.p.get(name)
                if value is None:
                    return _unknown_or_ruled_out(name, f.p)
                return (MET if allowed.intersection(value) else UNMET), None, (), ()
        else:
            def fn(f):
                value = f.p.get(name)
                if value is None:
                    return _unknown_or_ruled_out(name, f.p)
                return (MET if value in allowed else UNMET), None, (), ()
        return fn
    if "is" in cond:
        want = cond["is"]

        def fn(f):
            value = f.p.get(name)
            if value is None:
                return _unknown_or_ruled_out(name, f.p)
            return (MET if value == want else UNMET), None, (), ()
        return fn
    if "within_months" in cond:  # a date field: met until N months after that date (搬迁后执行三年)
        months = cond["within_months"]

        def fn(f):
            value = f.p.get(name)
            if value is None:
                return _unknown_or_ruled_out(name, f.p)
            return (MET if f.as_of < _add_months(value, months) else UNMET), None, (), ()
        return fn
    lo, hi = cond.get("min"), cond.get("max")

    def fn(f):
        value = f.p.get(name)
        if value is None:
            return _unknown_or_ruled_out(name, f.p)
        if hi is not None and value > hi:
            return UNMET, None, (), ()
        if lo is not None and value < lo:
            if name == "months_at_residence":  # time will make up the shortfall
                return LATER, _add_months(f.as_of, int(lo - value + (0 if lo == int(lo) else 1))), (), ()
            return UNMET, None, (), ()
        return MET, None, (), ()
    return fn


def _validity(service) -> list:
    """(label, fn) for a service's own dates: `effective` (from this day; before it: later) and
    `until` (the last day in force; after it: not met)."""
    out = []
    start, end = service.get("effective"), service.get("until")
    if start:
        day = dt.date.fromisoformat(start)

        def fn(f, day=day):
            return (LATER, day, (), ()) if f.as_of < day else (MET, None, (), ())
        out.append((f"{_ymd(day)}起执行", fn))
    if end:
        day = dt.date.fromisoformat(end)

        def fn(f, day=day):
            return (UNMET, None, (), ()) if f.as_of > day else (MET, None, (), ())
        out.append((f"执行到{_ymd(day)}（以后已停止）", fn))
    return out


def _readings(raw_conditions, catalogue):
    """Every condition of a service that is our reading, not the document's words:
    [{label, kind, text}], kind one of convention, inference, at_most, contested."""
    out = []

    def walk(cond):
        kinds = [cond["reading"]] if cond.get("reading") else []
        if cond.get("at_most") == "maybe":
            kinds.append("at_most")
        if "contested" in cond:
            kinds.append("contested")
        for kind in kinds:
            out.append({"label": cond.get("label") or compile_condition(cond, catalogue)[0], "kind": kind, "kind_text": READING_KIND[kind],
                        "text": cond["doubt"]})
        for key in ("any", "all", "contested"):
            for inner in cond.get(key, ()):
                walk(inner)
        if "not" in cond:
            walk(cond["not"])

    for cond in raw_conditions:
        walk(cond)
    return out


# ---------------------------------------------------------------- amounts

def _money(x) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def _case_key(value) -> str:
    """JSON object keys are text: yes/no answers are "true"/"false", numbers their digits."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


DATED_KEYS = ("from", "document")


def in_force(node: dict, day: dt.date):
    """A value with dated `changes` as it stands on `day` (OpenFisca's way: a plain list of dated
    values): (the node with the last change from on or before `day` laid over it, that change or
    None, the next change after `day` or None)."""
    changes = node.get("changes")
    if not changes:
        return node, None, None
    used, upcoming = None, None
    for change in changes:  # sorted by `from` (the loader checks)
        if dt.date.fromisoformat(change["from"]) <= day:
            used = change
        elif upcoming is None:
            upcoming = change
    out = {k: v for k, v in node.items() if k != "changes"}
    if used is not None:
        out.update({k: v for k, v in used.items() if k not in DATED_KEYS})
    return out, used, upcoming


def _dated_out(out: dict, used, upcoming, node) -> dict:
    """Says which dated value an amount used (`since`: from when, which document), and the next
    change if one is dated in the future."""
    if used is not None:
        out["since"] = {"from": used["from"], "document": used["document"]}
    elif node.get("document"):  # the value before the first change, from an older document
        out["since"] = {"from": None, "document": node["document"]}
    if upcoming is not None:
        d = dt.date.fromisoformat(upcoming["from"])
        out["next_change"] = {"from": upcoming["from"], "document": upcoming["document"],
                              "text": f"{_ymd(d)}起：{upcoming.get('text') or _money(upcoming.get('yuan'))}"}
    return out


def resolve_amount(amount, f: Facts, at_age=None, month_start=False, when=None):
    """The amount for this elder: {yuan, per, text, ...} and the fields that would settle it.
    Age tiers use today's age, or the age reached this month where the document pays 当月起.
    `when` maps id(case) of each `choose` case to its compiled `if` condition. Dated `changes`
    give the value in force on the profile's `as_of`."""
    if amount is None:
        return None, ()
    if "changes" in amount:
        current, used, upcoming = in_force(amount, f.as_of)
        out, missing = resolve_amount(current, f, at_age, month_start, when)
        return (_dated_out(out, used, upcoming, amount) if out is not None else out), missing
    per = amount.get("per")

    def case_amount(case):
        case = dict(case)
        case.setdefault("per", per)
        if amount.get("in_kind"):
            case.setdefault("in_kind", True)
        return resolve_amount(case, f, at_age, month_start, when)

    if "by" in amount:
        field = amount["by"]["field"]
        cases = amount["by"]["cases"]
        value = f.p.get(field)
        if value is not None and _case_key(value) in cases:
            return case_amount(cases[_case_key(value)])
        out = {"yuan": None, "per": per, "text": amount["text"]}
        return out, ((field,) if value is None else ())
    if "choose" in amount:  # the first case whose condition is met; never a sum the elder is denied
        for case in amount["choose"]:
            state, _, missing, _ = when[id(case)](f)
            if state is MET:
                chosen = {k: v for k, v in case.items() if k != "if"}
                return case_amount(chosen)
            if state is not UNMET:  # unknown, in doubt or later: no number yet
                return {"yuan": None, "per": per, "text": amount["text"]}, tuple(missing)
        return {"yuan": None, "per": per, "text": amount["text"]}, ()
    if "tiers" in amount:
        age = at_age if at_age is not None else (f.age_month if month_start else f.age)
        if age is None:
            return {"yuan": None, "per": per, "text": amount["text"]}, ("birth_date",)
        tier = tier_for(amount["tiers"], age)
        if tier is None:  # younger than the first tier: the general text, no number
            return {"yuan": None, "per": per, "text": amount["text"]}, ()
        tier, used, upcoming = in_force(tier, f.as_of)
        out = {"yuan": tier.get("yuan"), "per": per, "text": tier["text"]}
        if amount.get("floor"):
            out["floor"] = True
        return _dated_out(out, used, upcoming, tier), ()
    if "gap" in amount:
        standard = amount["gap"]["standard"]
        income = f.p.get("per_capita_income")
        if income is None:
            return {"yuan": None, "per": per, "text": amount["text"]}, ("per_capita_income",)
        gap = max(0, round(standard - income, 2))
        return {"yuan": gap, "per": per,
                "text": f"每人每月约{_money(gap)}元（低保标准{_money(standard)}元减去家庭人均月收入{_money(income)}元）"}, ()
    out = {"yuan": amount.get("yuan"), "per": per, "text": amount["text"]}
    if amount.get("floor"):
        out["floor"] = True
    if amount.get("in_kind"):
        out["in_kind"] = True
    if "max_yuan" in amount:
        out["max_yuan"] = amount["max_yuan"]
    if "base" in amount:
        out["base"] = amount["base"]
    return out, ()


def tier_for(tiers, age):
    for tier in tiers:
        if age >= tier["min"] and (tier.get("max") is None or age <= tier["max"]):
            return tier
    return None


def _tier_changes(service, f: Facts):
    """Later tiers of an age-tiered amount: ["满90周岁后每月200元，从2036年3月起"]."""
    amount = service.get("amount") or {}
    if "tiers" not in amount or f.birth is None:
        return []
    month_start = any(c.get("age", {}).get("month_start") for c in service["conditions"] if "age" in c)
    out = []
    for tier in amount["tiers"]:
        start = birthday(f.birth, tier["min"])
        if month_start:
            start = _month_start(start)
        if start > f.as_of:
            out.append({"from": start.isoformat(),
                        "text": f"满{tier['min']}周岁后{tier['text']}，从{start.year}年{start.month}月{'' if month_start else str(start.day) + '日'}起"})
    return out


# ---------------------------------------------------------------- the engine

class CountyNotLoaded(RuntimeError):
    """A profile needs a county whose entry has not been added (the browser adds each county's entry
    as it is fetched: `Engine.wanted` says which; checker/catalogue.py `split`)."""


class Engine:
    """Holds the compiled catalogue with its conditions turned into functions.

    `catalogue` is the whole compiled catalogue, or the browser's index of it (checker/catalogue.py
    `split`: every county's name and province, none of its services) to which `add_counties` adds
    each county's entry as it arrives. Either way a profile is answered the same, once the counties
    `wanted` names are added."""

    def __init__(self, catalogue: dict):
        self.catalogue = catalogue
        self.briefs = briefs(catalogue)
        self.rank = {code: i for i, code in enumerate(self.briefs)}   # the catalogue's order of counties
        self.services = {}
        self.by_county = {}
        self.exclusive = {}
        self._documents = {}
        counties = catalogue["counties"]
        self._in_parts = counties is not self.briefs      # the browser's index: entries come later
        if self._in_parts:
            catalogue["counties"] = {}
        self.add_counties(counties)

    def add_counties(self, counties: dict):
        """Compile these counties' entries ({code: entry}) and add them."""
        added = []
        for code, county in counties.items():
            if code in self.by_county:
                continue
            if code not in self.rank:
                raise ValueError(f"county {code} is not in the catalogue's index")
            if self._in_parts:
                self.catalogue["counties"][code] = county
            compiled = []
            for i, s in enumerate(county["services"]):
                conds = [compile_condition(c, self.catalogue) for c in s["conditions"]]
                entry = {"s": s, "county": county, "conds": conds, "when": {}, "index": (self.rank[code], i)}
                self._compile_choose(s.get("amount"), self.catalogue, entry["when"])
                compiled.append(entry)
                self.services[s["id"]] = entry
            self.by_county[code] = compiled
            added.extend(compiled)
            for d in [county.get("document") or {}] + (county.get("documents") or []):
                if d.get("file"):
                    self._documents[d["file"]] = f"《{d['title']}》，{d.get('date') or d.get('date_text') or '文件未注明日期'}"
        if not added:
            return
        if self._in_parts:   # the catalogue's order, whatever the order of arrival
            self.catalogue["counties"] = dict(sorted(self.catalogue["counties"].items(), key=lambda kv: self.rank[kv[0]]))
            self.by_county = dict(sorted(self.by_county.items(), key=lambda kv: self.rank[kv[0]]))
        # Which services exclude which, in the catalogue's order (so the same, in the same order, as
        # from the whole catalogue, whatever order the counties came in): a service's `exclusive_with`
        # names the services of the counties added so far (`wanted` adds a county's related ones with it).
        exclusive = {}
        for compiled in self.by_county.values():
            for entry in compiled:
                s = entry["s"]
                for ex in s.get("excludes") or []:
                    exclusive.setdefault(s["id"], {})[ex["service"]] = ex["text"]
                    exclusive.setdefault(ex["service"], {}).setdefault(s["id"], ex["text"])
        self.exclusive = exclusive
        redo = {id(e): e for e in added}
        redo.update((id(self.services[sid]), self.services[sid]) for sid in exclusive if sid in self.services)
        for entry in redo.values():
            entry["static"] = self._static(entry)
            entry["month_start"] = any(c.get("age", {}).get("month_start") for c in entry["s"]["conditions"] if "age" in c)

    def wanted(self, profile: dict | None) -> list:
        """The codes of the counties a profile's answer reads that are not added yet: its 户籍 and
        residence counties (every county when it names neither), and the counties whose services
        exclude theirs or are excluded by them (the index's `related`). `profile`: the raw profile,
        or None for every county."""
        return self.wanted_codes(self._named(profile or {}))

    def wanted_codes(self, codes) -> list:
        """Those of `codes` (and their related counties) whose entries are not added yet."""
        out = []
        for code in codes:
            if code not in self.briefs:          # a county outside the catalogue: nothing to add
                continue
            for c in [code, *(self.briefs[code].get("related") or ())]:
                if c in self.briefs and c not in self.by_county and c not in out:
                    out.append(c)
        return out

    @staticmethod
    def _compile_choose(amount, catalogue, when):
        """Compile the `if` of every `choose` case of an amount (nested in `by` too)."""
        if not isinstance(amount, dict):
            return
        for case in amount.get("choose", ()):
            when[id(case)] = compile_condition(case["if"], catalogue)[1]
            Engine._compile_choose(case, catalogue, when)
        for case in (amount.get("by") or {}).get("cases", {}).values():
            Engine._compile_choose(case, catalogue, when)

    # -- public API
    def check(self, raw_profile: dict, today: dt.date | None = None) -> dict:
        """Evaluate a profile (raw JSON dict); returns the answer of checker/README.md."""
        profile = parse_profile(raw_profile, today)
        return self.evaluate(profile)

    def _named(self, profile) -> list:
        """The counties a profile's answer reads: its 户籍 and residence counties that are in the
        catalogue, or every county when it names neither (a raw profile or a parsed one)."""
        codes = [c for c in (profile.get("hukou"), profile.get("residence")) if c]
        if not codes:
            return list(self.briefs)
        return [c for c in dict.fromkeys(c for c in codes if isinstance(c, str)) if c in self.briefs]

    def counties_for(self, profile) -> list:
        known = self._named(profile)
        missing = [c for c in known if c not in self.by_county]
        if missing:
            raise CountyNotLoaded(f"the entries of {', '.join(missing)} have not been added (Engine.wanted)")
        return known

    def evaluate(self, profile: dict) -> dict:
        f = Facts(profile)
        results = []
        weight: dict = {}
        for code in self.counties_for(profile):
            for entry in self.by_county[code]:
                r = self._result(entry, f)
                results.append(r)
                amount_missing = r.pop("_amount_missing")
                if r["status"] == "ineligible":
                    continue
                for m in r["missing"]:  # empty unless maybe or upcoming
                    weight[m] = weight.get(m, 0) + 2
                for m in amount_missing:
                    weight[m] = weight.get(m, 0) + 1
        questions = sorted(weight, key=lambda m: (-weight[m], _ORDER.get(m, 99)))
        answer = {"as_of": f.as_of.isoformat(), "results": results, "questions": questions}
        answer["monthly_total"] = self._monthly_total(results)
        answer["monthly_total"]["not_counted"] = self.not_counted(results, answer["monthly_total"]["services"])
        answer["plan"] = self.plan(results)
        rank = {sid: i for i, sid in enumerate(sid for g in answer["plan"] for sid in g["services"])}
        for r in results:
            r["rank"] = rank.get(r["service"])
        notes = []
        for key in ("hukou", "residence"):
            code = profile.get(key)
            if code and code not in self.briefs:
                shown = "" if code == "other" else f" {code}"
                notes.append(f"{FIELDS[key][1]}{shown} 不在本目录收录的县（市）中：本目录只收录 "
                             + "、".join(c["name"] for c in self.briefs.values()) + "。")
        if notes:
            answer["notes"] = notes
        return answer

    def _static(self, entry) -> dict:
        """The parts of a result that do not depend on the profile (built once per service)."""
        s, county = entry["s"], entry["county"]
        static = {
            "county": s["county"], "service": s["id"], "name": s["name"], "status": None, "amount": None,
            "apply": s["apply"], "why": None, "missing": None, "from": None, "source": s["source_text"],
            "county_name": county["name"], "summary": s["summary"], "where": s["where"], "url": s["url"],
            "basis_doc": s["basis_doc"],
        }
        if s.get("also"):
            static["also"] = s["also"]
        readings = _readings(s["conditions"], self.catalogue)
        if readings:
            static["readings"] = readings
        if s["apply"] == "unknown" or s.get("apply_at") == "unknown" or readings:
            static["ask"] = county.get("ask") or DEFAULT_ASK
        if s.get("self_paid"):
            static["self_paid"] = True  # on offer at the elder's own cost, not a benefit
        static["for"] = s.get("for", "elder")
        if s.get("benefit"):
            static["benefit"] = s["benefit"]
        if s["id"] in self.exclusive:
            static["exclusive_with"] = [
                {"service": other, "name": self.services[other]["s"]["name"], "text": text}
                for other, text in self.exclusive[s["id"]].items() if other in self.services]
        # why-lines for each outcome, built once; a service in force only from or until a date
        # (effective / until) has that as one more condition
        conds = list(entry["conds"]) + _validity(s)
        entry["fast"] = [(fn, {None: label, **{st: f"{label} {mark}" for st, mark in MARK.items()}})
                         for label, fn in conds]
        return static

    def conditions(self, entry, f: Facts, why: list | None = None):
        """(state, from-date, missing fields, doubts) of one service's conditions; with `why`, also one
        plain line per condition. Without `why` it stops at the first condition that fails."""
        state, start, missing, doubts = MET, None, [], []
        for fn, lines in entry["fast"]:
            st, d, m, q = fn(f)
            if st is MET:
                if why is not None:
                    why.append(lines[MET])
                continue
            if st is LATER:
                if why is not None:
                    why.append(f"{lines[None]} ✗（还没到，{_ymd(d)}起符合）" if d else f"{lines[None]} ✗（还没到，以后符合）")
                if state is not UNMET:
                    if d is not None and (start is None or d > start):
                        start = d
                    state = LATER
            else:
                if why is not None:
                    why.append(f"{lines[st]}（{'；'.join(dict.fromkeys(q))}）" if st is DOUBT and q else lines[st])
                if st is UNMET:
                    state = UNMET
                    if why is None:
                        return UNMET, None, [], []
                elif state is MET or (state is DOUBT and st is UNKNOWN):
                    state = st
            for field in m:
                if field not in missing:
                    missing.append(field)
            for text in q:
                if text not in doubts:
                    doubts.append(text)
        return state, start, missing, doubts

    def amount(self, entry, f: Facts, state, start):
        """The amount for this elder, at the age they will have when an upcoming service starts."""
        amount = entry["s"].get("amount")
        if amount is None:
            return None, ()
        at_age = None
        if state is LATER and start is not None and f.birth is not None:
            at_age = age_on(f.birth, start if start.day != 1 else
                            start.replace(day=calendar.monthrange(start.year, start.month)[1]))
        out, missing = resolve_amount(amount, f, at_age, entry["month_start"], entry["when"])
        if out is not None and "since" in out:  # which document this value comes from, readably
            out["since"] = dict(out["since"], text=self._documents[out["since"]["document"]])
        return out, missing

    def _result(self, entry, f: Facts) -> dict:
        s = entry["s"]
        why = []
        state, start, missing, doubts = self.conditions(entry, f, why)
        amount, amount_missing = self.amount(entry, f, state, start)
        result = dict(entry["static"])
        result["status"] = STATUS[state]
        result["amount"] = amount
        result["why"] = why
        result["missing"] = missing if state in (UNKNOWN, DOUBT, LATER) else []
        result["from"] = start.isoformat() if state == LATER and start else None
        result["_amount_missing"] = amount_missing
        if doubts and state is not UNMET:
            result["doubts"] = doubts
        note = self._apply_note(entry, state, missing)
        if note:
            result["apply_note"] = note
        if s.get("away") and (f.p.get("residence") not in (None, f.p.get("hukou")) or f.p.get("lives_outside_hukou_town")):
            result["away"] = s["away"]
        if state == LATER and start is not None and amount:
            result["later_text"] = f"{_ymd(start)}起可以享受：{amount['text']}"
        if state in (MET, LATER) and f.birth is not None and "tiers" in (s.get("amount") or {}):
            nxt = _tier_changes(s, f)
            if state == LATER:
                nxt = nxt[1:]
            if nxt:
                result["next"] = nxt
        return result

    def _apply_note(self, entry, state, missing):
        """A `maybe` on a status the elder must first be recognised for (低保, 失能 …) never says
        不用申请 without saying that the status itself has to be obtained, and how (or that the
        document does not say)."""
        if state not in (UNKNOWN, DOUBT) or entry["s"]["apply"] != "automatic":
            return None
        statuses = self.catalogue.get("recognised") or {}
        names = [statuses[m] for m in missing if m in statuses]
        if not names:
            return None
        county = entry["county"]
        how = county.get("recognition") or f"文件没有写怎么认定，请问{county.get('ask') or DEFAULT_ASK}。"
        return f"“不用申请”是对已经认定为{'、'.join(dict.fromkeys(names))}的老人说的；还没有认定的，要先申请认定。{how}"

    def brief(self, profile: dict):
        """The answer as a batch needs it, without explanations: ([result], monthly total, questions).
        Each result: service, status, amount, missing, from, doubts; ineligible services left out."""
        f = Facts(profile)
        results, weight = [], {}
        for code in self.counties_for(profile):
            for entry in self.by_county[code]:
                state, start, missing, doubts = self.conditions(entry, f)
                if state is UNMET:
                    continue
                amount, amount_missing = self.amount(entry, f, state, start)
                if state is MET:
                    missing = []
                else:
                    for x in missing:
                        weight[x] = weight.get(x, 0) + 2
                for x in amount_missing:
                    weight[x] = weight.get(x, 0) + 1
                r = {"service": entry["s"]["id"], "status": STATUS[state], "amount": amount, "missing": missing,
                     "from": start.isoformat() if state is LATER and start else None, "doubts": doubts}
                exclusive = entry["static"].get("exclusive_with")
                if exclusive:
                    r["exclusive_with"] = exclusive
                note = self._apply_note(entry, state, missing)
                if note:
                    r["apply_note"] = note
                results.append(r)
        questions = sorted(weight, key=lambda x: (-weight[x], QUESTION_RANK.get(x, 99)))
        total = self.monthly_total(results)
        total["not_counted"] = self.not_counted(results, total["services"])
        return results, total, questions

    # -- the order of what to do (answer["plan"]); works on `check` results and on `brief` results alike
    def plan_key(self, r):
        """Sort key of one result inside its plan group: for whom (the elder first, a relative next,
        after a death last), the elder's own before what she pays for herself, what it gives (cash,
        care, one-off, 优待), more money a month first, then an upcoming date, then the document's order."""
        entry = self.services[r["service"]]
        s = entry["s"]
        a = r.get("amount") or {}
        monthly = a.get("yuan") if a.get("per") == "month" and isinstance(a.get("yuan"), (int, float)) and not a.get("in_kind") else 0
        return (FOR_RANK.get(s.get("for"), 0), bool(s.get("self_paid")), BENEFIT_RANK.get(s.get("benefit"), len(BENEFIT_RANK)),
                -monthly, r.get("from") or "", entry["index"])

    def plan(self, results) -> list:
        """[{group, title, services, either?}] in the order to show and print: 要去办的事 (eligible, to
        apply for or to ask about), 不用申请 (eligible, automatic), 可能可以, 以后可以; empty groups left
        out. `either`: [{services, text}] for eligible services of which only one can be had, on the
        group of the first of them; its members follow one another there."""
        groups = {g: [] for g in PLAN_GROUPS}
        for r in results:
            st = r["status"]
            if st == "eligible":
                groups["automatic" if self.services[r["service"]]["s"]["apply"] == "automatic" else "apply"].append(r)
            elif st in groups:
                groups[st].append(r)
        for g in groups.values():
            g.sort(key=self.plan_key)
        eligible = {r["service"]: r for r in groups["apply"] + groups["automatic"]}
        eithers, placed = {}, set()
        for g in ("apply", "automatic"):
            for r in groups[g]:
                if r["service"] in placed:
                    continue
                members, todo = [], [r["service"]]
                while todo:
                    sid = todo.pop()
                    if sid in members:
                        continue
                    members.append(sid)
                    todo += [o for o in self.exclusive.get(sid, {}) if o in eligible and o not in members]
                if len(members) > 1:
                    members.sort(key=lambda sid: (PLAN_GROUPS.index("automatic" if self.services[sid]["s"]["apply"] == "automatic" else "apply"),
                                                  self.plan_key(eligible[sid])))
                    placed.update(members)
                    named = [dict(eligible[m], name=self.services[m]["s"]["name"], summary=self.services[m]["s"]["summary"]) for m in members]
                    eithers.setdefault(g, []).append({"services": members, "text": self._either_text(named)})
        out = []
        for g in PLAN_GROUPS:
            ids = [r["service"] for r in groups[g]]
            for e in eithers.get(g, []):  # rivals follow the first of them in its group
                rest = [m for m in e["services"][1:] if m in ids]
                ids = [m for m in ids if m not in rest]
                at = ids.index(e["services"][0]) + 1
                ids[at:at] = rest
            if ids:
                item = {"group": g, "title": PLAN_TITLES[g], "services": ids}
                if eithers.get(g):
                    item["either"] = eithers[g]
                out.append(item)
        return out

    @staticmethod
    def _either_text(members) -> str:
        """One plain line: which to choose where the monthly sums allow it, otherwise what differs."""
        def monthly(r):
            a = r.get("amount") or {}
            ok = a.get("per") == "month" and isinstance(a.get("yuan"), (int, float)) and not a.get("in_kind") \
                and not a.get("base") and not a.get("floor") and "max_yuan" not in a
            return a["yuan"] if ok else None
        sums = [monthly(r) for r in members]
        if all(x is not None for x in sums) and len(set(sums)) == len(sums):
            best = max(range(len(members)), key=lambda i: sums[i])
            others = "、".join(f"“{r['name']}”（每月{_money(sums[i])}元）" for i, r in enumerate(members) if i != best)
            return f"只能选一项：选钱多的“{members[best]['name']}”（每月{_money(sums[best])}元），不选{others}。"
        texts = [(r.get("amount") or {}).get("text") for r in members]
        same = len(set(texts)) < len(texts) or not all(texts)

        def what(r):  # where the amounts do not tell them apart, what each is
            a = r.get("amount") or {}
            return f"：{r['summary'].rstrip('。')}" if same else (a.get("text") or "文件没写金额")
        return "只能选一项：" + "；".join(f"“{r['name']}”{what(r)}" for r in members) + "。请问清楚哪项对您更合适再申请。"

    def not_counted(self, results, counted) -> list:
        """Eligible things of value not in the monthly sum, each with why: [{service, name, why}]."""
        out, counted = [], set(counted)
        rivals = {o for sid in counted for o in self.exclusive.get(sid, {})}
        for r in results:
            if r["status"] != "eligible" or r["service"] in counted or r["service"] in rivals:
                continue
            a = r.get("amount") or {}
            benefit = self.services[r["service"]]["s"].get("benefit")
            if a.get("in_kind"):
                why = "给的是服务，不是钱"
            elif a.get("base"):
                why = f"按{a['base']}算，文件没写数额"
            elif a and a.get("per") not in (None, "month") and a.get("yuan") is not None:
                why = {"year": "按年给", "once": "一次性给", "household": "按户给一次"}.get(a["per"], "不是按月给")
            elif "gap" in (self.services[r["service"]]["s"].get("amount") or {}):
                why = "要看家里每人每月收入"
            elif benefit == "cash":
                why = "文件没写金额"
            else:
                continue
            if benefit not in ("cash", "care"):  # 优待 and one-off help are not money a month
                continue
            out.append({"service": r["service"], "name": self.services[r["service"]]["s"]["name"], "why": why})
        return out

    def monthly_total(self, results) -> dict:
        return self._monthly_total(results)

    def _monthly_total(self, results) -> dict:
        """Sum of eligible monthly cash amounts; of benefits one must choose between, the larger.
        Amounts given as services (in_kind) or as a share of a base are not cash and not added."""
        chosen = {}
        for r in results:
            a = r["amount"]
            if r["status"] != "eligible" or not a or a.get("per") != "month" or a.get("yuan") is None:
                continue
            if a.get("base") or a.get("in_kind"):
                continue
            rivals = [x["service"] for x in r.get("exclusive_with", [])]
            clash = [c for c in rivals if c in chosen]
            if clash:
                if all(chosen[c]["amount"]["yuan"] < a["yuan"] for c in clash):
                    for c in clash:
                        del chosen[c]
                    chosen[r["service"]] = r
                continue
            chosen[r["service"]] = r
        total = sum(r["amount"]["yuan"] for r in chosen.values())
        floor = any(r["amount"].get("floor") or "max_yuan" in r["amount"] for r in chosen.values())
        text = f"每月{'至少' if floor else ''}{_money(total)}元" if chosen else "暂无可以按月领取的钱"
        return {"yuan": total, "text": text, "services": list(chosen)}

    def services_of(self, code: str) -> list:
        county = self.catalogue["counties"].get(code)
        return county["services"] if county else None


def plan_text(answer: dict, labels: dict | None = None) -> str:
    """The answer as a person reads it, in the order of `plan` (python -m checker check --text):
    the money each month and what is not counted, then one line per service, group by group."""
    by_id = {r["service"]: r for r in answer["results"]}
    labels = labels or {name: spec[1] for name, spec in FIELDS.items()}
    total = answer["monthly_total"]
    lines = [f"查询日期：{answer['as_of']}", f"按月领的钱合计：{total['text']}"]
    for x in total.get("not_counted", []):
        lines.append(f"  没有算进去：{x['name']}（{x['why']}）")
    for group in answer["plan"]:
        lines.append("")
        lines.append(f"{group['title']}（{len(group['services'])}项）")
        eithers = {e["services"][0]: e["text"] for e in group.get("either", [])}
        for i, sid in enumerate(group["services"], 1):
            r = by_id[sid]
            amount = (r.get("amount") or {}).get("text")
            line = f"{i}. {r['name']}" + FOR_TEXT.get(r.get("for"), "") + (f"：{amount}" if amount else "")
            if group["group"] == "apply":
                line += f"。去哪里办：{r['where']}"
            elif group["group"] == "maybe":
                if r.get("missing"):
                    line += "。还要弄清楚：" + "、".join(labels.get(m, m) for m in r["missing"])
                elif r.get("doubts"):
                    line += f"。文件没写清楚，请问：{r.get('ask') or DEFAULT_ASK}"
            elif group["group"] == "upcoming" and r.get("from"):
                line += f"。{_ymd(dt.date.fromisoformat(r['from']))}起"
            lines.append(line)
            if sid in eithers:
                lines.append(f"   {eithers[sid]}")
    return "\n".join(lines) + "\n"
