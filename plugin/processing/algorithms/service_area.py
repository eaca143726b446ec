"""Parameters shared by ``exporttiles`` and ``estimatetiles``: service, sign-in, area and levels.

The parameter names are a contract (scripts and the README use them).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingParameterAuthConfig,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)
from qgis.PyQt.QtCore import QCoreApplication

from ...core.area import Area
from ...core.errors import ArcGISOfflineTilesError
from ...core.http import CancelToken
from ...core.levels import levels_between_scales, parse_levels, validate_levels
from ...qgis_glue import crs as crs_glue
from ...qgis_glue import engine
from ...qgis_glue.areas import area_from_geometry

LOG = logging.getLogger(__name__)

SERVICE_URL = "SERVICE_URL"
AUTHCFG = "AUTHCFG"
EXTENT = "EXTENT"
AREA = "AREA"
LEVELS = "LEVELS"
MIN_SCALE = "MIN_SCALE"
MAX_SCALE = "MAX_SCALE"


def user_message(error: ArcGISOfflineTilesError) -> str:
    """The error's message, translated when a translation is installed."""
    try:
        text = QCoreApplication.translate("errors", error.template).format(**error.params)
    except (KeyError, IndexError, ValueError):
        text = error.user_message
    return text


@dataclass
class ServiceArea:
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
            [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterString(
            LEVELS, self.tr("Levels, e.g. 0-5,7 (default: from the scales, else every level)"), optional=True))
        for name, label in ((MIN_SCALE, self.tr("Smallest scale (coarsest), e.g. 5000000")),
                            (MAX_SCALE, self.tr("Largest scale (finest), e.g. 10000"))):
            self.addParameter(QgsProcessingParameterNumber(
                name, label, QgsProcessingParameterNumber.Double, optional=True, minValue=0))

    # --- reading ---------------------------------------------------------------------------
    def prepare_engine(self, parameters, context) -> None:
        """Read QGIS settings and the auth config on the thread that prepares the algorithm."""
        self.url = self.parameterAsString(parameters, SERVICE_URL, context).strip()
        if not self.url:
            raise QgsProcessingException(self.tr("Give the URL of an ArcGIS tiled service."))
        self.authcfg = self.parameterAsString(parameters, AUTHCFG, context) or ""
        self.config = engine.engine_config(self.authcfg, with_store=False)
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
            raise QgsProcessingException(user_message(exc)) from exc
        feedback.pushInfo(self.tr("Service: {name} ({kind}, {crs}, levels {first}–{last})").format(
            name=service.name, kind=service.kind.value, crs=service.authid or "WKT",
            first=service.available_levels[0], last=service.available_levels[-1]))
        try:
            area, label = self._area(parameters, context, feedback, service)
            levels = self._levels(parameters, context, service)
        except ArcGISOfflineTilesError as exc:
            raise QgsProcessingException(user_message(exc)) from exc
        return ServiceArea(service, area, levels, label)

    def _area(self, parameters, context, feedback, service) -> tuple[Area, str]:
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

    def _levels(self, parameters, context, service) -> list[int]:
        text = self.parameterAsString(parameters, LEVELS, context).strip()
        if text:
            return validate_levels(service, parse_levels(text))
        min_scale = parameters.get(MIN_SCALE)
        max_scale = parameters.get(MAX_SCALE)
        if min_scale not in (None, "") or max_scale not in (None, ""):
            lods = service.available_lods
            low = self.parameterAsDouble(parameters, MIN_SCALE, context) if min_scale not in (None, "") else None
            high = self.parameterAsDouble(parameters, MAX_SCALE, context) if max_scale not in (None, "") else None
            return validate_levels(service, levels_between_scales(lods, low, high))
        return list(service.available_levels)


def crs_of(service) -> QgsCoordinateReferenceSystem:
    return crs_glue.qgs_crs(service.spatial_ref)
