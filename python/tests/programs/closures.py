def outer(base):  # @outer
    offset = 10

    def inner(x):  # @inner
        total = x + base + offset
        return total  # @inner_return

    return inner


add = outer(5)
r1 = add(1)
r2 = add(2)
double = lambda v: v * 2  # @lambda
r3 = double(21)
squares = [i * i for i in range(5)]  # @listcomp
evens = {i for i in range(6) if i % 2 == 0}
mapping = {k: str(k) for k in range(3)}
print(r1, r2, r3, squares, sorted(evens), mapping)
