"""Placeholder: filled in by its issue."""


def build(site_dir):
    pass
