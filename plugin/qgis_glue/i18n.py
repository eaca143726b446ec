"""The plugin's translations: a ``QTranslator`` for the QGIS user locale (``i18n/arcgis_offline_tiles_<lang>.qm``).

Installed first thing in ``initGui`` (the dock's texts are translated as it is built) and removed in
``unload``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

LOG = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parents[2] / "i18n"
BASENAME = "arcgis_offline_tiles"
DEFAULT_CONTEXT = "@default"  # where pylupdate5 puts strings it finds outside ``self.tr``


def translator(context: str) -> Callable[[str], str]:
    """A ``tr(text)`` for a module: looks ``text`` up in ``context``, then in ``@default``.

    ``pylupdate5`` files the strings of module-level ``tr()`` helpers under ``@default`` (it only
    knows the class of ``self.tr``), and ``lrelease`` keeps that name; the fallback finds them there
    whatever context the helper names.
    """

    def tr(text: str) -> str:
        translated = QCoreApplication.translate(context, text)
        if translated == text:
            translated = QCoreApplication.translate(DEFAULT_CONTEXT, text)
        return translated

    return tr


def error_message(error: BaseException) -> str:
    """The translated user message of an error (the template is translated, then filled); any other
    exception is a bug and says so."""
    from ..core.errors import ArcGISOfflineTilesError

    if isinstance(error, ArcGISOfflineTilesError):
        template = QCoreApplication.translate("errors", error.template)
        try:
            return template.format(**error.params)
        except (KeyError, IndexError, ValueError):
            return error.user_message
    return QCoreApplication.translate("errors", "An unexpected error occurred (a bug); please report it "
                                      "with the log.")


def user_locale() -> str:
    """QGIS's user interface locale (``de``, ``pt_BR`` …), else the system's."""
    value = QgsSettings().value("locale/userLocale", "") or ""
    return str(value) or QLocale.system().name()


def translation_file(locale: str) -> Path | None:
    """``i18n/arcgis_offline_tiles_<locale>.qm``, falling back from ``pt_BR`` to ``pt``."""
    for candidate in (locale, locale.split("_")[0]):
        path = I18N_DIR / f"{BASENAME}_{candidate}.qm"
        if candidate and path.is_file():
            return path
    return None


def install_translator(locale: str | None = None) -> QTranslator | None:
    """Load and install the translation for ``locale`` (default: QGIS's); ``None`` when there is none."""
    path = translation_file(locale or user_locale())
    if path is None:
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        LOG.warning("The translation %s could not be loaded", path)
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
