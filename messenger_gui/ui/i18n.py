"""Which language the app speaks, and loading its translations.

The source strings are English. Each language is served by
``resources/translations/messenger_<lang>.qm`` (compiled from the ``.ts`` file that
``make translations`` keeps up to date), plus Qt's own ``qtbase_<lang>.qm`` for the
standard dialogs' buttons ("Cancel", "Save"...) when Qt ships it. English has a file too,
holding only the plural forms ("%n member(s)" → "1 member", "2 members").

Call :func:`install_translators` once, after creating the ``QApplication`` and before
building any widget: ``tr()`` looks strings up when it is called, so widgets built earlier
stay in English.
"""

from __future__ import annotations

import logging
from typing import Final

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from messenger_gui.ui.resources import resource_path

log = logging.getLogger(__name__)

SOURCE_LANGUAGE: Final = "en"
LANGUAGES: Final[dict[str, str]] = {"en": "English", "pt_BR": "Português (Brasil)"}
"""The languages the app speaks: code (as ``--lang`` takes it) → name in that language."""


def translation_file(lang: str) -> str:
    """The path of the compiled translation of ``lang`` (it may not exist)."""
    return str(resource_path("translations", f"messenger_{lang}.qm"))


def choose_language(requested: str | None = None, locale: QLocale | None = None) -> str:
    """The language to use: ``requested`` (``--lang``) if given, else the best match for
    ``locale`` (the system locale by default), else English.

    Any Portuguese locale gets pt-BR (closer for a Portuguese reader than English).

    Raises:
        ValueError: ``requested`` is not one of :data:`LANGUAGES`.
    """
    if requested is not None:
        if requested not in LANGUAGES:
            raise ValueError(
                f"unknown language {requested!r}; choose one of: {', '.join(LANGUAGES)}"
            )
        return requested
    locale = QLocale.system() if locale is None else locale
    for name in locale.uiLanguages():
        code = name.replace("-", "_")
        if code in LANGUAGES:
            return code
        if code.split("_")[0] == "pt":
            return "pt_BR"
        if code.split("_")[0] == "en":
            return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def install_translators(app: QCoreApplication, lang: str) -> list[QTranslator]:
    """Install the translators for ``lang`` into ``app`` and return them.

    Keep the returned list alive for as long as the app runs (a collected translator stops
    translating); remove them with ``app.removeTranslator`` to switch languages. A missing
    or unreadable file is logged and the app carries on in English: a translation problem
    must never stop it from starting.
    """
    QLocale.setDefault(QLocale("en_US" if lang == SOURCE_LANGUAGE else lang))
    installed: list[QTranslator] = []
    own = QTranslator(app)
    if own.load(translation_file(lang)):
        app.installTranslator(own)
        installed.append(own)
    else:
        log.warning("no translation for %s at %s; using English", lang, translation_file(lang))
    if lang == SOURCE_LANGUAGE:
        return installed
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qtbase = QTranslator(app)
    if qtbase.load(f"qtbase_{lang}", qt_dir) or qtbase.load(f"qtbase_{lang.split('_')[0]}", qt_dir):
        app.installTranslator(qtbase)
        installed.append(qtbase)
    else:
        log.info("Qt's own translation for %s is not available in %s", lang, qt_dir)
    return installed
