"""CRS mapping between Esri spatial references and QGIS, and areas moved into a service's CRS.

:func:`to_service_geometry` is what the dock and the Processing algorithms use: it cuts an area
that crosses ±180° at the antimeridian first (an area drawn in a geographic or Pacific-centred CRS
would otherwise wrap around the world when its vertices are moved one by one), then clips it to
the service CRS's area of use (:func:`to_service_crs`).
"""
from __future__ import annotations

import math

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)

from ..core.errors import QT_TRANSLATE_NOOP, InvalidRequestError
from ..core.tiling import SpatialRef
from .areas import polygons_only
from .enums import wkt1_gdal

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
DENSIFY_PARTS = 64  # segments per bounding-box side when an area is checked for the antimeridian


def qgs_crs(spatial_ref: SpatialRef) -> QgsCoordinateReferenceSystem:
    """EPSG/ESRI code first (102100 and friends are 3857), WKT when there is no usable code."""
    for candidate in (spatial_ref.authid(), f"EPSG:{spatial_ref.wkid}" if spatial_ref.wkid else ""):
        if candidate:
            crs = QgsCoordinateReferenceSystem(candidate)
            if crs.isValid():
                return crs
    if spatial_ref.wkt:
        crs = QgsCoordinateReferenceSystem.fromWkt(spatial_ref.wkt)
        if crs.isValid():
            return crs
    name = spatial_ref.authid() or "WKT"
    raise InvalidRequestError(reason=f"QGIS does not know the service's coordinate system ({name}).")


def service_crs_wkt(service) -> str:
    """The service CRS as WKT for a raster merge (the GeoPackage's CRS row); InvalidRequestError when
    QGIS does not know it."""
    return qgs_crs(service.spatial_ref).toWkt(wkt1_gdal())


def to_service_crs(geometry: QgsGeometry, source: QgsCoordinateReferenceSystem,
                   target: QgsCoordinateReferenceSystem, project: QgsProject | None = None) -> QgsGeometry:
    """Transform an area into the service CRS, clipped to the target CRS's valid area.

    Parts outside the valid area (e.g. the poles in Web Mercator) are cut off; an area with
    nothing left is refused with a message that says so.
    """
    if source == target:
        return QgsGeometry(geometry)
    context = (project or QgsProject.instance()).transformContext()
    to_wgs84 = QgsCoordinateTransform(source, WGS84, context)
    try:
        in_wgs84 = QgsGeometry(geometry)
        in_wgs84.transform(to_wgs84)
        valid = target.bounds()  # the target CRS's area of use, in WGS84
        if not valid.isEmpty():
            in_wgs84 = in_wgs84.intersection(QgsGeometry.fromRect(valid))
        if in_wgs84.isEmpty():
            raise InvalidRequestError(QT_TRANSLATE_NOOP(
                "errors", "The area lies outside the region the service's coordinate system covers "
                "({crs}). Draw it again inside the service's extent."), crs=target.authid())
        result = QgsGeometry(in_wgs84)
        result.transform(QgsCoordinateTransform(WGS84, target, context))
    except QgsCsException as exc:
        raise InvalidRequestError(reason=f"the area cannot be transformed to {target.authid()}: {exc}") from exc
    return result


# --- the antimeridian ---------------------------------------------------------------------------
def _polygons(geometry: QgsGeometry) -> list[list[list[QgsPointXY]]]:
    if geometry.isMultipart():
        return [list(polygon) for polygon in geometry.asMultiPolygon()]
    polygon = geometry.asPolygon()
    return [list(polygon)] if polygon else []


def _may_cross(geometry_wgs84: QgsGeometry) -> bool:
    """Vertices beyond ±180° or an edge longer than half the world: the area may cross the antimeridian."""
    for polygon in _polygons(geometry_wgs84):
        for ring in polygon:
            previous = None
            for point in ring:
                if abs(point.x()) > 180:
                    return True
                if previous is not None and abs(point.x() - previous) > 180:
                    return True
                previous = point.x()
    return False


