def total(values):  # @total
    s = sum(values)
    return s


big = list(range(10**6))
t = total(big)
print(t)
