"""QGIS entry point of ArcGIS Offline Tiles."""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    from .plugin.plugin import ArcGISOfflineTilesPlugin

    return ArcGISOfflineTilesPlugin(iface)
