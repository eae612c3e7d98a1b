"""A package the chain tests skip and re-enable."""

from libx import core


def outer(n):
    via = core.inner(n) + 1
    return via
