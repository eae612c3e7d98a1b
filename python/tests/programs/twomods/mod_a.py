def helper(x):  # @helper_a
    return x + 1
