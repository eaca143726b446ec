"""The dock's panels, one class per group of the form, over the :class:`~.controller.DockController`."""
