"""QGIS enum members spelled the way the running QGIS wants them (QGIS 3.22 to QGIS 4).

QGIS 4 (Qt 6) keeps only scoped enums, and several moved from their class to ``Qgis`` during 3.x
(``QgsWkbTypes.GeometryType`` became ``Qgis.GeometryType`` in 3.30, the Processing and CRS enums
in 3.36). QGIS 3.22 has only the class-scoped spelling, so these take the ``Qgis`` member when it
exists and the 3.22 one otherwise. Enums that QGIS 3.22 already has in their final place
(``Qgis.MessageLevel``) are written out directly in the code.
"""
from __future__ import annotations

import qgis.core


def qgis_enum(modern: str, legacy: str):
    """The member named by the dotted path ``modern`` in ``qgis.core``, else the one named by ``legacy``."""
    for path in (modern, legacy):
        obj = qgis.core
        for name in path.split("."):
            obj = getattr(obj, name, None)
            if obj is None:
                break
        else:
            return obj
    raise AttributeError(f"neither {modern} nor {legacy} exists in this QGIS")


def polygon_geometry():
    return qgis_enum("Qgis.GeometryType.Polygon", "QgsWkbTypes.GeometryType.PolygonGeometry")


def number_type(name: str):
    """``"Integer"`` or ``"Double"``: the type of a ``QgsProcessingParameterNumber``."""
    return qgis_enum(f"Qgis.ProcessingNumberParameterType.{name}", f"QgsProcessingParameterNumber.Type.{name}")


def vector_polygon_source():
    return qgis_enum("Qgis.ProcessingSourceType.VectorPolygon", "QgsProcessing.SourceType.TypeVectorPolygon")


def wkt1_gdal():
    return qgis_enum("Qgis.CrsWktVariant.Wkt1Gdal", "QgsCoordinateReferenceSystem.WktVariant.WKT1_GDAL")
