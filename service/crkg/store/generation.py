"""Which store generation is current: the one place that knows how a store path names it.

``crkg build`` writes every store generation in a fresh folder beside the store path
(``.<name>.<stamp>.<pid>``, ``crkg.store.embedded.NewGeneration``) and then makes the
store path name it. Two ways, chosen per folder (issue 15 item 2, Windows file semantics):

``symlink``
    ``<store>`` is a symbolic link to the generation, replaced with one ``rename``
    (atomic on POSIX). Linux and macOS, and Windows where the user may make links.
``pointer``
    ``<store>`` is a plain folder holding one small file, :data:`POINTER_FILE`, with the
    generation's folder name. It is written to a temporary file beside it and replaced
    with ``os.replace`` (``MoveFileEx(MOVEFILE_REPLACE_EXISTING)`` on Windows: atomic for
    a file nobody holds open; readers open, read and close it at once). Used where a
    symbolic link cannot be made (Windows without the link privilege), or when
    ``CRKG_STORE_SWAP=pointer`` asks for it.

Readers (the server, its query workers, the side artefacts, ``crkg query``, ``crkg push``)
call :func:`current` and nothing else; it reads either layout whatever the mode, and a
plain store folder (made by hand, or by an older crkg) is its own generation.

Old generations go through :func:`remove_old`: a folder is first renamed (Windows refuses
while a process still has a file in it open: it is then left, and tried again by the next
build) and only then deleted; a failure to delete is never fatal.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from crkg.errors import CrkgError

#: The file inside a pointer-mode store folder naming its current generation. Not
#: ``CURRENT``: RocksDB has a file of that name in every store folder.
POINTER_FILE = "crkg-current"

SYMLINK = "symlink"
POINTER = "pointer"
AUTO = "auto"
MODES = (AUTO, SYMLINK, POINTER)

#: Suffix of a generation being written (``NewGeneration``): never current, never removed here.
PARTIAL_SUFFIX = ".partial"
#: Suffix of an old generation taken out of use, removed now or by the next build.
_DELETING_SUFFIX = ".deleting"

#: How long a writer retries replacing the pointer file while a reader has it open
#: (Windows: a sharing violation), and a reader retries opening it meanwhile.
_BUSY_SECONDS = 2.0
_BUSY_STEP = 0.02

_probed: dict[str, bool] = {}


def swap_mode(folder) -> str:
    """``symlink`` or ``pointer``: how a new generation in *folder* is swapped in.

    ``CRKG_STORE_SWAP`` (``Config.STORE_SWAP``) chooses; ``auto`` (the default) probes
    once per folder whether a symbolic link can be made there."""
    from crkg.config import Config

    wanted = Config.from_env().STORE_SWAP.strip().lower()
    if wanted not in MODES:
        raise CrkgError(f"CRKG_STORE_SWAP={wanted!r}: give one of {', '.join(MODES)}")
    if wanted != AUTO:
        return wanted
    return SYMLINK if symlinks_work(folder) else POINTER


def symlinks_work(folder) -> bool:
    """Can this process make a symbolic link in *folder*? (Windows: only with the
    ``SeCreateSymbolicLinkPrivilege`` or Developer Mode.) Probed once per folder."""
    folder = Path(folder)
    key = os.path.realpath(folder)
    if key not in _probed:
        probe = folder / f".crkg-link-probe.{os.getpid()}.{time.time_ns():x}"
        try:
            os.symlink(folder.name, probe, target_is_directory=True)
        except (OSError, NotImplementedError, AttributeError):
            _probed[key] = False
        else:
            _remove_link(probe)
            _probed[key] = True
    return _probed[key]


def _remove_link(link: Path) -> None:
    """Remove a symbolic link to a folder (Windows may want ``rmdir`` for that)."""
    try:
        os.unlink(link)
    except (IsADirectoryError, PermissionError):
        os.rmdir(link)


def current(store) -> Path:
    """The generation folder the store path *store* names now (absolute, links resolved).

    A symbolic link: its target. A pointer folder: the generation its
    :data:`POINTER_FILE` names. Anything else (a plain store folder, a missing path):
    itself."""
    store = Path(os.path.abspath(store))
    name = _read_pointer(store)
    if name is None:
        return Path(os.path.realpath(store))
    return Path(os.path.realpath(store.parent / name))


def is_pointer_folder(store) -> bool:
    """Is *store* a pointer-mode store folder (not a link, holding :data:`POINTER_FILE`)?"""
    store = Path(store)
    return not store.is_symlink() and (store / POINTER_FILE).is_file()


def _read_pointer(store: Path) -> str | None:
    if store.is_symlink():
        return None
    pointer = store / POINTER_FILE
    deadline = time.monotonic() + _BUSY_SECONDS
    while True:
        try:
            name = pointer.read_text(encoding="utf-8").strip()
            break
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PermissionError:
            # Windows: the writer is replacing it this instant
            if time.monotonic() > deadline:
                raise
            time.sleep(_BUSY_STEP)
    # the generation is a sibling of the store path, named after it: nothing else is
    # accepted, so a damaged or hand-edited pointer cannot send a reader elsewhere
    if (not name.startswith(f".{store.name}.") or name.endswith(PARTIAL_SUFFIX)
            or any(sep in name for sep in ("/", "\\", os.sep)) or name in {".", ".."}):
        raise CrkgError(f"{store / POINTER_FILE} names {name!r}, which is not a generation of "
                        f"{store}: rebuild the store (`crkg build --force`)")
    return name


def point_to(store, generation) -> Path | None:
    """Make the store path *store* name *generation* (a complete folder beside it).

    Returns the generation it named before (None if there was none). A plain store folder
    at *store* (made by hand, or an older crkg) is first moved aside and returned as the
    previous generation."""
    store = Path(store)
    generation = Path(generation)
    if generation.parent.resolve() != store.parent.resolve():
        raise CrkgError(f"the generation {generation} is not beside the store path {store}")
    mode = swap_mode(store.parent)
    previous = None
    if store.is_symlink() or is_pointer_folder(store):
        previous = current(store)
    elif store.exists():
        previous = store.parent / f".{store.name}.replaced.{generation.name}"
        os.rename(store, previous)
    if mode == SYMLINK:
        if is_pointer_folder(store):
            # switching modes: the pointer folder goes aside (removed with old generations)
            os.rename(store, store.parent / f".{store.name}.pointer.{generation.name}")
        link = store.parent / f".{store.name}.link.{generation.name}"
        os.symlink(generation.name, link, target_is_directory=True)
        os.replace(link, store)
    else:
        if store.is_symlink():
            _remove_link(store)  # switching modes: readers see no store for this instant
        store.mkdir(exist_ok=True)
        _write_pointer(store, generation.name)
    return previous


def _write_pointer(store: Path, name: str) -> None:
    tmp = store / f".{POINTER_FILE}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(name + "\n")
        out.flush()
        os.fsync(out.fileno())
    deadline = time.monotonic() + _BUSY_SECONDS
    while True:
        try:
            os.replace(tmp, store / POINTER_FILE)
            return
        except PermissionError:
            # Windows: a reader has the pointer open for the few microseconds it reads it
            if time.monotonic() > deadline:
                tmp.unlink(missing_ok=True)
                raise
            time.sleep(_BUSY_STEP)


def remove_old(store, keep) -> list[Path]:
    """Remove the generations of *store* other than those in *keep* (and their leftovers).

    Returns the folders left because they are still in use (Windows: renaming a folder
    that a running server or query worker has a file open in fails) or could not be
    deleted; the next build tries again. Folders being written (``.partial``) are not
    touched: ``NewGeneration``'s ``remove_abandoned`` owns those. On POSIX a folder still
    open is removed at once: its readers keep the files they opened."""
    store = Path(store)
    keep = {os.path.realpath(k) for k in keep if k is not None}
    keep.add(str(current(store)))
    left = []
    for old in store.parent.glob(f".{store.name}.*"):
        if (not old.is_dir() or old.is_symlink() or old.name.endswith(PARTIAL_SUFFIX)
                or os.path.realpath(old) in keep):
            continue
        if not _remove(old):
            left.append(old)
    return left


def _remove(folder: Path) -> bool:
    doomed = folder
    if not folder.name.endswith(_DELETING_SUFFIX):
        doomed = folder.with_name(folder.name + _DELETING_SUFFIX)
        try:
            os.rename(folder, doomed)
        except OSError:
            return False  # still open (Windows): left for the next build
    try:
        shutil.rmtree(doomed)
    except OSError:
        return False  # what is left keeps its suffix: the next build removes it
    return True
