"""Move a stopped export into another folder, so that its resume continues there.

The export's output folder may have become unwritable, gone (an unplugged drive) or full, or the user
wants the result elsewhere.  :func:`relocate_export` moves what the export holds on disk — its partial
downloads (``.part``), the packages of finished parts, a tile cache being downloaded — into the new
folder and points its records there, so a resume picks up where it stopped and the merged result
lands in the new folder.

Safety: nothing is moved while a file of the same name waits in the new folder (an export never
overwrites a user's file); a move within one file system is a rename, across file systems a copy
that is verified (size and BLAKE2 digest) before the original is removed; a failure puts back what
this record had moved, and a record is saved only after its files moved.  An original that cannot be
removed (a read-only old folder) stays where it was and is reported in :attr:`Relocation.left_behind`.
Only the export store's public API is used (:func:`~.exportstore.plan_records`, ``ExportStore.save``/``load``).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from .download import DownloadState
from .errors import ExportMoveError
from .exportstore import ExportStore, PartRecord, plan_records
from .names import cache_download_paths
from .output import check_output_folder

LOG = logging.getLogger(__name__)

COPY_CHUNK = 1 << 20  # bytes read and written at a time when copying across file systems
MAX_TREE_FILES = 500_000  # files in one folder that moves (a tile cache's staging folder holds thousands)
RENAME_REFUSED = (errno.EXDEV, errno.EACCES, errno.EPERM, errno.EROFS, errno.EBUSY)  # then copy instead
TEMP_MARK = ".moving-"


@dataclass(frozen=True)
class Relocation:
    """What :func:`relocate_export` did: the paths now in the new folder, and the originals it copied
    but could not remove from the old one."""

    moved: tuple[Path, ...] = ()
    left_behind: tuple[Path, ...] = ()


def relocate_export(store: ExportStore, export_id: str, new_folder: str | os.PathLike,
                    output_path: str | None = None) -> Relocation:
    """Move the files of the export ``export_id`` into ``new_folder`` and point its records there;
    ``output_path``: the request's destination in ``new_folder``, kept in the export's record once every
    file has moved (a resume after a restart then writes there too).

    Raises :class:`~.errors.OutputFolderError` when ``new_folder`` cannot take what moves and
    :class:`~.errors.ExportMoveError` when a file of the same name is already there or a move fails;
    the records not yet moved are then unchanged (a second call finishes the job)."""
    folder = Path(new_folder)
    records = plan_records(store, export_id)
    plans = [(record, _moves(record, folder)) for record in records if record.output_path]
    moves = [move for _, record_moves in plans for move in record_moves]
    for _src, dst in moves:
        if dst.exists() or dst.is_symlink():
            raise ExportMoveError(folder=str(folder), reason=f"{dst.name} already exists there")
    for record, _ in plans:
        target = _moved(record.output_path, record, folder)
        if target.exists() and all(target != dst for _, dst in moves):
            raise ExportMoveError(folder=str(folder), reason=f"{target.name} already exists there")
    check_output_folder(folder, sum(_size(src) for src, _ in moves if not _same_device(src, folder)))

    moved: list[Path] = []
    left: list[Path] = []
    for record, record_moves in plans:
        done: list[tuple[Path, Path]] = []
        try:
            for src, dst in record_moves:
                if _move(src, dst):
                    left.append(src)
                done.append((src, dst))
            _point_to(record, folder)
            store.save(record)
            saved = store.load(record.id)
            if saved is None or saved.output_path != record.output_path:
                raise OSError(errno.EIO, "the part record could not be saved")
        except OSError as exc:
            _put_back(done)
            raise ExportMoveError(folder=str(folder), reason=exc.strerror or str(exc), details=repr(exc)) from None
        moved += [dst for _, dst in done]
    entry = store.export(export_id) if output_path else None
    if entry is not None and entry.request is not None:
        store.save_export(export_id, {**entry.request, "output_path": str(output_path)}, entry.state, entry.created)
    LOG.info("Export %s moved to %s (%d files or folders)", export_id, folder, len(moved))
    return Relocation(tuple(moved), tuple(left))


# --- what moves where ------------------------------------------------------------------------
def _moved(path: str | os.PathLike, record: PartRecord, folder: Path) -> Path:
    """Where ``path`` goes: the same place relative to the record's folder (a staging folder keeps its
    inner layout), else the same name in ``folder``."""
    path = Path(path)
    base = Path(record.output_path).parent
    try:
        return folder / path.relative_to(base)
    except ValueError:
        return folder / path.name


def _sources(record: PartRecord) -> list[Path]:
    """The files and folders of ``record`` that exist: finished outputs, downloads and their ``.part``,
    a tile cache's staging folder and zip."""
    candidates = [Path(p) for p in record.output_paths]
    for entry in record.downloads:
        with contextlib.suppress(TypeError, ValueError, AttributeError):
            state = DownloadState.from_dict(entry)
            candidates += [Path(state.target), state.part]
    candidates += list(cache_download_paths(record.output_path))
    found: list[Path] = []
    for path in candidates:
        if (path.exists() or path.is_symlink()) and path not in found:
            found.append(path)
    # a file inside a folder that moves goes with it
    return [p for p in found if not any(p != other and other in p.parents for other in found)]


