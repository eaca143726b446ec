"""Local ArcGIS Server emulator for tests, `make serve` and `make demo` (not shipped with the plugin)."""

from .emulator import Emulator

__all__ = ["Emulator"]
