import os

LOG = os.path.join(os.getcwd(), "container_side_effects.log")
counter = {"n": 0}


def mark(what):
    counter["n"] += 1
    with open(LOG, "a") as f:
        f.write(what + "\n")


class LoudList(list):
    def __len__(self):
        mark("list-len")
        return super().__len__()

    def __iter__(self):
        mark("list-iter")
        return super().__iter__()

    def __repr__(self):
        mark("list-repr")
        return "LoudList"


class LoudDict(dict):
    def __len__(self):
        mark("dict-len")
        return super().__len__()

    def __iter__(self):
        mark("dict-iter")
        return super().__iter__()

    def items(self):
        mark("dict-items")
        return super().items()


class LoudSet(set):
    def __len__(self):
        mark("set-len")
        return super().__len__()


def take(items, table, bag):  # @take
    n = 3
    return n


ll = LoudList([1, 2])
ld = LoudDict(a=1)
ls = LoudSet({1})
before = counter["n"]
r = take(ll, ld, ls)
after = counter["n"]
print("calls during traced region", after - before, r)
