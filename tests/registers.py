"""Generated registers (登记表) for the batch-screening tests and benchmark: rows as a cadre would
type them (Chinese headers and values, ID numbers, county names or codes), each with the profile it
means, so expected answers can be computed by calling the engine on that profile.
"""
from __future__ import annotations

import datetime as dt
import random

HEADER = ["姓名", "身份证号", "性别", "出生日期", "户籍", "户籍镇（街道）", "常住地", "常住镇（街道）", "实际居住地",
          "电话", "经济状况", "能力评估", "计划生育特殊家庭", "居住情况", "是否入住养老机构", "已享受", "备注"]

# How a cadre may write each catalogue county (code, full name, short name, with the province).
COUNTY_SPELLINGS = {
    "330282": ["330282", "慈溪市", "慈溪", "浙江省宁波市慈溪市"],
    "330324": ["330324", "永嘉县", "永嘉"],
    "330783": ["330783", "东阳市", "东阳"],
    "330922": ["330922", "嵊泗县", "嵊泗"],
    "431225": ["431225", "会同县", "会同"],
}
OUTSIDE = "330302"  # 温州市鹿城区: a valid code that is not in the catalogue
TOWNS = ["浒山街道", "古塘街道", "白沙路街道", "龙山镇", "周巷镇", "坎墩街道"]
ECONOMIC = {"none": ["非困难", "一般"], "dibao": ["低保", "低保户"], "dibian": ["低边", "低保边缘"], "tekun": ["特困", "特困供养"]}
CARE = {"intact": ["能力完好"], "mild": ["轻度失能", "轻度"], "moderate": ["中度失能"], "severe": ["重度失能", "完全失能"]}
LIVING = {"alone": ["独居"], "empty_nest": ["空巢"], "left_behind": ["留守"], "with_family": ["与家人同住", "与子女同住"]}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "秀英桂兰玉珍凤芳建国志明文华德兴淑珍金花阿土根生小妹"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(area: str, birth: dt.date, seq: int, male: bool) -> str:
    """An 18-digit number with a correct GB 11643 check character."""
    seq = seq * 2 + (1 if male else 0)
    first17 = f"{area}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def wrong_check(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")


# (what goes wrong, cells to change, a phrase the 错误 column must contain)
def _bad_rows(as_of: dt.date):
    good_id = id_number("330282", dt.date(1941, 3, 9), 12, True)
    return [
        ("bad date", {"出生日期": "1950-02-30", "身份证号": ""}, "这一天不存在"),
        ("wrong check digit", {"身份证号": wrong_check(good_id), "出生日期": "", "性别": ""}, "校验码不对"),
        ("unknown county", {"户籍": "火星县", "常住地": ""}, "不是本目录收录的县"),
        ("sex contradicts the ID", {"身份证号": good_id, "性别": "女", "出生日期": ""}, "与身份证号中的 男 不一致"),
        ("born after the check date", {"出生日期": (as_of + dt.timedelta(days=3)).isoformat(), "身份证号": ""}, "晚于查询日期"),
        ("unreadable economic status", {"经济状况": "很穷"}, "经济状况“很穷”看不懂"),
        ("ID number stored as a number", {"身份证号": "3.30282194103091E+17", "出生日期": ""}, "科学计数法"),
        ("ID with a date that does not exist", {"身份证号": "330282194102301234", "出生日期": ""}, "这一天不存在"),
    ]


