import collections
import dataclasses
import enum
import os


class Color(enum.IntEnum):
    RED = 1


class Mode(enum.Enum):
    FAST = "fast"


@dataclasses.dataclass
class Item:
    name: str
    qty: int = 0


Pair = collections.namedtuple("Pair", "left right")


class MyList(list):
    pass


def show(**values):  # @show
    count = len(values)
    return count


s = {1, 2}
fs = frozenset({3})
c = 2 + 3j
rg = range(5)
mod = os
fn = show
cls = Item
dq = collections.deque([1, 2])
item = Item("bolt", 3)
pair = Pair(1, 2)
ml = MyList([1, 2])
col = Color.RED
mode = Mode.FAST
nested = {"a": {"b": {"c": {"d": {"e": 1}}}}}
long_bytes = b"z" * 3000
show(s=s, fs=fs, c=c, rg=rg, mod=mod, fn=fn, cls=cls, dq=dq, item=item, pair=pair, ml=ml,
     col=col, mode=mode, nested=nested, long_bytes=long_bytes)
print("ok")
