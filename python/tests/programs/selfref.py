def show(items):  # @show
    size = len(items)
    return size


a = [1]
a.append(a)
d = {"k": 1}
d["self"] = d
n = show(a)
print(n, len(d))
