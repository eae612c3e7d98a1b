def inner(x):  # @inner
    if x > 1:
        raise ValueError("boom")
    return x


def middle(x):  # @middle
    return inner(x) + 1


def outer():  # @outer
    try:
        middle(5)
    except ValueError as exc:
        message = str(exc)
        return message
    return "no"


print(outer(), middle(0))
