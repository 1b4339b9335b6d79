"""Reading a page's HTML in tests: one element by id, its links, its headings, its text.

Plain standard-library parsing, so a test can say exactly what a part of the page offers
("the panel's buttons are these, in this order") instead of searching the whole page for a word.
"""

import re
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


class _Tree(HTMLParser):
    """The page as nested (tag, attrs, children) nodes; text nodes are strings."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ("#root", {}, [])
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = (tag, dict(attrs), [])
        self.stack[-1][2].append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1][2].append((tag, dict(attrs), []))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1][2].append(data)


def parse(html: str):
    tree = _Tree()
    tree.feed(html)
    return tree.root


def _walk(node):
    yield node
    if isinstance(node, tuple):
        for child in node[2]:
            yield from _walk(child)


def text(node) -> str:
    """The node's text, whitespace squashed (visually hidden text included: it is read out)."""
    if isinstance(node, str):
        return _squash(node)
    return _squash(" ".join(text(child) for child in node[2] if not _is_skipped(child)))


def _is_skipped(node) -> bool:
    return isinstance(node, tuple) and node[0] in ("script", "style")


def find(node, predicate) -> list:
    return [n for n in _walk(node) if isinstance(n, tuple) and predicate(n)]


def by_id(html_or_node, element_id: str):
    """The element with this id (None if there is none)."""
    node = parse(html_or_node) if isinstance(html_or_node, str) else html_or_node
    found = find(node, lambda n: n[1].get("id") == element_id)
    return found[0] if found else None


def has_class(node, name: str) -> bool:
    return name in (node[1].get("class") or "").split()


def by_class(node, name: str) -> list:
    return find(node, lambda n: has_class(n, name))


def links(node) -> list[tuple[str, str]]:
    """(text, href) of every link inside the node, in page order."""
    return [(text(a), a[1].get("href", "")) for a in find(node, lambda n: n[0] == "a")]


def headings(node, level: int) -> list[str]:
    return [text(h) for h in find(node, lambda n: n[0] == f"h{level}")]
