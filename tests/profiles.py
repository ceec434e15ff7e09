"""Random profiles over the whole vocabulary of checker/profile.py, for property tests and parity tests."""
from __future__ import annotations

import datetime as dt
import random

from checker.profile import FIELDS

COUNTIES = ["330922", "330324", "330783", "431225", "330282", "330302"]


def random_profile(rng: random.Random, as_of: str = "2026-11-23") -> dict:
    """A valid profile; each field is present with probability 1/2 (absent = unknown)."""
    today = dt.date.fromisoformat(as_of)
    profile = {"as_of": as_of}
    for field, (kind, _, values) in FIELDS.items():
        if field in ("as_of", "age") or rng.random() < 0.5:
            continue
        if field == "birth_date":
            profile[field] = (today - dt.timedelta(days=rng.randint(50 * 365, 105 * 365))).isoformat()
        elif field == "relocated_on":
            profile[field] = (today - dt.timedelta(days=rng.randint(0, 3000))).isoformat()
        elif kind == "county":
            profile[field] = rng.choice(COUNTIES)
        elif kind == "bool":
            profile[field] = rng.random() < 0.5
        elif kind == "enum":
            profile[field] = rng.choice(list(values))
        elif kind == "enum_list":
            profile[field] = rng.sample(list(values), rng.randint(0, len(values)))
        elif kind == "int":
            profile[field] = rng.randint(0, 40)
        elif kind == "number":
            profile[field] = rng.choice([0, 300, 800, 1110, 2000])
    if "birth_date" not in profile and rng.random() < 0.5:
        profile["age"] = rng.randint(55, 105)
    return profile
