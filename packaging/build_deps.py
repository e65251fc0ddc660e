"""The Debian packages a machine needs to test and to build Messenger: the one list.

    python3 packaging/build_deps.py [--check] {test,build,test-packaging}

``make dist`` runs it with ``build`` before anything else; ``.ci/run`` with ``test`` before
``make test`` and with ``test-packaging`` before ``make test-packaging``. It asks
``dpkg-query`` which packages of the set are missing and

- installs them with ``apt-get`` when it runs as root and ``apt-get`` is there;
- otherwise (or with ``--check``) prints the ``sudo apt-get install -y …`` line to run and
  exits with status 1, before the build spends minutes in PyInstaller.

On a system without ``dpkg-query`` (not Debian or Ubuntu) it only names the packages and
exits with status 0: the build may still work with the distribution's own libraries.

Standard library only: it runs with the system's ``python3``, before the virtualenv exists.
``packaging/build.py`` imports :data:`LIBRARY_PACKAGES` to name the package of a library
that is missing when it derives the ``.deb``'s ``Depends``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence

log = logging.getLogger("build-deps")

# Qt's runtime libraries and a font: the tests run the app offscreen.
QT_TEST_PACKAGES = (
    "libegl1",
    "libgl1",
    "libxkbcommon0",
    "libfontconfig1",
    "libdbus-1-3",
    "fonts-dejavu-core",
)

# The engines the server's tests start throwaway instances of (tests/engines.py finds
# Debian's binaries off the PATH, in /usr/lib/postgresql/<version>/bin): the database and
# the bus of several server nodes.
TEST_ENGINES = ("postgresql", "redis-server")

TEST_PACKAGES = (*QT_TEST_PACKAGES, *TEST_ENGINES)

# soname -> Debian package of every system library that the Qt libraries and plugins in the
# app bundle link against directly (glibc aside: every system has it). The build needs each
# one installed: PyInstaller copies some into the bundle, and packaging/build.py maps the
# others to the .deb's Depends with dpkg -S. tests/test_packaging.py checks a real build
# against this table, so a new Qt dependency fails CI instead of a packager's build.
LIBRARY_PACKAGES = {
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libgcc_s.so.1": "libgcc-s1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libstdc++.so.6": "libstdc++6",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
}

# objdump (the .deb's Depends) and strip (PyInstaller); dpkg-deb comes with dpkg itself.
BUILD_TOOLS = ("binutils",)

# What the packaging tests run the bundles and installers with: a real X server and
# xwininfo, desktop-file-validate, systemd-analyze.
TEST_PACKAGING_TOOLS = ("xvfb", "x11-utils", "desktop-file-utils", "systemd")


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


# The build renders the icons with Qt offscreen, as the tests run it: Qt's test set comes
# along (the engines do not: a build needs no database).
BUILD_PACKAGES = _unique([*QT_TEST_PACKAGES, *LIBRARY_PACKAGES.values(), *BUILD_TOOLS])

PACKAGE_SETS = {
    "test": TEST_PACKAGES,
    "build": BUILD_PACKAGES,
    "test-packaging": _unique([*BUILD_PACKAGES, *TEST_PACKAGING_TOOLS]),
}
# What each set is for, as the messages name it.
PURPOSES = {"test": "make test", "build": "make dist", "test-packaging": "make test-packaging"}

# Debian 13 and Ubuntu 24.04 renamed some libraries for the 64-bit time_t transition
# (libglib2.0-0 is libglib2.0-0t64 there); the new name provides the old one.
RENAMED_SUFFIX = "t64"


def installed_packages(names: Iterable[str]) -> set[str]:
    """Which of ``names`` (or their ``t64`` twins) dpkg lists as installed.

    A package that was removed but not purged has the status ``config-files``: not installed.
    """
    queried = [*names, *(name + RENAMED_SUFFIX for name in names)]
    result = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package}\\t${db:Status-Status}\\n", *queried],
        capture_output=True,
        text=True,
    )  # exit status 1 when a name is unknown to dpkg: that one is simply not listed
    installed = set()
    for line in result.stdout.splitlines():
        package, _, status = line.partition("\t")
        if status.strip() == "installed":
            installed.add(package.split(":")[0])
    return installed


def missing_packages(names: Sequence[str], installed: set[str]) -> list[str]:
    """``names`` that are not installed, in the order given."""
    return [n for n in names if n not in installed and n + RENAMED_SUFFIX not in installed]


def install_line(packages: Iterable[str]) -> str:
    """The command that installs ``packages``, to be run by someone who may use sudo."""
    return "sudo apt-get install -y " + " ".join(packages)


def can_install() -> bool:
    """Running as root on a system with apt-get (a CI machine, a container)."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_get_install(packages: Sequence[str]) -> None:
    """``apt-get update`` (a fresh container has no package lists), then install ``packages``."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True,
        env=env,
    )


def ensure(purpose: str, packages: Sequence[str], *, install: bool) -> int:
    """Install the missing ``packages`` (when ``install``) or say how; ``main``'s exit status.

    Args:
        purpose: what needs them, as the messages name it (``make dist``).
        packages: the set, in the order the install line names them.
        install: whether to run apt-get (root, apt-get there, no ``--check``).
    """
    if shutil.which("dpkg-query") is None:
        log.warning(
            "no dpkg-query (not Debian or Ubuntu): cannot check the packages %s needs; "
            "on Debian they are: %s",
            purpose,
            " ".join(packages),
        )
        return 0
    missing = missing_packages(packages, installed_packages(packages))
    if not missing:
        return 0
    if install:
        log.info("installing what %s needs: %s", purpose, " ".join(missing))
        try:
            apt_get_install(missing)
        except subprocess.CalledProcessError as exc:
            log.error("%s failed with exit code %d", " ".join(exc.cmd[:2]), exc.returncode)
            return 1
        missing = missing_packages(packages, installed_packages(packages))
        if not missing:
            return 0
        log.error("apt-get did not install: %s", " ".join(missing))
        return 1
    log.error(
        "%s needs Debian packages that are not installed: %s\n"
        "Install them, then run %s again:\n\n    %s\n",
        purpose,
        " ".join(missing),
        purpose,
        install_line(missing),
    )
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("set", choices=sorted(PACKAGE_SETS), help="what the machine is for")
    parser.add_argument(
        "--check",
        action="store_true",
        help="never install, even as root: print the install line and fail when missing",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    install = not args.check and can_install()
    return ensure(PURPOSES[args.set], PACKAGE_SETS[args.set], install=install)


if __name__ == "__main__":
    sys.exit(main())
