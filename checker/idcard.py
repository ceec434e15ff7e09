"""Resident identity card numbers (GB 11643-1999 公民身份号码): check digit, birth date and sex.

18 digits: 6 address code, 8 birth date (YYYYMMDD), 3 sequence (odd = male), 1 check character
computed with ISO 7064 MOD 11-2. The old 15-digit number (address, YYMMDD in the 1900s, sequence)
has no check digit. A bad number raises IdCardError with a Chinese message; nothing is guessed.
"""
from __future__ import annotations

import datetime as _dt
import re

# ISO 7064 MOD 11-2 weights: 2^(17-i) mod 11 for positions 1..17.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # index: (Σ digit × weight) mod 11


class IdCardError(ValueError):
    """`zh` is the message a cadre reads."""

    def __init__(self, zh: str):
        self.zh = zh
        super().__init__(zh)


def check_char(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def parse_id(raw: str) -> dict:
    """{"number", "number18" (an old 15-digit number in its 18-digit form), "birth_date": date,
    "sex": "male"|"female", "area": "330282"} or IdCardError."""
    text = str(raw).strip().replace(" ", "").replace("\u3000", "")
    if len(text) > 40:
        raise IdCardError(f"身份证号这一格有{len(text)}个字符，不是身份证号：请核对这一格")
    if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", text) or re.fullmatch(r"\d{15,18}\.\d*", text):
        raise IdCardError(f"身份证号“{text}”被表格软件改成了科学计数法，后几位已经丢失：请把这一列设为“文本”格式后"
                          "按身份证重新填写（不能猜后几位）")
    number = text.upper().replace("ｘ", "X")
    if re.fullmatch(r"\d{17}[\dX]", number):
        birth_text = number[6:14]
        sex_digit = int(number[16])
    elif re.fullmatch(r"\d{15}", number):
        birth_text = "19" + number[6:12]
        sex_digit = int(number[14])
    else:
        raise IdCardError(f"身份证号“{text}”不是18位（或旧的15位）号码：18位号码是17位数字加1位数字或X")
    try:
        birth = _dt.date(int(birth_text[:4]), int(birth_text[4:6]), int(birth_text[6:8]))
    except ValueError:
        raise IdCardError(f"身份证号“{text}”中的出生日期 {birth_text[:4]}-{birth_text[4:6]}-{birth_text[6:8]} 这一天不存在") from None
    if birth.year < 1890:
        raise IdCardError(f"身份证号“{text}”中的出生年份 {birth.year} 不对（这样算已经超过130岁），请核对号码")
    if len(number) == 18:
        expected = check_char(number[:17])
        if number[17] != expected:
            hint = ""
            if number.endswith("000") or number.endswith("00"):
                hint = "；末尾是0，多半是表格软件把它当成数字存过（科学计数法），后几位已经丢失，请按身份证重新填写"
            raise IdCardError(f"身份证号“{text}”校验码不对（最后一位按前17位算应为 {expected}），请核对号码{hint}")
    number18 = number if len(number) == 18 else number[:6] + "19" + number[6:] + check_char(number[:6] + "19" + number[6:])
    return {"number": number, "number18": number18, "birth_date": birth, "sex": "male" if sex_digit % 2 else "female",
            "area": number[:6]}
