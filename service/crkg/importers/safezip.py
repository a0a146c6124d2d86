"""Read a zip archive (a ``.qdpx``) without trusting it.

Refused, each with a :class:`~crkg.importers.HostileInput` naming the member:
members whose name escapes the archive's folder ("zip slip": absolute paths, drive letters,
``..`` segments, backslash tricks), more members, more bytes or a higher compression ratio
than :mod:`crkg.importers.limits` allows (zip bombs), and encrypted members. Nothing is
extracted to disk: members are read into memory, counting the bytes actually inflated (the
sizes a zip declares can lie).
"""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path

from crkg.importers import HostileInput, UnusableInput
from crkg.importers import limits


def _safe_name(name: str) -> str:
    """The member's normalised relative path, or raise if it could escape the folder."""
    if "\x00" in name:
        raise HostileInput(f"zip member {name!r}: a NUL character in its name; refused")
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        raise HostileInput(f"zip member {name!r} has an absolute path (zip slip); refused")
    parts = unified.split("/")
    if any(p == ".." for p in parts):
        raise HostileInput(f"zip member {name!r} escapes the archive's folder with '..' (zip slip); refused")
    return posixpath.normpath(unified)


class SafeZip:
    """An opened archive whose member list has passed the checks above."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UnusableInput(f"{self.path}: not a readable zip archive (a .qdpx is one): {exc}") from exc
        infos = self._zip.infolist()
        if len(infos) > limits.MAX_MEMBERS:
            raise HostileInput(f"{self.path}: {len(infos)} members, more than {limits.MAX_MEMBERS}; refused")
        self.members: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = _safe_name(info.filename)
            if info.flag_bits & 0x1:
                raise HostileInput(f"{self.path}: member {info.filename!r} is encrypted; refused")
            if info.file_size > limits.MAX_MEMBER_BYTES:
                raise HostileInput(f"{self.path}: member {info.filename!r} would inflate to "
                                   f"{info.file_size} bytes (limit {limits.MAX_MEMBER_BYTES}); refused")
            _check_ratio(self.path, info.filename, info.file_size, info.compress_size)
            total += info.file_size
            if total > limits.MAX_UNCOMPRESSED_BYTES:
                raise HostileInput(f"{self.path}: members inflate to more than "
                                   f"{limits.MAX_UNCOMPRESSED_BYTES} bytes; refused (zip bomb?)")
            if not info.is_dir():
                self.members[name] = info
        self._inflated = 0

    def names(self) -> list[str]:
        return sorted(self.members)

    def find(self, name: str) -> str | None:
        """The member called *name*, matching the folder part case-insensitively
        (NVivo writes ``Sources/``, the standard ``sources/``)."""
        name = _safe_name(name)
        if name in self.members:
            return name
        lower = name.lower()
        hits = [m for m in self.members if m.lower() == lower]
        return hits[0] if len(hits) == 1 else None

    def read(self, name: str, limit: int) -> bytes:
        """The member's bytes, inflating at most *limit* bytes (and the archive's budget)."""
        info = self.members[name]
        out = bytearray()
        with self._zip.open(info) as fh:
            while True:
                chunk = fh.read(1024 * 1024)
                if not chunk:
                    break
                out += chunk
                self._inflated += len(chunk)
                if len(out) > limit or len(out) > limits.MAX_MEMBER_BYTES:
                    raise HostileInput(f"{self.path}: member {name!r} inflates past {limit} bytes; refused")
                if self._inflated > limits.MAX_UNCOMPRESSED_BYTES:
                    raise HostileInput(f"{self.path}: the archive inflates past "
                                       f"{limits.MAX_UNCOMPRESSED_BYTES} bytes; refused (zip bomb?)")
                _check_ratio(self.path, name, len(out), info.compress_size)
        return bytes(out)

    def close(self) -> None:
        self._zip.close()


def _check_ratio(path: Path, name: str, size: int, compressed: int) -> None:
    if size >= limits.RATIO_CHECK_MIN_BYTES and size > limits.MAX_COMPRESSION_RATIO * max(compressed, 1):
        raise HostileInput(f"{path}: member {name!r} compresses {size // max(compressed, 1)}:1, "
                           f"more than {limits.MAX_COMPRESSION_RATIO}:1; refused (zip bomb?)")
