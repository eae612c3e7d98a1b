import vendorlib
from vendorlib import helpers


def greet(user, times):
    hidden = "h-" + str(times)
    total = 0
    for _ in range(times):
        total += len(user)
    return total + len(hidden)


def callback(v):
    seen = v * 3
    return seen


def main():
    hidden = 41
    r = vendorlib.compute(3)
    r2 = helpers.twice(r)
    r3 = vendorlib.apply(callback, hidden)
    g = greet("alice", 2)
    print(r, r2, r3, g)


main()
