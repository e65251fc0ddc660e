"""Build the PyInstaller bundles and the Linux installers: what ``make dist`` runs.

    .venv/bin/python packaging/build.py [--dist dist] [--work build/packaging] [--only server]

Steps, each logged with its duration:

1. ``messenger-server`` bundle (``packaging/pyinstaller/messenger-server.spec``);
2. the app icon rendered from ``resources/icons/messenger.svg`` (``render_icons.py``);
3. ``messenger`` app bundle (``packaging/pyinstaller/messenger.spec``);
4. ``messenger-<version>-linux-<arch>.tar.gz`` and ``messenger-server-...tar.gz``, each with
   an ``install.sh``, and ``messenger_<version>_<debarch>.deb`` (``dpkg-deb``), whose
   ``Depends`` is derived from the bundles' ELF files (:func:`derive_depends`);
5. ``build-info.json``: version, source digest, durations and sizes. The packaging test
   reuses a ``dist/`` whose digest matches the sources instead of building again.

``make dist`` runs ``build_deps.py build`` first: the Debian packages this build needs are
listed there, and a library still missing when the ``Depends`` are derived is reported with
its package and the ``sudo apt-get install`` line.

Builds are repeatable: the version comes from pyproject.toml, timestamps from the last commit
(``SOURCE_DATE_EPOCH``), ``PYTHONHASHSEED=0``, archives are written in sorted order with
fixed owners and times.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from build_deps import LIBRARY_PACKAGES, install_line

log = logging.getLogger("build")

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
APP = "messenger"
SERVER = "messenger-server"
ICON_SVG = ROOT / "resources" / "icons" / "messenger.svg"
# What the bundles are made of: a change here makes an existing dist/ stale.
SOURCE_PATHS = ("pyproject.toml", "messenger_server", "messenger_gui", "resources", "packaging")
# Packages every Debian/Ubuntu system has (Essential or required by dpkg itself), named only
# when a version is needed, and the postinst's tools.
BASE_DEPENDS = ("adduser",)
# Installed with the .deb unless the user turns recommends off: without a colour emoji font,
# received emoji render as boxes (docs/install.md names the package on other distributions).
RECOMMENDS = ("fonts-noto-color-emoji",)


def project_version() -> str:
    """The version in pyproject.toml (the bundles and installers carry it)."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def source_digest() -> str:
    """SHA-256 over the files the bundles are built from (paths and contents, sorted).

    Caches and bytecode are skipped so that running the tests does not change it.
    """
    digest = hashlib.sha256()
    for top in SOURCE_PATHS:
        base = ROOT / top
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix in {".pyc", ".pyo"}:
                continue
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def source_date_epoch() -> int:
    """The last commit's time, else pyproject.toml's mtime: the fixed time of every archive."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return int(os.environ["SOURCE_DATE_EPOCH"])
    with contextlib.suppress(OSError, subprocess.CalledProcessError, ValueError):
        out = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return int(out)
    return int((ROOT / "pyproject.toml").stat().st_mtime)


def tree_size(path: Path) -> int:
    """Bytes of the files under ``path`` (symlinks not followed)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@contextlib.contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    log.info("%s ...", name)
    start = time.monotonic()
    yield
    timings[name] = round(time.monotonic() - start, 1)
    log.info("%s done in %.1f s", name, timings[name])


