"""The ``messenger`` command, the language choice and the translations."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QLocale, QObject, QRect, QTranslator
from PySide6.QtWidgets import QApplication

import messenger_gui
from messenger_gui.__main__ import build_parser, main
from messenger_gui.app import fit_to_screen
from messenger_gui.ui import i18n
from messenger_gui.ui.resources import resource_path
from messenger_gui.ui.single_instance import ProfileLock
from tests.app_harness import kill_loop_timers


def isolated_environment(home: Path) -> dict[str, str]:
    """Environment for a subprocess that must not touch the real user's files."""
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        QT_QPA_PLATFORM="offscreen",
    )
    (home / "runtime").mkdir(parents=True, mode=0o700)
    return env


def test_self_test_exits_0_without_a_server(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "messenger_gui", "--self-test", "--lang", "pt_BR"],
        env=isolated_environment(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout
    assert "2 translator(s)" in result.stdout or "1 translator(s)" in result.stdout
    assert not (tmp_path / "home" / "data" / "messenger").exists()  # temporary profile only


def test_version_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    assert "messenger 0." in capsys.readouterr().out
    for bad in (["--server", "host:port"], ["--lang", "de"], ["--profile", "a", "--data-dir", "b"]):
        with pytest.raises(SystemExit) as error:
            main(bad)
        assert error.value.code == 2


def test_server_option_accepts_host_and_port() -> None:
    args = build_parser().parse_args(["--server", "chat.example.org:7001", "--data-dir", "/x"])
    assert args.server == ("chat.example.org", 7001)
    assert args.data_dir == Path("/x")
    assert build_parser().parse_args(["--server", "10.1.2.3"]).server == ("10.1.2.3", 7850)


def test_invalid_profile_name_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--profile", "../etc"]) == 2
    assert "invalid profile name" in capsys.readouterr().err


def test_language_follows_the_system_locale_unless_given() -> None:
    assert i18n.choose_language(None, QLocale("pt_BR")) == "pt_BR"
    assert i18n.choose_language(None, QLocale("pt_PT")) == "pt_BR"
    assert i18n.choose_language(None, QLocale("en_GB")) == "en"
    assert i18n.choose_language(None, QLocale("de_DE")) == "en"
    assert i18n.choose_language("en", QLocale("pt_BR")) == "en"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.choose_language("xx")


@pytest.mark.parametrize(("lang", "at_least"), [("pt_BR", 100), ("en", 5)])
def test_translation_is_complete(lang: str, at_least: int) -> None:
    root = ET.parse(resource_path("translations", f"messenger_{lang}.ts")).getroot()
    messages = list(root.iter("message"))
    assert len(messages) >= at_least
    unfinished = [
        m.findtext("source")
        for m in messages
        if (t := m.find("translation")) is None
        or t.get("type") in ("unfinished", "vanished", "obsolete")
        or not ("".join(t.itertext()).strip())
    ]
    assert unfinished == []


def test_compiled_translation_loads_and_translates(qapp: QApplication) -> None:
    translator = QTranslator()
    assert translator.load(i18n.translation_file("pt_BR"))
    assert translator.translate("AddContactDialog", "Add contact") == "Adicionar contato"
    installed = i18n.install_translators(qapp, "pt_BR")
    try:
        assert QCoreApplication.translate("WelcomeDialog", "Register") == "Cadastrar"
        assert QObject().tr("untranslated") == "untranslated"
    finally:
        for each in installed:
            qapp.removeTranslator(each)
        QLocale.setDefault(QLocale("en_US"))
    assert QCoreApplication.translate("WelcomeDialog", "Register") == "Register"


def test_english_plurals_come_from_the_english_file(qapp: QApplication) -> None:
    installed = i18n.install_translators(qapp, "en")
    try:
        found = "%n message(s) found"
        assert QCoreApplication.translate("SearchDialog", found, "", 1) == "1 message found"
        assert QCoreApplication.translate("SearchDialog", found, "", 3) == "3 messages found"
    finally:
        for each in installed:
            qapp.removeTranslator(each)


def test_second_start_on_a_profile_shows_the_running_window(
    qapp: QApplication, tmp_path: Path
) -> None:
    first, second = ProfileLock(tmp_path / "p"), ProfileLock(tmp_path / "p")
    shown: list[bool] = []

    async def scenario() -> bool:
        assert first.acquire()
        await first.serve(lambda: shown.append(True))
        assert not second.acquire()
        told = await second.ask_running_instance_to_show()
        for _ in range(100):
            if shown:
                break
            await asyncio.sleep(0.02)
        await first.release()
        return told

    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    try:
        assert loop.run_until_complete(scenario())
    finally:
        loop.close()
        asyncio.set_event_loop(None)
        kill_loop_timers(loop)
    assert shown == [True]
    assert second.acquire()  # free again once the first app has quit
    assert not (tmp_path / "p" / "app.sock").exists()


def test_every_string_in_the_code_is_in_the_portuguese_translation(tmp_path: Path) -> None:
    """``pyside6-lupdate`` run on the sources adds no string the .ts file lacks: a new
    user-visible string fails this test until it is translated (``make translations``)."""
    lupdate = Path(sys.executable).with_name("pyside6-lupdate")
    sources = sorted(str(p) for p in Path(messenger_gui.__file__).parent.rglob("*.py"))
    updated = tmp_path / "messenger_pt_BR.ts"
    shutil.copy(resource_path("translations", "messenger_pt_BR.ts"), updated)
    subprocess.run(
        [str(lupdate), *sources, "-no-obsolete", "-target-language", "pt_BR", "-ts", str(updated)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    untranslated = [
        m.findtext("source")
        for m in ET.parse(updated).getroot().iter("message")
        if (t := m.find("translation")) is None or t.get("type") == "unfinished"
    ]
    assert untranslated == []


def test_a_window_asked_for_off_screen_is_moved_and_shrunk_onto_it(qapp: QApplication) -> None:
    area = qapp.primaryScreen().availableGeometry()
    wanted = QRect(area.right() - 100, area.top() + 10, area.width() + 500, 400)
    placed = fit_to_screen(wanted)
    assert area.contains(placed)
    assert (placed.width(), placed.height()) == (area.width(), 400)
    inside = QRect(area.left() + 5, area.top() + 5, 200, 100)
    assert fit_to_screen(inside) == inside
