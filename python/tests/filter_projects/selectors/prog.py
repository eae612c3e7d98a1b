class Cart:
    def total(self, prices):
        return sum(prices)


def noisy(n):
    junk = n * 2
    return junk


def helper(n):
    return noisy(n) + 1


def main():
    cart = Cart()
    t = cart.total([1, 2, 3])
    h = helper(5)
    print(t, h)


main()
