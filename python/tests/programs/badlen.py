class BadLen(list):
    def __len__(self):
        raise RuntimeError("len exploded")


def f(items):  # @f
    y = 1
    return y


b = BadLen([1, 2, 3])
try:
    r = f(b)
    print("ok", r)
except Exception as e:
    print("raised", type(e).__name__, e)
print("end")
