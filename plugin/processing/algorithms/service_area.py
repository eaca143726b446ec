"""Parameters shared by ``exporttiles`` and ``estimatetiles``: service, sign-in, area and levels.

The parameter names are a contract (scripts and the README use them).
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NamedTuple

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsGeometry,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsUnitTypes,
)
from qgis.PyQt.QtCore import QCoreApplication

# The engine (requests, the REST client) and the area glue are imported when an algorithm runs: the
# provider registers its algorithms at QGIS start-up without them.
from ...core.errors import ArcGISOfflineTilesError
from ...qgis_glue.enums import number_type, vector_polygon_source
from ...qgis_glue.i18n import error_message

if TYPE_CHECKING:
    from ...core.area import Area

LOG = logging.getLogger(__name__)

SERVICE_URL = "SERVICE_URL"
AUTHCFG = "AUTHCFG"
EXTENT = "EXTENT"
AREA = "AREA"
LEVELS = "LEVELS"
MIN_SCALE = "MIN_SCALE"
MAX_SCALE = "MAX_SCALE"
COARSEST_RESOLUTION = "COARSEST_RESOLUTION"
FINEST_RESOLUTION = "FINEST_RESOLUTION"


class ServiceArea(NamedTuple):  # not a dataclass: making one costs ~0.4 ms of every QGIS start
    service: object  # ServiceInfo
    area: Area
    levels: list[int]
    area_label: str


class ServiceAreaAlgorithm(QgsProcessingAlgorithm):
    """Base of the algorithms that talk to one ArcGIS service about one area and a set of levels."""

    def tr(self, text: str) -> str:
        return QCoreApplication.translate(type(self).__name__, text)

    def group(self) -> str:
        return self.tr("ArcGIS export")

    def groupId(self) -> str:
        return "arcgisexport"

    def add_service_area_parameters(self) -> None:
        self.addParameter(QgsProcessingParameterString(
            SERVICE_URL, self.tr("ArcGIS tiled service URL (MapServer, ImageServer or VectorTileServer)")))
        self.addParameter(QgsProcessingParameterAuthConfig(
            AUTHCFG, self.tr("Authentication configuration"), optional=True))
        self.addParameter(QgsProcessingParameterExtent(
            EXTENT, self.tr("Export extent (default: the service's full extent)"), optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource(
            AREA, self.tr("Export area polygons (supersede the extent)"),
            [vector_polygon_source()], optional=True))
        self.addParameter(QgsProcessingParameterString(
            LEVELS, self.tr("Levels, e.g. 0-5,7 (default: from the scales, else every level)"), optional=True))
        for name, label in ((MIN_SCALE, self.tr("Smallest scale (coarsest), e.g. 5000000")),
                            (MAX_SCALE, self.tr("Largest scale (finest), e.g. 10000"))):
            self.addParameter(QgsProcessingParameterNumber(
                name, label, number_type("Double"), optional=True, minValue=0))
        # ground resolution in the service CRS's units per pixel (metres for Web Mercator): how imagery
        # users think ("down to 0.5 m"); mapped to levels by the same rule as scales
        for name, label in ((COARSEST_RESOLUTION, self.tr("Coarsest resolution (service CRS units per pixel), "
                                                          "e.g. 1000")),
                            (FINEST_RESOLUTION, self.tr("Finest resolution (service CRS units per pixel), "
                                                        "e.g. 0.5"))):
            self.addParameter(QgsProcessingParameterNumber(
                name, label, number_type("Double"), optional=True, minValue=0))

    # --- reading ---------------------------------------------------------------------------
    def prepare_engine(self, parameters, context, *, with_store: bool = False) -> None:
        """Read QGIS settings and the auth config on the thread that prepares the algorithm;
        ``with_store``: the export keeps its records in the profile's export store, as the dock's do."""
        from ...core.http import CancelToken
        from ...qgis_glue import engine

        self.url = self.parameterAsString(parameters, SERVICE_URL, context).strip()
        if not self.url:
            raise QgsProcessingException(self.tr("Give the URL of an ArcGIS tiled service."))
        self.authcfg = self.parameterAsString(parameters, AUTHCFG, context) or ""
        self.config = engine.engine_config(self.authcfg, with_store=with_store)
        self.cancel = CancelToken()

    def connect_cancel(self, feedback) -> None:
        if feedback is not None:
            feedback.canceled.connect(self.cancel.cancel)

    def progress_callback(self, feedback, share: float = 1.0):
        """The engine's progress on ``feedback`` (within ``share`` of the bar); a cancel there reaches
        the server job's cancel token even when the ``canceled`` signal cannot be delivered."""
        def progress(p) -> None:
            if feedback.isCanceled():
                self.cancel.cancel()
            if p.fraction is not None:
                feedback.setProgress(100.0 * share * p.fraction)
            if p.message:
                feedback.setProgressText(p.message)

        return progress

    def read_service_area(self, parameters, context, feedback, exporter) -> ServiceArea:
        try:
            service = exporter.fetch(self.url, cancel=self.cancel)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(error_message(exc)) from exc
        feedback.pushInfo(self.tr("Service: {name} ({kind}, {crs}, levels {first}–{last})").format(
            name=service.name, kind=service.kind.value, crs=service.authid or "WKT",
            first=service.available_levels[0], last=service.available_levels[-1]))
        try:
            area, label = self._area(parameters, context, feedback, service)
            levels = self._levels(parameters, context, service, feedback)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(error_message(exc)) from exc
        return ServiceArea(service, area, levels, label)

    def _area(self, parameters, context, feedback, service) -> tuple[Area, str]:
        from ...core.area import Area
        from ...qgis_glue import crs as crs_glue
        from ...qgis_glue.areas import area_from_geometry

        target = crs_glue.qgs_crs(service.spatial_ref)
        value = parameters.get(AREA)
        source = self.parameterAsSource(parameters, AREA, context) if value else None
        if source is not None:
            geometries = [f.geometry() for f in source.getFeatures(QgsFeatureRequest().setNoAttributes())
                          if f.hasGeometry()]
            if not geometries and isinstance(value, QgsProcessingFeatureSourceDefinition) \
                    and value.selectedFeaturesOnly:
                raise QgsProcessingException(self.tr(
                    "No feature of the area layer is selected: select the polygons to export, or untick "
                    "“Selected features only”."))
            if not geometries:
                raise QgsProcessingException(self.tr(
                    "The area layer has no polygon: choose a layer with polygons, or give an extent."))
            union = QgsGeometry.unaryUnion(geometries)
            moved = crs_glue.to_service_geometry(union, source.sourceCrs(), target, context.project())
            return area_from_geometry(moved), self.tr("{n} polygon feature(s)").format(n=len(geometries))
        if parameters.get(EXTENT):
            rect = self.parameterAsExtent(parameters, EXTENT, context)
            rect_crs = self.parameterAsExtentCrs(parameters, EXTENT, context)
            if not rect_crs.isValid():
                rect_crs = context.project().crs() if context.project() else target
            moved = crs_glue.to_service_geometry(QgsGeometry.fromRect(rect), rect_crs, target, context.project())
            # the extent's box in the service CRS (a box per strip when it was cut at the antimeridian)
            return area_from_geometry(moved, as_rectangle=True), self.tr("extent")
        extent = service.full_extent or service.initial_extent
        if extent is None:
            raise QgsProcessingException(self.tr("The service has no full extent: give an extent or an area."))
        feedback.pushInfo(self.tr("No extent or area given: using the service's full extent."))
        return Area.from_extent(extent.xmin, extent.ymin, extent.xmax, extent.ymax), self.tr("full extent")

    def _levels(self, parameters, context, service, feedback=None) -> list[int]:
        from ...core.levels import (
            format_levels,
            levels_between_scales,
            levels_by_resolution,
            parse_levels,
            validate_levels,
        )

        text = self.parameterAsString(parameters, LEVELS, context).strip()
        if text:
            return validate_levels(service, parse_levels(text))
        scales = self._bounds(parameters, context, MIN_SCALE, MAX_SCALE)
        resolutions = self._bounds(parameters, context, COARSEST_RESOLUTION, FINEST_RESOLUTION)
        if scales and resolutions:
            raise QgsProcessingException(self.tr(
                "Give the levels by scale (MIN_SCALE/MAX_SCALE) or by resolution "
                "(COARSEST_RESOLUTION/FINEST_RESOLUTION), not both."))
        if scales:
            return validate_levels(service, levels_between_scales(service.available_lods, *scales))
        if resolutions:
            levels = validate_levels(service, levels_by_resolution(service.available_lods, *resolutions))
            if feedback is not None:
                by_level = {lod.level: lod.resolution for lod in service.available_lods}
                unit = units_of(service)
                feedback.pushInfo(self.tr("Levels {levels} by resolution: {coarse:.6g} to {fine:.6g} {unit} "
                                          "per pixel.").format(levels=format_levels(levels),
                                                               coarse=by_level[levels[0]],
                                                               fine=by_level[levels[-1]], unit=unit))
            return levels
        return list(service.available_levels)

    def _bounds(self, parameters, context, coarse: str, fine: str) -> tuple | None:
        """The (coarse, fine) pair of two optional number parameters (None where not given), or None."""
        given = [parameters.get(name) not in (None, "") for name in (coarse, fine)]
        if not any(given):
            return None
        return tuple(self.parameterAsDouble(parameters, name, context) if on else None
                     for name, on in zip((coarse, fine), given))


def units_of(service) -> str:
    """The abbreviated map unit of the service CRS ("m", "°", "ft"…), as QGIS writes it."""
    from ...qgis_glue import crs as crs_glue

    return QgsUnitTypes.toAbbreviatedString(crs_glue.qgs_crs(service.spatial_ref).mapUnits())


def crs_of(service) -> QgsCoordinateReferenceSystem:
    from ...qgis_glue import crs as crs_glue

    return crs_glue.qgs_crs(service.spatial_ref)
