"""The install on a Pi compiles nothing: everything it takes from PyPI for aarch64 is a wheel.

deploy/install.sh builds the kiosk's venv on Raspberry Pi OS or Debian 12 Bookworm
(aarch64, CPython 3.11, glibc 2.36) with the system's packages visible: C
extensions without ARM wheels come from apt (``FROM_APT``), everything else from
pip. This resolves that same install for that machine with pip's own resolver
(``pip install --dry-run --report``, from PyPI), wheels only: a package that would
be built from source, and so needs a compiler on the Pi, fails the check by name.

pip evaluates environment markers for the machine it runs on, not for
``--platform``; so the project's markers are evaluated here for the Pi, and the
resolved set is checked against every dependency the Pi needs, markers and
extras evaluated for the Pi too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
INSTALL_SH = (REPO / "deploy" / "install.sh").read_text()

#: Raspberry Pi OS / Debian 12 on a Pi 4 or 5, 64-bit.
PI = {
    "implementation_name": "cpython",
    "implementation_version": "3.11.2",
    "os_name": "posix",
    "platform_machine": "aarch64",
    "platform_python_implementation": "CPython",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.11.2",
    "python_version": "3.11",
    "sys_platform": "linux",
}
GLIBC_MINOR = 36
PLATFORMS = [f"manylinux_2_{n}_aarch64" for n in range(GLIBC_MINOR, 16, -1)] + [
    "manylinux2014_aarch64",
    "linux_aarch64",
]
#: C extensions with no aarch64 wheel on PyPI: deploy/install.sh installs them with apt.
FROM_APT = {"spidev": "python3-spidev", "evdev": "python3-evdev"}


def needed_on_the_pi(requirement: str, extras: frozenset[str] = frozenset()) -> bool:
    req = Requirement(requirement)
    if req.marker is None:
        return True
    return any(req.marker.evaluate({**PI, "extra": e}) for e in extras or {""})


def resolve(requirements: list[str], tmp_path: Path, *extra_args: str) -> list[dict]:
    """pip's resolution of ``requirements`` for the Pi, wheels only: the report's install list."""
    report = tmp_path / "report.json"
    args = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
    args += ["--disable-pip-version-check", "--quiet", "--report", str(report)]
    args += ["--only-binary", ":all:", "--implementation", "cp", "--python-version", "3.11"]
    args += ["--abi", "cp311", "--abi", "abi3", "--abi", "none"]
    for platform in PLATFORMS:
        args += ["--platform", platform]
    r = subprocess.run(
        [*args, *extra_args, *requirements], capture_output=True, text=True, timeout=300
    )
    if r.returncode != 0:
        missing = re.findall(r"No matching distribution found for (\S+)", r.stderr)
        if missing:
            pytest.fail(
                f"no aarch64 wheel for {', '.join(missing)}: the install on a Pi would build it "
                "from source (a compiler). Install it with apt (FROM_APT, install.sh) or pin a "
                f"version that has a wheel.\n{r.stderr}"
            )
        pytest.fail(f"pip could not resolve the install (is PyPI reachable?):\n{r.stderr}")
    return list(json.loads(report.read_text())["install"])


def project_requirements() -> list[str]:
    """The project's dependencies that apply on the Pi, without their markers."""
    out = []
    for text in PYPROJECT["project"]["dependencies"]:
        if needed_on_the_pi(text):
            req = Requirement(text)
            req.marker = None  # evaluated here for the Pi; pip would evaluate it for this machine
            out.append(str(req))
    return out


