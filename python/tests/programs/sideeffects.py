import os
import sys

LOG = os.environ.get("SIDE_EFFECT_LOG") or os.path.join(os.getcwd(), "side_effects.log")
counter = {"n": 0}


def mark(what):
    counter["n"] += 1
    with open(LOG, "a") as f:
        f.write(what + "\n")


class Loud:
    def __init__(self):
        self.data = 1

    def __repr__(self):
        mark("repr")
        return "Loud()"

    def __str__(self):
        mark("str")
        return "loud"

    def __eq__(self, other):
        mark("eq")
        return False

    __hash__ = object.__hash__

    def __len__(self):
        mark("len")
        return 1

    @property
    def prop(self):
        mark("property")
        return 42

    def __getattr__(self, name):
        mark("getattr:" + name)
        raise AttributeError(name)


class BadRepr:
    def __repr__(self):
        raise RuntimeError("repr exploded")

    def __str__(self):
        raise RuntimeError("str exploded")


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1

    @property
    def c(self):
        mark("slotted-property")
        return 3


class Meta(type):
    def __getattribute__(cls, name):
        mark("meta-getattribute:" + name)
        return super().__getattribute__(name)


class WithMeta(metaclass=Meta):
    pass


def use(obj, bad, slotted):  # @use
    kind = type(obj).__name__
    return kind


loud = Loud()
bad = BadRepr()
slotted = Slotted()
klass = WithMeta
inst = object()
r = use(loud, bad, slotted)
print("counter", counter["n"], r)
print("log exists", os.path.exists(LOG))
sys.stdout.flush()
