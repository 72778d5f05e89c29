"""A throw-away PostgreSQL server for the tests, started for real.

It is installed from the distribution's packages when missing, runs on a free
loopback port with its own data folder, and is removed after the test session.
"""
from __future__ import annotations

import fcntl
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _install() -> Path:
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL is not installed and the tests are not root: apt-get install postgresql")
    with open(Path(tempfile.gettempdir()) / "myimages-apt.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers: one installs, the other waits and finds it
        return _binaries() or _apt_install()


def _apt_install() -> Path:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    wait = ["-o", "DPkg::Lock::Timeout=300"]  # another installer (the terminal tools) may hold dpkg's lock
    subprocess.run(["apt-get", *wait, "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", *wait, "install", "-y", "-q", "--no-install-recommends", "postgresql"], check=True, env=env,
                   capture_output=True)
    binaries = _binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL was installed but initdb cannot be found")
    return binaries


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server in a folder of its own: a new one (removed by `stop`), or `folder` kept between runs (the
    benchmark's loaded libraries: made the first time, started again the next)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.bin = _binaries() or _install()
        self.kept = folder is not None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder.resolve() if folder is not None else Path(tempfile.mkdtemp(prefix="myimages-pg-"))
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def start(self, *settings: str) -> "Server":
        """Start it (made first unless its kept folder has one), with these settings ("shared_buffers=1GB")."""
        data = self.folder / "data"
        if not (data / "PG_VERSION").exists():
            self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = " ".join(f"-c {setting}" for setting in settings)
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off {options}")
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start")

    def stop(self) -> None:
        """Stop it and remove its folder; a kept folder is stopped cleanly and stays."""
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast" if self.kept else "immediate",
                      "stop")
        finally:
            if not self.kept:
                shutil.rmtree(self.folder, ignore_errors=True)

    def _admin(self, sql: str) -> None:
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        con.autocommit = True
        try:
            con.cursor().execute(sql)
        finally:
            con.close()

    def new_database(self, name: str | None = None) -> tuple[str, str]:
        name = name or "t_" + uuid.uuid4().hex[:12]
        self._admin(f'CREATE DATABASE "{name}"')
        return name, self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
