"""Qt 6 readiness check (`make check-qt6`): what can be checked for QGIS 4 before QGIS 4 installs.

Three passes, each reporting ``file:line: message`` for every problem:

1. static (any Python, no Qt needed): attribute chains rooted at a name imported from
   ``qgis.PyQt.*`` (or ``PyQt5.*``) are collected from the sources with :mod:`ast`, together with
   spellings PyQt6 dropped whatever the receiver (``exec_()``, ``print_()``), classes Qt 6 removed
   (``QRegExp``...) and direct ``PyQt5``/``PyQt6`` imports (only ``qgis.PyQt`` maps modules the
   way QGIS 4 does, e.g. ``QAction`` from ``qgis.PyQt.QtWidgets``).
2. ``--pyqt6`` (in a virtual environment with PyQt6 from PyPI): every collected chain is resolved
   with ``getattr`` against the PyQt6 modules, every ``pyqtSignal(...)`` declaration is built in a
   probe ``QObject`` subclass, and every ``.ui`` file is loaded with ``PyQt6.uic.loadUiType`` and
   set up on a widget. A Qt 5 spelling such as ``Qt.AlignLeft`` or ``QSizePolicy.Expanding`` does
   not exist in PyQt6 (only ``Qt.AlignmentFlag.AlignLeft``), so it fails here.
3. ``--qgis-enums`` (in a QGIS 3 environment: the host's, and each QGIS leg through the unit
   test): chains rooted at a name imported from ``qgis.core``/``qgis.gui``/``qgis.analysis`` that
   reach an enum member through a class other than the member's enum (``Qgis.Info``,
   ``QgsWkbTypes.PolygonGeometry``) are reported with the scoped spelling, since QGIS 4 drops the
   unscoped ones; so are chains that do not exist in the running QGIS at all (an enum that moved
   to ``Qgis``), unless they sit in a version fallback (``try``/``except AttributeError``, or an ``if`` on
   ``hasattr``/``getattr``/``Qgis.QGIS_VERSION_INT``).

Usage: ``python scripts/qt6_check.py [--pyqt6] [--qgis-enums] [paths...]`` (default: the plugin,
its tests, the emulator and the benchmarks). Exit status 1 when anything is reported.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import os
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCES = ("__init__.py", "plugin", "tests", "arcgis_emulator", "bench")
SKIP_DIRS = {".venv", "build", "dist", "__pycache__", ".git", "screenshots"}

QGIS_PYQT = "qgis.PyQt"
QT_PACKAGES = (QGIS_PYQT, "PyQt5", "PyQt6")
QGIS_PACKAGES = ("qgis.core", "qgis.gui", "qgis.analysis")
# qgis.PyQt.QtWidgets on Qt 6 also exports the classes Qt 6 moved from QtWidgets to QtGui
# (QGIS's python/PyQt6/PyQt/QtWidgets.py), so plugins keep one import on both.
QGIS_WIDGETS_FROM_QTGUI = frozenset({"QAction", "QActionGroup", "QShortcut"})
# Method names PyQt6 dropped: wrong whatever object they are called on.
DROPPED_METHODS = {"exec_": "exec()", "print_": "print()"}
# Classes Qt 6 removed, and what replaces them.
REMOVED_CLASSES = {
    "QRegExp": "QRegularExpression",
    "QRegExpValidator": "QRegularExpressionValidator",
    "QDesktopWidget": "QGuiApplication.screens()",
    "QTextCodec": "bytes.decode()/str.encode()",
    "QLinkedList": "a Python list",
}
# Types a pyqtSignal argument may name that are plain Python.
SIGNAL_BUILTINS = ("int", "float", "str", "bool", "bytes", "object", "list", "dict", "tuple")


@dataclass(frozen=True)
class Use:
    """A chain of names rooted at an imported Qt (or QGIS) name, as written in the source."""

    path: str
    line: int
    package: str           # "qgis.PyQt", "PyQt5", "qgis.core", ...
    module: str            # "QtCore" (for QGIS packages: "")
    chain: tuple[str, ...]  # ("Qt", "AlignLeft"): the imported name first
    guarded: bool = False   # inside a try whose handler catches AttributeError (a version fallback)

    @property
    def spelled(self) -> str:
        return ".".join(self.chain)


@dataclass(frozen=True)
class Signal:
    path: str
    line: int
    node: ast.Call


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Scan:
    uses: list[Use]
    signals: list[Signal]
    findings: list[Finding]
    bindings: dict[str, tuple[str, str, str | None]]


def _split(module: str) -> tuple[str, str] | None:
    """``("qgis.PyQt", "QtCore")`` for ``qgis.PyQt.QtCore``; ``(package, "")`` for a package itself."""
    for package in (*QT_PACKAGES, *QGIS_PACKAGES):
        if module == package:
            return package, ""
        if module.startswith(package + "."):
            return package, module[len(package) + 1:]
    return None


def scan_source(source: str, path: str) -> Scan:
    """The static pass over one file: Qt/QGIS uses, signal declarations and static findings."""
    tree = ast.parse(source, filename=path)
    nodes: list[ast.AST] = [tree]   # every node, parents before children (one walk: big test files)
    parents: dict[ast.AST, ast.AST] = {}
    for node in nodes:
        for child in ast.iter_child_nodes(node):
            parents[child] = node
            nodes.append(child)
    # local name -> (package, module, imported name or None for a module)
    bindings: dict[str, tuple[str, str, str | None]] = {}
    findings: list[Finding] = []
    uses: list[Use] = []
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            split = _split(node.module)
            if split is None:
                continue
            package, module = split
            if package in ("PyQt5", "PyQt6"):
                findings.append(Finding(path, node.lineno, f"imports {node.module}: import Qt through "
                                        f"qgis.PyQt (QGIS maps it to PyQt5 or PyQt6)"))
            for alias in node.names:
                if alias.name == "*":
                    findings.append(Finding(path, node.lineno, f"'from {node.module} import *' hides what is used"))
                    continue
                local = alias.asname or alias.name
                if package in QGIS_PACKAGES:
                    bindings[local] = (package, module, alias.name)
                elif module:
                    bindings[local] = (package, module, alias.name)
                    uses.append(Use(path, node.lineno, package, module, (alias.name,)))
                else:  # from qgis.PyQt import QtCore / uic / sip
                    bindings[local] = (package, alias.name, None)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                split = _split(alias.name)
                if split is None:
                    continue
                package, module = split
                if package in ("PyQt5", "PyQt6"):
                    findings.append(Finding(path, node.lineno, f"imports {alias.name}: import Qt through qgis.PyQt"))
                if alias.asname and module and package in QT_PACKAGES:
                    bindings[alias.asname] = (package, module, None)


    def guarded(node: ast.AST) -> bool:
        """In a version fallback: a try/except AttributeError, or an if on hasattr/getattr/the version."""
        child, parent = node, parents.get(node)
        while parent is not None:
            if isinstance(parent, ast.Try) and (child in parent.body or child in parent.handlers) and any(
                    _catches_attribute_error(handler) for handler in parent.handlers):
                return True
            if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test and _probes_version(parent.test):
                return True
            child, parent = parent, parents.get(parent)
        return False

    signals: list[Signal] = []
    for node in nodes:
        if isinstance(node, ast.Attribute):
            if node.attr in DROPPED_METHODS:
                findings.append(Finding(path, node.lineno, f".{node.attr} does not exist in PyQt6: use "
                                        f".{DROPPED_METHODS[node.attr]}"))
            if isinstance(parents.get(node), ast.Attribute):
                continue  # not the whole chain
            chain: list[str] = []
            base: ast.AST = node
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in bindings:
                package, module, name = bindings[base.id]
                names = ((name,) if name else ()) + tuple(reversed(chain))
                uses.append(Use(path, node.lineno, package, module, names, guarded(node)))
        elif isinstance(node, ast.Name) and node.id in REMOVED_CLASSES and node.id in bindings:
            findings.append(Finding(path, node.lineno, f"{node.id} was removed in Qt 6: use "
                                    f"{REMOVED_CLASSES[node.id]}"))
        elif isinstance(node, ast.Call):
            func = node.func
            by_name = isinstance(func, ast.Name) and bindings.get(func.id, ("", "", None))[2] == "pyqtSignal"
            by_module = (isinstance(func, ast.Attribute) and func.attr == "pyqtSignal"
                         and isinstance(func.value, ast.Name) and func.value.id in bindings)
            if by_name or by_module:
                signals.append(Signal(path, node.lineno, node))
    for use in uses:  # a removed class imported by name (already reported where it is used)
        if len(use.chain) == 1 and use.chain[0] in REMOVED_CLASSES \
                and not any(f.message.startswith(use.chain[0]) for f in findings):
            findings.append(Finding(use.path, use.line, f"{use.chain[0]} was removed in Qt 6: use "
                                    f"{REMOVED_CLASSES[use.chain[0]]}"))
    return Scan(uses, signals, findings, bindings)


def _catches_attribute_error(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(n is None or (isinstance(n, ast.Name) and n.id in ("AttributeError", "Exception", "BaseException"))
               for n in names)


def _probes_version(test: ast.AST) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("hasattr", "getattr"):
            return True
        if isinstance(node, ast.Attribute) and node.attr == "QGIS_VERSION_INT":
            return True
    return False


def python_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in sorted(path.rglob("*.py")) if not SKIP_DIRS.intersection(p.parts))
    return files


def ui_files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*.ui")) if not SKIP_DIRS.intersection(p.relative_to(root).parts)]


# ---------------------------------------------------------------------------------------------
# Pass 2: resolution against PyQt6 (imports PyQt6 only when called)
# ---------------------------------------------------------------------------------------------
_MISSING = object()


def _pyqt6_module(module: str):
    import importlib

    try:
        return importlib.import_module(f"PyQt6.{module}")
    except ImportError:
        return None


def resolve_pyqt6(use: Use) -> str | None:
    """None when ``use`` exists in PyQt6 as written, else what is wrong."""
    if use.package not in QT_PACKAGES:
        return None
    top = _pyqt6_module(use.module)
    if top is None:
        return f"{use.package}.{use.module} has no PyQt6 counterpart"
    obj = top
    for index, name in enumerate(use.chain):
        nxt = getattr(obj, name, _MISSING)
        if nxt is _MISSING and index == 0 and use.module == "QtWidgets" and name in QGIS_WIDGETS_FROM_QTGUI:
            if use.package == QGIS_PYQT:
                nxt = getattr(_pyqt6_module("QtGui"), name, _MISSING)
            else:
                return f"{name} moved to QtGui in Qt 6: import it from qgis.PyQt.QtWidgets (QGIS maps it)"
        if nxt is _MISSING:
            where = ".".join(use.chain[:index]) or f"PyQt6.{use.module}"
            hint = _scoped_hint(obj, name) if index else None
            return (f"{use.spelled}: PyQt6 has no {name!r} in {where}"
                    + (f" (scoped: {'.'.join(use.chain[:index])}.{hint})" if hint else ""))
        obj = nxt
    return None


def _scoped_hint(owner, name: str) -> str | None:
    """``AlignmentFlag.AlignLeft`` when ``name`` is a member of one of ``owner``'s enums."""
    import enum

    for attr in dir(owner):
        candidate = getattr(owner, attr, None)
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum) and name in candidate.__members__:
            return f"{attr}.{name}"
    return None


