"""pygments: highlight the source of a stdlib module (its first N lines) to HTML."""

import inspect
import json.decoder
import sys

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer


def main(lines: int) -> int:
    source = inspect.getsource(json.decoder)
    text = "\n".join((source.splitlines() * 10)[:lines])
    return len(highlight(text, PythonLexer(), HtmlFormatter()))


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
