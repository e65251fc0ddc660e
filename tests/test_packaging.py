"""Packaging: the PyInstaller bundles run on a machine without the project's virtualenv, and
the installers (tar.gz + install.sh, .deb, systemd unit, desktop entry) are well formed.

The bundle tests need a build: ``make test-packaging`` runs ``make dist`` and then this file
with ``MESSENGER_DIST_DIR=dist``. Without that variable they use ``dist/`` when its
``build-info.json`` matches the current sources, and are skipped otherwise (building takes
minutes, so the ordinary ``make test`` does not). The checks of the packaging files
themselves always run.
"""

from __future__ import annotations

import asyncio
import json
import os
import plistlib
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from messenger_server.config import load_settings
from tests.engines import PostgreSQLServer, RedisServer
from tests.packaging_support import build, build_deps

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
UNIT = PACKAGING / "systemd" / "messenger-server.service"
DESKTOP = PACKAGING / "linux" / "messenger.desktop"
DEVTOOLS = "messenger_gui.devtools"
"""The developer tools' package: in the source tree, never in a wheel or bundle."""
HICOLOR_SIZES = ("16x16", "22x22", "24x24", "32x32", "48x48", "64x64", "128x128", "256x256")


def project_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return path


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a machine without the project: no venv, no PYTHONPATH, tmp HOME."""
    path = ":".join(
        p
        for p in os.environ.get("PATH", "/usr/bin:/bin").split(":")
        if p and ".venv" not in p and not p.startswith(str(ROOT))
    )
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": path or "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_RUNTIME_DIR": str(home / "runtime"),
        "LANG": "C.UTF-8",
    }
    (home / "runtime").mkdir(mode=0o700, exist_ok=True)
    env.update(extra)
    return env


# --- the packaging files themselves ---------------------------------------------------------


def test_desktop_entry_is_valid() -> None:
    validate = need_tool("desktop-file-validate")
    result = subprocess.run([validate, str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    entry = DESKTOP.read_text(encoding="utf-8")
    assert "\nExec=messenger\n" in entry
    assert "\nIcon=messenger\n" in entry
    assert "InstantMessaging" in entry


def test_systemd_unit_is_hardened_and_verifies(tmp_path: Path) -> None:
    unit = UNIT.read_text()
    for setting in (
        "User=messenger",
        "StateDirectory=messenger",
        "ConfigurationDirectory=messenger",
        "ExecStart=/usr/bin/messenger-server --config /etc/messenger/server.toml",
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
    ):
        assert setting in unit, setting
    analyze = need_tool("systemd-analyze")
    # verify checks that ExecStart exists: point it at an executable that does.
    local = tmp_path / "messenger-server.service"
    local.write_text(unit.replace("/usr/bin/messenger-server", sys.executable))
    result = subprocess.run(
        [analyze, "verify", str(local)], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are only warnings


def test_sample_server_config_loads_and_keeps_data_in_var_lib() -> None:
    settings = load_settings(config_file=PACKAGING / "linux" / "server.toml", environ={})
    assert settings.data_dir == Path("/var/lib/messenger")
    assert settings.registration == "open"


def test_every_package_and_resource_folder_ships_in_the_wheel() -> None:
    """setuptools lists packages explicitly (resources/ is mapped into messenger_gui): a new
    subpackage or resource folder must be added to pyproject.toml or the wheel misses it."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        setuptools = tomllib.load(file)["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("messenger_server", "messenger_gui")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    resources = ROOT / "resources"
    on_disk |= {
        ".".join(("messenger_gui", "resources", *folder.relative_to(resources).parts))
        for folder in [resources, *resources.rglob("*")]
        if folder.is_dir() and "__pycache__" not in folder.parts
    }
    assert on_disk - listed - {DEVTOOLS} == set(), "add these to [tool.setuptools] packages"
    assert setuptools["package-dir"]["messenger_gui.resources"] == "resources"


