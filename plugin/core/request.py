"""The export request: everything the user chose for one export, as plain values.

The area is the core's :class:`~.area.Area` in the service CRS, stored as Esri JSON (an envelope for
a rectangle, else a polygon's rings as drawn), so a resume or the bookkeeping needs no QGIS.  Files
written by earlier versions carry the area as WKT (``area_wkt`` + ``area_is_rectangle``): they are
read once through :func:`area_from_wkt`, a small parser of the (multi)polygons those versions wrote.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from .area import Area
from .errors import InvalidRequestError
from .levels import format_levels
from .tilecache import PACKAGE

MAX_WKT_CHARS = 50_000_000  # a drawn or selected area; far beyond it is not an area we wrote
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_WKT_HEAD = re.compile(r"^\s*(MULTIPOLYGON|POLYGON)\s*(?:ZM|Z|M)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ExportRequest:
    """Everything the user chose for one export, as plain values (kept for a retry or a resume)."""

    service_url: str
    authcfg: str  # QGIS auth config id or ""
    area: Area  # in the SERVICE CRS (polygon or rectangle)
    levels: tuple[int, ...]
    fmt: str | None  # None = automatic, "tpkx", "tpk" (vector always vtpk)
    optimize: bool = False
    quality: int | None = None
    split: bool = True
    merge: bool = True  # merge split results into one file (GeoPackage/MBTiles)
    output_path: str = ""  # final package path (.vtpk/.tpkx/.tpk), a .gpkg/.mbtiles file, or a folder
    add_to_map: bool = True
    service_name: str = ""
    area_label: str = ""  # human description ("Drawn polygon, 5 vertices", "Canvas extent")
    # PACKAGE, or TILE_CACHE: a cache folder (map and image services; core.tilecache.supported_output_kinds)
    output_kind: str = PACKAGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(sorted({int(level) for level in self.levels})))

    @property
    def levels_text(self) -> str:
        return format_levels(self.levels)

    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "area"}
        data["levels"] = list(self.levels)
        data["area"] = area_to_json(self.area)
        return asdict_safe(data)

    @classmethod
    def from_dict(cls, data: dict) -> ExportRequest:
        """A request from its JSON form, or from the form earlier versions wrote (the area as WKT);
        ValueError/InvalidRequestError when it holds no usable area."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["levels"] = tuple(values.get("levels") or ())
        if isinstance(data.get("area"), dict):
            values["area"] = Area.from_esri_json(data["area"])
        elif "area_wkt" in data:
            values["area"] = area_from_wkt(str(data.get("area_wkt") or ""), bool(data.get("area_is_rectangle")))
        else:
            raise ValueError("the request holds no area")
        return cls(**values)


def asdict_safe(data: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def area_to_json(area: Area) -> dict[str, Any]:
    """Esri JSON of ``area``: an envelope for a rectangle, else the polygon's rings as they are (closed),
    so that reading it back gives the same area."""
    if area.is_rectangle:
        return area.to_esri_envelope()
    return {"rings": [[[x, y] for x, y in (*ring, ring[0])] for ring in area.rings]}


def service_label(url: str) -> str:
    """``World_Map/MapServer`` from a service URL (when the service name is not known yet)."""
    parts = [p for p in url.split("?", 1)[0].rstrip("/").split("/") if p]
    return "/".join(parts[-2:]) if len(parts) >= 2 else url


# --- WKT of earlier versions ------------------------------------------------------------------------
def area_from_wkt(wkt: str, is_rectangle: bool = False) -> Area:
    """The area of a ``POLYGON``/``MULTIPOLYGON`` WKT (z and m values ignored), as earlier versions
    stored it; ``is_rectangle``: the bounding box of each polygon (an extent, cut in two at the
    antimeridian).  InvalidRequestError for anything else."""
    polygons = parse_wkt_polygons(wkt)
    if is_rectangle:
        boxes = []
        for polygon in polygons:
            xs = [p[0] for p in polygon[0]]
            ys = [p[1] for p in polygon[0]]
            boxes.append([[(min(xs), min(ys)), (min(xs), max(ys)), (max(xs), max(ys)), (max(xs), min(ys))]])
        if len(boxes) == 1:
            (x0, y0), _, (x1, y1), _ = boxes[0][0]
            return Area.from_extent(x0, y0, x1, y1)
        return Area.from_polygons(boxes)
    return Area.from_polygons(polygons)


def parse_wkt_polygons(wkt: str) -> list[list[list[tuple[float, float]]]]:
    """``[[exterior, hole, ...], ...]`` of a ``POLYGON`` or ``MULTIPOLYGON`` WKT."""
    if not isinstance(wkt, str) or len(wkt) > MAX_WKT_CHARS:
        raise _bad("it is not a polygon text of a sensible size")
    head = _WKT_HEAD.match(wkt)
    if head is None:
        raise _bad("it is not a POLYGON or MULTIPOLYGON")
    body = wkt[head.end():].strip()
    if body.upper() == "EMPTY":
        raise _bad("it is empty")
    nested = _parse_nested(body)
    depth = 3 if head.group(1).upper() == "MULTIPOLYGON" else 2
    polygons = nested if depth == 3 else [nested]
    try:
        return [[[(float(p[0]), float(p[1])) for p in ring] for ring in polygon] for polygon in polygons]
    except (TypeError, IndexError, ValueError):
        raise _bad("its nesting is not that of polygons") from None


def _parse_nested(body: str) -> list:
    """Parenthesised lists of coordinate tuples ``((x y, x y), (…))`` → nested lists, the innermost
    being ``[x, y, …]`` points (bounded: one pass over the text)."""
    stack: list[list] = []
    root: list | None = None
    for token in re.finditer(rf"\(|\)|,|{_NUMBER}(?:\s+{_NUMBER})*|\S", body):
        text = token.group(0)
        if text == "(":
            new: list = []
            if stack:
                stack[-1].append(new)
            elif root is not None:
                raise _bad("text follows the polygon")
            else:
                root = new
            stack.append(new)
        elif text == ")":
            if not stack:
                raise _bad("its parentheses do not match")
            stack.pop()
        elif text == ",":
            if not stack:
                raise _bad("a comma stands outside the parentheses")
        elif text[0] in "-+.0123456789":
            if not stack:
                raise _bad("a number stands outside the parentheses")
            stack[-1].append([float(v) for v in text.split()])
        else:
            raise _bad(f"it holds {text!r}")
    if stack or root is None:
        raise _bad("its parentheses do not match")
    return root


def _bad(reason: str) -> InvalidRequestError:
    return InvalidRequestError(reason=f"the stored area cannot be read: {reason}")
