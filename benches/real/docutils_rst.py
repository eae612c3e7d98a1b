"""docutils: render a reST document of N sections to HTML."""

import sys

from docutils.core import publish_string


def document(sections: int) -> str:
    parts = [
        f"Section {i}\n----------\n\nSome *emphasis*, ``code`` and a list:\n\n"
        f"- item {i}\n- item {i + 1}\n\n.. note:: remember {i}\n"
        for i in range(sections)
    ]
    return "\n".join(["Title\n=====\n", *parts])


def main(sections: int) -> int:
    html = publish_string(
        document(sections), writer_name="html", settings_overrides={"report_level": 5}
    )
    return len(html)


if __name__ == "__main__":
    print(main(int(sys.argv[1])))