def test_the_developer_tools_stay_out_of_the_wheel_and_the_bundle() -> None:
    """Demo, screenshots and measurements are tools, not product: pyproject does not list
    them (so the wheel leaves them out) and the app's PyInstaller spec excludes them."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        listed = tomllib.load(file)["tool"]["setuptools"]["packages"]
    assert (ROOT / DEVTOOLS.replace(".", "/") / "__init__.py").is_file()
    assert not [name for name in listed if name == DEVTOOLS or name.startswith(DEVTOOLS + ".")]
    spec = (PACKAGING / "pyinstaller" / "messenger.spec").read_text()
    assert re.search(r'^DEVTOOLS = \["messenger_gui\.devtools"\]$', spec, re.MULTILINE)
    assert re.search(r"^EXCLUDES = .*\bDEVTOOLS\b", spec, re.MULTILINE)


def test_installer_scripts_are_valid_shell() -> None:
    for script in [
        PACKAGING / "linux" / "install-app.sh",
        PACKAGING / "linux" / "install-server.sh",
        *sorted((PACKAGING / "linux" / "deb").iterdir()),
    ]:
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert os.access(script, os.X_OK), f"{script} is not executable"


def test_macos_and_windows_recipes_are_well_formed() -> None:
    """They cannot be built here; at least they parse and name what the build produces."""
    with (PACKAGING / "macos" / "Info.plist").open("rb") as file:
        info = plistlib.load(file)
    assert info["CFBundleExecutable"] == "messenger"
    assert info["CFBundleIconFile"] == "messenger.icns"
    with (PACKAGING / "macos" / "org.messenger.server.plist").open("rb") as file:
        job = plistlib.load(file)
    assert job["ProgramArguments"][0].endswith("/messenger-server")
    assert job["KeepAlive"] == {"SuccessfulExit": False}
    service = ElementTree.parse(PACKAGING / "windows" / "messenger-server-service.xml").getroot()
    assert service.findtext("executable") == "%BASE%\\messenger-server.exe"
    setup = (PACKAGING / "windows" / "messenger.iss").read_text()
    assert "dist\\messenger\\*" in setup and "dist\\messenger-server\\*" in setup


def test_deb_control_recommends_a_colour_emoji_font() -> None:
    """Without one, received emoji render as boxes; docs/install.md names it elsewhere."""
    control = build.deb_control("1.2.3", "amd64", 42, ["adduser", "libc6 (>= 2.34)"])
    fields = dict(line.split(": ", 1) for line in control.splitlines() if not line.startswith(" "))
    assert fields["Depends"] == "adduser, libc6 (>= 2.34)"
    assert fields["Recommends"] == "fonts-noto-color-emoji"
    assert fields["Version"] == "1.2.3" and fields["Installed-Size"] == "42"
    install_doc = (ROOT / "docs" / "install.md").read_text()
    for package in ("fonts-noto-color-emoji", "noto-fonts-emoji", "noto-coloremoji-fonts"):
        assert package in install_doc, package


@pytest.mark.slow
def test_wheel_ships_resources_inside_messenger_gui(tmp_path: Path) -> None:
    """``pip install .`` must put resources/ at messenger_gui/resources, where
    messenger_gui.ui.resources looks in an installed wheel."""
    # Build from a copy: setuptools leaves build/lib behind, which must not go stale here.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "messenger_server", "messenger_gui", "resources"):
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("messenger-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (ROOT / "resources").rglob("*"):
        if path.suffix in {".svg", ".qm"}:
            member = "messenger_gui/resources/" + path.relative_to(ROOT / "resources").as_posix()
            assert member in names, member
    assert not any(name.startswith("resources/") for name in names)
    assert not any(name.startswith("messenger_gui/devtools/") for name in names)
    assert "messenger_gui/storage/__init__.py" in names


# --- the built bundles and installers -------------------------------------------------------


@pytest.fixture(scope="session")
def dist() -> Path:
    """The folder with a complete build of the current sources (see the module docstring)."""
    given = os.environ.get("MESSENGER_DIST_DIR")
    folder = Path(given).resolve() if given else ROOT / "dist"
    info_file = folder / "build-info.json"
    if not info_file.is_file():
        if given:
            pytest.fail(f"MESSENGER_DIST_DIR={given} has no build-info.json: run make dist")
        pytest.skip("no bundles built: run `make test-packaging`")
    info = json.loads(info_file.read_text())
    if not given and info["source_digest"] != build.source_digest():
        pytest.skip("dist/ is older than the sources: run `make test-packaging`")
    assert info["complete"], f"{folder} holds a partial build"
    assert info["version"] == project_version()
    return folder


@pytest.fixture(scope="session")
def version() -> str:
    return project_version()


@pytest.fixture
def machine_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path / "home")


def read_port(process: subprocess.Popen[str], deadline: float) -> int:
    """Wait for the server's "listening on HOST:PORT" log line and return the port."""
    assert process.stderr is not None
    lines = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"listening on [^ ]+:(\d+)", line)
        if match:
            return int(match.group(1))
    process.kill()
    raise AssertionError("the server bundle did not start:\n" + "".join(lines))


