"""A throw-away PostgreSQL cluster from Debian's server binaries, for tests and benchmarks.

``initdb`` and the server refuse to run as root, and CI and this machine run as
root: so the cluster runs as the unprivileged ``postgres`` user (``runuser``) in
a temporary directory it owns, listening on a unix socket there (and, when asked,
on a loopback port with TLS). ``stop`` and ``remove`` leave nothing behind.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = "sudo apt-get install postgresql (Debian's server binaries: initdb, pg_ctl)"


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin that has initdb and pg_ctl."""
    found = []
    for candidate in glob.glob("/usr/lib/postgresql/*/bin"):
        path = Path(candidate)
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            try:
                found.append((int(path.parent.name.split(".")[0]), path))
            except ValueError:
                continue
    return max(found)[1] if found else None


def unavailable_reason() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if find_bindir() is None:
        return f"PostgreSQL server binaries not found; install them with: {INSTALL_HINT}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return (
                f"running as root and there is no 'postgres' user to run the server: {INSTALL_HINT}"
            )
    return None


@dataclass
class PgCluster:
    base: Path
    port: int = 5432
    tcp: bool = False
    """Also listen on 127.0.0.1:port."""
    durable: bool = False
    """fsync as in production (benchmarks); tests throw the data away and skip it."""
    ssl: tuple[Path, Path] | None = None
    """(certificate, key) for TLS on the loopback port."""
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    bindir: Path = field(default_factory=lambda: find_bindir() or Path("/nonexistent"))

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base / "sock"

    def _as_server_user(self, *cmd: str) -> subprocess.CompletedProcess[str]:
        argv = list(cmd)
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300)

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def init(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o755)
        self.socket_dir.mkdir(exist_ok=True)
        self._own(self.socket_dir)
        pwfile = self.base / "pw"
        pwfile.write_text(self.password + "\n")
        os.chmod(pwfile, 0o600)
        self._own(pwfile)
        self.data.mkdir(mode=0o700)
        self._own(self.data)
        done = self._as_server_user(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")
        self.configure()

    def configure(self) -> None:
        lines = [
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            f"listen_addresses = '{'127.0.0.1' if self.tcp else ''}'",
            "max_connections = 120",
            "shared_buffers = 256MB",
            "log_min_messages = warning",
        ]
        if not self.durable:
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        if self.ssl:
            cert, key = self.ssl
            for src, name in ((cert, "server.crt"), (key, "server.key")):
                dst = self.data / name
                shutil.copyfile(src, dst)
                os.chmod(dst, 0o600)
                self._own(dst)
            lines += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
        auto = self.data / "postgresql.auto.conf"
        auto.write_text("\n".join(lines) + "\n")
        self._own(auto)

    def start(self) -> None:
        done = self._as_server_user(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"),
            "-w", "-t", "120", "start",
        )  # fmt: skip
        if done.returncode != 0:
            log = (self.data / "log").read_text() if (self.data / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stdout}{done.stderr}{log}")

    def stop(self) -> None:
        self._as_server_user(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
        )

    def running(self) -> bool:
        done = self._as_server_user(str(self.bindir / "pg_ctl"), "-D", str(self.data), "status")
        return done.returncode == 0

    def remove(self) -> None:
        if self.data.exists() and self.running():
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def conninfo(
        self, dbname: str = "postgres", user: str = "postgres", password: str | None = None
    ) -> str:
        pw = self.password if password is None else password
        return f"host={self.socket_dir} port={self.port} dbname={dbname} user={user} password={pw}"


def new_cluster(prefix: str = "kiosk-pg-", **kwargs: object) -> PgCluster:
    """A cluster in a fresh directory under /tmp (tmp_path is root-only: the server cannot use it)."""
    base = Path(tempfile.mkdtemp(prefix=prefix))
    cluster = PgCluster(base, **kwargs)  # type: ignore[arg-type]
    cluster.init()
    return cluster
