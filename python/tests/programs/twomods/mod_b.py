# module b has its helper further down


def unrelated():
    return 0


def helper(x):  # @helper_b
    return x * 2
