class Point:  # @Point
    def __init__(self, x, y):  # @init
        self.x = x
        self.y = y

    def moved(self, dx):  # @moved
        return Point(self.x + dx, self.y)

    @staticmethod
    def origin():  # @origin
        return Point(0, 0)


class Labeled(Point):  # @Labeled
    def __init__(self, x, y, label):  # @linit
        super().__init__(x, y)
        self.label = label

    def describe(self):  # @describe
        return f"{self.label}@{self.x},{self.y}"


p = Point(1, 2)
q = p.moved(10)
o = Point.origin()
lab = Labeled(3, 4, "home")
text = lab.describe()
print(q.x, o.y, text)
