"""Print-heavy: S x 10,000 short prints to stdout (the IO capture benchmark)."""

import sys


def main(scale):
    for i in range(scale * 10_000):
        print("line", i)


if __name__ == "__main__":
    main(int(sys.argv[1]))
