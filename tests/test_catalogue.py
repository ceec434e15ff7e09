"""The catalogue: complete against the seeds, every number found in its seed, broken entries refused
with a message naming file, line and field."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from seeds import item_numbers, numbers_in, seed_text
from site_build.catalogue import CatalogueError, county_files, load_catalogue, load_county, read_yaml

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "fixtures" / "broken" / "zhejiang"

# Services the two documents without item numbers name (issue 2): every one needs an entry.
NAMED_SERVICES = {
    "330922": ["三权不变", "养老安置", "适老化改造", "一键报警", "服务热线", "养老服务补贴", "养老护理补贴", "基本生活补助",
               "高龄津贴", "优待证", "意外伤害保险", "低保", "探访关爱", "健康管理", "医养结合", "高血压", "体检",
               "就业帮扶", "身后事"],
    "330282": ["居家养老服务"],
}
EXPECTED_COUNT = {"330324": 35, "330783": 28, "431225": 27}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_catalogue_loads_and_has_the_five_counties(catalogue):
    assert set(catalogue["counties"]) == {"330922", "330324", "330783", "431225", "330282"}


@pytest.mark.parametrize("code", sorted(EXPECTED_COUNT))
def test_every_item_of_the_seed_list_has_an_entry(catalogue, code):
    county = catalogue["counties"][code]
    numbers = item_numbers(county["document"]["file"])
    assert len(numbers) == EXPECTED_COUNT[code]
    assert sorted(s["item"] for s in county["services"]) == sorted(numbers)
    assert {s["id"] for s in county["services"]} == {f"{code}-{n}" for n in numbers}


@pytest.mark.parametrize("code", sorted(NAMED_SERVICES))
def test_every_named_service_of_the_unnumbered_documents_has_an_entry(catalogue, code):
    county = catalogue["counties"][code]
    names = " ".join(s["name"] + s["wording"] for s in county["services"])
    for word in NAMED_SERVICES[code]:
        assert word in names, f"{county['name']}: no service mentions {word}"


def _numbers(node, path=""):
    """Every amount, percentage and age threshold in a raw entry: (where, value, 'min'|'max'|None)."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key in ("yuan", "max_yuan", "percent", "multiplier", "hours", "standard") and isinstance(value, (int, float)):
                yield here, value, None
            elif key in ("min", "max") and isinstance(value, (int, float)) and not isinstance(value, bool):
                yield here, value, key
            elif key in ("min", "max") and isinstance(value, dict):
                for sex, v in value.items():
                    yield f"{here}.{sex}", v, key
            else:
                yield from _numbers(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers(value, f"{path}[{i}]")


def _in_seed(value, bound, text, numbers, where=""):
    if f"{value:g}" in numbers:
        return True
    if bound == "max" and ".tiers[" in where and f"{value + 1:g}" in numbers:
        return True  # a tier ends where the next begins ("70周岁至80周岁减半" below "80周岁以上免费")
    if bound == "min" and re.search(rf"超过\s*{value - 1:g}", text):  # 超过80 → min 81
        return True
    if bound == "max" and re.search(rf"(不满|未满)\s*{value + 1:g}", text):  # 不满80 → max 79
        return True
    return False


@pytest.mark.parametrize("path", county_files(), ids=lambda p: p.stem)
def test_every_number_in_an_entry_occurs_in_its_seed(path):
    data = read_yaml(path)
    seed = data["county"]["document"]["file"]
    text, numbers = seed_text(seed), numbers_in(seed)
    wrong = [f"{s['id']}{where} = {value:g}"
             for s in data["services"]
             for where, value, bound in _numbers({k: s[k] for k in ("conditions", "amount") if k in s})
             if not _in_seed(value, bound, text, numbers, where)]
    assert not wrong, f"numbers not found in {seed}: {wrong}"


def test_every_service_cites_an_item_or_section_and_its_document(catalogue):
    for county in catalogue["counties"].values():
        assert county["document"]["date"] or county["document"]["date_text"]
        for s in county["services"]:
            assert s["source"].get("item") or s["source"].get("section"), s["id"]
            assert s["source_text"].startswith(county["document"]["file"])


def test_exclusions_point_both_ways_in_the_answer():
    import checker
    e = checker.engine()
    for sid, others in e.exclusive.items():
        for other in others:
            assert sid in e.exclusive[other]


# One deliberately broken file per kind of error, with the exact message a county official sees.
BROKEN_MESSAGES = {
    'apply-nowhere': 'tests/fixtures/broken/zhejiang/apply-nowhere.yaml:36: services[0].apply_at: `none` (不用去哪里办) only goes with `apply: automatic`; where the document names no place, write `unknown` (文件没写去哪里办)',
    'reading-without-doubt': 'tests/fixtures/broken/zhejiang/reading-without-doubt.yaml:27: services[0].conditions[0].doubt: is required (必填)',
    'bad-county-code': 'tests/fixtures/broken/zhejiang/bad-county-code.yaml:3: county.code: \'33032\' is not a 6-digit GB/T 2260 county code in quotes, e.g. "330324"',
    'bad-date': 'tests/fixtures/broken/zhejiang/bad-date.yaml:12: county.document.date: \'2023-02-30\' is not an existing date — write "YYYY-MM-DD" in quotes',
    'bad-field-value': "tests/fixtures/broken/zhejiang/bad-field-value.yaml:30: services[0].conditions[2].in: ['dibao', 'poor'] — values of economic are: none, dibao, dibian, tekun",
    'bad-per': "tests/fixtures/broken/zhejiang/bad-per.yaml:30: services[0].amount.per: 'monthly' is not allowed — use one of month, year, once, household",
    'bad-yaml': "tests/fixtures/broken/zhejiang/bad-yaml.yaml:22: (yaml): did not find expected ',' or ']'",
    'duplicate-key': "tests/fixtures/broken/zhejiang/duplicate-key.yaml:20: (yaml): duplicate key 'name' (重复的字段 'name'): first on line 19",
    'long-summary': 'tests/fixtures/broken/zhejiang/long-summary.yaml:24: services[0].summary: is 50 characters; at most 40 (不超过40个字)',
    'missing-source': 'tests/fixtures/broken/zhejiang/missing-source.yaml:16: services[0].source: is required (必填)',
    'overlapping-tiers': 'tests/fixtures/broken/zhejiang/overlapping-tiers.yaml:34: services[0].amount.tiers[1].min: 88 does not follow the tier above (max 89): tiers must not overlap or leave gaps',
    'two-condition-kinds': "tests/fixtures/broken/zhejiang/two-condition-kinds.yaml:27: services[0].conditions[0]: needs exactly one of hukou, residence, hukou_province, age, field, any, all, not, contested, ref; found ['hukou', 'age']",
    'unknown-field': "tests/fixtures/broken/zhejiang/unknown-field.yaml:36: services[0].aply_note: unknown field 'aply_note' — allowed: also, amount, apply, apply_at, away, basis, benefit, conditions, departments, documents, effective, excludes, for, groups, id, item, name, notes, paid_by, phones, self_paid, slug, source, steps, summary, target, time_limit, topic, type, until, what, where, wording",
    'unknown-profile-field': "tests/fixtures/broken/zhejiang/unknown-profile-field.yaml:29: services[0].conditions[2].field: 'income_level' is not a profile field — one of as_of, birth_date, age, sex, hukou, residence, lives_outside_hukou_town, months_at_residence, fixed_residence, island_relocated, relocated_on, economic, tekun_mode, per_capita_income, care_level, dementia, disability_grade, has_disability_card, disability_type, family_planning_special, living, no_supporter, military, state_pension_for_entitled, rural_veteran_soldier, heroic_injury, employee_pension, resident_pension, resident_medical, in_institution, homeless, retrofit_done, chronic, child_hukou, lives_with_child_in_town, barrier_free_done, lives_with_child_in_urban_area, only_child_died",
}


@pytest.mark.parametrize("name", sorted(BROKEN_MESSAGES))
def test_a_broken_entry_is_refused_with_file_line_and_field(name):
    with pytest.raises(CatalogueError) as err:
        load_county(BROKEN / f"{name}.yaml")
    assert str(err.value) == BROKEN_MESSAGES[name]


def test_every_broken_fixture_has_a_message_test():
    assert {p.stem for p in BROKEN.glob("*.yaml")} == set(BROKEN_MESSAGES)


def test_the_valid_fixture_loads():
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "zhejiang" / "sample.yaml"
        target.parent.mkdir()
        target.write_text((ROOT / "tests" / "fixtures" / "valid-county.yaml").read_text().replace("SLUG", "sample"))
        assert load_county(target)["services"][0]["id"] == "330324-11"


def test_an_amounts_cases_keep_the_documents_order():
    """catalogue.json sorts every mapping's keys; an amount's `by` keeps the YAML's (the document's)
    order of its cases in `order`, and the pages list the cases in that order (永嘉 照料护理: 重度失能
    first, as the document, not 能力完好 first, as the alphabet of the keys)."""
    import yaml
    from checker.catalogue import load_catalogue as compiled
    from site_build import pages

    def bys(node, out):
        if isinstance(node, dict):
            if isinstance(node.get("by"), dict) and isinstance(node["by"].get("cases"), dict):
                out.append(node["by"])
            for v in node.values():
                bys(v, out)
        elif isinstance(node, list):
            for v in node:
                bys(v, out)
        return out

    catalogue = compiled()
    checked = 0
    for path in county_files():
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        code = str(raw["county"]["code"])
        want = [[("true" if k else "false") if isinstance(k, bool) else str(k) for k in by["cases"]]
                for by in bys(raw.get("services"), [])]
        got = [by["order"] for by in bys(catalogue["counties"][code]["services"], [])]
        assert got == want, path
        checked += len(got)
    assert checked >= 3
    site = pages.Site(catalogue)
    care = next(s for s in catalogue["counties"]["330324"]["services"] if s["name"] == "照料护理")
    labels = [label for label, _ in site.amount_rows(care["amount"])]
    assert labels[0] == "集中供养（机构），重度失能" and labels[3] == "集中供养（机构），能力完好", labels
