"""QgsGeometry ↔ the core's :class:`~..core.area.Area` (rings in the service CRS)."""
from __future__ import annotations

from qgis.core import Qgis, QgsGeometry, QgsPointXY, QgsRectangle, QgsWkbTypes

from ..core.area import Area
from ..core.errors import QT_TRANSLATE_NOOP, InvalidRequestError

# QGIS 3.30+ names geometry types in Qgis.GeometryType; 3.22 in QgsWkbTypes.GeometryType (scoped for Qt 6).
POLYGON = Qgis.GeometryType.Polygon if hasattr(Qgis, "GeometryType") else QgsWkbTypes.GeometryType.PolygonGeometry


def polygons_only(geometry: QgsGeometry) -> QgsGeometry:
    """Drop the lines and points an intersection or union may leave next to the polygons."""
    if QgsWkbTypes.geometryType(geometry.wkbType()) == POLYGON:
        return geometry
    converted = geometry.convertToType(POLYGON, True)
    return geometry if converted is None or converted.isNull() else converted


def _part_boxes(geometry: QgsGeometry) -> Area:
    """The bounding box of each part: one rectangle, or several when the extent was cut (antimeridian)."""
    parts = [QgsGeometry(part.clone()) for part in geometry.constParts()] if geometry.isMultipart() else [geometry]
    boxes = [part.boundingBox() for part in parts if not part.isEmpty()]
    if len(boxes) == 1:
        box = boxes[0]
        return Area.from_extent(box.xMinimum(), box.yMinimum(), box.xMaximum(), box.yMaximum())
    return area_from_geometry(QgsGeometry.unaryUnion([QgsGeometry.fromRect(box) for box in boxes]))


def area_from_geometry(geometry: QgsGeometry, as_rectangle: bool = False) -> Area:
    """An area from a (multi)polygon — parts and holes kept — or the bounding box of each part."""
    if geometry is None or geometry.isNull() or geometry.isEmpty():
        raise InvalidRequestError(QT_TRANSLATE_NOOP("errors", "The export area is empty. Draw an area, "
                                                    "choose features or use an extent, then try again."))
    if as_rectangle:
        return _part_boxes(geometry)
    if QgsWkbTypes.geometryType(geometry.wkbType()) != POLYGON:
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
