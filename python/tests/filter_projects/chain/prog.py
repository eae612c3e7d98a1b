import json

import libx
from libx import core


def main():
    a = libx.outer(2)
    b = core.inner(3)
    c = json.dumps([a, b])
    print(c)


main()
