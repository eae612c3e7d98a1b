def build(depth):  # @build
    v = [0]
    for _ in range(depth):
        v = [v]
    return v


def measure(nested):  # @measure
    k = 0
    while isinstance(nested, list) and nested and isinstance(nested[0], list):
        nested = nested[0]
        k += 1
    return k


deep = build(200)
print(measure(deep))
