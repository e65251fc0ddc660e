"""The build machine's Debian packages (packaging/build_deps.py): ``make dist`` installs the
missing ones as root and otherwise stops at once with the line to run; the build's own late
check names the package of a library that is still missing.

dpkg and apt-get are recording fakes placed first on PATH, answering from a status file:
no root, no real apt, well under a second each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.packaging_support import PACKAGING, build, build_deps

BUILD = build_deps.PACKAGE_SETS["build"]

FAKE_DPKG_QUERY = """\
import json, os, sys
# dpkg-query -W -f FORMAT NAME...: "NAME<tab>STATUS" for the names in the status file.
status = json.loads(open(os.environ["FAKE_DPKG_STATUS"]).read())
with open(os.environ["FAKE_CALLS"], "a") as log:
    log.write(json.dumps(["dpkg-query", *sys.argv[1:]]) + "\\n")
names = sys.argv[4:]
for name in names:
    if name in status:
        print(f"{name}\\t{status[name]}")
    else:
        print(f"dpkg-query: no packages found matching {name}", file=sys.stderr)
sys.exit(0 if all(name in status for name in names) else 1)
"""

FAKE_APT_GET = """\
import json, os, sys
# apt-get update | install ... NAME...: installs into the status file, fails on a name
# listed in $FAKE_APT_UNKNOWN.
path = os.environ["FAKE_DPKG_STATUS"]
with open(os.environ["FAKE_CALLS"], "a") as log:
    log.write(json.dumps(["apt-get", *sys.argv[1:]]) + "\\n")
if sys.argv[1] == "install":
    names = [arg for arg in sys.argv[2:] if not arg.startswith("-")]
    unknown = os.environ.get("FAKE_APT_UNKNOWN", "").split()
    if any(name in unknown for name in names):
        print("E: Unable to locate package", file=sys.stderr)
        sys.exit(100)
    status = json.loads(open(path).read())
    status.update(dict.fromkeys(names, "installed"))
    open(path, "w").write(json.dumps(status))
"""

# dpkg -S PATH: every library belongs to "libfake" except those matching $FAKE_UNOWNED.
FAKE_DPKG = """\
import os, sys
if sys.argv[1] == "-S" and os.environ.get("FAKE_UNOWNED", "//") not in sys.argv[2]:
    print(f"libfake:amd64: {sys.argv[2]}")
    sys.exit(0)
print(f"dpkg-query: no path found matching pattern {sys.argv[-1]}", file=sys.stderr)
sys.exit(1)
"""


@dataclass
class FakeDebian:
    """A PATH whose dpkg-query, dpkg and apt-get answer from ``status`` and log their calls."""

    bin: Path
    status_file: Path
    calls_file: Path

    def set_status(self, status: dict[str, str]) -> None:
        self.status_file.write_text(json.dumps(status))

    def status(self) -> dict[str, str]:
        return dict(json.loads(self.status_file.read_text()))

    def calls(self) -> list[list[str]]:
        if not self.calls_file.exists():
            return []
        return [json.loads(line) for line in self.calls_file.read_text().splitlines()]

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "FAKE_DPKG_STATUS": str(self.status_file),
            "FAKE_CALLS": str(self.calls_file),
            **extra,
        }


@pytest.fixture
def debian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeDebian:
    """The fakes, also first on this process's PATH (for the in-process tests)."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, source in (("dpkg-query", FAKE_DPKG_QUERY), ("apt-get", FAKE_APT_GET)):
        script = fake_bin / name
        script.write_text(f"#!{sys.executable}\n{source}")
        script.chmod(0o755)
    fake = FakeDebian(fake_bin, tmp_path / "status.json", tmp_path / "calls.jsonl")
    fake.set_status(dict.fromkeys(BUILD, "installed"))
    for key, value in fake.env().items():
        monkeypatch.setenv(key, value)
    return fake


