"""What a page may not contain under our Content-Security-Policy: inline styles and scripts."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if "style" in names:
            self.found.append(f"<{tag} style=…>")
        self.found.extend(f"<{tag} {name}=…>" for name in sorted(names) if name.startswith("on"))
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "a" and (dict(attrs).get("href") or "").lower().startswith("javascript:"):
            self.found.append("<a href=javascript:…>")


def inline_code(html: str) -> list[str]:
    """Every inline style, inline script and event handler attribute in ``html``."""
    finder = _InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


class _HeadingFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.levels.append(int(tag[1]))


def heading_levels(html: str) -> list[int]:
    """The levels of the headings in ``html`` in document order: [1, 2, 3, 3, 2]."""
    finder = _HeadingFinder()
    finder.feed(html)
    finder.close()
    return finder.levels


def headings_in_order(levels: list[int]) -> bool:
    """One h1 first, and no heading deeper than one level below the one before it."""
    if not levels or levels[0] != 1 or levels.count(1) != 1:
        return False
    return all(b <= a + 1 for a, b in itertools.pairwise(levels))
