"""The shape of the code that the design promises (no QGIS test fixture needed)."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugin"
CORE = PLUGIN / "core"
FORBIDDEN_IN_CORE = ("qgis", "PyQt4", "PyQt5", "PyQt6", "sip", "processing")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node, ("." * node.level) + (node.module or "")


def test_core_imports_neither_qgis_nor_qt():
    offenders = [
        f"{path.relative_to(REPO)}:{node.lineno} imports {name}"
        for path in sorted(CORE.rglob("*.py"))
        for node, name in _imports(path)
        if name.split(".")[0] in FORBIDDEN_IN_CORE
    ]
    assert not offenders, "plugin/core must stay pure Python:\n" + "\n".join(offenders)


def test_plugin_imports_itself_relatively():
    # QGIS loads the folder as `arcgis_offline_tiles`, a checkout imports it as `plugin`:
    # only relative imports work in both places.
    offenders = [
        f"{path.relative_to(REPO)}:{node.lineno} imports {name}"
        for path in sorted(PLUGIN.rglob("*.py"))
        for node, name in _imports(path)
        if name.split(".")[0] in ("plugin", "arcgis_offline_tiles")
    ]
    assert not offenders, "use relative imports inside plugin/:\n" + "\n".join(offenders)


def test_root_init_holds_only_class_factory():
    tree = ast.parse((REPO / "__init__.py").read_text(encoding="utf-8"))
    statements = [node for node in tree.body
                  if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert [type(node).__name__ for node in statements] == ["FunctionDef"]
    assert statements[0].name == "classFactory"


def test_metadata_is_complete_for_the_plugin_repository():
    import configparser

    meta = configparser.ConfigParser(interpolation=None)
    meta.read(REPO / "metadata.txt", encoding="utf-8")
    general = meta["general"]
    for key in ("name", "qgisMinimumVersion", "qgisMaximumVersion", "description", "about", "version",
                "author", "email", "tracker", "repository", "homepage", "tags", "category", "icon",
                "experimental", "hasProcessingProvider", "changelog"):
        assert general.get(key, "").strip(), f"metadata.txt lacks {key}"
    assert general["name"] == "ArcGIS Offline Tiles"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["qgisMaximumVersion"] == "4.99"
    assert general["hasProcessingProvider"] == "yes"
    # Qt 6 builds of QGIS (3.40/3.44 previews, QGIS 4) refuse plugins without it; `make check-qt6` earns it
    assert general["supportsQt6"] == "yes"
    assert (REPO / general["icon"]).is_file()