def make_register(n: int, seed: int = 8, as_of: str = "2026-11-23", bad_every: int = 97):
    """(header, rows, people): people[i] = {"profile", "received", "error"}; every `bad_every`-th row
    is broken in one of the ways of _bad_rows (profile None, error = the expected phrase)."""
    rng = random.Random(seed)
    today = dt.date.fromisoformat(as_of)
    bad = _bad_rows(today)
    rows, people = [], []
    codes = list(COUNTY_SPELLINGS)
    for i in range(n):
        hukou = rng.choices(codes + [OUTSIDE], weights=[40, 15, 15, 10, 10, 10])[0]
        residence = hukou if rng.random() < 0.85 else rng.choice(codes)
        if hukou == OUTSIDE and residence == OUTSIDE:
            residence = "330282"
        birth = today - dt.timedelta(days=rng.randint(55 * 365, 104 * 365))
        male = rng.random() < 0.5
        profile = {"as_of": as_of, "birth_date": birth.isoformat(), "sex": "male" if male else "female", "hukou": hukou}
        row = dict.fromkeys(HEADER, "")
        row["姓名"] = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))
        mode = rng.random()
        number = id_number(hukou if hukou != OUTSIDE else "330302", birth, rng.randint(0, 499), male)
        if mode < 0.4:
            row["身份证号"] = number if rng.random() < 0.8 else number.lower()
        elif mode < 0.8:
            row["出生日期"] = rng.choice([birth.isoformat(), f"{birth.year}/{birth.month}/{birth.day}",
                                      f"{birth.year}年{birth.month}月{birth.day}日", f"{birth:%Y%m%d}"])
            row["性别"] = rng.choice(["男", "男性"] if male else ["女", "女性"])
        else:
            row["身份证号"] = number
            row["出生日期"] = birth.isoformat()
            row["性别"] = "男" if male else "女"
        row["户籍"] = rng.choice(COUNTY_SPELLINGS.get(hukou, [hukou]))
        if residence != hukou or rng.random() < 0.3:
            row["常住地"] = rng.choice(COUNTY_SPELLINGS[residence])
            profile["residence"] = residence
        if hukou == "330282" and residence == "330282" and rng.random() < 0.7:
            h_town = rng.choice(TOWNS)
            r_town = h_town if rng.random() < 0.6 else rng.choice(TOWNS)
            row["户籍镇（街道）"], row["常住镇（街道）"] = h_town, r_town
            profile["lives_outside_hukou_town"] = h_town != r_town
            if h_town != r_town:
                row["实际居住地"] = f"{r_town}{rng.choice('东西南北')}路{rng.randint(1, 300)}号"
        for column, field, table in (("经济状况", "economic", ECONOMIC), ("能力评估", "care_level", CARE),
                                     ("居住情况", "living", LIVING)):
            if rng.random() < 0.6:
                value = rng.choice(list(table))
                row[column] = rng.choice(table[value])
                profile[field] = value
        if rng.random() < 0.6:
            fp = rng.random() < 0.2
            row["计划生育特殊家庭"] = rng.choice(["是", "√"] if fp else ["否", "无"])
            profile["family_planning_special"] = fp
        x = rng.random()
        if x < 0.8:
            row["是否入住养老机构"] = "是" if x < 0.05 else rng.choice(["否", "无"])
            profile["in_institution"] = x < 0.05
        if rng.random() < 0.5:
            row["电话"] = f"13{rng.randint(100000000, 999999999)}"
        received = set()
        if hukou == "330282" and rng.random() < 0.5:
            received.add("330282-home-care")
            row["已享受"] = "330282-home-care"
        elif hukou == "330324" and rng.random() < 0.3:
            received.add("330324-11")
            row["已享受"] = rng.choice(["330324-11", "高龄津贴"])
        if rng.random() < 0.05:
            row["已享受"] = "、".join(x for x in (row["已享受"], "广场舞补贴") if x)
        if rng.random() < 0.1:
            row["备注"] = rng.choice(["子女在外地", "需上门", "电话无人接"])
        person = {"profile": profile, "received": received, "error": None}
        if bad_every and i % bad_every == bad_every - 1:
            what, cells, phrase = bad[(i // bad_every) % len(bad)]
            row.update(cells)
            person = {"profile": None, "received": set(), "error": phrase, "what": what}
        rows.append([row[h] for h in HEADER])
        people.append(person)
    return HEADER, rows, people
