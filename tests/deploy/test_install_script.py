"""deploy/install.sh against a throwaway root, with recording doubles for the system commands.

What runs for real: bash, the script, python -m venv, pip install of this
checkout, compileall, systemctl --root (enabling units is only symlinks), and
the installed ``kiosk backup`` before an upgrade. What is a double: the
commands that would change this machine's users or packages (groupadd,
useradd, usermod, userdel, chown, apt-get, raspi-config, runuser); each one
records its call, and the user/group ones edit the throwaway root's
/etc/passwd and /etc/group the way the real ones would.

pip installs the checkout without dependencies and offline; the dependencies
are taken from this test's own environment through PYTHONPATH, so the
installed ``kiosk`` command can run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from kiosk.settings import load_settings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "deploy" / "install.sh"
UNITS = [
    "kiosk.service",
    "kiosk-touch.service",
    "kiosk-sync.service",
    "kiosk-sync.timer",
    "kiosk-backup.service",
    "kiosk-backup.timer",
    "kiosk-web.service",
]

DOUBLES = {
    "groupadd": """
        echo "groupadd $*" >> "$CALLS"
        for last; do :; done
        echo "$last:x:990:" >> "$ROOT/etc/group"
    """,
    "useradd": """
        echo "useradd $*" >> "$CALLS"
        for last; do :; done
        echo "$last:x:990:990::/var/lib/kiosk:/usr/sbin/nologin" >> "$ROOT/etc/passwd"
    """,
    "userdel": """
        echo "userdel $*" >> "$CALLS"
        for last; do :; done
        sed -i "/^$last:/d" "$ROOT/etc/passwd"
    """,
    "usermod": 'echo "usermod $*" >> "$CALLS"',
    "chown": 'echo "chown $*" >> "$CALLS"',
    "apt-get": 'echo "apt-get $*" >> "$CALLS"',
    "raspi-config": 'echo "raspi-config $*" >> "$CALLS"',
    # Runs the command as this user (the test cannot switch to a "kiosk" user).
    "runuser": """
        echo "runuser $*" >> "$CALLS"
        while [ "$1" != "--" ]; do shift; done
        shift
        exec "$@"
    """,
}


class Installer:
    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "root"
        self.bin = tmp / "bin"
        self.calls_file = tmp / "calls.log"
        self.bin.mkdir()
        for name, body in DOUBLES.items():
            path = self.bin / name
            path.write_text("#!/bin/sh\n" + body.strip() + "\n")
            path.chmod(0o755)
        (self.root / "etc").mkdir(parents=True)
        (self.root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
        (self.root / "etc/group").write_text("root:x:0:\ninput:x:101:\n")
        boot = self.root / "boot/firmware"
        boot.mkdir(parents=True)
        (boot / "config.txt").write_text("[all]\n#dtparam=i2c_arm=on\n#dtparam=spi=on\n")
        (boot / "cmdline.txt").write_text(
            "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 rootwait\n"
        )

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.root.parent),
            "ROOT": str(self.root),
            "CALLS": str(self.calls_file),
            "PYTHON": getattr(sys, "_base_executable", sys.executable),
            "KIOSK_PIP_ARGS": "--no-deps --no-build-isolation --no-index",
            "PYTHONPATH": sysconfig.get_paths()["purelib"],
            "PIP_NO_CACHE_DIR": "1",
            **extra,
        }
        return subprocess.run(
            ["bash", str(INSTALL), *args], env=env, capture_output=True, text=True, timeout=300
        )

    def calls(self) -> list[str]:
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text().splitlines()

    def path(self, p: str) -> Path:
        return self.root / p.lstrip("/")

    def release(self, link: str = "opt/kiosk/venv") -> str:
        return Path(os.readlink(self.path(link))).parent.name

    def kiosk_python(self, code: str) -> str:
        env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
        env.pop("VIRTUAL_ENV", None)
        return subprocess.run(
            [str(self.path("opt/kiosk/venv/bin/python")), "-c", code],
            env=env,
            cwd=self.root,  # not the checkout: its kiosk/ would be imported instead
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()


def enabled(inst: Installer, target: str, unit: str) -> bool:
    return inst.path(f"etc/systemd/system/{target}.wants/{unit}").is_symlink()


@pytest.fixture
def inst(tmp_path: Path) -> Installer:
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is missing: apt-get install systemd (CI: add it to .ci/run)")
    return Installer(tmp_path)


def test_install_upgrade_rollback_uninstall(inst: Installer) -> None:
    # --- first install -----------------------------------------------------------------
    first = inst.run()
    assert first.returncode == 0, first.stderr + first.stdout
    for unit in UNITS:
        installed = inst.path(f"etc/systemd/system/{unit}")
        assert installed.read_text() == (REPO / "systemd" / unit).read_text()
    assert inst.path("etc/kiosk/kiosk.toml").read_text() == (REPO / "deploy/kiosk.toml").read_text()
    assert inst.path("etc/kiosk/foot.ini").is_file()
    assert inst.path("etc/pam.d/kiosk-touch").is_file()
    assert inst.path("opt/kiosk/docs/install-pi.md").is_file()
    wrapper = inst.path("usr/local/bin/kiosk")
    assert os.access(wrapper, os.X_OK) and "runuser -u kiosk" in wrapper.read_text()

    rel1 = inst.release()
    kiosk_bin = inst.path("opt/kiosk/venv/bin/kiosk")
    assert os.access(kiosk_bin, os.X_OK)
    # The installed copy is what runs, not this checkout; and its bytecode is there.
    where = os.path.realpath(inst.kiosk_python("import kiosk.cli; print(kiosk.cli.__file__)"))
    assert where.startswith(str(inst.path("opt/kiosk/releases"))), where
    pycache = Path(where).parent / "__pycache__"
    assert list(pycache.glob("cli.*.pyc")) and list(pycache.glob("backup.*.pyc"))

    config = inst.path("boot/firmware/config.txt").read_text()
    assert config.splitlines().count("dtparam=spi=on") == 1 and "#dtparam=spi=on" not in config
    cmdline = inst.path("boot/firmware/cmdline.txt").read_text()
    assert cmdline.count("\n") == 1 and cmdline.rstrip().endswith("rootwait consoleblank=0")
    assert "reboot the Pi" in first.stdout

    assert enabled(inst, "multi-user.target", "kiosk.service")
    assert enabled(inst, "timers.target", "kiosk-sync.timer")
    assert enabled(inst, "timers.target", "kiosk-backup.timer")
    assert not enabled(inst, "multi-user.target", "kiosk-touch.service")

    groups = inst.path("etc/group").read_text()
    assert all(f"\n{g}:" in groups for g in ("spi", "gpio", "kiosk"))
    assert groups.count("\ninput:") == 1, "an existing group is not created again"
    calls = inst.calls()
    assert any(c.startswith("useradd --system --root") and c.endswith(" kiosk") for c in calls)
    assert any("--groups spi,gpio,input" in c for c in calls if c.startswith("useradd"))
    assert not any(c.startswith(("apt-get", "raspi-config", "runuser")) for c in calls), calls

    # --- the school edits its settings and uses the kiosk ---------------------------------
    toml = inst.path("etc/kiosk/kiosk.toml")
    toml.write_text(toml.read_text().replace("Our Primary School", "Cam Woodfield Junior"))
    db = inst.path("var/lib/kiosk/kiosk.db")
    inst.kiosk_python(
        "from kiosk.db import Staff, open_database, write\n"
        f"db = open_database({str(db)!r})\n"
        "with write(db):\n"
        "    Staff.create(staff_id='S1', name='Amira Khan')\n"
    )

    # --- upgrade in place, switching to the touch screen ----------------------------------
    inst.calls_file.unlink()
    second = inst.run("--touch")
    assert second.returncode == 0, second.stderr + second.stdout
    rel2 = inst.release()
    assert rel2 != rel1
    assert inst.release("opt/kiosk/previous") == rel1
    assert "Cam Woodfield Junior" in toml.read_text(), "settings are kept"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT name FROM staff").fetchall() == [("Amira Khan",)]
    conn.close()
    before = list(inst.path("var/lib/kiosk/backups/before-upgrade").glob("kiosk-*.db"))
    assert len(before) == 1, "the database was backed up before the upgrade"
    assert inst.path("boot/firmware/config.txt").read_text().count("dtparam=spi=on") == 1
    assert inst.path("boot/firmware/cmdline.txt").read_text().count("consoleblank=0") == 1
    assert enabled(inst, "multi-user.target", "kiosk-touch.service")
    assert not enabled(inst, "multi-user.target", "kiosk.service")
    calls = inst.calls()
    assert not any(c.startswith("useradd") for c in calls), "the user already exists"
    assert any(c.startswith("usermod") and "spi,gpio,input,video,render" in c for c in calls)
    groups = inst.path("etc/group").read_text()
    assert "\nvideo:" in groups and "\nrender:" in groups
    assert sorted(p.name for p in inst.path("etc/systemd/system").glob("kiosk*")) == sorted(UNITS)

    # An upgrade without --touch keeps the touch screen.
    third = inst.run("--no-start")
    assert third.returncode == 0, third.stderr
    rel3 = inst.release()
    assert enabled(inst, "multi-user.target", "kiosk-touch.service")
    assert inst.release("opt/kiosk/previous") == rel2
    assert sorted(p.name for p in inst.path("opt/kiosk/releases").iterdir()) == sorted(
        {rel1, rel2, rel3}
    )

    # A fourth install: only the newest three releases are kept.
    assert inst.run("--no-start").returncode == 0
    rel4 = inst.release()
    assert sorted(p.name for p in inst.path("opt/kiosk/releases").iterdir()) == sorted(
        {rel2, rel3, rel4}
    )

    # --- roll back, and forward again ---------------------------------------------------
    back = inst.run("--rollback")
    assert back.returncode == 0, back.stderr
    assert inst.release() == rel3 and inst.release("opt/kiosk/previous") == rel4
    assert inst.run("--rollback").returncode == 0
    assert inst.release() == rel4

    # --- uninstall keeps the data; purge removes it -----------------------------------------
    gone = inst.run("--uninstall")
    assert gone.returncode == 0, gone.stderr
    for unit in UNITS:
        assert not inst.path(f"etc/systemd/system/{unit}").exists()
    assert not inst.path("etc/systemd/system/multi-user.target.wants/kiosk-touch.service").exists()
    assert not inst.path("etc/systemd/system/timers.target.wants/kiosk-sync.timer").exists()
    assert not inst.path("opt/kiosk").exists()
    assert not inst.path("usr/local/bin/kiosk").exists()
    assert not inst.path("etc/pam.d/kiosk-touch").exists()
    assert db.is_file() and toml.is_file()
    assert "kiosk:" in inst.path("etc/passwd").read_text()

    purge = inst.run("--uninstall", "--purge")
    assert purge.returncode == 0, purge.stderr
    assert not inst.path("var/lib/kiosk").exists()
    assert not inst.path("etc/kiosk").exists()
    assert "kiosk:" not in inst.path("etc/passwd").read_text()


def test_a_failed_build_leaves_the_installed_version_running(inst: Installer) -> None:
    result = inst.run("--no-start", RASPI_CONFIG=str(inst.bin / "raspi-config"))
    assert result.returncode == 0, result.stderr
    # raspi-config, when there is one, enables SPI (and config.txt is left to it).
    assert "raspi-config nonint do_spi 0" in inst.calls()
    assert "#dtparam=spi=on" in inst.path("boot/firmware/config.txt").read_text()
    rel = inst.release()
    # Offline, with none of the build tools or dependencies to hand: pip fails.
    broken = inst.run("--no-start", KIOSK_PIP_ARGS="--no-index", PYTHONPATH="")
    assert broken.returncode != 0
    assert "installed version was not changed" in broken.stderr
    assert inst.release() == rel
    assert [p.name for p in inst.path("opt/kiosk/releases").iterdir()] == [rel]


def test_bad_options_are_refused(inst: Installer) -> None:
    result = inst.run("--fast")
    assert result.returncode == 1 and "unknown option --fast" in result.stderr
    result = inst.run("--purge")
    assert result.returncode == 1 and "--purge only goes with --uninstall" in result.stderr
    result = inst.run("--rollback")
    assert result.returncode == 1 and "no previous version" in result.stderr
    assert not inst.path("opt").exists()


def test_the_web_board_with_a_certificate_for_the_pi(inst: Installer) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is missing: apt-get install openssl")
    plain = inst.run("--no-start")
    assert plain.returncode == 0, plain.stderr
    assert not enabled(inst, "multi-user.target", "kiosk-web.service"), "only when asked for"
    first = inst.run("--no-start", "--web-tls=kiosk.school.example")
    assert first.returncode == 0, first.stderr + first.stdout
    assert enabled(inst, "multi-user.target", "kiosk-web.service")
    cert, key = inst.path("etc/kiosk/web-cert.pem"), inst.path("etc/kiosk/web-key.pem")
    assert oct(key.stat().st_mode & 0o777) == "0o640"
    text = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-text"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "DNS:kiosk.school.example" in text and "TLS Web Server Authentication" in text
    assert any(c.startswith("chown root:kiosk") and "web-key.pem" in c for c in inst.calls())
    toml = inst.path("etc/kiosk/kiosk.toml")
    settings = load_settings(toml, env={}, required=True)
    assert (settings.web.listen, settings.web.port) == ("0.0.0.0", 8443)
    assert settings.web.tls_cert == Path("/etc/kiosk/web-cert.pem")
    assert "Made a certificate for kiosk.school.example" in first.stdout
    # Again (an upgrade): the certificate and the settings are kept, not made twice.
    before = cert.read_bytes()
    again = inst.run("--no-start", "--web-tls=kiosk.school.example")
    assert again.returncode == 0, again.stderr
    assert cert.read_bytes() == before and "Kept the web certificate" in again.stdout
    assert toml.read_text().count("\n[web]\n") == 1
    assert "has a [web] section" in again.stdout


@pytest.mark.parametrize("name", ["bad name", "-x", "kiosk;reboot"])
def test_a_bad_certificate_name_is_refused_before_anything_is_done(
    inst: Installer, name: str
) -> None:
    result = inst.run(f"--web-tls={name}")
    assert result.returncode == 1 and "a host name like kiosk.local" in result.stderr
    assert not inst.path("opt").exists()
