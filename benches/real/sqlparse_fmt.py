"""sqlparse: reformat N SQL statements with --reindent."""

import sys

import sqlparse

STATEMENT = (
    "select a.id, b.name, count(*) as n from orders a join customers b on a.cid = b.id "
    "where a.total > {i} and b.country in ('DE', 'FR') group by a.id, b.name order by n desc;"
)


def main(statements: int) -> int:
    sql = "\n".join(STATEMENT.format(i=i) for i in range(statements))
    return len(sqlparse.format(sql, reindent=True, keyword_case="upper"))


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
