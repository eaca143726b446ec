"""File names the plugin recognises and gives: the one place that decides them.

Every caller names files through here: the core's exporter (the parts of a split export, the
files of a multi-file result, a tile cache's folder), the tasks (the merged file, the whole export
behind a part when it resumes), the exports manager (an output that exists already becomes
``name (2).tpkx``), the dock (the default output name, from the service, the area and the levels) and
Processing (the package behind a ``.gpkg``/``.mbtiles`` OUTPUT).  Light on purpose (stdlib only): the drop handler asks
:func:`is_package_file` at QGIS start-up.
"""
from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

PACKAGE_SUFFIXES = (".vtpk", ".tpkx", ".tpk")  # the Esri tile packages a user opens
RESULT_SUFFIXES = (*PACKAGE_SUFFIXES, ".zip")  # what a server job may hand out
MERGED_SUFFIXES = (".gpkg", ".mbtiles")  # a merged or converted export
OUTPUT_SUFFIXES = (*PACKAGE_SUFFIXES, *MERGED_SUFFIXES)  # what an export may write under one name
PART_MARK = re.compile(r"_part\d+of\d+$")  # ``_partNNofMM`` at the end of a stem
MAX_FREE_NAME_TRIES = 10_000  # "name (2)" … before giving up and reusing the name
CACHE_PART = ".cache-part"  # a tile cache being downloaded: <folder>.cache-part/ and <folder>.cache-part.zip


