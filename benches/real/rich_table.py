"""rich: render a table of N rows to a string."""

import io
import sys

from rich.console import Console
from rich.table import Table


def main(rows: int) -> int:
    table = Table(title="Orders")
    for column in ("id", "customer", "total", "status"):
        table.add_column(column)
    for i in range(rows):
        table.add_row(str(i), f"customer {i % 17}", f"{i * 3.5:.2f}", "open" if i % 3 else "done")
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(table)
    return len(out.getvalue())


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
