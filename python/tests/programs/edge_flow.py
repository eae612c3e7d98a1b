import threading


def down(n):  # @down
    return down(n + 1)


def sub():
    try:
        yield 1
        yield 2
    except KeyError:
        yield "sub-caught"


def deleg():
    r = yield from sub()
    return r


def boom():
    raise ValueError("thread boom")


try:
    down(0)
except RecursionError as e:
    print("recursion", type(e).__name__)

g = deleg()
print(next(g))
print(g.throw(KeyError("k")))
g2 = deleg()
next(g2)
del g2

t = threading.Thread(target=boom)
t.start()
t.join()


def gen_abandon():
    try:
        yield 1
    finally:
        print("cleanup")


ga = gen_abandon()
next(ga)
ga = None
print("done")
