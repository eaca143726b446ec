"""ArcGIS Offline Tiles: the plugin package (QGIS glue around the pure ``core``)."""
