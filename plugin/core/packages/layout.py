"""Where a tile package keeps what: found in its files, not assumed (the first step of opening one).

:class:`PackageLayout` looks at the files of a :class:`~._sources.Source` once: ``p12/root.json``
(vector tile package), a ``root.json`` with ``tileInfo`` (tpkx), or the shallowest ``conf.xml`` (any
root folder name, any case) with ``_alllayers`` beside it; then the item info (title, name,
description, WGS 84 extent) and the catalogue of bundle files per level.  Reading the bundles is
:class:`~.reader.TilePackage`'s job.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from ..errors import PackageError
from ..tiling import SpatialRef, TilingScheme
from ._sources import Source, package_error
from .bundles import LEVEL_NAME, PACKET, BundleRef, bundle_origin
from .schemes import (
    ConfInfo,
    Extent,
    extent_from_conf_cdi,
    is_wgs84,
    load_json,
    parse_xml,
    scheme_from_conf_xml,
    scheme_from_root_json,
    xml_text,
)

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = 8 * 1024 * 1024  # root.json, conf.xml, iteminfo: real ones are a few KB


def join(base: str, *names: str) -> str:
    """Member names joined with ``/``, empty parts left out."""
    return "/".join(part for part in (base, *names) if part)


def parent(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def clean_rel(rel: str, where: object) -> str:
    """``rel`` as a member path inside the package; a path leaving it is refused."""
    parts = [part for part in rel.replace("\\", "/").split("/") if part not in ("", ".")]
    if any(part == ".." for part in parts):
        raise package_error(where, f"the path {rel!r} leaves the package")
    return "/".join(parts)


class PackageLayout:
    """What the package's files say: its kind, tiling scheme, item info and bundle files.

    Raises :class:`PackageError` (or a low-level exception the caller translates) when the files are
    not an Esri tile package or cache.
    """

    def __init__(self, path: Path, source: Source, pointed: str | None = None) -> None:
        self.path = path
        self._source = source
        self.container = source.container
        self.scheme: TilingScheme  # set by _locate, which raises when it finds none
        self.kind = ""
        self.storage = ""
        self.root_json: dict | None = None
        self.conf: ConfInfo | None = None
        self.extent: Extent | None = None
        self.wgs84_extent: tuple[float, float, float, float] | None = None
        self.title = ""
        self.name = ""
        self.description = ""
        self.base = ""  # the folder holding root.json or conf.xml
        self.tiles_dir = ""
        self.tilemap_name: str | None = None
        self.bundles: dict[tuple[int, int, int], BundleRef] = {}
        self.duplicate_bundles = 0
        self._locate(pointed)
        self._read_item_info()
        self._catalogue()

    def _json(self, name: str, limit: int = MAX_CONFIG_BYTES) -> Any:
        return load_json(self._source.read(name, limit), f"{self.path}!{name}")

    def _locate(self, pointed: str | None) -> None:
        src = self._source
        if pointed is not None:
            if pointed.lower() == "conf.xml":
                return self._use_conf(pointed)
            return self._use_root_json(pointed)
        p12 = src.child("", "p12", want_dir=True)
        if p12 and src.child(p12, "root.json", want_dir=False):
            return self._use_root_json(join(p12, src.child(p12, "root.json").rsplit("/", 1)[-1]))
        top = src.child("", "root.json", want_dir=False)
        if top and self._has_tile_info(top, strict=True):
            return self._use_root_json(top)
        confs = src.find("conf.xml")
        if confs:
            return self._use_conf(min(confs, key=lambda name: (name.count("/"), name)))
        for p12_root in sorted(src.find("root.json", max_depth=3), key=lambda n: (n.count("/"), n)):
            if self._has_tile_info(p12_root):
                return self._use_root_json(p12_root)
        raise package_error(self.path, "it contains neither conf.xml nor a root.json with a tiling "
                            "scheme, so it is not an Esri tile package or cache")

    def _has_tile_info(self, name: str, strict: bool = False) -> bool:
        """Whether ``name`` is a root.json with a tiling scheme; ``strict``: malformed JSON raises."""
        if self._source.size(name) > MAX_CONFIG_BYTES and not strict:
            return False
        try:
            doc = self._json(name)
        except PackageError:
            if strict:
                raise
            return False
        return isinstance(doc, dict) and isinstance(doc.get("tileInfo"), dict)

    def _use_root_json(self, name: str) -> None:
        where = f"{self.path}!{name}"
        doc = self._json(name)
        self.scheme = scheme_from_root_json(doc, where)
        self.root_json = doc
        self.base = parent(name)
        vector = self.scheme.format.lower() == "pbf" or ("tiles" in doc and "tileBundlesPath" not in doc)
        if vector:
            self.kind = "vtpk"
            template = doc.get("tiles")
            first = template[0] if isinstance(template, list) and template and isinstance(template[0], str) \
                else "tile/{z}/{y}/{x}.pbf"
            tiles_dir = first.split("{", 1)[0].rstrip("/") or "tile"
            tilemap = doc.get("tileMap")
            if isinstance(tilemap, str) and tilemap:
                self.tilemap_name = join(self.base, clean_rel(tilemap, where), "root.json")
        else:
            self.kind = "tpkx"
            tiles_dir = doc.get("tileBundlesPath") if isinstance(doc.get("tileBundlesPath"), str) else "./tile"
        if "://" in tiles_dir:
            tiles_dir = "tile"
        self.tiles_dir = join(self.base, clean_rel(tiles_dir, where))
        self.extent = Extent.from_json(doc.get("fullExtent"), self.scheme.spatial_ref) or \
            Extent.from_json(doc.get("initialExtent"), self.scheme.spatial_ref)
        name_value = doc.get("name")
        self.name = name_value if isinstance(name_value, str) else ""
        self.storage = "compactV2"

    def _use_conf(self, name: str) -> None:
        where = f"{self.path}!{name}"
        self.conf = scheme_from_conf_xml(self._source.read(name, MAX_CONFIG_BYTES), where)
        self.scheme = self.conf.scheme
        self.base = parent(name)
        alllayers = self._source.child(self.base, "_alllayers", want_dir=True)
        self.tiles_dir = alllayers or join(self.base, "_alllayers")
        cdi = self._source.child(self.base, "conf.cdi", want_dir=False)
        if cdi:
            self.extent = extent_from_conf_cdi(self._source.read(cdi, MAX_CONFIG_BYTES),
                                               f"{self.path}!{cdi}", self.scheme.spatial_ref)
        self.storage = "compactV1" if self.conf.storage_format.lower().endswith("compact") else "compactV2"
        if self.container == "zip":
            self.kind = "tpk" if self.storage == "compactV1" else "tpkx"
        else:
            self.kind = "tpk" if self._source.child("", "esriinfo", want_dir=True) and \
                self.storage == "compactV1" else "cache"

    def _read_item_info(self) -> None:
        src = self._source
        title = description = name = ""
        # tpkx: iteminfo.json beside root.json; vtpk/tpk: esriinfo/iteminfo.xml at the top
        info_json = src.child(self.base, "iteminfo.json", want_dir=False)
        if info_json:
            try:
                doc = self._json(info_json)
            except PackageError as exc:
                log.warning("%s", exc)
                doc = None
            if isinstance(doc, dict):
                title = doc.get("title") if isinstance(doc.get("title"), str) else ""
                name = doc.get("name") if isinstance(doc.get("name"), str) else ""
                description = next((doc[k] for k in ("description", "summary", "snippet")
                                    if isinstance(doc.get(k), str) and doc[k]), "")
                ext = Extent.from_json(doc.get("extent"), SpatialRef(wkid=4326))
                if ext is not None and is_wgs84(ext.spatial_ref):
                    self.wgs84_extent = (ext.xmin, ext.ymin, ext.xmax, ext.ymax)
        candidates = []
        base = self.base
        while True:
            candidates.append(join(base, "esriinfo"))
            if not base:
                break
            base = parent(base)
        for folder in candidates:
            esriinfo = src.child(parent(folder), folder.rsplit("/", 1)[-1], want_dir=True)
            member = esriinfo and src.child(esriinfo, "iteminfo.xml", want_dir=False)
            if not member:
                continue
            try:
                root = parse_xml(src.read(member, MAX_CONFIG_BYTES), f"{self.path}!{member}")
            except PackageError as exc:
                log.warning("%s", exc)
                break
            title = title or xml_text(root, "title") or ""
            name = name or xml_text(root, "name") or ""
            description = description or xml_text(root, "summary") or xml_text(root, "snippet") or ""
            try:
                values = [float(xml_text(root, "extent", key) or "nan") for key in ("xmin", "ymin", "xmax", "ymax")]
            except ValueError:
                values = []
            if len(values) == 4 and all(map(math.isfinite, values)) and self.wgs84_extent is None:
                self.wgs84_extent = tuple(values)  # type: ignore[assignment]
            break
        stem = self.path.stem if self.path.suffix else self.path.name
        if self.container == "dir" and self.path.name.lower() in ("layers", "p12", "") and self.path.parent.name:
            stem = self.path.parent.name
        self.name = name or self.name or stem
        self.title = title or self.name
        self.description = description

    def _catalogue(self) -> None:
        src = self._source
        for level_dir, is_dir in src.listdir(self.tiles_dir):
            match = LEVEL_NAME.match(level_dir)
            if not is_dir or not match:
                continue
            level = int(match.group(1))
            folder = join(self.tiles_dir, level_dir)
            files = [child for child, child_is_dir in src.listdir(folder) if not child_is_dir]
            index_files = {child[:-7].lower(): child for child in files if child.lower().endswith(".bundlx")}
            for child in files:
                origin = bundle_origin(child)
                if origin is None:
                    continue
                row0, col0 = origin
                if row0 % PACKET or col0 % PACKET:
                    log.warning("%s: bundle %s/%s is not on the 128-tile grid; ignored", self.path, folder, child)
                    continue
                key = (level, row0, col0)
                if key in self.bundles:
                    self.duplicate_bundles += 1
                    log.warning("%s: two bundles for level %s row %s col %s; keeping %s", self.path, level,
                                row0, col0, self.bundles[key].name)
                    continue
                bundlx = index_files.get(child[:-7].lower())
                self.bundles[key] = BundleRef(level, row0, col0, join(folder, child),
                                               join(folder, bundlx) if bundlx else None)
        versions = {ref.version for ref in self.bundles.values()}
        if versions == {1}:
            self.storage = "compactV1"
        elif versions == {2}:
            self.storage = "compactV2"
        elif versions:
            self.storage = "mixed"