def _unwrap(ring: list[QgsPointXY]) -> list[QgsPointXY] | None:
    """The ring with longitudes made continuous (no jump over 180°); ``None`` for a ring around a pole."""
    out: list[QgsPointXY] = []
    offset = 0.0
    previous = None
    for point in ring:
        x = point.x()
        if previous is not None:
            step = x + offset - previous
            if step > 180:
                offset -= 360 * math.ceil((step - 180) / 360)
            elif step < -180:
                offset += 360 * math.ceil((-step - 180) / 360)
        out.append(QgsPointXY(x + offset, point.y()))
        previous = x + offset
    if out and abs(out[0].x() - out[-1].x()) > 1e-6:
        return None  # the ring goes once around the pole: there is no consistent way to cut it
    return out


def _shift(ring: list[QgsPointXY], dx: float) -> list[QgsPointXY]:
    return [QgsPointXY(p.x() + dx, p.y()) for p in ring] if dx else ring


def split_at_antimeridian(geometry: QgsGeometry, source: QgsCoordinateReferenceSystem,
                          project: QgsProject | None = None) -> QgsGeometry | None:
    """The area in WGS84 cut into pieces within ±180° when it crosses the antimeridian, else ``None``.

    The area's edges are densified in its own CRS, moved to WGS84 and unwrapped (longitudes kept
    continuous along each ring, e.g. 170° → 190° rather than 170° → -170°); the pieces beyond ±180°
    are cut off and shifted back by 360°.  An area that does not cross gives ``None``: callers then
    transform it as it is, so nothing changes for ordinary areas.
    """
    context = (project or QgsProject.instance()).transformContext()
    to_wgs84 = QgsCoordinateTransform(source, WGS84, context)
    try:
        probe = QgsGeometry(geometry)
        probe.transform(to_wgs84)
        if not _may_cross(probe):
            return None
        box = geometry.boundingBox()
        step = max(box.width(), box.height()) / DENSIFY_PARTS
        dense = geometry.densifyByDistance(step) if step > 0 else QgsGeometry(geometry)
        dense.transform(to_wgs84)
    except QgsCsException:
        return None
    polygons = []
    for polygon in _polygons(dense):
        rings = [_unwrap(ring) for ring in polygon if ring]
        if not rings or any(ring is None for ring in rings):
            return None
        anchor = rings[0][0].x()
        # holes next to their shell, the shell's first vertex within [-180°, 180°)
        rings = [rings[0]] + [_shift(ring, 360 * round((anchor - ring[0].x()) / 360)) for ring in rings[1:]]
        shift = -360 * math.floor((anchor + 180) / 360)
        polygons.append([_shift(ring, shift) for ring in rings])
    xs = [p.x() for polygon in polygons for p in polygon[0]]
    if not xs or (min(xs) >= -180 and max(xs) <= 180):
        return None
    unwrapped = QgsGeometry.fromMultiPolygonXY(polygons)
    if not unwrapped.isGeosValid():
        unwrapped = unwrapped.makeValid()
    pieces = []
    for k in range(math.floor((min(xs) + 180) / 360), math.ceil((max(xs) - 180) / 360) + 1):
        window = QgsGeometry.fromRect(QgsRectangle(-180 + 360 * k, -90, 180 + 360 * k, 90))
        piece = unwrapped.intersection(window)
        if piece.isEmpty():
            continue
        piece.translate(-360 * k, 0)
        pieces.append(piece)
    if not pieces:
        return None
    return polygons_only(QgsGeometry.unaryUnion(pieces))


def to_service_geometry(geometry: QgsGeometry, source: QgsCoordinateReferenceSystem,
                        target: QgsCoordinateReferenceSystem, project: QgsProject | None = None) -> QgsGeometry:
    """The area in the service CRS: cut at the antimeridian when needed, clipped to the CRS's valid area.

    Raises :class:`InvalidRequestError` (from :func:`to_service_crs`) when nothing is left.
    """
    if source != target or source.isGeographic():
        cut = split_at_antimeridian(geometry, source, project)
        if cut is not None:
            return to_service_crs(cut, WGS84, target, project)
    return to_service_crs(geometry, source, target, project)

