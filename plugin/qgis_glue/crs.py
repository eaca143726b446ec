"""CRS mapping between Esri spatial references and QGIS, and areas moved into a service's CRS."""
from __future__ import annotations

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCsException,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
)

from ..core.errors import QT_TRANSLATE_NOOP, InvalidRequestError
from ..core.tiling import SpatialRef


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


def to_service_crs(geometry: QgsGeometry, source: QgsCoordinateReferenceSystem,
                   target: QgsCoordinateReferenceSystem, project: QgsProject | None = None) -> QgsGeometry:
    """Transform an area into the service CRS, clipped to the target CRS's valid area.

    Parts outside the valid area (e.g. the poles in Web Mercator) are cut off; an area with
    nothing left is refused with a message that says so.
    """
    if source == target:
        return QgsGeometry(geometry)
    context = (project or QgsProject.instance()).transformContext()
    to_wgs84 = QgsCoordinateTransform(source, QgsCoordinateReferenceSystem("EPSG:4326"), context)
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
        wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
        result.transform(QgsCoordinateTransform(wgs84, target, context))
    except QgsCsException as exc:
        raise InvalidRequestError(reason=f"the area cannot be transformed to {target.authid()}: {exc}") from exc
    return result


def rect_to_service_crs(rect: QgsRectangle, source, target, project=None) -> QgsGeometry:
    return to_service_crs(QgsGeometry.fromRect(rect), source, target, project)
