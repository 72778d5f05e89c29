"""Real, temporary system users for tests of file permissions (needs root).

    with temporary_team("alice", "bob") as team:
        shared = shared_folder(team)
        result = team.users[0].run(main, ["import", str(png)], env={...})
        assert result.code == 0, result

`temporary_team` creates a group and users in it with `groupadd`/`useradd` (no home
folder, no login shell) and removes them afterwards. `shared_folder` makes the
README's team folder: group-owned, group-writable, setgid. `SystemUser.run` calls a
Python function in a forked child that has dropped to the user's uid, gid and groups
with the given umask, so every permission check the kernel makes is the real one.
(The child is forked rather than started anew because the tests' interpreter may
live where other users cannot reach it, e.g. under /root; import what the function
will need before calling `run`, as the child may not be able to read the modules.)
"""
from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import pytest

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="creating system users needs root")


@dataclass(repr=False)
class Result:
    code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by a failing `assert result.code == 0, result`
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@dataclass
class SystemUser:
    name: str
    uid: int
    gid: int
    home: Path

    def run(self, function: Callable[..., int | None], *args, umask: int = 0o002,
            env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Result:
        """`function(*args)` as this user (exit code: its return value or SystemExit)."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                _child(self, function, args, umask, env, cwd, out, err)
            _pid, status = os.waitpid(pid, 0)
            out.seek(0)
            err.seek(0)
            return Result(os.waitstatus_to_exitcode(status), out.read().decode(errors="replace"),
                          err.read().decode(errors="replace"))


def _child(user: SystemUser, function, args, umask, env, cwd, out, err) -> None:
    code = 70
    try:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
        sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
        sys.stdin = io.StringIO()  # not a terminal: commands that would ask refuse instead
        os.setgroups([user.gid])
        os.setgid(user.gid)
        os.setuid(user.uid)
        os.umask(umask)
        os.environ.clear()
        os.environ.update({"PATH": "/usr/bin:/bin", "HOME": str(user.home), "USER": user.name,
                           "LOGNAME": user.name, "LANG": "C.UTF-8"})
        os.environ.update(env or {})
        os.chdir(cwd or user.home)
        result = function(*args)
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported to the test through stderr
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


@dataclass
class Team:
    group: str
    gid: int
    users: list[SystemUser] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)


def _admin(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextlib.contextmanager
def temporary_team(*roles: str) -> Iterator[Team]:
    """A new group and one new user per role in it (names like `mialice3f9a1c`); removed afterwards."""
    import grp
    import pwd

    tag = secrets.token_hex(3)
    group = f"miteam{tag}"
    base = Path(tempfile.mkdtemp(prefix="myimages-homes-"))
    os.chmod(base, 0o755)
    team = None
    made: list[str] = []
    try:
        _admin("groupadd", group)
        team = Team(group, grp.getgrnam(group).gr_gid)
        for role in roles:
            name = f"mi{role}{tag}"[:32]
            home = base / name
            _admin("useradd", "--no-create-home", "--home-dir", str(home), "--gid", group,
                   "--shell", "/usr/sbin/nologin", name)
            made.append(name)
            entry = pwd.getpwnam(name)
            home.mkdir(mode=0o700)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            team.users.append(SystemUser(name, entry.pw_uid, entry.pw_gid, home))
        yield team
    finally:
        for folder in team.folders if team else []:
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)
        for name in made:
            subprocess.run(["userdel", name], capture_output=True)
        if team is not None:
            subprocess.run(["groupdel", group], capture_output=True)


def shared_folder(team: Team) -> Path:
    """A folder for the whole team as the README sets one up: group-owned, `g+rwX`, setgid.

    Removed with the team.
    """
    folder = Path(tempfile.mkdtemp(prefix="myimages-shared-"))
    team.folders.append(folder)
    os.chown(folder, 0, team.gid)
    os.chmod(folder, 0o2775)
    return folder
