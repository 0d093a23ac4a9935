"""Test helper: headless Chromium (Debian package ``chromium``; ``make test`` installs it when run as root) and a
small DOM tree of the page Chromium rendered.

``dump_dom(url)`` returns the DOM serialised after the page's scripts ran (``--dump-dom``); ``screenshot(url,
png)`` writes a screenshot. Both use a throw-away profile and turn off everything that would reach the network.
``parse(html)`` builds a tree of :class:`Node` from the serialised DOM (stdlib ``html.parser``).

Used through the ``browser`` fixture of tests/conftest.py.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from typing import Dict, Iterator, List, Optional

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
NAMES = ("chromium", "chromium-browser")


def find_chromium() -> Optional[str]:
    """The Chromium executable on PATH, or None."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: List[str], timeout: float) -> subprocess.CompletedProcess:
    exe = find_chromium()
    if exe is None:
        raise RuntimeError("chromium not found")
    with tempfile.TemporaryDirectory(prefix="swift-ocr-chromium-") as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc


def dump_dom(url: str, timeout: float = 120) -> str:
    """The DOM of ``url`` after its scripts ran, as HTML text."""
    return _run(["--dump-dom", url], timeout).stdout


def screenshot(url: str, png_path: str, width: int = 1280, height: int = 2000, timeout: float = 120) -> None:
    """Write a ``width`` x ``height`` screenshot of ``url`` to ``png_path``."""
    _run([f"--screenshot={png_path}", f"--window-size={width},{height}", url], timeout)


class Node:
    """An element: ``tag``, ``attrs`` (dict), ``children`` (Nodes and strings)."""

    def __init__(self, tag: str, attrs: Dict[str, Optional[str]], parent: Optional["Node"]):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list = []

    @property
    def classes(self) -> List[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        """All text below this node, as ``textContent``."""
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator["Node"]:
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: Optional[str] = None, cls: Optional[str] = None, **attrs) -> List["Node"]:
        """Descendants with that tag, class and attribute values (``data_run="x"`` means ``data-run="x"``)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [n for n in self.iter() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
                and all(n.attrs.get(k) == v for k, v in want.items())]

    def find(self, tag: Optional[str] = None, cls: Optional[str] = None, **attrs) -> "Node":
        """The first of :meth:`find_all` (AssertionError when there is none)."""
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}> found"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html_text: str) -> Node:
    """The document tree of ``html_text`` (serialised DOM)."""
    b = _Builder()
    b.feed(html_text)
    b.close()
    return b.root
