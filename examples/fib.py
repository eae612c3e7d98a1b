"""Recursion: naive Fibonacci. Usage: python fib.py [N]."""

import sys


def fib(n: int) -> int:
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    result = fib(n)
    print(f"fib({n}) = {result}")


if __name__ == "__main__":
    main()