def _moves(record: PartRecord, folder: Path) -> list[tuple[Path, Path]]:
    return [(src, dst) for src in _sources(record) if (dst := _moved(src, record, folder)) != src]


def _point_to(record: PartRecord, folder: Path) -> None:
    """The record's paths in ``folder`` (the files themselves have moved)."""
    downloads = []
    for entry in record.downloads:
        try:
            state = DownloadState.from_dict(entry)
        except (TypeError, ValueError, AttributeError):
            downloads.append(entry)  # not ours to repair: the resume reports it
            continue
        state.target = str(_moved(state.target, record, folder))
        downloads.append(state.to_dict())
    record.downloads = downloads
    record.output_paths = [str(_moved(p, record, folder)) for p in record.output_paths]
    record.output_path = str(_moved(record.output_path, record, folder))


# --- moving one file or folder -----------------------------------------------------------------
def _move(src: Path, dst: Path) -> bool:
    """Move ``src`` to ``dst`` (which does not exist); True when the original could not be removed
    after a verified copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dst)
        return False
    except OSError as exc:
        if exc.errno not in RENAME_REFUSED:
            raise
    temp = dst.with_name(f".{dst.name}{TEMP_MARK}{uuid.uuid4().hex[:8]}")
    try:
        if src.is_dir():
            _copy_tree(src, temp)
        else:
            _copy_file(src, temp)
        os.rename(temp, dst)
    except BaseException:
        _remove(temp)
        raise
    try:
        _remove(src, strict=True)
    except OSError as exc:
        LOG.warning("%s was copied to %s but could not be removed (%s)", src, dst, exc)
        return True
    return False


def _copy_file(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` and read the copy back: same size and digest, or OSError."""
    size = src.stat().st_size
    digest = hashlib.blake2b()
    copied = 0
    with src.open("rb") as fin, dst.open("xb") as fout:
        while copied < size:  # bounded by the size the file had: a file still growing is not ours
            chunk = fin.read(min(COPY_CHUNK, size - copied))
            if not chunk:
                break
            fout.write(chunk)
            digest.update(chunk)
            copied += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    if copied != size or _digest(dst) != digest.digest():
        raise OSError(errno.EIO, f"the copy of {src.name} does not match the original")


def _digest(path: Path) -> bytes:
    digest = hashlib.blake2b()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(COPY_CHUNK), b""):
            digest.update(chunk)
    return digest.digest()


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy the regular files and folders under ``src`` (links are not followed), each verified."""
    count = 0
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not (Path(root) / d).is_symlink()]
        target = dst / Path(root).relative_to(src)
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            count += 1
            if count > MAX_TREE_FILES:
                raise OSError(errno.EFBIG, f"{src.name} holds more than {MAX_TREE_FILES} files")
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                _copy_file(path, target / name)


def _put_back(done: list[tuple[Path, Path]]) -> None:
    """Undo the moves of one record (best effort: a copy left in the new folder is only a copy)."""
    for src, dst in reversed(done):
        if src.exists():
            _remove(dst)
            continue
        try:
            os.rename(dst, src)
        except OSError as exc:
            LOG.warning("%s could not be moved back to %s (%s)", dst, src, exc)


def _remove(path: Path, *, strict: bool = False) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return
    except OSError:
        if strict:
            raise


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _same_device(path: Path, folder: Path) -> bool:
    try:
        return path.stat().st_dev == folder.stat().st_dev
    except OSError:
        return False
