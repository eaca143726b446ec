"""QgsGeometry ↔ the core's :class:`~..core.area.Area` (rings in the service CRS)."""
from __future__ import annotations

from qgis.core import QgsGeometry, QgsPointXY, QgsRectangle, QgsWkbTypes

from ..core.area import Area
from ..core.errors import QT_TRANSLATE_NOOP, InvalidRequestError


def area_from_geometry(geometry: QgsGeometry, as_rectangle: bool = False) -> Area:
    """An area from a (multi)polygon — parts and holes kept — or its bounding box."""
    if geometry is None or geometry.isNull() or geometry.isEmpty():
        raise InvalidRequestError(QT_TRANSLATE_NOOP("errors", "The export area is empty. Draw an area, "
                                                    "choose features or use an extent, then try again."))
    if as_rectangle:
        box = geometry.boundingBox()
        return Area.from_extent(box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum())
    if QgsWkbTypes.geometryType(geometry.wkbType()) != QgsWkbTypes.PolygonGeometry:
        raise InvalidRequestError(reason="the area must be a polygon or an extent")
    geometry = QgsGeometry(geometry)
    if not geometry.isGeosValid():
        geometry = geometry.makeValid()
    polygons = geometry.asMultiPolygon() if geometry.isMultipart() else [geometry.asPolygon()]
    return Area.from_polygons([[(p.x(), p.y()) for p in ring] for ring in polygon] for polygon in polygons)


def geometry_from_area(area: Area) -> QgsGeometry:
    if area.is_rectangle:
        return QgsGeometry.fromRect(QgsRectangle(*area.bbox))
    # Even-odd rings → symmetric difference of every ring, which QGIS gives as proper parts and holes.
    result = None
    for ring in area.rings:
        points = [QgsPointXY(x, y) for x, y in ring]
        part = QgsGeometry.fromPolygonXY([points])
        result = part if result is None else result.symDifference(part)
    return result if result is not None else QgsGeometry()