def is_package_file(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in PACKAGE_SUFFIXES


def safe_name(name: str) -> str:
    """``name`` as a file name on every platform (letters, digits, ``._-``); ``export`` when nothing is left."""
    return re.sub(r"[^\w.-]+", "_", name or "").strip("._") or "export"


def default_output_name(service_name: str, fmt: str, area_name: str = "", levels: Collection[int] = ()) -> str:
    """The dock's proposal, named for what the export holds: ``<service>[_<area>][_L<first>-<last>].<fmt>``
    (``World_Imagery_Italy_L0-8.tpkx``)."""
    levels = sorted(levels)
    parts = [safe_name(service_name), safe_name(area_name) if (area_name or "").strip() else ""]
    if levels:
        parts.append(f"L{levels[0]}" if len(levels) == 1 else f"L{levels[0]}-{levels[-1]}")
    return "_".join(p for p in parts if p) + f".{fmt}"


def _stem(base: Path) -> str:
    return base.stem if base.suffix.lower() in RESULT_SUFFIXES else base.name


def part_path(base: Path, fmt: str, part: int, parts: int, file_no: int = 1, files: int = 1) -> Path:
    """The file of part ``part`` of ``parts`` (``_partNNofMM``), and of file ``file_no`` of a result
    that came as ``files`` files (``_N``), with the format's suffix."""
    stem = _stem(base)
    if parts > 1:
        stem += f"_part{part:02d}of{parts:02d}"
    if files > 1:
        stem += f"_{file_no}"
    return base.with_name(f"{stem}.{fmt}")


def cache_folder(base: Path, part: int, parts: int) -> Path:
    """The folder of a tile cache: the output path without a package suffix, ``_partNNofMM`` when split."""
    stem = _stem(base)
    if parts > 1:
        stem += f"_part{part:02d}of{parts:02d}"
    return base.with_name(stem)


def resplit_path(base: str | os.PathLike, n: int, cache: bool) -> Path:
    """The ``n``-th piece of a part the server refused as too big and that was split again:
    ``field_part02of03_1.tpkx`` (or the folder ``…_1`` of a tile cache)."""
    base = Path(base)
    return base.with_name(f"{base.name}_{n}") if cache else base.with_name(f"{base.stem}_{n}{base.suffix}")


def export_target(output: str | os.PathLike, *, cache: bool, fmt: str, service_name: str) -> Path:
    """The file (or a tile cache's folder) an export writes under ``output``: ``output`` itself when it
    names one; in a folder output, a file named after the service (``World_Map.tpkx``).  A tile cache's
    folder is the output without its suffix, or a folder inside an output folder that holds other things."""
    out = Path(output)
    name = safe_name(service_name or "export")
    if cache:
        out = cache_output_path(out)
        if out.is_dir() and any(out.iterdir()) and not (out / "conf.xml").is_file():
            out = out / name
        return out
    if out.is_dir() or not out.suffix:
        return out / f"{name}.{fmt}"
    return out


def cache_download_paths(target: str | os.PathLike) -> tuple[Path, Path]:
    """Where a tile cache is downloaded before it becomes ``target``: the staging folder and the zip.
    Names of our own (never ``<folder>.zip``, which may be the user's), stable so a resume finds them."""
    target = Path(target)
    return target.with_name(target.name + CACHE_PART), target.with_name(target.name + CACHE_PART + ".zip")


def whole_export_path(part: str | os.PathLike) -> Path:
    """The output a part was cut from: ``field_part02of03.tpkx`` → ``field.tpkx``."""
    path = Path(part)
    return path.with_name(PART_MARK.sub("", path.stem) + path.suffix)


def merged_path(output: str | os.PathLike, first_package: str | os.PathLike, vector: bool) -> Path:
    """The one file an export's packages are merged (or converted) into: ``output`` itself when it is a
    ``.gpkg``/``.mbtiles`` file, else ``<output stem>.gpkg`` (raster) or ``.mbtiles`` (vector) next to it;
    for a folder output, named after the first package without its ``_partNNofMM``."""
    out = Path(output) if output else Path(first_package)
    if out.suffix.lower() in MERGED_SUFFIXES:
        return out
    suffix = ".mbtiles" if vector else ".gpkg"
    if out.is_dir() or not out.suffix:
        first = Path(first_package)
        return first.with_name(PART_MARK.sub("", first.stem) + suffix)
    return out.with_suffix(suffix)


def package_path(output: str | os.PathLike, fmt: str) -> Path:
    """Where the package goes when ``output`` names the merged or converted file (``.gpkg``/``.mbtiles``):
    beside it, with the package's suffix; any other output is the package path itself."""
    out = Path(output)
    return out.with_suffix(f".{fmt}") if out.suffix.lower() in MERGED_SUFFIXES else out


def free_output_path(target: Path, busy: Collection[Path] = ()) -> Path:
    """``target``, or ``name (2).tpkx``, ``name (3).tpkx`` … when a file the export would write under that
    name exists or ``busy`` (output paths without suffix) holds it: an export never overwrites an earlier
    one or collides with one under way.  A package's name is taken by the package itself and by the
    ``.gpkg``/``.mbtiles`` it may be merged into (a package of another format is another file); a
    ``.gpkg``/``.mbtiles`` name also by a package of that name (the package goes beside it).  A ``target``
    without a suffix is a tile cache's folder: an existing folder of that name takes it."""
    suffix = target.suffix.lower()
    if not suffix:
        taken: tuple[str, ...] = ()
    elif suffix in MERGED_SUFFIXES:
        taken = OUTPUT_SUFFIXES
    else:
        taken = (suffix, *MERGED_SUFFIXES)
    candidate = target
    for n in range(2, MAX_FREE_NAME_TRIES):
        if candidate.with_suffix("") not in busy and not candidate.exists() and not any(
                candidate.with_suffix(other).exists() for other in taken):
            return candidate
        candidate = target.with_name(f"{target.stem} ({n}){target.suffix}")
    return target


def cache_output_path(output: str | os.PathLike) -> Path:
    """The folder a tile-cache export is written to: the output without a package or merged-file suffix."""
    out = Path(output)
    return out.with_suffix("") if out.suffix.lower() in (*RESULT_SUFFIXES, *MERGED_SUFFIXES) else out


def merged_cache_folder(output: str | os.PathLike, first_cache: str | os.PathLike) -> Path:
    """The one cache folder split tile caches merge into: the output folder (:func:`cache_output_path`), or
    a folder named after the first part inside it when the output is a folder of other things (the parts
    were put inside it); without an output, next to the first part."""
    from .packages.cachefolder import is_cache_folder  # the package code: only when merging

    first = Path(first_cache)
    whole = PART_MARK.sub("", first.name)
    if not output:
        return first.with_name(whole)
    out = cache_output_path(output)
    if out.is_dir() and any(out.iterdir()) and not is_cache_folder(out):
        return out / whole
    return out
