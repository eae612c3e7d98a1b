def inner():  # @inner
    raise ValueError("boom")


def middle():  # @middle
    inner()


print("before")
middle()
print("never")
