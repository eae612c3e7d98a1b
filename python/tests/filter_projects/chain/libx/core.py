"""The submodule a later filter re-enables."""


def inner(n):
    squared = n * n
    return squared
