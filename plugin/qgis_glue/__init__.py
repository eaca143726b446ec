"""QGIS glue without widgets: logging, settings, network session, CRS mapping, layer loading."""
