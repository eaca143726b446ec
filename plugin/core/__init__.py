"""The pure core: no ``qgis`` or ``PyQt`` import may appear anywhere below this package.

It holds the REST client, the tiling math and the package readers/converters, so that the dock,
the Processing algorithms, the tasks and the tests all drive the same code.
"""
