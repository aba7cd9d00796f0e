"""The examples of a Markdown page, as tests/examples/run.sh runs them.

    python3 extract.py PAGE OUT_DIR

Writes OUT_DIR/commands.sh (every ```sh block of the page, in order, each in its own
subshell) and, for each ```python or ```js block marked `<!-- run: pytest -->`,
`<!-- run: python -->` or `<!-- run: node -->` on the line before it, a numbered file
(test_example_1.py, example_2.py, example_3.js). An ```sh block marked `<!-- not run: why -->`
is left out. The only change made to what the page says: the default address 127.0.0.1:8774
becomes $ECSD_LISTEN, so that the run does not collide with an ecsd already on that port.
Prints one line per file written: its kind and name (and for commands.sh, how many blocks).
"""

import os
import re
import sys

FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*(run|not run)(?::\s*(.*?))?\s*-->\s*$")


def blocks(text):
    """(language, marker, code) for every fenced block."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        marker = None
        if index > 0 and (found := MARK.match(lines[index - 1])):
            marker = (found.group(1), found.group(2) or "")
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        yield opened.group(1), marker, "\n".join(lines[index + 1:end]) + "\n"
        index = end + 1


def main():
    page, out = sys.argv[1], sys.argv[2]
    address = os.environ["ECSD_LISTEN"]
    os.makedirs(out, exist_ok=True)
    commands = []
    for number, (language, marker, code) in enumerate(blocks(open(page, encoding="utf-8").read()), 1):
        code = code.replace("127.0.0.1:8774", address)
        if language == "sh" and (marker is None or marker[0] != "not run"):
            commands.append(f"# {page}, block {number}\n(\n{code})\n")
        elif marker and marker[0] == "run":
            kind = marker[1]
            name = {"pytest": f"test_example_{number}.py", "python": f"example_{number}.py",
                    "node": f"example_{number}.js"}[kind]
            with open(os.path.join(out, name), "w", encoding="utf-8") as file:
                file.write(code)
            print(kind, name)
    with open(os.path.join(out, "commands.sh"), "w", encoding="utf-8") as file:
        file.write("set -euo pipefail\n" + "".join(commands))
    print("sh", "commands.sh", len(commands))


if __name__ == "__main__":
    main()
