"""Level (LOD) helpers: parse and format level lists, pick levels by scale or resolution, validate.

Level lists use ArcGIS' own syntax (the ``levels`` parameter of ``exportTiles``): ``"0-5,7,9-11"``.
Scale and resolution bounds follow the ArcGIS Maps SDK rule (``ExportTileCacheParameters`` from a
min/max scale): the *min scale* is the small-scale (coarse, large denominator) bound and the *max scale*
the large-scale (fine) bound; a min scale falling between two levels takes the coarser level, a max scale
falling between two levels takes the finer one, so the chosen levels always cover the requested range;
``0`` (or ``None``) means no limit.  Bounds given the wrong way round are swapped.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from .errors import InvalidRequestError
from .tiling import LOD, TilingScheme

MAX_LEVEL = 100  # far above any real cache (Esri schemes stop around 23-25): guards "0-99999999"
SCALE_TOLERANCE = 1e-4  # relative: 1:577790 matches Esri's 577790.554289

_TOKEN = re.compile(r"\s*(\d+)\s*(?:[-\u2013\u2014]\s*(\d+)\s*)?")
_SEPARATORS = re.compile(r"[\s,;]*")


def _invalid(reason: str) -> InvalidRequestError:
    return InvalidRequestError(reason=reason)


def parse_levels(text: str) -> list[int]:
    """``"0-5,7, 9 - 11"`` -> ``[0, 1, 2, 3, 4, 5, 7, 9, 10, 11]`` (sorted, without duplicates).

    Separators: commas, semicolons or blanks.  Ranges may be reversed (``"5-3"`` is 3, 4, 5) and may use
    an en dash.  Anything else (letters, negative numbers, decimals, open ranges such as ``"3-"``, levels
    above :data:`MAX_LEVEL`) raises :class:`InvalidRequestError` naming the offending part.
    """
    if not isinstance(text, str):
        raise _invalid(f"levels must be text such as '0-5,7', not {type(text).__name__}")
    levels: set[int] = set()
    pos = 0
    n = len(text)
    while pos < n:
        sep = _SEPARATORS.match(text, pos)
        pos = sep.end() if sep else pos
        if pos >= n:
            break
        match = _TOKEN.match(text, pos)
        end = match.end() if match else pos
        if not match or (end < n and text[end] not in ",;" and not text[end - 1].isspace()):
            bad_end = min((i for i in (text.find(c, pos) for c in ",;") if i >= 0), default=n)
            bad = text[pos:bad_end].strip() or text[pos:].strip()
            raise _invalid(f"'{bad}' in the level list '{text.strip()}' is not a level or a range "
                           "(write levels like 0-5,7,9-11)")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        low, high = min(first, last), max(first, last)
        if high > MAX_LEVEL:
            raise _invalid(f"level {high} is out of range (levels go from 0 to {MAX_LEVEL} at most)")
        levels.update(range(low, high + 1))
        pos = end
    if not levels:
        raise _invalid("no levels were given (write levels like 0-5,7,9-11)")
    return sorted(levels)


def format_levels(levels: Iterable[int]) -> str:
    """``[0, 1, 2, 3, 4, 5, 7, 9, 10, 11]`` -> ``"0-5,7,9-11"`` (runs of two or more become ranges)."""
    values = sorted(set(levels))
    parts: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        parts.append(str(values[i]) if i == j else f"{values[i]}-{values[j]}")
        i = j + 1
    return ",".join(parts)


def _lods_of(source: Any) -> list[LOD]:
    """LODs of a ServiceInfo (its available minLOD..maxLOD range), a TilingScheme, or an iterable of LOD."""
    available = getattr(source, "available_lods", None)
    if available is not None:
        return list(available)
    if isinstance(source, TilingScheme):
        return list(source.lods)
    lods = list(source)
    if not all(isinstance(lod, LOD) for lod in lods):
        raise TypeError("expected LODs, a TilingScheme or a ServiceInfo")
    return lods


def _no_limit(value: float | None) -> bool:
    return value is None or value == 0


def _pick(values: list[float], coarse: float | None, fine: float | None) -> tuple[int, int]:
    """Indices (first, last) into ``values`` (descending: coarse first) per the SDK rule."""
    if not _no_limit(coarse) and not _no_limit(fine) and coarse < fine:  # type: ignore[operator]
        coarse, fine = fine, coarse
    first, last = 0, len(values) - 1
    if not _no_limit(coarse):
        at_or_coarser = [i for i, v in enumerate(values) if v >= coarse * (1 - SCALE_TOLERANCE)]  # type: ignore[operator]
        first = max(at_or_coarser) if at_or_coarser else 0
    if not _no_limit(fine):
        at_or_finer = [i for i, v in enumerate(values) if v <= fine * (1 + SCALE_TOLERANCE)]  # type: ignore[operator]
        last = min(at_or_finer) if at_or_finer else len(values) - 1
    return first, max(first, last)


def _check_bound(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _invalid(f"{name} must be a positive number or 0 for no limit, not {value!r}")


def levels_between_scales(lods: Any, min_scale: float | None, max_scale: float | None) -> list[int]:
    """Levels covering the scale range ``min_scale`` (coarse bound) .. ``max_scale`` (fine bound).

    ``lods``: LODs, a :class:`TilingScheme`, or a ``ServiceInfo`` (then only its minLOD..maxLOD levels).
    A bound between two levels takes the level beyond it (coarser for min, finer for max); 0 = no limit.
    """
    _check_bound("the minimum scale", min_scale)
    _check_bound("the maximum scale", max_scale)
    ordered = sorted(_lods_of(lods), key=lambda lod: (-lod.resolution, lod.level))
    if not ordered:
        return []
    if any(lod.scale <= 0 for lod in ordered):
        raise _invalid("the service publishes no scales for its levels; choose levels by resolution or by number")
    first, last = _pick([lod.scale for lod in ordered], min_scale, max_scale)
    return sorted(lod.level for lod in ordered[first:last + 1])


def levels_by_resolution(lods: Any, coarsest_res: float | None, finest_res: float | None) -> list[int]:
    """Levels covering the resolution range (CRS units per pixel), same rule as by scale; 0 = no limit."""
    _check_bound("the coarsest resolution", coarsest_res)
    _check_bound("the finest resolution", finest_res)
    ordered = sorted(_lods_of(lods), key=lambda lod: (-lod.resolution, lod.level))
    if not ordered:
        return []
    first, last = _pick([lod.resolution for lod in ordered], coarsest_res, finest_res)
    return sorted(lod.level for lod in ordered[first:last + 1])


def validate_levels(service_or_scheme: Any, levels: Iterable[int] | str) -> list[int]:
    """Check ``levels`` against a ``ServiceInfo`` (scheme and minLOD..maxLOD) or a ``TilingScheme``.

    Returns the sorted, de-duplicated levels.  Raises :class:`InvalidRequestError` naming the levels that
    are not in the scheme or outside the cached range, and the valid range.
    """
    wanted = parse_levels(levels) if isinstance(levels, str) else sorted(set(levels))
    if not wanted:
        raise _invalid("choose at least one level")
    if any(isinstance(level, bool) or not isinstance(level, int) for level in wanted):
        raise _invalid(f"levels must be whole numbers, not {wanted!r}")
    scheme: TilingScheme = getattr(service_or_scheme, "tiling", service_or_scheme)
    if not isinstance(scheme, TilingScheme):
        raise TypeError("expected a ServiceInfo or a TilingScheme")
    in_scheme = set(scheme.levels)
    available = {lod.level for lod in _lods_of(service_or_scheme)}
    unknown = [level for level in wanted if level not in in_scheme]
    outside = [level for level in wanted if level in in_scheme and level not in available]
    if unknown or outside:
        valid = format_levels(available) or "none"
        problems = []
        if unknown:
            problems.append(f"level{'s' if len(unknown) > 1 else ''} {format_levels(unknown)} "
                            f"{'are' if len(unknown) > 1 else 'is'} not in the tiling scheme")
        if outside:
            problems.append(f"level{'s' if len(outside) > 1 else ''} {format_levels(outside)} "
                            f"{'are' if len(outside) > 1 else 'is'} outside the cached range of the service")
        raise _invalid("; ".join(problems) + f". Valid levels: {valid}")
    return wanted