@pytest.fixture
def server_process(
    dist: Path, tmp_path: Path, machine_env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    data = tmp_path / "server-data"
    process = subprocess.Popen(
        [
            str(dist / "messenger-server" / "messenger-server"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data),
        ],
        env=machine_env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = read_port(process, time.monotonic() + 30)
        yield process, port, data
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_server_bundle_accepts_a_registration_and_stops_cleanly_on_sigterm(
    server_process: tuple[subprocess.Popen[str], int, Path],
) -> None:
    from messenger_gui.client import register_client

    process, port, data = server_process
    identity = asyncio.run(register_client("127.0.0.1", port, "Ana"))
    assert identity.client_id and identity.credential
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert (data / "messenger.db").is_file()


@pytest.mark.slow
def test_server_bundle_runs_as_a_node_of_several_on_postgresql_and_redis(
    dist: Path, tmp_path: Path, machine_env: dict[str, str], postgresql_server: PostgreSQLServer
) -> None:
    from messenger_gui.client import register_client

    redis = RedisServer(tmp_path / "redis")
    redis.start()
    dsn = asyncio.run(postgresql_server.create_schema())
    server = str(dist / "messenger-server" / "messenger-server")
    env = {
        **machine_env,
        "MESSENGER_STORAGE": "postgresql",
        "MESSENGER_DATABASE_URL": dsn,
        "MESSENGER_BUS": "redis",
        "MESSENGER_BUS_URL": redis.url,
        "MESSENGER_BLOB_DIR": str(tmp_path / "blobs"),
    }
    try:
        migrated = subprocess.run(
            [server, "migrate"], env=env, capture_output=True, text=True, timeout=60
        )
        assert migrated.returncode == 0, migrated.stderr
        process = subprocess.Popen(
            [server, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "d")],
            env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            port = read_port(process, time.monotonic() + 30)  # after "node … of several"
            identity = asyncio.run(register_client("127.0.0.1", port, "Ana"))
            assert identity.client_id
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    finally:
        redis.stop()
        asyncio.run(postgresql_server.drop_schema(dsn))


@pytest.mark.slow
def test_server_bundle_reports_the_project_version(
    dist: Path, version: str, machine_env: dict[str, str]
) -> None:
    result = subprocess.run(
        [str(dist / "messenger-server" / "messenger-server"), "--version"],
        env=machine_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == f"messenger-server {version}"


@pytest.mark.slow
def test_app_bundle_passes_its_self_test_offscreen(dist: Path, machine_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(dist / "messenger" / "messenger"), "--self-test"],
        env={**machine_env, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test" in result.stdout


@pytest.mark.slow
def test_app_bundle_has_no_developer_tools(dist: Path) -> None:
    """The frozen app's module archive holds the product, not ``messenger_gui.devtools``."""
    readers = pytest.importorskip("PyInstaller.archive.readers")
    archive = readers.CArchiveReader(str(dist / "messenger" / "messenger"))
    (pyz,) = [name for name in archive.toc if name.endswith(".pyz")]
    modules = set(archive.open_embedded_archive(pyz).toc)
    assert "messenger_gui.app" in modules and "messenger_gui.storage" in modules
    assert not [m for m in modules if m == DEVTOOLS or m.startswith(DEVTOOLS + ".")]


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    """A real X server (Xvfb) on a free display number."""
    xvfb = need_tool("Xvfb")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    try:
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def visible_app_windows(display: str) -> list[str]:
    """Titles of the viewable top-level windows whose WM_CLASS is the app's ("messenger")."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    titles = []
    for match in re.finditer(r'^\s+(0x[0-9a-f]+) "([^"]*)": \("messenger" ', tree, re.MULTILINE):
        window, title = match.groups()
        info = subprocess.run(
            ["xwininfo", "-id", window],
            env={**os.environ, "DISPLAY": display},
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        if "Map State: IsViewable" in info:
            titles.append(title)
    return titles


@pytest.mark.slow
def test_app_bundle_shows_its_window_on_a_real_x_server(
    dist: Path,
    tmp_path: Path,
    machine_env: dict[str, str],
    x_display: str,
    server_process: tuple[subprocess.Popen[str], int, Path],
) -> None:
    """Offscreen hides missing system libraries (xcb, EGL, fonts); a real X server does not."""
    need_tool("xwininfo")
    _, port, _ = server_process
    log = tmp_path / "app.log"
    with log.open("w") as log_file:
        app = subprocess.Popen(
            [
                str(dist / "messenger" / "messenger"),
                "--data-dir",
                str(tmp_path / "profile"),
                "--server",
                f"127.0.0.1:{port}",
            ],
            env={**machine_env, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb"},
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        titles: list[str] = []
        deadline = time.monotonic() + 30
        while not titles and app.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
            titles = visible_app_windows(x_display)
        assert app.poll() is None, f"the app exited with {app.returncode}:\n{log.read_text()}"
        assert titles, f"no visible window within 30 s:\n{log.read_text()}"
    finally:
        app.terminate()
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
    assert "could not load the Qt platform plugin" not in log.read_text()


def deb_path(dist: Path, version: str) -> Path:
    debs = sorted(dist.glob(f"messenger_{version}_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def deb_field(deb: Path, field: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "--field", str(deb), field], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.mark.slow
def test_deb_installs_app_menu_entry_icons_server_and_service(dist: Path, version: str) -> None:
    need_tool("dpkg-deb")
    deb = deb_path(dist, version)
    info = subprocess.run(
        ["dpkg-deb", "--info", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for part in ("Package: messenger", f"Version: {version}", "conffiles", "postinst", "prerm"):
        assert part in info, part
    listing = subprocess.run(
        ["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    paths = {line.split()[5].lstrip(".") for line in listing.splitlines()}
    for path in (
        "/usr/bin/messenger",
        "/usr/bin/messenger-server",
        "/usr/lib/messenger/messenger/messenger",
        "/usr/lib/messenger/messenger-server/messenger-server",
        "/usr/share/applications/messenger.desktop",
        "/usr/share/icons/hicolor/scalable/apps/messenger.svg",
        "/lib/systemd/system/messenger-server.service",
        "/etc/messenger/server.toml",
        *(f"/usr/share/icons/hicolor/{size}/apps/messenger.png" for size in HICOLOR_SIZES),
    ):
        assert path in paths, path
    assert all(" root/root " in line for line in listing.splitlines())
    control = subprocess.run(
        ["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    postinst = subprocess.run(
        ["tar", "-xOf", "-", "./postinst"], input=control, capture_output=True, check=True
    ).stdout.decode()
    assert "adduser --system" in postinst and "/var/lib/messenger" in postinst
    assert deb_field(deb, "Recommends") == "fonts-noto-color-emoji"


def installed_closure(packages: set[str]) -> set[str]:
    """``packages`` and everything they depend on, among the installed packages."""
    seen: set[str] = set()
    todo = list(packages)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        result = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Depends},${Pre-Depends}", name],
            capture_output=True,
            text=True,
        )
        for alternative in re.split(r"[,|]", result.stdout):
            dep = alternative.strip().split(" ")[0].split(":")[0]
            if dep:
                todo.append(dep)
    return seen


def ldd_system_libraries(bundle: Path) -> dict[str, str]:
    """System library paths the bundle's ELF files load (ldd), as the bootloader runs them."""
    internal = bundle / "_internal"
    env = {
        **os.environ,
        "LD_LIBRARY_PATH": f"{internal}:{internal / 'PySide6' / 'Qt' / 'lib'}",
    }
    found: dict[str, str] = {}
    missing: list[str] = []
    for elf in build.elf_files(bundle):
        out = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, env=env).stdout
        for line in out.splitlines():
            if "=> not found" in line:
                missing.append(f"{line.split()[0]} (for {elf.relative_to(bundle)})")
            match = re.match(r"\s*(\S+) => (/\S+)", line)
            if match and not match.group(2).startswith(str(bundle)):
                found.setdefault(match.group(1), match.group(2))
    assert not missing, "libraries not found: " + ", ".join(missing)
    return found


@pytest.mark.slow
def test_deb_depends_on_every_system_library_the_bundles_load(dist: Path, version: str) -> None:
    """Derived independently of the build: ldd over every ELF file, dpkg -S on each system
    library; each owning package must be a Depends or come with one."""
    need_tool("dpkg-deb")
    deb = deb_path(dist, version)
    depends = {
        entry.strip().split(" ")[0] for entry in deb_field(deb, "Depends").split(",") if entry
    }
    provided = installed_closure(depends)
    shipped = {
        f.name for bundle in ("messenger", "messenger-server") for f in (dist / bundle).rglob("*")
    }
    uncovered = {}
    for bundle in ("messenger", "messenger-server"):
        for soname, path in ldd_system_libraries(dist / bundle).items():
            if soname in shipped:
                continue
            package = build.owning_package(path)
            assert package is not None, f"{path} belongs to no package"
            package = package.split(":")[0]
            if package not in provided:
                uncovered[soname] = package
    assert uncovered == {}, f"Depends misses: {uncovered}"


@pytest.mark.slow
def test_build_deps_name_every_system_library_the_bundled_qt_links_against(
    dist: Path, version: str
) -> None:
    """The build needs each such library installed (PyInstaller copies it, or the .deb's
    Depends names its package): a new one must go into packaging/build_deps.py, which
    installs it or names it before the build starts, instead of failing a packager's build
    after minutes of PyInstaller."""
    internal = dist / "messenger" / "_internal"
    qt_folders = [internal / "PySide6", internal / "shiboken6"]
    qt_files = {f.name for folder in qt_folders for f in folder.rglob("*")}
    system = build.system_library_paths()
    unlisted = {}
    for elf in (elf for folder in qt_folders for elf in build.elf_files(folder)):
        for soname in build.needed_libraries(elf):
            if soname in qt_files or soname in build_deps.LIBRARY_PACKAGES:
                continue
            owners = {build.owning_package(path) for path in system.get(soname, [])}
            if owners != {"libc6"}:  # glibc: every system has it, Depends gives its version
                unlisted[soname] = sorted(map(str, owners))
    assert unlisted == {}, "add to LIBRARY_PACKAGES in packaging/build_deps.py"
    wrong = {}
    for soname, package in build_deps.LIBRARY_PACKAGES.items():
        owners = {build.owning_package(path) for path in system.get(soname, [])}
        if owners and package not in owners and package + "t64" not in owners:
            wrong[soname] = (package, sorted(map(str, owners)))
    assert wrong == {}, "LIBRARY_PACKAGES names the wrong package"
    need_tool("dpkg-deb")
    depends = {
        e.strip().split(" ")[0] for e in deb_field(deb_path(dist, version), "Depends").split(",")
    }
    assert depends - {"libc6", *build.BASE_DEPENDS} <= set(build_deps.BUILD_PACKAGES)


def extract_tarball(dist: Path, prefix: str, into: Path) -> Path:
    (archive,) = sorted(dist.glob(f"{prefix}-[0-9]*-linux-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")
    (folder,) = [p for p in into.iterdir() if p.is_dir()]
    return folder


@pytest.mark.slow
def test_app_tarball_install_sh_adds_the_app_to_the_users_menu_and_uninstalls(
    dist: Path, tmp_path: Path, machine_env: dict[str, str], version: str
) -> None:
    folder = extract_tarball(dist, "messenger", tmp_path / "unpacked")
    home = Path(machine_env["HOME"])

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], env=machine_env, capture_output=True, text=True, timeout=120
        )

    result = run(folder / "install.sh", "--user")
    assert result.returncode == 0, result.stderr
    share = home / ".local" / "share"
    desktop = share / "applications" / "messenger.desktop"
    exec_line = next(x for x in desktop.read_text().splitlines() if x.startswith("Exec="))
    program = Path(exec_line.removeprefix("Exec="))
    assert program.is_absolute() and os.access(program, os.X_OK)
    for size in HICOLOR_SIZES:
        assert (share / "icons" / "hicolor" / size / "apps" / "messenger.png").is_file()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True)
        assert check.returncode == 0, check.stdout
    launcher = home / ".local" / "bin" / "messenger"
    shown = run(launcher, "--version")
    assert shown.stdout.strip() == f"messenger {version}"

    removed = run(folder / "install.sh", "--user", "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not desktop.exists() and not launcher.exists() and not program.exists()


@pytest.mark.slow
def test_server_tarball_install_sh_installs_for_a_user_without_a_service(
    dist: Path, tmp_path: Path, machine_env: dict[str, str], version: str
) -> None:
    folder = extract_tarball(dist, "messenger-server", tmp_path / "unpacked")
    assert {"messenger-server.service", "server.toml", "install.sh"} <= {
        p.name for p in folder.iterdir()
    }
    home = Path(machine_env["HOME"])

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], env=machine_env, capture_output=True, text=True, timeout=120
        )

    result = run(folder / "install.sh", "--user")
    assert result.returncode == 0, result.stderr
    launcher = home / ".local" / "bin" / "messenger-server"
    assert run(launcher, "--version").stdout.strip() == f"messenger-server {version}"
    assert run(folder / "install.sh", "--user", "--uninstall").returncode == 0
    assert not launcher.exists()
