"""Call-heavy: naive recursive Fibonacci, S times fib(15)."""

import sys


def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main(scale):
    total = 0
    for _ in range(scale):
        total += fib(15)
    return total


if __name__ == "__main__":
    main(int(sys.argv[1]))
