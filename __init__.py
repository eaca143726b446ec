"""QGIS entry point of ArcGIS Offline Tiles."""


def classFactory(iface):
    from .plugin.plugin import ArcGISOfflineTilesPlugin

    return ArcGISOfflineTilesPlugin(iface)
