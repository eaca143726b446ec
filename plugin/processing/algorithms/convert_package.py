"""``arcgisofflinetiles:convertpackage``: one tile package (or several, merged) → GeoPackage or MBTiles."""
from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
)

from ...core.errors import ArcGISOfflineTilesError, CancelledError
from . import PACKAGE_FILTER, PackageAlgorithm, error_message, file_source_type, processing_error

FORMATS = ("gpkg", "mbtiles", "auto")  # the FORMAT enum, in order
SUFFIXES = {"gpkg": ".gpkg", "mbtiles": ".mbtiles"}
AUTOMATIC = 2


class ConvertPackageAlgorithm(PackageAlgorithm):
    INPUT = "INPUT"
    ADDITIONAL_INPUTS = "ADDITIONAL_INPUTS"
    FORMAT = "FORMAT"
    OUTPUT = "OUTPUT"

    def __init__(self) -> None:
        super().__init__()
        self._inputs: list[str] = []
        self._format = AUTOMATIC
        self._output = ""
        self._load_into = None  # the project to add the result to ("Open output file after running")
        self._facts: dict | None = None
        self._written = ""
        self._tiles = 0
        self._results: dict = {}

    def name(self) -> str:
        return "convertpackage"

    def displayName(self) -> str:
        return self.tr("Convert tile package")

    def tags(self) -> list[str]:
        return self.tr("esri,arcgis,vtpk,tpkx,tpk,tile package,convert,merge,geopackage,mbtiles").split(",")

    def shortHelpString(self) -> str:
        return self.tr(
            "Converts an Esri tile package (.vtpk, .tpkx, .tpk, or the conf.xml of a cache folder) into "
            "a GeoPackage or MBTiles file that any QGIS and GDAL version can open. Tiles are copied "
            "as they are, never re-encoded (Esri's signature-less PNGs are repaired).\n\n"
            "<b>Merging</b>: list more packages in <i>Additional packages to merge</i> to join the pieces "
            "of a split export into one file. All packages must share the tiling scheme; where two "
            "packages hold the same tile the first one wins and the duplicates are counted.\n\n"
            "<b>Format</b>: GeoPackage holds raster tiles of any tiling scheme (Web Mercator, geographic, "
            "State Plane…). MBTiles holds Web Mercator tiles only, and is the only choice for vector "
            "tiles. <i>Automatic</i> picks MBTiles for vector packages and GeoPackage for raster "
            "packages. The output file's extension is set to match the format.\n\n"
            "<b>What travels with the tiles</b>: a vector package's MapLibre style, sprites and glyphs "
            "are written beside the MBTiles (<i>name</i>.style/style.json, named in the MBTiles "
            "metadata) for MapLibre-based and field apps, and a QGIS layer definition (<i>name</i>.qlr) "
            "that opens the file with its full style in any QGIS, with or without this plugin. The "
            "package's name, description, levels, tile format and extent go into the output's "
            "metadata.\n\n"
            "<b>Sparse vector packages</b>: Esri stores a vector tile only where it adds detail, and "
            "ArcGIS draws the nearest coarser tile, enlarged, everywhere else. MBTiles cannot say so, so "
            "the conversion writes a stand-in tile in each such place: the coarser tile's features cut "
            "to that place, down to the deepest level stored (identical stand-ins are stored once). "
            "TILE_COUNT counts the package's own tiles; the log gives the number of stand-ins.\n\n"
            "<b>Batch mode and qgis_process</b>: one package per row (INPUT); for a merge give the extra "
            "packages as ADDITIONAL_INPUTS, in qgis_process by repeating the argument: "
            "<code>qgis_process run arcgisofflinetiles:convertpackage --INPUT=a.tpkx "
            "--ADDITIONAL_INPUTS=b.tpkx --ADDITIONAL_INPUTS=c.tpkx --FORMAT=0 --OUTPUT=merged.gpkg</code>."
            "\n\nOutputs: OUTPUT (the file written) and TILE_COUNT (tiles written).")

    def initAlgorithm(self, configuration=None) -> None:
        self.addParameter(QgsProcessingParameterFile(
            self.INPUT, self.tr("Tile package"), QgsProcessingParameterFile.Behavior.File,
            fileFilter=PACKAGE_FILTER))
        self.addParameter(QgsProcessingParameterMultipleLayers(
            self.ADDITIONAL_INPUTS, self.tr("Additional packages to merge"), file_source_type(),
            optional=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.FORMAT, self.tr("Output format"),
            [self.tr("GeoPackage"), self.tr("MBTiles"), self.tr("Automatic")], defaultValue=AUTOMATIC))
        self.addParameter(QgsProcessingParameterFileDestination(
            self.OUTPUT, self.tr("Converted tiles"), self.tr("GeoPackage (*.gpkg);;MBTiles (*.mbtiles)")))
        self.addOutput(QgsProcessingOutputNumber("TILE_COUNT", self.tr("Tiles written")))
        self.addOutput(QgsProcessingOutputNumber("DUPLICATES", self.tr("Duplicate tiles skipped")))
        self.addOutput(QgsProcessingOutputString("FORMAT_USED", self.tr("Format written")))

    def prepareAlgorithm(self, parameters, context, feedback) -> bool:
        first = self.existing_package(self.parameterAsFile(parameters, self.INPUT, context))
        extra = [self.existing_package(path) for path in
                 self.parameterAsFileList(parameters, self.ADDITIONAL_INPUTS, context) if path]
        self._inputs, seen = [], set()
        for path in [first, *extra]:  # a package listed twice is merged once
            key = str(Path(path).resolve())
            if key not in seen:
                seen.add(key)
                self._inputs.append(path)
        self._format = self.parameterAsEnum(parameters, self.FORMAT, context)
        self._output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        if not self._output:
            raise QgsProcessingException(self.tr("No output file was given."))
        value = parameters.get(self.OUTPUT)
        self._load_into = value.destinationProject if isinstance(value, QgsProcessingOutputLayerDefinition) \
            else None
        if self._load_into is None and context.willLoadLayerOnCompletion(self._output):
            self._load_into = context.layerToLoadOnCompletionDetails(self._output).project
        return True

    def processAlgorithm(self, parameters, context, feedback) -> dict:
        from ...core.packages import merge_packages
        from ...qgis_glue.layers import describe_package

        try:
            self._facts = describe_package(self._inputs[0])
        except ArcGISOfflineTilesError as exc:
            raise processing_error(exc) from exc
        fmt = FORMATS[self._format]
        if fmt == "auto":
            fmt = "mbtiles" if self._facts["vector"] else "gpkg"
        target = Path(self._output)
        if target.suffix.lower() != SUFFIXES[fmt]:
            target = target.with_suffix(SUFFIXES[fmt]) if target.suffix.lower() in (".gpkg", ".mbtiles") \
                else target.with_name(target.name + SUFFIXES[fmt])
            feedback.pushInfo(self.tr("Writing {format} needs the {suffix} extension: the output is {path}")
                              .format(format=fmt, suffix=SUFFIXES[fmt], path=target))
        if len(self._inputs) > 1:
            feedback.pushInfo(self.tr("Merging {n} packages into {path}").format(n=len(self._inputs), path=target))
        else:
            feedback.pushInfo(self.tr("Converting {src} into {path}").format(src=self._inputs[0], path=target))

        def progress(done: int, total: int) -> bool:
            if total:
                feedback.setProgress(100.0 * done / total)
            return not feedback.isCanceled()

        try:
            report = merge_packages(self._inputs, target, fmt, progress=progress,
                                    crs_wkt=(self._facts["crs_wkt"] or None) if fmt == "gpkg" else None)
        except CancelledError as exc:
            raise QgsProcessingException(self.tr("The conversion was cancelled; no file was written.")) from exc
        except ArcGISOfflineTilesError as exc:
            raise processing_error(exc) from exc
        for warning in report.warnings:
            feedback.pushWarning(warning)
        for level, count in sorted(report.per_level.items()):
            feedback.pushInfo(self.tr("Level {level}: {count} tiles").format(level=level, count=count))
        feedback.pushInfo(self.tr("{tiles} tiles written ({duplicates} duplicates skipped) in {seconds:.1f} s")
                          .format(tiles=report.tiles_written, duplicates=report.duplicates, seconds=report.seconds))
        if report.stand_ins:
            feedback.pushInfo(self.tr("{count} stand-in tiles written where the package draws a coarser tile "
                                      "enlarged ({seconds:.1f} s)").format(count=report.stand_ins,
                                                                            seconds=report.stand_in_seconds))
        self._written, self._tiles = str(target), report.tiles_written
        self._results = {self.OUTPUT: str(target), "TILE_COUNT": report.tiles_written,
                         "DUPLICATES": report.duplicates, "FORMAT_USED": fmt}
        return self._results

    def postProcessAlgorithm(self, context, feedback) -> dict:
        from ...qgis_glue.layers import converted_source, create_layer

        """Main thread: when asked to open the output, add it styled like an opened package."""
        if self._load_into is None or not self._written or self._facts is None:
            return {}
        try:
            layer = create_layer(converted_source(self._facts, self._written, tile_count=self._tiles))
        except ArcGISOfflineTilesError as exc:
            feedback.reportError(error_message(exc))
            return {}
        # Processing loads what the context lists: hand it our styled layer instead of the file path.
        pending = context.layersToLoadOnCompletion()
        pending.pop(self._output, None)
        context.temporaryLayerStore().addMapLayer(layer)
        details = QgsProcessingContext.LayerDetails(layer.name(), self._load_into, self.OUTPUT)
        details.forceName = True  # the package title, not the file name Processing would prefer
        pending[layer.id()] = details
        context.setLayersToLoadOnCompletion(pending)
        return self._results  # a non-empty map replaces processAlgorithm's results: give them all
