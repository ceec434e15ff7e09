"""Complete evaluations per second on CPython (with why, questions, amounts) over profiles spread
across the five counties. Run: .venv/bin/python -m bench.engine"""
from __future__ import annotations

import json
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import checker  # noqa: E402
from profiles import random_profile  # noqa: E402


def main(n: int = 20000) -> dict:
    rng = random.Random(2026)
    counties = ["330922", "330324", "330783", "431225", "330282"]
    profiles = []
    for i in range(n):  # every profile has a 户籍 county, spread evenly; other fields random (half unknown)
        p = random_profile(rng)
        p["hukou"] = counties[i % 5]
        profiles.append(p)
    engine = checker.engine()
    for p in profiles[:200]:
        engine.check(p)
    start = time.perf_counter()
    results = 0
    for p in profiles:
        results += len(engine.check(p)["results"])
    elapsed = time.perf_counter() - start
    out = {"python": platform.python_version(), "profiles": n, "seconds": round(elapsed, 3),
           "evaluations_per_second": round(n / elapsed), "results_per_profile": round(results / n, 1),
           "services_in_catalogue": len(engine.services)}
    print(json.dumps(out, ensure_ascii=False))
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
