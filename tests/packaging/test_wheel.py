"""The packaging test: `python -m build` makes the sdist and, from it, the wheel; the wheel alone,
installed into a new venv the way a user installs roster (`pip install roster-*.whl`, without the
`postgres` extra), creates a workspace, loads the demo, serves and answers /readyz, and names the
missing driver in one line when given a PostgreSQL URL (docs/operations.md "Installing from a
wheel"). It builds and installs for real: pip fetches the dependencies from the package index
(its cache keeps that quick after the first run)."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.cli.test_config_errors import refusal
from tests.server import RunningRoster, run_roster

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "roster"


def _run(*command: str | Path, timeout: float) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder `python -m build` wrote the sdist and the wheel to."""
    folder = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", folder, ROOT, timeout=240)
    return folder


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (found,) = dist.glob("roster-*.whl")
    return found


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A new venv with the wheel installed and nothing else of the developer's: its bin folder."""
    folder = tmp_path_factory.mktemp("venv")
    # This pip installs into the new venv (--python): the same install as the venv's own pip
    # would make, without the seconds that putting pip into it and compiling every module take.
    _run(sys.executable, "-m", "venv", "--without-pip", folder, timeout=120)
    _run(
        sys.executable, "-m", "pip", "--python", folder / "bin" / "python",
        "install", "--quiet", "--no-compile", wheel,
        timeout=240,
    )  # fmt: skip
    return folder / "bin"


def _package_files() -> set[str]:
    """Every file of the package as the wheel names it (roster/...), compiled files aside."""
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_file_of_the_package_with_the_migrations(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    assert _package_files() <= names, sorted(_package_files() - names)
    # What alembic needs to find and run the migrations from an installed copy.
    assert "roster/storage/migrations/env.py" in names
    assert "roster/storage/migrations/script.py.mako" in names
    assert any(name.startswith("roster/storage/migrations/versions/0001_") for name in names)


def test_the_sdist_carries_the_package_the_tests_and_the_docs(dist: Path) -> None:
    (sdist,) = dist.glob("roster-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}

    assert {f"src/{name}" for name in _package_files()} <= names
    assert {"pyproject.toml", "README.md", "docs/operations.md", "tests/conftest.py"} <= names


def test_the_wheel_declares_postgresqls_driver_as_an_extra_only(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]

    # The dev extra names roster[postgres], which the build spells out as psycopg itself.
    psycopg = [line.replace('"', "'") for line in requires if line.startswith("psycopg")]
    assert all("; extra == " in line for line in psycopg), psycopg
    assert any(line.endswith("; extra == 'postgres'") for line in psycopg), psycopg


# Declared for uvicorn to pick by itself (its "auto" event loop and HTTP parser), and for
# Starlette's request.form() (the web UI's forms), not imported by roster itself.
PICKED_BY_UVICORN = {"uvloop", "httptools", "python-multipart"}


def _normal(distribution: str) -> str:
    """A distribution's name as PyPI compares them (PEP 503): prometheus_client is
    prometheus-client."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def test_every_runtime_dependency_is_imported_by_the_package() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {_normal(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0]) for line in declared}
    imported: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    providers = importlib.metadata.packages_distributions()
    used = {_normal(dist) for module in imported for dist in providers.get(module, [])}

    assert names - PICKED_BY_UVICORN - used == set(), "declared but never imported"


# Every module of the installed package imports with the runtime dependencies alone, but these:
# alembic loads the migration scripts itself, and roster.testing is for test suites (its pytest
# plugin is loaded by pytest, which such a suite has).
IMPORTED_BY_OTHERS = ("roster.storage.migrations", "roster.testing")
IMPORT_EVERY_MODULE = f"""
import importlib, importlib.util, pkgutil, roster
print(roster.__file__, importlib.util.find_spec("psycopg") is None)
for module in pkgutil.walk_packages(roster.__path__, "roster."):
    if not module.name.startswith({IMPORTED_BY_OTHERS!r}):
        importlib.import_module(module.name)
"""


def test_the_installed_wheel_imports_every_module_from_its_own_venv_without_psycopg(
    venv: Path,
) -> None:
    done = _run(venv / "python", "-c", IMPORT_EVERY_MODULE, timeout=60)
    location, no_psycopg = done.stdout.split()

    assert Path(location).is_relative_to(venv.parent), location
    assert no_psycopg == "True"


def test_the_installed_wheel_creates_a_workspace_loads_the_demo_and_serves_it(
    venv: Path, tmp_path: Path
) -> None:
    roster = venv / "roster"
    database_url = f"sqlite:///{tmp_path / 'roster.db'}"
    data_dir = tmp_path / "data"

    created = run_roster(
        "workspaces", "create", "shop", "--json", "--database-url", database_url,
        data_dir=data_dir, roster=roster,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    assert json.loads(created.stdout)["name"] == "shop"

    loaded = run_roster(
        "demo", "--database-url", database_url, data_dir=data_dir, roster=roster, timeout=120
    )
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    assert "Loaded" in loaded.stdout

    demo = json.loads((data_dir / "demo.json").read_text())
    with RunningRoster(database_url, data_dir, credentials=demo, roster=roster) as server:
        ready = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        with server.app_api() as app:
            assert app.must("user-1")["identifiers"]["id"] == "user-1"


def test_the_installed_wheel_names_the_missing_postgresql_driver_in_one_line(
    venv: Path, tmp_path: Path
) -> None:
    roster = venv / "roster"
    url = "postgresql://roster@127.0.0.1:5432/roster"

    for command in (("serve",), ("workspaces", "list")):
        done = run_roster(
            *command, "--database-url", url, data_dir=tmp_path / "data", roster=roster
        )
        line = refusal(done)
        assert "PostgreSQL needs its driver, psycopg, which is not installed" in line
        assert "pip install 'roster[postgres]'" in line
