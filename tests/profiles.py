"""Random profiles over the whole vocabulary of checker/profile.py, for property and parity tests
and benchmarks: the build's own generator (site_build.checker_assets.sample_profile)."""
from __future__ import annotations

import random

from site_build.checker_assets import profile_counties, sample_profile


def random_profile(rng: random.Random, as_of: str = "2026-11-23") -> dict:
    """A valid profile; each field is present or unknown at random."""
    return sample_profile(rng, profile_counties(), as_of)
