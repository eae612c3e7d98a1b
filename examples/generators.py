"""Generators: yield, send, yield from, and a generator expression."""


def countdown(n: int):
    while n > 0:
        yield n
        n -= 1


def running_total():
    total = 0
    while True:
        value = yield total
        if value is None:
            return total
        total += value


def chained():
    yield from countdown(3)
    yield from (x * x for x in range(3))


def main() -> None:
    print(list(countdown(4)))
    acc = running_total()
    next(acc)
    for v in (5, 10, 20):
        acc.send(v)
    print(sum(chained()))


if __name__ == "__main__":
    main()
