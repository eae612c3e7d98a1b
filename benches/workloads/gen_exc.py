"""Generators and exceptions: resumes, yields, raises and catches, S x 1,000 items."""

import sys


class Skip(Exception):
    pass


def numbers(n):
    # an explicit loop: one resume per item is the point
    for i in range(n):  # noqa: UP028
        yield i


def checked(values):
    for v in values:
        if v and v % 9 == 0:
            raise Skip(v)
        yield v


def main(scale):
    kept = skipped = 0
    for chunk in range(scale * 100):
        try:
            for v in checked(numbers(10 + chunk % 3)):
                kept += v
        except Skip:
            skipped += 1
    return kept, skipped


if __name__ == "__main__":
    main(int(sys.argv[1]))
