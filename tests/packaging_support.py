"""The packaging scripts loaded for the tests: ``packaging/*.py`` are scripts, not a package.

``python packaging/build.py`` puts packaging/ first on ``sys.path`` and build.py imports
``build_deps`` by that name, so build_deps is loaded (and registered) first.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def load_packaging_script(file_name: str, module_name: str) -> ModuleType:
    """``packaging/<file_name>`` as the module ``module_name``, loaded once."""
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, PACKAGING / file_name)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


build_deps = load_packaging_script("build_deps.py", "build_deps")
build = load_packaging_script("build.py", "messenger_packaging_build")
