"""Object-oriented: small classes, methods, properties, inheritance, S x 1,000 objects."""

import sys


class Shape:
    def __init__(self, name):
        self.name = name

    def area(self):
        return 0.0

    def describe(self):
        return f"{self.name}:{self.area():.1f}"


class Rect(Shape):
    def __init__(self, w, h):
        super().__init__("rect")
        self.w = w
        self.h = h

    def area(self):
        return self.w * self.h


class Circle(Shape):
    def __init__(self, r):
        super().__init__("circle")
        self.r = r

    @property
    def diameter(self):
        return 2 * self.r

    def area(self):
        return 3.14159 * self.r * self.r


def main(scale):
    total = 0.0
    for i in range(scale * 1_000):
        shape = Rect(i % 5, i % 3) if i % 2 else Circle(i % 4)
        total += shape.area()
        if isinstance(shape, Circle):
            total += shape.diameter
        shape.describe()
    return total


if __name__ == "__main__":
    main(int(sys.argv[1]))
