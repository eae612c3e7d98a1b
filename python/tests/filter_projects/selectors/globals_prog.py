api_token = "glob-secret"
visible = 5


def f(password, metric_x):
    y = api_token + str(visible)
    return len(y) + metric_x


def gen(user):
    for i in range(2):
        yield i


print(f("pw", 1), list(gen("bob")))