def build_env(epoch: int) -> dict[str, str]:
    env = dict(os.environ, PYTHONHASHSEED="0", SOURCE_DATE_EPOCH=str(epoch))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def pyinstaller(spec: Path, dist: Path, work: Path, env: dict[str, str]) -> None:
    """Run PyInstaller on ``spec``; the bundle lands in ``dist/<name>``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(spec),
        ],
        check=True,
        cwd=ROOT,
        env=env,
    )


# --- archives -------------------------------------------------------------------------------


def _tar_filter(epoch: int) -> Callable[[tarfile.TarInfo], tarfile.TarInfo]:
    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = min(info.mtime, epoch)
        if info.isfile() or info.isdir():
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
        return info

    return normalise


def _walk_sorted(path: Path) -> Iterator[Path]:
    yield path
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.iterdir()):
            yield from _walk_sorted(child)


def write_tar_gz(source: Path, target: Path, epoch: int) -> None:
    """``source`` as ``target`` (.tar.gz) with the folder's name as the top entry.

    Entries are sorted, owned by root and dated at most ``epoch``; gzip's own header carries
    ``epoch`` and no file name, so the same tree gives the same bytes.
    """
    normalise = _tar_filter(epoch)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for path in _walk_sorted(source):
            arcname = path.relative_to(source.parent).as_posix()
            tar.add(path, arcname, recursive=False, filter=normalise)
    with (
        target.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=6) as gz,
    ):
        gz.write(buffer.getvalue())


def copy_icons(icons: Path, share: Path) -> None:
    shutil.copytree(icons / "hicolor", share / "icons" / "hicolor", dirs_exist_ok=True)


def make_app_tarball(dist: Path, work: Path, icons: Path, version: str, epoch: int) -> Path:
    """The app bundle + desktop entry + icons + install.sh, as a .tar.gz in ``dist``."""
    name = f"{APP}-{version}-linux-{platform.machine()}"
    stage = work / "tar" / name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(dist / APP, stage / APP, symlinks=True)
    share = stage / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "messenger.desktop", share / "applications")
    copy_icons(icons, share)
    shutil.copy2(PACKAGING / "linux" / "install-app.sh", stage / "install.sh")
    (stage / "install.sh").chmod(0o755)
    (stage / "VERSION").write_text(version + "\n")
    target = dist / f"{name}.tar.gz"
    write_tar_gz(stage, target, epoch)
    return target


def make_server_tarball(dist: Path, work: Path, version: str, epoch: int) -> Path:
    """The server bundle + systemd unit + sample config + install.sh, as a .tar.gz."""
    name = f"{SERVER}-{version}-linux-{platform.machine()}"
    stage = work / "tar" / name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(dist / SERVER, stage / SERVER, symlinks=True)
    shutil.copy2(PACKAGING / "systemd" / "messenger-server.service", stage)
    shutil.copy2(PACKAGING / "linux" / "server.toml", stage)
    shutil.copy2(PACKAGING / "linux" / "install-server.sh", stage / "install.sh")
    (stage / "install.sh").chmod(0o755)
    (stage / "VERSION").write_text(version + "\n")
    target = dist / f"{name}.tar.gz"
    write_tar_gz(stage, target, epoch)
    return target


# --- Debian package ---------------------------------------------------------------------


def elf_files(bundle: Path) -> list[Path]:
    """Every ELF file (executable, .so) in ``bundle``."""
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if file.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def needed_libraries(elf: Path) -> list[str]:
    """The sonames ``elf`` links against directly (its DT_NEEDED entries)."""
    out = subprocess.run(
        ["objdump", "-p", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    return re.findall(r"^\s+NEEDED\s+(\S+)$", out, flags=re.MULTILINE)


def glibc_versions(elf: Path) -> set[tuple[int, ...]]:
    """The GLIBC_x.y symbol versions ``elf`` requires."""
    out = subprocess.run(
        ["objdump", "-T", str(elf)], capture_output=True, text=True, check=True
    ).stdout
    return {tuple(map(int, v.split("."))) for v in re.findall(r"\(GLIBC_(\d+(?:\.\d+)+)\)", out)}


def system_library_paths() -> dict[str, list[str]]:
    """soname -> paths, from the dynamic linker's cache (``ldconfig -p``)."""
    out = subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=True
    ).stdout
    machine = "x86-64" if platform.machine() == "x86_64" else None
    paths: dict[str, list[str]] = {}
    for match in re.finditer(r"^\s+(\S+) \(([^)]*)\) => (\S+)$", out, flags=re.MULTILINE):
        soname, flags, path = match.groups()
        if machine is not None and machine not in flags and "libc6," in flags:
            continue  # a 32-bit library of the same name
        paths.setdefault(soname, []).append(path)
    return paths


def owning_package(path: str) -> str | None:
    """The Debian package that installed ``path`` (``dpkg -S``), trying the usr-merged twin."""
    candidates = [path, os.path.realpath(path)]
    for prefix, other in (("/usr/lib/", "/lib/"), ("/lib/", "/usr/lib/")):
        if path.startswith(prefix):
            candidates.append(other + path[len(prefix) :])
    for candidate in candidates:
        result = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            package = result.stdout.split(":", 1)[0].split(",")[0].strip()
            return package
    return None


class MissingLibraries(Exception):
    """Bundle files need system libraries that this machine does not have."""


