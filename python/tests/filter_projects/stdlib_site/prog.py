import json
import re

import extlib
from packaging.version import Version


def work():
    data = json.dumps({"a": 1})
    m = re.match(r"(\d+)", "42abc")
    ext = extlib.shout("hi")
    v = Version("1.2.3")
    return data, m.group(1), ext, str(v)


print(work())
