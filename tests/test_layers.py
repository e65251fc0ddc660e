"""The layers import in one direction: no Qt below the user interface, no client in the
server, no client core in the widgets, none of the server's modules in the app, and no
developer tool in the product (``docs/client.md``). Checked on the source, by AST, so a
lazy import inside a function counts too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT_MODULES = ("PySide6", "qasync")
QT_ALLOWED = (
    "messenger_gui/ui/",
    "messenger_gui/app.py",
    "messenger_gui/files_controller.py",  # the files' part of the controller (issue 10)
    "messenger_gui/__main__.py",
    "messenger_gui/devtools/",
)
DEVTOOLS = "messenger_gui/devtools/"
CLIENT_CORE = ("messenger_gui.client", "messenger_gui.connection", "messenger_gui.tls")
"""What only the controller (``app.py``) and ``__main__`` use: widgets get data and emit
signals; they never hold or call the connection."""
SERVER_MODULES_THE_APP_USES = frozenset(
    {"messenger_server", "messenger_server.__version__", "messenger_server.protocol"}
    | {"messenger_server.session"}  # the sans-I/O session under the connection adapter
)
"""The wire format and the version: everything else of ``messenger_server`` (its
``config``, storage, services) is the server's own."""


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved against
    its package under ``root``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join((*base, node.module) if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def qt_free_sources() -> list[Path]:
    paths = sources("messenger_server") + sources("messenger_gui")
    return [p for p in paths if not p.relative_to(ROOT).as_posix().startswith(QT_ALLOWED)]


def uses(modules: set[str], top: str) -> bool:
    return any(m == top or m.startswith(f"{top}.") for m in modules)


def product_sources() -> list[Path]:
    """The desktop app as shipped: ``messenger_gui`` without its developer tools."""
    return [p for p in sources("messenger_gui") if not rel(p).startswith(DEVTOOLS)]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", qt_free_sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_qt_outside_the_user_interface(path: Path) -> None:
    modules = imported_modules(path)
    assert not [top for top in QT_MODULES if uses(modules, top)], path


@pytest.mark.parametrize(
    "path", sources("messenger_server"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_the_server_never_imports_the_client(path: Path) -> None:
    assert not uses(imported_modules(path), "messenger_gui"), path


@pytest.mark.parametrize("path", product_sources(), ids=rel)
def test_the_product_never_imports_the_developer_tools(path: Path) -> None:
    assert not uses(imported_modules(path), "messenger_gui.devtools"), path


@pytest.mark.parametrize("path", product_sources(), ids=rel)
def test_the_app_imports_only_the_protocol_of_the_server(path: Path) -> None:
    """``config`` (HOST/PORT), storage and services are the server's: the app has its own
    defaults (``messenger_gui.config``)."""
    server = {m for m in imported_modules(path) if uses({m}, "messenger_server")}
    outside = {
        m
        for m in server
        if m not in SERVER_MODULES_THE_APP_USES
        and not m.startswith(("messenger_server.protocol.", "messenger_server.session."))
    }
    assert not outside, f"{rel(path)} imports {sorted(outside)}"


@pytest.mark.parametrize(
    "path", [p for p in product_sources() if rel(p).startswith("messenger_gui/ui/")], ids=rel
)
def test_widgets_never_import_the_client_core(path: Path) -> None:
    modules = imported_modules(path)
    assert not [core for core in CLIENT_CORE if uses(modules, core)], path


def test_the_apps_default_address_is_the_servers() -> None:
    from messenger_gui import config as app_config
    from messenger_server import config as server_config

    assert (app_config.HOST, app_config.PORT) == (server_config.HOST, server_config.PORT)


def test_the_check_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself must be able to fail: it finds plain, from, nested and relative
    imports."""
    module = tmp_path / "messenger_gui" / "probe.py"
    module.parent.mkdir()
    module.write_text(
        "import PySide6.QtCore\n"
        "def later():\n    from qasync import QEventLoop\n"
        "from . import storage\n"
        "from .ui import widgets\n",
        encoding="utf-8",
    )
    modules = imported_modules(module, tmp_path)
    assert uses(modules, "PySide6") and uses(modules, "qasync")
    assert "messenger_gui.storage" in modules and "messenger_gui.ui.widgets" in modules
    assert len(qt_free_sources()) >= 10  # the walk found the packages
    assert len(product_sources()) >= 20
    assert not [p for p in product_sources() if "devtools" in p.parts]


def test_the_server_imports_the_postgresql_driver_only_when_it_is_chosen() -> None:
    """asyncpg is optional: a server on SQLite starts where it is not installed."""
    code = (
        "import sys, messenger_server.__main__, messenger_server.server,"
        " messenger_server.repository, messenger_server.service;"
        " print(sorted(m for m in sys.modules if m.split('.')[0] == 'asyncpg'"
        " or m.endswith('repository.postgresql')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
