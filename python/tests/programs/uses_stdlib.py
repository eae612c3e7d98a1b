import json


def encode(obj):  # @encode
    text = json.dumps(obj, sort_keys=True)
    return text


print(encode({"b": [1, 2], "a": None}))
