"""A vendored package the project filter skips."""

from vendorlib import helpers

SCALE = 10


def compute(n):
    vendor_local = n * SCALE
    return helpers.twice(vendor_local)


def apply(fn, value):
    vendor_tmp = value + 1
    return fn(vendor_tmp)
