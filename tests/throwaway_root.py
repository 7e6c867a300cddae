"""A throwaway root filesystem to run a boot script in, as root, with chroot: real programs copied
from this machine (with the shared libraries ``ldd`` names), stand-ins (tests/stand_ins/) for what
cannot run here (dnf, the AWS CLI, systemctl, curl and the instance metadata behind it), and users
of its own in its /etc files. openssl is the real one, with this machine's configuration.

    root = ThrowawayRoot.build(tmp_path / "root")
    root.write("/var/lib/cloud/user-data.sh", script)
    root.run(["/bin/bash", "/var/lib/cloud/user-data.sh"])
    root.run(["cat", "/var/log/app.log"], user="cwagent")   # as that user, its groups from /etc/group

Nothing is mounted; the only device is /dev/null. Needs root (chroot, chown, setpriv): the machines
and CI running the tests are root; elsewhere the test fails saying so, it is never skipped.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

STAND_INS = Path(__file__).resolve().parent / "stand_ins"
#: Programs a boot script and the stand-ins use, copied from this machine.
PROGRAMS = (
    "bash",
    "cat",
    "chmod",
    "chown",
    "cp",
    "grep",
    "groupadd",
    "id",
    "install",
    "ln",
    "ls",
    "mkdir",
    "mkfifo",
    "mv",
    "openssl",
    "rm",
    "setpriv",
    "sleep",
    "ss",
    "stat",
    "touch",
    "truncate",
    "useradd",
)
#: The stand-ins on the PATH of the root, by the name they stand in for.
COMMAND_STAND_INS = ("dnf", "aws", "systemctl", "curl")
#: Where the stand-ins keep what they emulate: the instance metadata (one file per path under
#: ``imds/``), the calls they record, and what the openssl package brings (its configuration).
STAND_IN_STATE = "/var/lib/stand-ins"
#: The openssl configuration the copied binary reads (its OPENSSLDIR), which the openssl package provides.
OPENSSL_CONFIG = "/usr/lib/ssl/openssl.cnf"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class NotRoot(RuntimeError):
    """The throwaway root needs root privileges (chroot, chown, setuid)."""


def libraries_of(program: str) -> list[Path]:
    """The shared libraries (and the loader) ``program`` needs, as ``ldd`` lists them."""
    listed = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
    found = []
    for line in listed.splitlines():
        words = line.split()
        path = words[2] if len(words) >= 3 and words[1] == "=>" else words[0]
        if path.startswith("/"):
            found.append(Path(path))
    return found


class ThrowawayRoot:
    """A directory tree to ``chroot`` into (merged /usr, like Amazon Linux 2023 and Debian 12)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def build(cls, path: Path, programs: Iterable[str] = PROGRAMS) -> ThrowawayRoot:
        if os.geteuid() != 0:
            raise NotRoot("the throwaway root needs root (chroot, chown, setpriv); run the tests as root")
        root = cls(path)
        for directory in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "usr/libexec/stand-ins", "dev"):
            (path / directory).mkdir(parents=True, exist_ok=True)
        (path / "etc/systemd/system").mkdir(parents=True)  # as systemd's package leaves it
        for link in ("bin", "sbin", "lib", "lib64"):
            (path / link).symlink_to(f"usr/{link}")
        for directory, mode in (("tmp", 0o1777), ("run", 0o755), ("var/log", 0o755), ("var/lib/stand-ins", 0o755)):
            (path / directory).mkdir(parents=True, exist_ok=True)
            (path / directory).chmod(mode)
        os.mknod(path / "dev/null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        (path / "dev/null").chmod(0o666)
        for program in programs:
            root.copy_program(program)
        root.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n")
        root.write("/etc/group", "root:x:0:\nnogroup:x:65534:\n")
        root.write("/etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", mode=0o600)
        root.write("/etc/gshadow", "root:*::\nnogroup:*::\n", mode=0o600)
        # As on Amazon Linux 2023 (and Debian): useradd gives a new user a group of its own name.
        root.write("/etc/login.defs", "USERGROUPS_ENAB yes\n")
        root.write("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\n")
        root.write("/sbin/nologin", "#!/bin/bash\necho 'This account is not available.'\nexit 1\n", mode=0o755)
        for stand_in in COMMAND_STAND_INS:
            shutil.copy(STAND_INS / stand_in, path / "usr/bin" / stand_in)
        for helper in ("amazon-cloudwatch-agent-ctl", "service"):
            shutil.copy(STAND_INS / helper, path / "usr/libexec/stand-ins" / helper)
        shutil.copy(Path(OPENSSL_CONFIG).resolve(), path / "usr/libexec/stand-ins/openssl.cnf")
        return root

    def set_metadata(self, **paths: str) -> None:
        """Instance metadata the curl stand-in serves (``local_hostname`` -> ``local-hostname``,
        ``autoscaling__target_lifecycle_state`` -> ``autoscaling/target-lifecycle-state``)."""
        for key, value in paths.items():
            self.write(f"{STAND_IN_STATE}/imds/{key.replace('__', '/').replace('_', '-')}", value)

    def inside(self, path: str | Path) -> Path:
        """The host path of ``path`` in the root (``/etc/passwd`` -> ``<root>/etc/passwd``)."""
        return self.path / str(path).lstrip("/")

    def copy_program(self, name: str) -> None:
        host = shutil.which(name)
        if host is None:
            raise FileNotFoundError(f"{name} is not installed on this machine")
        for needed in (Path(host), *libraries_of(host)):
            target = self.inside(needed)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(needed.resolve(), target)

    def write(self, path: str, text: str, mode: int = 0o644) -> Path:
        target = self.inside(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
        return target

    def primary_gid(self, user: str) -> int:
        """The primary group id of ``user`` in the root's /etc/passwd."""
        for line in self.inside("/etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == user:
                return int(fields[3])
        raise KeyError(f"no user {user} in the throwaway root")

    def run(
        self,
        args: list[str],
        user: str | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = False,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        """``args`` inside the root: as root, or as ``user`` with its group and supplementary groups
        (what the CloudWatch agent does for run_as_user, what systemd does for User=)."""
        as_user = []
        if user:
            group = self.primary_gid(user)
            as_user = ["/usr/bin/setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups", "--"]
        return subprocess.run(
            ["chroot", str(self.path), *as_user, *args],
            env={"PATH": PATH, "HOME": "/root", "LANG": "C", **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            stdin=subprocess.DEVNULL,
        )