def missing_libraries_message(missing: dict[str, list[str]]) -> str:
    """What to install, for ``{soname: [bundle files that need it]}``.

    Names each library's Debian package (``build_deps.LIBRARY_PACKAGES``) and the line that
    installs them; a library the table does not know is a new Qt dependency to add there.
    """
    lines = ["system libraries not installed here:"]
    packages = []
    for soname, needed_by in sorted(missing.items()):
        package = LIBRARY_PACKAGES.get(soname)
        if package is None:
            source = (
                "no Debian package known: add it to LIBRARY_PACKAGES in packaging/build_deps.py"
            )
        else:
            source = f"package {package}"
            packages.append(package)
        by = ", ".join(sorted(set(needed_by))[:3])
        lines.append(f"  {soname} ({source}; needed by {by})")
    if packages:
        lines += [
            "Install them, then run make dist again:",
            f"    {install_line(dict.fromkeys(packages))}",
        ]
    return "\n".join(lines)


def derive_depends(bundles: Iterable[Path]) -> tuple[list[str], dict[str, str]]:
    """The Debian packages the bundles need: ldd-style analysis without running anything.

    For each ELF file in the bundles, its directly needed sonames minus those the bundles
    ship are looked up in the linker cache and mapped to packages with ``dpkg -S``; libc6
    gets a lower bound from the highest GLIBC symbol version used.

    Returns:
        ``(depends, library_to_package)``: sorted ``Depends`` entries and, for the report,
        which soname brought in which package.

    Raises:
        MissingLibraries: a needed soname is not installed here (install it and rebuild: the
            mapping needs the library on this machine); the message names its package.
    """
    files = [elf for bundle in bundles for elf in elf_files(bundle)]
    shipped = {f.name for bundle in bundles for f in bundle.rglob("*")}
    system = system_library_paths()
    packages: dict[str, str] = {}
    missing: dict[str, list[str]] = {}
    glibc: set[tuple[int, ...]] = set()
    for elf in files:
        glibc |= glibc_versions(elf)
        for soname in needed_libraries(elf):
            if soname in shipped or soname in packages:
                continue
            package = next(
                (p for p in map(owning_package, system.get(soname, [])) if p is not None), None
            )
            if package is None:
                missing.setdefault(soname, []).append(str(elf))
            else:
                packages[soname] = package
    if missing:
        raise MissingLibraries(missing_libraries_message(missing))
    depends = set(packages.values()) | set(BASE_DEPENDS)
    if glibc:
        libc = ".".join(map(str, max(glibc)))
        depends.discard("libc6")
        depends.add(f"libc6 (>= {libc})")
    return sorted(depends), packages


def deb_architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def deb_control(version: str, arch: str, installed_kib: int, depends: Iterable[str]) -> str:
    """The .deb's DEBIAN/control file."""
    return (
        f"Package: messenger\n"
        f"Version: {version}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: Messenger contributors <messenger@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(depends)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        f"Section: net\n"
        f"Priority: optional\n"
        f"Description: self-hosted messenger: desktop app and server\n"
        f" Messenger is a self-hosted client-server messenger. This package installs\n"
        f" the desktop app (menu entry 'Messenger') and the server, messenger-server,\n"
        f" with a systemd unit (not enabled by default: systemctl enable --now\n"
        f" messenger-server) running as the system user 'messenger' with its data in\n"
        f" /var/lib/messenger and its configuration in /etc/messenger/server.toml.\n"
    )


