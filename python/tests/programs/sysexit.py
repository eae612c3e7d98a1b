import sys


def leave(code):  # @leave
    print("leaving", code)
    sys.exit(code)


def run():  # @run
    leave(3)


run()
print("never")
