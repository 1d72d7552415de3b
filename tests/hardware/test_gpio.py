"""hardware.gpio with the real lgpio and gpiozero: a working directory lgpio can write, one message.

lgpio loads on any Linux machine (only opening /dev/gpiochip* needs a Pi), so its
start-up, which makes its notification pipe in the working directory and moves the
process there, runs for real. Each case is a fresh interpreter started in a folder
it cannot write, as ``sudo kiosk hardware-check`` from ``/`` or a 0700 home is (run
as root, it first loses the capability that lets root write anywhere).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.errors import GpioUnavailable
from hardware.gpio import build_devices

ROOT = Path(__file__).resolve().parents[2]
#: Root writes anywhere through CAP_DAC_OVERRIDE: drop it (util-linux's setpriv) so a
#: 0555 folder is as unwritable to the test's process as it is to the kiosk user.
AS_A_USER = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
)


@pytest.fixture
def unwritable() -> Iterator[Path]:
    """A folder everyone may enter and no one (but root) may write; and a writable one."""
    base = Path(tempfile.mkdtemp(prefix="kiosk-gpio-test-"))
    try:
        (base / "ro").mkdir(mode=0o555)
        (base / "rw").mkdir(mode=0o777)
        base.chmod(0o755)
        (base / "rw").chmod(0o777)
        yield base
    finally:
        (base / "ro").chmod(0o755)
        subprocess.run(["rm", "-rf", str(base)], check=False)


def run(code: str, cwd: Path, **env: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter that cannot write ``cwd``; it prints a JSON object."""
    clean = {k: v for k, v in os.environ.items() if k not in ("LG_WD", "XDG_RUNTIME_DIR")}
    clean |= {"PYTHONPATH": str(ROOT), **env}
    r = subprocess.run(
        [*AS_A_USER, sys.executable, "-c", code],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    result: dict[str, object] = json.loads(r.stdout.splitlines()[-1])
    return result


PROBE = """
import json, os, sys
from hardware.gpio import lgpio_ready
workdir = lgpio_ready()
import lgpio
print(json.dumps({
    "cwd": os.getcwd(),
    "workdir": workdir,
    "lg_wd": os.environ.get("LG_WD"),
    "pipes": sorted(p for p in os.listdir(workdir) if p.startswith(".lgd-nfy")),
}))
"""


def test_lgpio_itself_fails_in_a_folder_it_cannot_write(unwritable: Path) -> None:
    """The fault being fixed, shown on the real library (so the next test can fail)."""
    code = (
        "import json\n"
        "try:\n    import lgpio\nexcept OSError as exc:\n"
        "    print(json.dumps({'failed': str(exc)}))\n"
        "else:\n    print(json.dumps({'failed': None}))\n"
    )
    assert run(code, unwritable / "ro")["failed"]


def test_an_unwritable_folder_gets_a_private_workdir_and_keeps_its_own(unwritable: Path) -> None:
    result = run(PROBE, unwritable / "ro")
    assert result["cwd"] == str(unwritable / "ro"), "lgpio moved the process; it was moved back"
    workdir = Path(str(result["workdir"]))
    assert workdir.name.startswith("kiosk-lgpio-")
    assert result["lg_wd"] is None, "children get the environment they would have had"
    assert result["pipes"], "lgpio made its notification pipe there"
    assert not workdir.exists(), "the private folder is removed when the process ends"


def test_a_writable_lg_wd_is_kept_and_relative_paths_still_work(unwritable: Path) -> None:
    rw = unwritable / "rw"
    result = run(PROBE, unwritable / "ro", LG_WD=str(rw))
    assert result["workdir"] == result["lg_wd"] == str(rw) and result["pipes"]
    # lgpio chdir()s into LG_WD; without the move back, "./kiosk.toml" would be looked
    # for in LG_WD instead of where the command was typed.
    assert result["cwd"] == str(unwritable / "ro")


def test_an_unwritable_lg_wd_is_replaced(unwritable: Path) -> None:
    result = run(PROBE, unwritable / "rw", LG_WD=str(unwritable / "ro"))
    assert Path(str(result["workdir"])).name.startswith("kiosk-lgpio-")
    assert result["pipes"]


def test_no_pin_library_is_one_message_and_no_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    model = Path("/proc/device-tree/model")
    if model.exists() and "Raspberry Pi" in model.read_text(errors="replace"):
        pytest.skip("this is a Raspberry Pi: its pins can be driven")
    from gpiozero import LED, Device

    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    monkeypatch.setattr(Device, "pin_factory", None)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with pytest.raises(GpioUnavailable) as info:
            build_devices(lambda: LED(17))
    message = str(info.value)
    assert message.startswith("no pin library could drive them (lgpio: ")
    assert "native: " in message and "\n" not in message
    assert [w for w in shown if "Falling back" in str(w.message)] == []


def test_other_warnings_still_reach_the_caller(mock_factory: object) -> None:
    def build() -> str:
        warnings.warn("something else", UserWarning, stacklevel=1)
        return "built"

    with pytest.warns(UserWarning, match="something else"):
        assert build_devices(build) == "built"


def test_a_pin_in_use_says_so(mock_factory: object) -> None:
    from gpiozero import LED

    held = LED(17)
    try:
        with pytest.raises(GpioUnavailable, match="17"):
            build_devices(lambda: LED(17))
    finally:
        held.close()
