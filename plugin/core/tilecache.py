"""Output kinds of an export, and the result of a tile-cache export (``tilePackage=false``).

Map and image services export either a *tile package* (``tilePackage=true``: one ``.tpkx``/``.tpk``
file) or a *tile cache* (``tilePackage=false``, the server's default: a *cache raster dataset*, a
folder with ``conf.xml``, ``conf.cdi`` and ``_alllayers/Lnn/*.bundle``, Compact V2 or V1 as
``storageFormatType`` says).  Vector tile services export packages only.

What the dock and Processing call::

    supported_output_kinds(service)     # (PACKAGE,) for vector services, (PACKAGE, TILE_CACHE) else
    check_output_kind(service, kind)    # InvalidRequestError for a tile cache of a vector service
    exporter.prepare(service, area, levels, fmt="tpkx", output_kind=TILE_CACHE)

The result of a tile-cache job is an ``arcgisoutput`` folder URL (the REST reference's only export
example), a zip, or a ``{"url"}``: :func:`cache_result_files` turns each into the list of files to
download, walking folder listings (``folders`` + ``files``) with bounds on depth, count and names.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from .errors import ArcGISOfflineTilesError, InvalidRequestError, ServerError, redact

LOG = logging.getLogger(__name__)

PACKAGE = "package"
TILE_CACHE = "tile_cache"
OUTPUT_KINDS = (PACKAGE, TILE_CACHE)

MAX_RESULT_DEPTH = 10  # folder levels below the result folder (Layers/_alllayers/Lnn is 3)
MAX_RESULT_FILES = 500_000  # as many files as the package readers accept members
MAX_LISTINGS = 20_000  # folder listing requests for one result
ARCHIVE_SUFFIXES = (".zip",)
_BAD_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def supported_output_kinds(info: Any) -> tuple[str, ...]:
    """The output kinds a service can export: vector tile services give packages only."""
    from .export import is_vector  # export imports this module

    return (PACKAGE,) if is_vector(info) else (PACKAGE, TILE_CACHE)


def check_output_kind(info: Any, kind: str | None) -> str:
    """``kind`` (default: package) when ``info`` can export it, else :class:`InvalidRequestError`."""
    kind = kind or PACKAGE
    if kind not in OUTPUT_KINDS:
        raise InvalidRequestError(reason=f"the output kind {kind!r} is unknown; use {' or '.join(OUTPUT_KINDS)}")
    if kind not in supported_output_kinds(info):
        raise InvalidRequestError(reason="vector tile services export tile packages (.vtpk) only, not tile "
                                  "caches; choose the tile package output")
    return kind


@dataclass(frozen=True)
class ResultFile:
    """One file of a tile-cache result: ``path`` is ``/``-separated, relative to the cache result."""

    path: str
    url: str
    size: int | None = None

    def to_dict(self) -> dict:
        return {"path": self.path, "url": self.url, "size": self.size}

    @classmethod
    def from_dict(cls, data: dict) -> ResultFile:
        size = data.get("size")
        return cls(str(data["path"]), str(data["url"]), int(size) if isinstance(size, int) else None)


def is_archive_url(url: str) -> bool:
    return urlsplit(url).path.lower().endswith(ARCHIVE_SUFFIXES)


def _resolve(base: str, url: str) -> str:
    return url if urlsplit(url).scheme else urljoin(base.rstrip("/") + "/", url)


def _safe_name(name: Any, where: str) -> str:
    """A single file or folder name from a listing; anything that could leave the folder is refused."""
    text = str(name or "").strip()
    if not text or text in (".", "..") or _BAD_NAME.search(text) or len(text) > 255:
        raise ServerError(reason="the job's output folder lists a file name that is not allowed",
                          details=redact(f"{where}: {text[:100]!r}"))
    return text


def cache_result_files(session: Any, service_url: str, value: Any, cancel: Any = None) -> list[ResultFile]:
    """The files of a tile-cache result ``value`` (``out_service_url``): one archive, or the folder's
    files with their paths.  Folder listings are walked breadth first within the module's bounds."""
    from .http import check_cancel, get_json  # requests: imported on first use, not at start-up
    if isinstance(value, dict) and value.get("url"):
        value = str(value["url"])
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, str) or not value.strip():
        raise ServerError(reason="the job result has no download address", details=redact(str(value)[:300]))
    root = _resolve(service_url, value.strip())
    if is_archive_url(root):
        return [ResultFile(urlsplit(root).path.rsplit("/", 1)[-1], root)]
    files: list[ResultFile] = []
    queue: list[tuple[str, str, int]] = [(root, "", 0)]  # folder URL, relative path, depth
    listings = 0
    while queue:
        check_cancel(cancel)
        folder_url, rel, depth = queue.pop(0)
        listings += 1
        if listings > MAX_LISTINGS:
            raise ServerError(reason=f"the job's output folder has more than {MAX_LISTINGS} folders")
        try:
            listing = get_json(session, folder_url, cancel=cancel)
        except ArcGISOfflineTilesError as exc:
            if depth == 0:
                LOG.info("The result %s is not a folder listing (%s); downloading it as an archive",
                         redact(root), exc)
                return [ResultFile(urlsplit(root).path.rsplit("/", 1)[-1] or "result.zip", root)]
            raise
        if not isinstance(listing, dict):
            raise ServerError(reason="the job's output folder answered something else than a listing",
                              details=redact(str(listing)[:300]))
        for item in listing.get("files") or []:
            name = item.get("name") if isinstance(item, dict) else item
            name = _safe_name(name, folder_url)
            link = item.get("url") if isinstance(item, dict) else None
            size = item.get("size") if isinstance(item, dict) else None
            url = _resolve(folder_url, str(link)) if link else f"{folder_url.rstrip('/')}/{name}"
            files.append(ResultFile(f"{rel}{name}", url, size if isinstance(size, int) and size >= 0 else None))
            if len(files) > MAX_RESULT_FILES:
                raise ServerError(reason=f"the job's output folder holds more than {MAX_RESULT_FILES} files")
        for item in listing.get("folders") or []:
            name = _safe_name(item.get("name") if isinstance(item, dict) else item, folder_url)
            if depth + 1 > MAX_RESULT_DEPTH:
                raise ServerError(reason=f"the job's output folder is nested deeper than {MAX_RESULT_DEPTH} levels")
            queue.append((f"{folder_url.rstrip('/')}/{name}", f"{rel}{name}/", depth + 1))
    if not files:
        raise ServerError(reason="the job's output folder holds no file", details=redact(root))
    archives = [f for f in files if is_archive_url(f.path)]
    if not any(f.path.rsplit("/", 1)[-1].lower() == "conf.xml" for f in files) and len(archives) == 1:
        return archives  # the cache zipped inside the output folder
    return files
