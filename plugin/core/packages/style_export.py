"""A converted vector package keeps its look: the package's MapLibre style, sprites and glyphs beside it.

An MBTiles file holds tiles only, so a ``.vtpk`` converted to MBTiles would open anywhere else with a
generic style.  :func:`write_style_folder` copies the package's ``p12/resources`` look next to the
converted file, as ``<stem>.style/``::

    basemap.mbtiles
    basemap.style/style.json            the package's style, URLs rewritten to the copies below
    basemap.style/sprites/sprite.json   (and .png, @2x variants: whatever the package has)
    basemap.style/fonts/<stack>/<range>.pbf

MapLibre (GL JS and Native) accepts only absolute URLs for ``sprite`` and ``glyphs`` (maplibre-gl-js
issue #182), so the rewritten style points at the copies with ``file://`` URLs and at the tiles with
``mbtiles://``, the scheme MapLibre Native reads MBTiles with.  The MBTiles metadata row
:data:`STYLE_METADATA_KEY` names the style relative to the MBTiles file, so a field app that finds
the file can find its style even after the folder was moved (and rewrite the absolute URLs).

Everything here is pure Python and bounded: at most :data:`MAX_STYLE_FILES` files and
:data:`MAX_STYLE_BYTES` bytes are copied, and only resource paths made of plain names are written.
"""
from __future__ import annotations

import json
import logging
import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path

from ..errors import PackageError

log = logging.getLogger(__name__)

STYLE_DIR_SUFFIX = ".style"
STYLE_FILE = "style.json"
STYLE_METADATA_KEY = "style"  # MBTiles metadata: the style's path relative to the MBTiles file
# A real basemap's sprites and glyphs: a few hundred glyph ranges (~20 MB); far more is not a style.
MAX_STYLE_FILES = 20_000
MAX_STYLE_BYTES = 512 * 1024 * 1024
# the resource folders whose files the style refers to (styles/ itself is rewritten, not copied)
COPIED_FOLDERS = ("sprites", "fonts")
_SAFE_PART = re.compile(r"^[^/\\\x00]+$")


def style_folder_for(converted: str | os.PathLike) -> Path:
    """``basemap.mbtiles`` → ``basemap.style`` (beside it)."""
    path = Path(converted)
    return path.with_name(path.stem + STYLE_DIR_SUFFIX)


def style_metadata_value(converted: str | os.PathLike) -> str:
    """The value of the MBTiles ``style`` row: the style's path relative to the MBTiles file."""
    return f"{style_folder_for(converted).name}/{STYLE_FILE}"


def _safe_rel(path: str) -> str | None:
    """``path`` when every part is a plain name (no ``..``, no absolute or drive paths), else None."""
    parts = path.split("/")
    if not parts or any(p in ("", ".", "..") or not _SAFE_PART.match(p) or ":" in p for p in parts):
        return None
    return path


def rewrite_style(style: dict, folder: Path, tiles: Path) -> dict:
    """A copy of ``style`` whose sprite, glyphs and vector sources point at the local copies."""
    out = json.loads(json.dumps(style))  # a deep copy that is plain JSON
    base = folder.resolve().as_uri()
    sprite = out.get("sprite")
    if isinstance(sprite, str) and sprite:
        out["sprite"] = f"{base}/sprites/{posixpath.basename(sprite.split('?', 1)[0])}"
    elif isinstance(sprite, list):
        for entry in sprite:
            if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                entry["url"] = f"{base}/sprites/{posixpath.basename(entry['url'].split('?', 1)[0])}"
    if isinstance(out.get("glyphs"), str) and out["glyphs"]:
        # the glyph template's {fontstack}/{range} placeholders must survive the URL quoting
        out["glyphs"] = f"{base}/fonts/{{fontstack}}/{{range}}.pbf"
    tiles_url = "mbtiles://" + tiles.resolve().as_posix()
    for source in (out.get("sources") or {}).values():
        if isinstance(source, dict) and source.get("type") == "vector":
            source.pop("tiles", None)
            source["url"] = tiles_url
    return out


def write_style_folder(pkg, converted: str | os.PathLike) -> Path | None:
    """Write the package's style, sprites and glyphs beside ``converted``; the style file's path.

    ``None`` when the package has no style.  The folder is written aside and moved into place whole,
    replacing an earlier one.  Raises :class:`PackageError` when the style cannot be read or is too big.
    """
    if not getattr(pkg, "has_style", False):
        return None
    style = pkg.style
    if not isinstance(style, dict):
        return None
    converted = Path(converted)
    folder = style_folder_for(converted)
    resources = [r for r in pkg.resources() if r.split("/", 1)[0] in COPIED_FOLDERS]
    if len(resources) > MAX_STYLE_FILES:
        raise PackageError(path=str(pkg.path), reason=f"its style has {len(resources)} files "
                                                       f"(more than {MAX_STYLE_FILES})")
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", suffix=".part", dir=folder.parent))
    try:
        written = 0
        for rel in resources:
            safe = _safe_rel(rel)
            if safe is None:
                log.warning("%s: style resource %r has an unsafe name and was left out", pkg.path, rel)
                continue
            data = pkg.resource(safe)
            written += len(data)
            if written > MAX_STYLE_BYTES:
                raise PackageError(path=str(pkg.path), reason="its style resources are larger than "
                                                              f"{MAX_STYLE_BYTES // (1024 * 1024)} MB")
            target = work.joinpath(*safe.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        doc = rewrite_style(style, folder, converted)
        (work / STYLE_FILE).write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
        if folder.is_symlink() or folder.is_file():
            folder.unlink()
        elif folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder / STYLE_FILE
