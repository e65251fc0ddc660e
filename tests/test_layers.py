"""The layers import in one direction: no Qt below the user interface, no client in the
server (``docs/client.md``). Checked on the source, by AST, so a lazy import inside a
function counts too."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QT_MODULES = ("PySide6", "qasync")
QT_ALLOWED = ("messenger_gui/ui/", "messenger_gui/app.py", "messenger_gui/__main__.py")


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


@pytest.mark.parametrize("path", qt_free_sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_qt_outside_the_user_interface(path: Path) -> None:
    modules = imported_modules(path)
    assert not [top for top in QT_MODULES if uses(modules, top)], path


@pytest.mark.parametrize(
    "path", sources("messenger_server"), ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_the_server_never_imports_the_client(path: Path) -> None:
    assert not uses(imported_modules(path), "messenger_gui"), path


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
