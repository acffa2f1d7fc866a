"""Fails CI on a relative link or anchor in README.md or docs/ that does not resolve."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def anchors(markdown: Path) -> set[str]:
    """GitHub's anchor for each heading: lower-case, punctuation dropped, spaces to dashes."""
    found = set()
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
            found.add(slug)
    return found


def check(markdown: Path) -> list[str]:
    problems = []
    text = markdown.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # links inside code blocks are examples
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # absolute URLs are not checked here (no network in CI)
        path_part, _, anchor = target.partition("#")
        linked = (markdown.parent / path_part).resolve() if path_part else markdown
        if not linked.exists():
            problems.append(f"{markdown.relative_to(ROOT)}: link to missing {target}")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{markdown.relative_to(ROOT)}: anchor #{anchor} not found in {path_part or 'itself'}")
    return problems


def main() -> int:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    problems = [p for f in files if f.exists() for p in check(f)]
    for problem in problems:
        print(f"docs: {problem}", file=sys.stderr)
    print(f"docs: {len(files)} files checked, {len(problems)} broken links")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
