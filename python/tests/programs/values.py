import math


def keep(*items, **named):  # @keep
    return len(items) + len(named)


big = 2**100 + 12345
neg_big = -(3**80)
nan = float("nan")
pinf = math.inf
ninf = -math.inf
fine = 2.5
long_text = "x" * 5000
table = {"a": 1, "b": [1, 2], 3: "three"}
flag = True
nothing = None
blob = b"ab\x00c"
pair = (1, "two")
n = keep(big, nan, long_text, table, k=pinf)
print(n)
