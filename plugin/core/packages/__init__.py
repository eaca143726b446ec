"""Readers, converters and merge for Esri tile packages (pure Python)."""
