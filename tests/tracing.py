"""Which counties' data a piece of rendering reads: the counties and services of a Site's view are
replaced by dicts that note their county's code whenever they are read (tests of Page.deps and
the handouts' dependencies, site_build/hooks.py and handouts.py key artefacts by them)."""
from __future__ import annotations

import contextlib

from site_build import pages

READ: set = set()


# A county's fields that Site.shared_digest hashes for every page (the list of counties: their
# names, links and provinces): reading them is not reading the county's data.
SHARED = frozenset({"code", "name", "url", "prefecture", "province", "province_slug", "slug"})


class Traced(dict):
    """A dict that notes `code` in READ when anything of it is read (but `shared` keys)."""
    __slots__ = ("code", "shared")

    def __init__(self, code, data, shared=frozenset()):
        super().__init__(data)
        self.code, self.shared = code, shared

    def _read(self):
        READ.add(self.code)

    def __getitem__(self, key):
        if key not in self.shared:
            self._read()
        return super().__getitem__(key)

    def get(self, key, default=None):
        if key not in self.shared:
            self._read()
        return super().get(key, default)

    def __iter__(self):
        self._read()
        return super().__iter__()

    def __contains__(self, key):
        self._read()
        return super().__contains__(key)

    def __len__(self):
        self._read()
        return super().__len__()

    def keys(self):
        self._read()
        return super().keys()

    def values(self):
        self._read()
        return super().values()

    def items(self):
        self._read()
        return super().items()


@contextlib.contextmanager
def traced_views():
    """While inside, every Site built sees its counties and services as Traced dicts."""
    original = pages.in_force_today

    def view(catalogue, day):
        out = original(catalogue, day)
        counties = {}
        for code, county in out["counties"].items():
            county = dict(county)
            county["services"] = [Traced(code, s) for s in county["services"]]
            counties[code] = Traced(code, county, SHARED)
        out["counties"] = counties
        return out

    pages.in_force_today = view
    try:
        yield READ
    finally:
        pages.in_force_today = original


@contextlib.contextmanager
def reads():
    """The set of county codes read inside the block."""
    READ.clear()
    found: set = set()
    try:
        yield found
    finally:
        found.update(READ)
        READ.clear()
