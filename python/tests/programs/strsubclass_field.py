import os

LOG = os.path.join(os.getcwd(), "field_name_side_effects.log")


class Name(str):
    def __str__(self):
        with open(LOG, "a") as f:
            f.write("Name.__str__\n")
        return "wrong"


class Obj:
    pass


def f(o):  # @f
    return 1


o = Obj()
o.__dict__[Name("weird")] = 5
print(f(o))
