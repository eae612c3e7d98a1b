def counter(limit):  # @counter
    i = 0
    while i < limit:
        received = yield i
        if received is not None:
            i = received
        i += 1
    return "done"


def catcher():  # @catcher
    while True:
        try:
            yield "ready"
        except KeyError as exc:
            print("caught", exc.args[0])


total = 0
for v in counter(3):
    total += v
g = counter(10)
first = next(g)
second = g.send(5)
g.close()
c = catcher()
next(c)
after = c.throw(KeyError("thrown"))
c.close()
squares = list(x * x for x in range(4))
print(total, first, second, after, squares)
