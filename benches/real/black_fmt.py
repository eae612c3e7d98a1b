"""black (pure Python, built from its sdist): format N lines of badly formatted code."""

import sys

import black

SNIPPET = """def f( a,b ,c = 3 ):
  x=[ a,b,c ]
  return {'k':x , "n" : len( x )}
"""


def main(lines: int) -> int:
    source = SNIPPET * max(1, lines // 3)
    return len(black.format_str(source, mode=black.Mode()))


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
