"""Widgets: the dock, map tools, models."""