def run_build_deps(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PACKAGING / "build_deps.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def without(packages: dict[str, str], *names: str) -> dict[str, str]:
    return {name: status for name, status in packages.items() if name not in names}


def test_make_dist_as_a_user_stops_at_once_with_the_exact_install_line(
    debian: FakeDebian,
) -> None:
    """--check is what a user without root gets: the same message, and no apt-get."""
    status = without(debian.status(), "libwayland-cursor0")
    status["libwayland-egl1"] = "config-files"  # apt-get remove'd: only its config is left
    debian.set_status(status)

    result = run_build_deps("--check", "build", env=debian.env())

    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "    sudo apt-get install -y libwayland-cursor0 libwayland-egl1" in lines
    assert "make dist needs Debian packages that are not installed" in result.stderr
    assert [call[0] for call in debian.calls()] == ["dpkg-query"]


def test_nothing_missing_lets_make_dist_go_on_silently(debian: FakeDebian) -> None:
    result = run_build_deps("--check", "build", env=debian.env())

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    (query,) = debian.calls()
    assert set(BUILD) <= set(query)


def test_as_root_the_missing_packages_are_installed_with_apt_get(debian: FakeDebian) -> None:
    debian.set_status(without(debian.status(), "libxcb-icccm4", "binutils"))

    assert build_deps.ensure("make dist", BUILD, install=True) == 0

    apt_calls = [call[1:] for call in debian.calls() if call[0] == "apt-get"]
    assert apt_calls == [
        ["update", "-qq"],
        ["install", "-y", "-qq", "--no-install-recommends", "libxcb-icccm4", "binutils"],
    ]
    assert debian.status()["libxcb-icccm4"] == "installed"


def test_as_root_a_failed_apt_get_fails_before_the_build(
    debian: FakeDebian, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    debian.set_status(without(debian.status(), "libwayland-egl1"))
    monkeypatch.setenv("FAKE_APT_UNKNOWN", "libwayland-egl1")

    assert build_deps.ensure("make dist", BUILD, install=True) == 1

    assert "apt-get install failed with exit code 100" in caplog.text


def test_a_library_renamed_for_64_bit_time_counts_as_installed(debian: FakeDebian) -> None:
    """Debian 13 and Ubuntu 24.04 ship libglib2.0-0 as libglib2.0-0t64."""
    status = without(debian.status(), "libglib2.0-0")
    debian.set_status({**status, "libglib2.0-0t64": "installed"})

    assert run_build_deps("--check", "build", env=debian.env()).returncode == 0


def test_without_dpkg_it_names_the_packages_and_lets_the_build_try(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    result = run_build_deps("build", env={**os.environ, "PATH": str(empty)})

    assert result.returncode == 0
    assert "no dpkg-query" in result.stderr and "libwayland-egl1" in result.stderr


def test_each_set_holds_the_one_before_it_but_the_build_needs_no_database() -> None:
    sets = build_deps.PACKAGE_SETS
    qt = set(build_deps.QT_TEST_PACKAGES)
    assert set(sets["test"]) == qt | {"postgresql", "redis-server"}
    assert qt < set(sets["build"]) < set(sets["test-packaging"])
    for engine in ("postgresql", "redis-server"):
        assert engine not in sets["build"] and engine not in sets["test-packaging"]
    assert set(build_deps.LIBRARY_PACKAGES.values()) <= set(sets["build"])


# --- the build's late check (packaging/build.py, when it derives the .deb's Depends) ------


def test_a_library_still_missing_at_the_end_is_named_with_its_package() -> None:
    message = build.missing_libraries_message(
        {
            "libwayland-egl.so.1": ["/b/libqt-plugin-wayland-egl.so"],
            "libxcb-icccm.so.4": ["/b/libqxcb.so", "/b/libQt6XcbQpa.so.6"],
            "libbrand-new.so.1": ["/b/libQt6Future.so.6"],
        }
    )

    lines = message.splitlines()
    assert "  libwayland-egl.so.1 (package libwayland-egl1; needed by " in message
    assert "libbrand-new.so.1 (no Debian package known: add it to LIBRARY_PACKAGES" in message
    assert lines[-1] == "    sudo apt-get install -y libwayland-egl1 libxcb-icccm4"


def test_the_builds_own_check_names_the_package_of_an_unowned_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """derive_depends on a real Qt plugin, with a dpkg -S that owns everything but Wayland's
    EGL library: the error names libwayland-egl1 and the line that installs it."""
    if not shutil.which("objdump"):
        pytest.skip("objdump is not installed (binutils; build_deps.py installs it)")
    pyside6 = pytest.importorskip("PySide6")
    plugin = (
        Path(pyside6.__file__).parent
        / "Qt/plugins/wayland-graphics-integration-client/libqt-plugin-wayland-egl.so"
    )
    if not plugin.is_file():
        pytest.skip(f"{plugin.name} is not in this PySide6")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / plugin.name).write_bytes(plugin.read_bytes())
    for soname in build.needed_libraries(bundle / plugin.name):
        if soname.startswith("libQt6"):
            (bundle / soname).touch()  # the bundle ships Qt itself
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "dpkg").write_text(f"#!{sys.executable}\n{FAKE_DPKG}")
    (fake_bin / "dpkg").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_UNOWNED", "libwayland-egl")

    with pytest.raises(build.MissingLibraries) as raised:
        build.derive_depends([bundle])

    message = str(raised.value)
    assert "libwayland-egl.so.1 (package libwayland-egl1; needed by " in message
    install = message.splitlines()[-1]
    assert (
        install.startswith("    sudo apt-get install -y ") and "libwayland-egl1" in install.split()
    )
