"""Line-heavy: tight arithmetic loops, S x 10,000 iterations in one frame."""

import sys


def main(scale):
    total = 0
    for i in range(scale * 10_000):
        j = i % 7
        total += j * j
    return total


if __name__ == "__main__":
    main(int(sys.argv[1]))
