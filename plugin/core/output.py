"""Where an export is written, checked before the server is asked for any work.

A server builds a package for minutes; finding only then that the folder is read-only or full wastes
that work.  :func:`check_output_folder` looks first: the folder exists, a file can be created in it
(a real probe: permissions, read-only mounts and ACLs all answer the same way), and it has room for
the export.
"""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from .errors import OutputFolderError, OutputFolderFullError, OutputFolderMissingError, OutputFolderReadOnlyError

# Without the server's estimate, the room needed is the tile count times this floor: small enough
# that an export that could fit is never refused (blank tiles take a few hundred bytes), large enough
# to refuse what certainly cannot fit.
BYTES_PER_TILE_FLOOR = 512
MARGIN_BYTES = 16 << 20  # kept free on top of the package (the download keeps the same margin)
PROBE_PREFIX = ".arcgis-offline-tiles-probe-"
READ_ONLY_ERRNOS = (errno.EROFS,)
NO_PERMISSION_ERRNOS = (errno.EACCES, errno.EPERM)


def output_folder(output_path: str | os.PathLike) -> Path:
    """The folder an export to ``output_path`` (a package path or a folder) writes into."""
    path = Path(output_path)
    return path if path.is_dir() or not path.suffix else path.parent


def needed_bytes(tiles: int, estimated_bytes: float | None = None, *, copies: int = 1) -> int:
    """Room for ``tiles``: the server's estimate when known, else the per-tile floor; ``copies`` counts
    the files that exist at once (the parts of a split export and their merged file)."""
    size = estimated_bytes if estimated_bytes and estimated_bytes > 0 else tiles * BYTES_PER_TILE_FLOOR
    return int(size) * max(1, copies)


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def check_output_folder(folder: str | os.PathLike, need: int = 0, *, format_size=_size) -> None:
    """Raise an :class:`OutputFolderError` naming ``folder`` and the real cause when it cannot take
    ``need`` bytes; ``format_size`` renders sizes for the message (the GUI passes QGIS's)."""
    path = Path(folder)
    shown = str(path)
    if not path.is_dir():
        raise OutputFolderMissingError(folder=shown)
    try:
        handle, probe = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=path)
    except OSError as exc:
        if exc.errno in READ_ONLY_ERRNOS:
            raise OutputFolderReadOnlyError(folder=shown, reason="read-only file system",
                                            details=repr(exc)) from None
        if exc.errno in NO_PERMISSION_ERRNOS:
            raise OutputFolderReadOnlyError(folder=shown, reason="no permission to write in it",
                                            details=repr(exc)) from None
        raise OutputFolderError(folder=shown, reason=exc.strerror or str(exc), details=repr(exc)) from None
    os.close(handle)
    with contextlib.suppress(OSError):  # a probe left behind is harmless: hidden and empty
        os.unlink(probe)
    if need <= 0:
        return
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        return  # the file system does not tell: the download checks again before it writes
    if free < need + MARGIN_BYTES:
        raise OutputFolderFullError(folder=shown, free=format_size(free), need=format_size(need))
