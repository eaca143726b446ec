"""Local ArcGIS Server emulator for tests, `make serve` and `make demo` (not shipped with the plugin)."""
