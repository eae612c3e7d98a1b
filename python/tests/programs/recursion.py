calls = 0


def fib(n):  # @fib
    global calls
    calls += 1
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


result = fib(7)
print("fib", result, "calls", calls)
