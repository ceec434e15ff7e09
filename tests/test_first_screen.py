"""Issue 18: the answer in ten seconds. Right under 查询结果 the checker shows the money each month
(and what is not counted), 要去办的事 one line each, one line for what comes by itself, and one line
each for 可能可以 and 以后可以 — in the order of the engine's `plan` (the catalogue's `for` and
`benefit` decide it, not the page), so the command line and the 明白卡 carry the same order.

In Debian's Chromium at 390×844, with and without 大字, for one typical elder per county and one living
away from her 户籍: every service to apply for is named within two screen heights below the result
heading; axe (WCAG 2.2 AA, 7:1) finds nothing on the new layout; Tab and the reading order follow the
visual order. Needs `make site` (or `python -m site_build --no-pdf`); the browser tests start Pyodide.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import checker
from checker.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "screenshots" / "first-screen"
AS_OF = "2026-11-29"
PHONE = {"width": 390, "height": 844}

# one typical elder per county, and one living away from her 户籍 (永嘉 户籍, living in 慈溪)
ELDERS = {
    "yongjia": {"hukou": "330324", "birth_date": "1944-05-10", "economic": "dibao", "care_level": "severe"},
    "cixi": {"hukou": "330282", "birth_date": "1943-03-01", "economic": "none", "care_level": "moderate", "in_institution": False},
    "dongyang": {"hukou": "330783", "birth_date": "1940-07-01", "economic": "dibian", "care_level": "mild"},
    "shengsi": {"hukou": "330922", "birth_date": "1942-02-02", "economic": "dibao", "care_level": "moderate"},
    "huitong": {"hukou": "431225", "birth_date": "1941-09-09", "economic": "tekun", "care_level": "severe"},
    "away": {"hukou": "330324", "residence": "330282", "birth_date": "1943-06-15", "economic": "dibao", "care_level": "moderate"},
}


def answer_of(profile: dict) -> dict:
    return checker.check({"as_of": AS_OF, **profile})


# ---------------------------------------------------------------- the engine and the command line

def test_every_service_says_whom_it_is_for_and_what_it_gives():
    missing = [s["id"] for c in load_catalogue()["counties"].values() for s in c["services"]
               if s.get("for") not in ("elder", "family", "after_death") or s.get("benefit") not in ("cash", "care", "once", "perk")]
    assert not missing, missing


@pytest.mark.parametrize("name", ELDERS)
def test_plan_orders_the_elders_own_cash_and_care_first_and_after_a_death_last(name):
    answer = answer_of(ELDERS[name])
    by_id = {r["service"]: r for r in answer["results"]}
    groups = [g["group"] for g in answer["plan"]]
    assert groups == [g for g in ("apply", "automatic", "maybe", "upcoming") if g in groups]
    listed = [sid for g in answer["plan"] for sid in g["services"]]
    assert sorted(listed) == sorted(r["service"] for r in answer["results"] if r["status"] != "ineligible")
    assert [by_id[sid]["rank"] for sid in listed] == list(range(len(listed)))
    for g in answer["plan"]:
        whom = [{"elder": 0, "family": 1, "after_death": 2}[by_id[sid]["for"]] for sid in g["services"]]
        assert whom == sorted(whom), (g["group"], g["services"])


def test_the_82_year_old_yongjia_elder_gets_her_own_things_first():
    answer = answer_of(ELDERS["yongjia"])
    todo = next(g for g in answer["plan"] if g["group"] == "apply")["services"]
    names = [next(r["name"] for r in answer["results"] if r["service"] == sid) for sid in todo]
    assert names[0] == "困难老年人入住养老机构补贴"     # cash for her, first
    assert names[-1] == "殡葬救助"                      # for the family after her death, last
    assert "最低社会保障" in {x["name"] for x in answer["monthly_total"]["not_counted"]}


@pytest.mark.parametrize("name", ["yongjia", "away"])
def test_the_command_line_answer_carries_the_same_order(name):
    profile = json.dumps({"as_of": AS_OF, **ELDERS[name]}, ensure_ascii=False)
    run = lambda *args: subprocess.run([sys.executable, "-m", "checker", "check", *args, "-"], input=profile,
                                       capture_output=True, text=True, check=True, cwd=ROOT).stdout
    answer = json.loads(run())
    assert answer["plan"] == answer_of(ELDERS[name])["plan"]
    text = run("--text")
    by_id = {r["service"]: r["name"] for r in answer["results"]}
    at = 0
    for g in answer["plan"]:
        at = text.index(g["title"], at)
        for i, sid in enumerate(g["services"], 1):
            at = text.index(f"{i}. {by_id[sid]}", at)   # each line in turn, in the plan's order


# ---------------------------------------------------------------- the page, on a phone

@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    yield context
    context.close()


# a copy of site/, served for this module: a rebuild running beside the tests cannot pull files from under them
from test_checker_browser import built_site, server  # noqa: E402,F401  (pytest fixtures)


FIRST_SCREEN = """() => {
  const head = document.getElementById('yl-results-title').getBoundingClientRect().top + scrollY;
  const todo = [...document.querySelectorAll('#yl-first .yl-plan--todo > li')]
    .map(li => [li.dataset.plan, li.getBoundingClientRect().bottom + scrollY - head]);
  const order = [...document.querySelectorAll('#yl-first [data-plan]')].map(li => li.dataset.plan);
  const cards = [...document.querySelectorAll('#yl-groups article[data-service]')].map(a => a.dataset.service);
  return {todo, order, cards, height: innerHeight};
}"""

# focusable things of the result in document (= reading) order, with where they are drawn
FOCUSABLES = """() => [...document.querySelectorAll('#yl-groups a[href], #yl-groups button, #yl-groups summary')]
  .filter(e => e.getClientRects().length && !e.closest('details:not([open]) > :not(summary)'))
  .map(e => { const rs = e.getClientRects(), f = rs[0], l = rs[rs.length - 1];   // a wrapped link: its first and last pieces
              return {top: f.top + scrollY, left: f.left, lastTop: l.top + scrollY, right: l.right, text: e.textContent.trim().slice(0, 12)}; })"""


def check_visual_order(page, where):
    boxes = page.evaluate(FOCUSABLES)
    for a, b in zip(boxes, boxes[1:]):
        # the next one starts on a lower line than the last one ends, or on that line to its right
        assert b["top"] > a["lastTop"] + 2 or (abs(b["top"] - a["lastTop"]) <= 2 and b["left"] >= a["right"] - 2), (where, a, b)
    return boxes


@pytest.mark.parametrize("name", ELDERS)
def test_every_service_to_apply_for_is_within_two_screens_of_the_result_heading(phone, server, name):
    from test_checker_browser import fill_profile, open_checker, wait_ready
    answer = answer_of(ELDERS[name])
    plan = {g["group"]: g["services"] for g in answer["plan"]}
    page = open_checker(phone, server, as_of=AS_OF)
    wait_ready(page)
    fill_profile(page, ELDERS[name])
    SHOTS.mkdir(parents=True, exist_ok=True)
    for dazi in (False, True):
        if dazi:
            page.evaluate("document.documentElement.classList.add('mb-dazi')")
            page.wait_for_timeout(100)
        got = page.evaluate(FIRST_SCREEN)
        label = f"{name}{' 大字' if dazi else ''}"
        # the same order as the engine's plan, on the first screen and in the cards below
        assert [sid for sid, _ in got["todo"]] == plan.get("apply", []), label
        assert got["order"] == [sid for g in answer["plan"] for sid in g["services"]], label
        cards = got["cards"]
        ranked = [r["service"] for r in sorted((r for r in answer["results"] if r["status"] == "eligible"), key=lambda r: r["rank"])]
        assert [sid for sid in cards if sid in ranked] == ranked, label
        far = [(sid, round(y)) for sid, y in got["todo"] if y > 2 * got["height"]]
        check_visual_order(page, label)
        page.mouse.move(0, 0)   # no hover outline in the screenshots
        page.evaluate("document.getElementById('yl-results-title').scrollIntoView()")
        page.screenshot(path=str(SHOTS / f"{name}{'-dazi' if dazi else ''}-1.png"))
        page.evaluate("window.scrollBy(0, innerHeight)")
        page.screenshot(path=str(SHOTS / f"{name}{'-dazi' if dazi else ''}-2.png"))
        assert not page.errors
        (SHOTS / f"{name}{'-dazi' if dazi else ''}.txt").write_text(
            f"last of {len(got['todo'])} to do ends {round(got['todo'][-1][1]) if got['todo'] else 0} px below 查询结果 (limit {2 * got['height']})\n")
        assert not far, f"{label}: beyond two screens ({2 * got['height']} px) below 查询结果: {far}"


def test_axe_keyboard_and_printing_only_the_things_to_do(phone, server):
    from test_accessibility import assert_no_violations
    from test_checker_browser import fill_profile, open_checker, wait_ready
    page = open_checker(phone, server, as_of=AS_OF)
    wait_ready(page)
    fill_profile(page, ELDERS["yongjia"])
    assert page.locator("#yl-first .yl-plan--todo li").count() > 0
    assert_no_violations(page, "first screen")
    page.click("#yl-groups details.yl-result__more > summary")
    assert_no_violations(page, "first screen, a card opened")
    page.evaluate("document.documentElement.classList.add('mb-dazi')")
    assert_no_violations(page, "first screen, 大字")
    page.evaluate("document.documentElement.classList.remove('mb-dazi')")
    # Tab from the first line of 要去办的事 goes down the list in the order it is drawn
    boxes = check_visual_order(page, "keyboard")
    page.focus("#yl-first .yl-plan--todo a")
    seen = []
    for _ in range(min(12, len(boxes))):
        seen.append(page.evaluate("(() => { const r = document.activeElement.getBoundingClientRect(); return [r.top + scrollY, r.left]; })()"))
        page.keyboard.press("Tab")
    assert all(b[0] >= a[0] - 2 for a, b in zip(seen, seen[1:])), seen
    # a line's link leads to its card, and the card's details open on tap
    first = page.get_attribute("#yl-first .yl-plan--todo a", "href")
    assert page.locator(first).count() == 1
    # 只打印要去办的事: in print, the 明白卡 shows only the things to do (and who, and where to call)
    page.evaluate("document.documentElement.classList.add('yl-print-todo')")
    page.emulate_media(media="print")
    shown = page.evaluate("""() => [...document.querySelectorAll('#yl-card > *')].filter(e => getComputedStyle(e).display !== 'none')
        .map(e => e.textContent.slice(0, 14))""")
    page.emulate_media(media="screen")
    assert shown and shown[0] == "养老服务明白卡", shown
    assert any(s.startswith("要去办的事") for s in shown), shown
    assert not any(s.startswith("不用申请") or s.startswith("可能可以") for s in shown), shown
    page.evaluate("document.documentElement.classList.remove('yl-print-todo')")
    # the button: the view stays as printed until the print is over (afterprint) or the next touch,
    # however long a phone's print preview takes to open — no timer takes it away
    page.evaluate("window.yanglaoNoPrintDialog = true")
    page.click("#yl-print-todo")
    page.wait_for_timeout(1500)
    assert page.evaluate("document.documentElement.classList.contains('yl-print-todo')")
    page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    assert not page.evaluate("document.documentElement.classList.contains('yl-print-todo')")
    page.click("#yl-print-todo")
    page.wait_for_timeout(100)
    page.mouse.click(5, 5)
    assert not page.evaluate("document.documentElement.classList.contains('yl-print-todo')")
    # the full 明白卡 follows the same order: 要去办的事 before 不用申请
    card = page.evaluate("document.getElementById('yl-card').textContent")
    assert card.index("要去办的事") < card.index("不用申请，自动享受")
    assert not page.errors


@pytest.mark.parametrize("name", ELDERS)
def test_batch_screening_gets_the_same_plan_from_its_brief_answer(name):
    from checker.profile import parse_profile
    engine = checker.engine()
    results, _, _ = engine.brief(parse_profile({"as_of": AS_OF, **ELDERS[name]}))
    assert engine.plan(results) == answer_of(ELDERS[name])["plan"]