def _signal_value(node: ast.AST, bindings, path: str):
    """The Python value of a pyqtSignal argument; project types (unknown here) become ``object``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_signal_value(item, bindings, path) for item in node.elts]
    if isinstance(node, ast.Name) and node.id in SIGNAL_BUILTINS:
        return getattr(builtins, node.id)
    chain: list[str] = []
    base = node
    while isinstance(base, ast.Attribute):
        chain.append(base.attr)
        base = base.value
    if isinstance(base, ast.Name) and base.id in bindings and bindings[base.id][0] in QT_PACKAGES:
        package, module, name = bindings[base.id]
        use = Use(path, getattr(node, "lineno", 0), package, module, ((name,) if name else ()) + tuple(reversed(chain)))
        if resolve_pyqt6(use) is None:
            obj = _pyqt6_module(module)
            for part in use.chain:
                obj = getattr(obj, part, None)
                if obj is None and part in QGIS_WIDGETS_FROM_QTGUI:
                    obj = getattr(_pyqt6_module("QtGui"), part)
            return obj
    return object


def check_signal(signal: Signal, bindings) -> str | None:
    """Declare the signal as PyQt6 would, on a probe QObject class; None when that works."""
    from PyQt6.QtCore import QObject, pyqtSignal

    call = signal.node
    try:
        args = [_signal_value(arg, bindings, signal.path) for arg in call.args]
        kwargs = {kw.arg: _signal_value(kw.value, bindings, signal.path) for kw in call.keywords if kw.arg}
        probe = type("Probe", (QObject,), {"probe": pyqtSignal(*args, **kwargs)})
        instance = probe()
        instance.probe.connect(lambda *_: None)
        instance.deleteLater()
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"pyqtSignal({', '.join(ast.unparse(a) for a in call.args)}) fails on PyQt6: {exc}"
    return None


def _stub_qgis_gui(ui_path: Path) -> None:
    """A ``qgis.gui`` whose widgets are stand-ins of their Qt base class (no QGIS 4 to import).

    Only the Qt side of a form is checked: its QGIS widgets accept any ``setX`` property.
    """
    import types

    from PyQt6 import QtWidgets

    module = sys.modules.get("qgis.gui") or types.ModuleType("qgis.gui")
    sys.modules.setdefault("qgis", types.ModuleType("qgis"))
    sys.modules["qgis.gui"] = module
    for custom in ET.parse(ui_path).getroot().iter("customwidget"):
        name = custom.findtext("class")
        if custom.findtext("header") != "qgis.gui" or hasattr(module, name):
            continue
        base = getattr(QtWidgets, custom.findtext("extends") or "QWidget", QtWidgets.QWidget)

        def _any_setter(self, attr):
            if attr.startswith("set"):
                return lambda *args, **kwargs: None
            raise AttributeError(attr)

        setattr(module, name, type(name, (base,), {"__getattr__": _any_setter}))


def check_ui(path: Path) -> str | None:
    from PyQt6 import uic
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])  # noqa: F841 - widgets need one
    _stub_qgis_gui(path)
    try:
        form_class, base_class = uic.loadUiType(str(path))
        widget = base_class()
        form_class().setupUi(widget)
        widget.deleteLater()
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"PyQt6.uic cannot load it: {type(exc).__name__}: {exc}"
    return None


# ---------------------------------------------------------------------------------------------
# Pass 3: QGIS enums through their scope (in a QGIS 3 environment)
# ---------------------------------------------------------------------------------------------
def _is_class_like(obj) -> bool:
    """A module, class or enum: where a missing attribute is a missing name, not instance state."""
    import types

    return isinstance(obj, (type, types.ModuleType))


def _is_enum_member(value) -> bool:
    """A Python enum member, or a member of a sip enum (whose type's metaclass is sip.enumtype)."""
    import enum

    if isinstance(value, enum.Enum):
        return True
    meta = type(type(value))
    return meta.__name__ == "enumtype" and meta.__module__ in ("sip", "PyQt5.sip")


def check_qgis_enum(use: Use) -> str | None:
    """None unless ``use`` reaches an enum member through something other than its enum, or names
    something the running QGIS does not have (outside a try/except AttributeError fallback)."""
    import importlib

    if use.package not in QGIS_PACKAGES or len(use.chain) < 2:
        return None
    obj = importlib.import_module(use.package)
    owner = None
    for name in use.chain:
        owner, obj = obj, getattr(obj, name, _MISSING)
        if obj is _MISSING:
            if use.guarded or not _is_class_like(owner):
                return None
            from qgis.core import Qgis

            return f"{use.spelled}: QGIS {Qgis.QGIS_VERSION.split('-')[0]} has no {name!r} there"
        if _is_enum_member(obj) and owner is not type(obj):
            enum_type = type(obj)
            scoped = f"{enum_type.__qualname__}.{name}" if enum_type.__qualname__ else name
            return (f"{use.spelled}: unscoped QGIS enum (QGIS 4 drops it): spell it {scoped}, or its "
                    f"Qgis.* successor through plugin/qgis_glue/enums.py where it moved after 3.22")
    return None


# ---------------------------------------------------------------------------------------------
def run(paths: list[Path], *, pyqt6: bool, qgis_enums: bool, ui_root: Path | None) -> list[Finding]:
    findings: list[Finding] = []
    for file in python_files(paths):
        rel = str(file.relative_to(REPO)) if file.is_relative_to(REPO) else str(file)
        scan = scan_source(file.read_text(encoding="utf-8"), rel)
        findings.extend(scan.findings)
        seen: set[tuple[int, tuple[str, ...]]] = set()
        for use in scan.uses:
            if (use.line, use.chain) in seen:
                continue
            seen.add((use.line, use.chain))
            problem = (resolve_pyqt6(use) if pyqt6 else None) or (check_qgis_enum(use) if qgis_enums else None)
            if problem:
                findings.append(Finding(use.path, use.line, problem))
        if pyqt6:
            for signal in scan.signals:
                problem = check_signal(signal, scan.bindings)
                if problem:
                    findings.append(Finding(signal.path, signal.line, problem))
    if pyqt6 and ui_root is not None:
        for ui in ui_files(ui_root):
            problem = check_ui(ui)
            if problem:
                findings.append(Finding(str(ui.relative_to(REPO)), 1, problem))
    return sorted(set(findings), key=lambda f: (f.path, f.line, f.message))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyqt6", action="store_true", help="resolve against PyQt6 and load the .ui files")
    parser.add_argument("--qgis-enums", action="store_true", help="report unscoped QGIS enums (needs QGIS 3)")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    paths = [p.resolve() for p in args.paths] or [REPO / p for p in DEFAULT_SOURCES]
    findings = run(paths, pyqt6=args.pyqt6, qgis_enums=args.qgis_enums,
                   ui_root=REPO if not args.paths else None)
    what = " + ".join(["static"] + (["PyQt6"] if args.pyqt6 else []) + (["QGIS enums"] if args.qgis_enums else []))
    if args.pyqt6:
        from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR

        what += f" (PyQt {PYQT_VERSION_STR}, Qt {QT_VERSION_STR})"
    for finding in findings:
        print(finding)
    print(f"qt6 check [{what}]: {len(python_files(paths))} Python files, "
          f"{len(ui_files(REPO)) if args.pyqt6 and not args.paths else 0} .ui files, "
          f"{len(findings)} problem(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