def make_deb(
    dist: Path, work: Path, icons: Path, version: str, epoch: int
) -> tuple[Path, list[str]]:
    """One .deb with the app, its menu entry and icons, and the server as a systemd service.

    Returns the package's path and its ``Depends``.
    """
    arch = deb_architecture()
    root = work / "deb" / "root"
    shutil.rmtree(root.parent, ignore_errors=True)
    lib = root / "usr" / "lib" / "messenger"
    lib.mkdir(parents=True)
    shutil.copytree(dist / APP, lib / APP, symlinks=True)
    shutil.copytree(dist / SERVER, lib / SERVER, symlinks=True)
    bin_dir = root / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / APP).symlink_to(f"../lib/messenger/{APP}/{APP}")
    (bin_dir / SERVER).symlink_to(f"../lib/messenger/{SERVER}/{SERVER}")
    share = root / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "messenger.desktop", share / "applications")
    copy_icons(icons, share)
    unit_dir = root / "lib" / "systemd" / "system"
    unit_dir.mkdir(parents=True)
    shutil.copy2(PACKAGING / "systemd" / "messenger-server.service", unit_dir)
    etc = root / "etc" / "messenger"
    etc.mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "server.toml", etc)
    doc = share / "doc" / "messenger"
    doc.mkdir(parents=True)
    for name in ("install.md", "admin.md"):
        if (ROOT / "docs" / name).exists():
            shutil.copy2(ROOT / "docs" / name, doc)
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: messenger\n\nFiles: *\nCopyright: Messenger contributors\n"
        "License: MIT\n"
    )

    depends, _ = derive_depends([dist / APP, dist / SERVER])
    installed_kib = (tree_size(root) + 1023) // 1024
    control = root / "DEBIAN"
    control.mkdir()
    (control / "control").write_text(deb_control(version, arch, installed_kib, depends))
    (control / "conffiles").write_text("/etc/messenger/server.toml\n")
    for script in ("postinst", "prerm", "postrm"):
        shutil.copy2(PACKAGING / "linux" / "deb" / script, control / script)
        (control / script).chmod(0o755)
    for path in _walk_sorted(root):
        if not path.is_symlink():
            os.utime(path, (epoch, epoch))
    target = dist / f"messenger_{version}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(target)],
        check=True,
        env=dict(os.environ, SOURCE_DATE_EPOCH=str(epoch)),
        stdout=subprocess.DEVNULL,
    )
    return target, depends


# --- the whole build ----------------------------------------------------------------------


def build(
    dist: Path, work: Path, only: str | None, installers: bool, icon_svg: Path
) -> dict[str, Any]:
    """Build into ``dist`` (bundles replaced, other files kept) and return the build info."""
    version = project_version()
    epoch = source_date_epoch()
    env = build_env(epoch)
    timings: dict[str, float] = {}
    dist.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    spec_dir = PACKAGING / "pyinstaller"
    icons = work / "icons"
    if only in (None, "server"):
        with step("server bundle", timings):
            pyinstaller(spec_dir / "messenger-server.spec", dist, work / "pyinstaller", env)
    if only in (None, "app"):
        with step("icons", timings):
            shutil.rmtree(icons, ignore_errors=True)
            subprocess.run(
                [sys.executable, str(PACKAGING / "render_icons.py"), str(icon_svg), str(icons)],
                check=True,
                env=env,
            )
        with step("app bundle", timings):
            env["MESSENGER_BUILD_ICONS"] = str(icons)
            pyinstaller(spec_dir / "messenger.spec", dist, work / "pyinstaller", env)
    artifacts: dict[str, int] = {}
    depends: list[str] = []
    if installers and only is None and sys.platform.startswith("linux"):
        with step("installers", timings):
            made = [
                make_app_tarball(dist, work, icons, version, epoch),
                make_server_tarball(dist, work, version, epoch),
            ]
            if shutil.which("dpkg-deb"):
                deb, depends = make_deb(dist, work, icons, version, epoch)
                made.append(deb)
            else:
                log.warning("dpkg-deb not found: no .deb")
        artifacts = {p.name: p.stat().st_size for p in made}
    for bundle in (APP, SERVER):
        if (dist / bundle).is_dir():
            artifacts[bundle + "/"] = tree_size(dist / bundle)
    info = {
        "version": version,
        "source_digest": source_digest(),
        "source_date_epoch": epoch,
        "python": platform.python_version(),
        "seconds": {**timings, "total": round(time.monotonic() - started, 1)},
        "bytes": artifacts,
        "deb_depends": depends,
        "complete": only is None,
    }
    (dist / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "packaging")
    parser.add_argument("--only", choices=("app", "server"), help="build one bundle only")
    parser.add_argument("--no-installers", dest="installers", action="store_false")
    parser.add_argument("--icon", type=Path, default=ICON_SVG, help="app icon (SVG)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        info = build(
            args.dist.resolve(), args.work.resolve(), args.only, args.installers, args.icon
        )
    except MissingLibraries as exc:
        log.error("%s", exc)
        return 1
    except subprocess.CalledProcessError as exc:
        log.error("%s failed with exit code %d", exc.cmd[:3], exc.returncode)
        return 1
    for name, size in sorted(info["bytes"].items()):
        print(f"{size / 1e6:8.1f} MB  {name}")
    print(f"built {info['version']} in {info['seconds']['total']} s into {args.dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
