"""Readable, stable keys for imported items (data/README.md: letters, digits, ``.``, ``_``,
``-``; no spaces, no Chinese — the name goes into ``label``).

A key comes from the item's name where the name is mostly Latin letters
(``Community response`` → ``community-response``); otherwise from a hash of the name
(``c-3f9a1b2c``), so it stays the same when a tool changes its GUIDs between exports
(ATLAS.ti 26 does). Clashes get the parent's key in front, then a number.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_MAX = 60


def slug(name: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = re.sub(r"[^A-Za-z0-9]+", "-", ascii_).strip("-").lower()
    return s[:_MAX].strip("-")


def _mostly_latin(name: str) -> bool:
    letters = [c for c in name if c.isalnum()]
    if not letters:
        return False
    latin = sum(1 for c in letters if ord(c) < 0x250)
    return latin * 2 > len(letters)


def base_key(name: str, prefix: str) -> str:
    s = slug(name) if _mostly_latin(name) else ""
    if not s:
        s = f"{prefix}-" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return s


class KeyMaker:
    """Hands out unique keys within one section."""

    def __init__(self):
        self.used: set[str] = set()

    def take(self, key: str) -> str:
        self.used.add(key)
        return key

    def make(self, name: str, prefix: str, parent_key: str | None = None) -> str:
        key = base_key(name, prefix)
        if key in self.used and parent_key:
            key = f"{parent_key}-{key}"[: _MAX * 2]
        candidate, n = key, 2
        while candidate in self.used:
            candidate = f"{key}-{n}"
            n += 1
        self.used.add(candidate)
        return candidate