def test_the_pi_install_takes_only_wheels_from_pypi(tmp_path: Path) -> None:
    wanted = project_requirements()
    from_apt = {canonicalize_name(Requirement(r).name) for r in wanted} & set(FROM_APT)
    assert from_apt == set(FROM_APT), "FROM_APT lists a package the Pi no longer needs"
    from_pip = [r for r in wanted if canonicalize_name(Requirement(r).name) not in FROM_APT]
    installed = resolve(from_pip, tmp_path)

    by_name = {canonicalize_name(i["metadata"]["name"]): i for i in installed}
    for item in installed:
        url = item["download_info"]["url"]
        assert url.endswith(".whl"), f"{item['metadata']['name']} would be built from {url}"
    # Walk the dependencies as the Pi sees them: pip evaluated markers for this machine.
    extras: dict[str, set[str]] = {name: set() for name in by_name}
    todo = [Requirement(r) for r in from_pip]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = (name, frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        if name in FROM_APT:
            continue
        assert name in by_name, f"the Pi needs {req} but the resolution for aarch64 lacks it"
        extras[name] |= req.extras
        for dep in by_name[name]["metadata"].get("requires_dist") or []:
            if needed_on_the_pi(dep, frozenset(extras[name])):
                todo.append(Requirement(dep))
    names = set(by_name)
    assert {"textual", "peewee", "gpiozero", "requests", "lgpio"} <= names, names
    assert not names & {"rpi-gpio", "mfrc522"}, "these are installed with --no-deps, apart"


def test_the_no_deps_step_and_the_build_backend_are_wheels_too(tmp_path: Path) -> None:
    no_deps = [
        line.split("#")[0].strip()
        for line in (REPO / "deploy" / "no-deps.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert "mfrc522==0.0.7" in no_deps
    (tmp_path / "a").mkdir()
    installed = resolve(no_deps, tmp_path / "a", "--no-deps")
    assert [i["download_info"]["url"].endswith(".whl") for i in installed] == [True] * len(no_deps)
    (tmp_path / "b").mkdir()
    backend = resolve(list(PYPROJECT["build-system"]["requires"]), tmp_path / "b")
    assert all(i["download_info"]["url"].endswith(".whl") for i in backend)


def test_install_sh_installs_from_apt_what_pip_must_not_build() -> None:
    (line,) = [x for x in INSTALL_SH.splitlines() if x.startswith("APT_PACKAGES=(")]
    for package in FROM_APT.values():
        assert package in line.strip("()").split("(")[1].split(), (
            f"install.sh must apt-get install {package}"
        )
    assert re.search(r"--no-deps -r \"\$SRC/deploy/no-deps.txt\"", INSTALL_SH)


def _debian_upstream(version: str) -> str:
    """'1.6.1+dfsg-1+b2' -> '1.6.1'; '1:2.0-3' -> '2.0'."""
    version = version.split(":", 1)[-1].rsplit("-", 1)[0]
    return re.split(r"[+~]", version, maxsplit=1)[0]


@pytest.mark.parametrize("name", sorted(FROM_APT))
def test_the_apt_package_satisfies_the_project(name: str) -> None:
    """Too old a python3-... from apt, and pip would fetch the source and compile it."""
    if shutil.which("apt-cache") is None:
        pytest.skip("no apt-cache here: not a Debian system, nothing to compare")
    out = subprocess.run(
        ["apt-cache", "policy", FROM_APT[name]], capture_output=True, text=True, check=False
    ).stdout
    candidate = re.search(r"Candidate: (\S+)", out)
    if candidate is None or candidate.group(1) == "(none)":
        pytest.skip(f"apt knows no {FROM_APT[name]} here (apt-get update has not been run)")
    (spec,) = [Requirement(r) for r in project_requirements() if Requirement(r).name == name]
    version = _debian_upstream(candidate.group(1))
    assert spec.specifier.contains(Version(version)), f"{FROM_APT[name]} {version} vs {spec}"


def test_markers_are_exact_machine_names() -> None:
    """`platform_machine in 'aarch64 armv7l'` is a substring test: it misses armv8l, matches 'arm'."""
    for requirement in PYPROJECT["project"]["dependencies"]:
        marker = Requirement(requirement).marker
        assert marker is None or " in " not in str(marker), requirement
    spidev = next(r for r in PYPROJECT["project"]["dependencies"] if r.startswith("spidev"))
    for machine, wanted in (
        ("aarch64", True),
        ("armv7l", True),
        ("armv8l", True),
        ("armv6l", True),
        ("x86_64", False),
        ("arm", False),
    ):
        env = {**PI, "platform_machine": machine}
        assert Marker(str(Requirement(spidev).marker)).evaluate(env) is wanted, machine
