"""The app servers' boot script, run: does the CloudWatch agent get to read the application's log?

The prod stack's user data runs as root in a throwaway root (tests/throwaway_root.py) where dnf,
the AWS CLI and systemctl are stand-ins (tests/stand_ins/): dnf creates the agent's ``cwagent``
user as the agent's RPM does, systemctl starts a stand-in service that logs through the unit's
``StandardOutput=append:`` file. The checks then run as the user the agent's own configuration
names in ``run_as_user``, on the file it names in ``collect_list``.

Who creates the log file: systemd opens ``append:`` files itself, as the service manager (root),
before switching to ``User=`` (systemd.exec: the file is "created if it doesn't exist yet"; the
systemd maintainers on pull request 32357: such files are created by the manager's user, not the
unit's). That is the ``manager`` case; the ``service`` case has the service user create it (as a
logging library writing its own file would), so either way is covered.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.throwaway_root import ThrowawayRoot

USER_DATA = "/var/lib/cloud/instance/user-data.txt"


def user_data_of(stack) -> str:
    return base64.b64decode(stack.only("aws_launch_template")["user_data"]).decode()


@dataclass
class BootedServer:
    """A throwaway root the boot script ran in, and what its configuration says."""

    root: ThrowawayRoot
    agent_user: str
    app_log: str
    unit: str
    service_user: str

    def read(self, path: str, user: str) -> str:
        shown = self.root.run(["cat", path], user=user)
        assert shown.returncode == 0, f"{user} cannot read {path}: {shown.stderr.strip()}"
        return shown.stdout

    def service_logs(self, line: str) -> None:
        """The running service writes ``line`` to its stdout; wait until it is in the log file."""
        fifo, log = self.root.inside(f"/run/{self.unit}.in"), self.root.inside(self.app_log)
        deadline = time.monotonic() + 10
        while True:  # the service reopens its FIFO after each line: retry while nobody reads it
            try:
                descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as error:
                if error.errno != errno.ENXIO or time.monotonic() > deadline:
                    raise AssertionError(f"the service does not read {fifo}: {error}") from error
                time.sleep(0.05)
        with os.fdopen(descriptor, "w") as writer:
            writer.write(line + "\n")
        while line not in log.read_text():
            assert time.monotonic() < deadline, f"the service's line never reached {self.app_log}"
            time.sleep(0.05)

    def stop(self) -> None:
        pid_file = self.root.inside(f"/run/{self.unit}.pid")
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except ProcessLookupError:
                pass


def boot(root_dir: Path, script: str, opener: str) -> BootedServer:
    root = ThrowawayRoot.build(root_dir)
    root.write(USER_DATA, script, mode=0o700)
    booted = root.run(["/bin/bash", USER_DATA], env={"STAND_IN_OUTPUT_OPENER": opener}, timeout=120)
    assert booted.returncode == 0, f"the boot script failed:\n{booted.stdout}\n{booted.stderr}"

    # What the agent was told to run with (amazon-cloudwatch-agent-ctl -a fetch-config ... -c file:<config>).
    (config_path,) = re.findall(r"-c file:(\S+)", root.inside("/var/lib/stand-ins/agent-ctl").read_text())
    agent = json.loads(root.inside(config_path).read_text())
    (collected,) = agent["logs"]["logs_collected"]["files"]["collect_list"]
    (pid_file,) = root.inside("/run").glob("*.pid")
    unit = pid_file.stem
    log, deadline = root.inside(collected["file_path"]), time.monotonic() + 10
    while not (log.exists() and f"service {unit} started" in log.read_text()):
        assert time.monotonic() < deadline, f"the service never logged its start to {collected['file_path']}"
        time.sleep(0.05)
    service_user = re.search(r"^User=(\S+)$", root.inside(f"/etc/systemd/system/{unit}.service").read_text(), re.M)
    assert service_user, "the unit names no User="
    return BootedServer(root, agent["agent"]["run_as_user"], collected["file_path"], unit, service_user.group(1))


@pytest.fixture(params=["manager", "service"], ids=["created-by-systemd", "created-by-the-service-user"])
def server(request, prod, tmp_path):
    booted = boot(tmp_path / "root", user_data_of(prod), request.param)
    yield booted
    booted.stop()


def test_the_agent_runs_as_an_unprivileged_user_that_exists(server):
    """CloudWatch agent configuration file, agent section: "run_as_user ... If you specify this option,
    the user must exist before you start the CloudWatch agent."
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html)"""
    assert server.agent_user not in ("", "root")
    assert server.root.run(["id", server.agent_user]).returncode == 0


def test_the_agent_user_can_read_the_app_log(server):
    """AWS page "Common scenarios with the CloudWatch agent", "Running the CloudWatch agent as a different
    user": "The user must have Read (r) permissions for the log files to be collected, and must have
    Execute (x) permission on every directory in the log files' path."
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-common-scenarios.html)
    Read as that user, the log holds what the service wrote."""
    assert f"service {server.unit} started" in server.read(server.app_log, server.agent_user)


def test_the_service_user_keeps_writing_the_log_the_agent_reads(server):
    """Same page: what the application (as its own ``User=``) logs from now on reaches the agent."""
    line = "2025-05-01T12:00:00.000Z ERROR 4242 --- [booking] [main] c.d.b.Checkout : payment declined"
    server.service_logs(line)
    assert line in server.read(server.app_log, server.agent_user)
    assert server.root.run(["id", "-u", server.service_user]).stdout.strip() != "0"


def test_nobody_else_reads_the_app_log(server):
    """Least privilege: the log (it can hold customer data) is the service's and the agent's only."""
    assert server.root.run(["cat", server.app_log], user="nobody").returncode != 0


# -- rotation ---------------------------------------------------------------------------------------


def logrotate_rules(root: ThrowawayRoot) -> dict[str, list[str]]:
    """Each logrotate path from /etc/logrotate.d with the directives of its block."""
    rules: dict[str, list[str]] = {}
    for config in sorted(root.inside("/etc/logrotate.d").glob("*")):
        text = "\n".join(line for line in config.read_text().splitlines() if not line.strip().startswith("#"))
        for paths, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
            directives = [line.strip() for line in body.splitlines() if line.strip()]
            for path in paths.split():
                rules[path] = directives
    return rules


def rotate_as_logrotate_would(root: ThrowawayRoot, path: str, directives: list[str]) -> None:
    """One rotation of ``path`` as logrotate(8) describes it: with ``copytruncate`` "Truncate the original
    log file to zero size in place after creating a copy, instead of moving the old log file and
    optionally creating a new one"; otherwise the file is moved away and, with ``create mode owner
    group``, a new one made. (logrotate is not on this machine's image, and its Debian package pulls in
    cron or systemd-sysv; the step is small and documented, so it is done here with cp, truncate, mv.)"""
    if "copytruncate" in directives:
        root.run(["cp", "-p", path, f"{path}.1"], check=True)
        root.run(["truncate", "-s", "0", path], check=True)
        return
    root.run(["mv", path, f"{path}.1"], check=True)
    create = next((d.split()[1:] for d in directives if d.split()[0] == "create"), None)
    if create is not None:
        mode, owner, group = (create + [None, None, None])[:3]
        root.run(["touch", path], check=True)
        if mode:
            root.run(["chmod", mode, path], check=True)
        if owner:
            root.run(["chown", f"{owner}:{group}" if group else owner, path], check=True)


def test_a_rule_rotates_the_app_log_and_bounds_it(server):
    """The service logs to a file for as long as it runs: without a rotation rule the log only grows
    (a full root volume stops the instance). logrotate(8): ``rotate count``, and a size or a period."""
    directives = logrotate_rules(server.root).get(server.app_log)
    assert directives, f"no logrotate rule names {server.app_log}"
    keywords = {d.split()[0] for d in directives}
    assert "rotate" in keywords and keywords & {"daily", "weekly", "size", "maxsize"}


def test_the_agent_still_reads_what_the_service_logs_after_a_rotation(server):
    """The agent keeps reading the same path (collect_list ``file_path``) after a rotation, and the
    service, which cannot reopen the stdout systemd gave it, keeps writing to what is at that path
    (agent page on run_as_user as above; logrotate(8) ``copytruncate``)."""
    server.service_logs("before the rotation")
    directives = logrotate_rules(server.root).get(server.app_log)
    assert directives, f"no logrotate rule names {server.app_log}"
    rotate_as_logrotate_would(server.root, server.app_log, directives)
    server.service_logs("after the rotation")
    text = server.read(server.app_log, server.agent_user)
    assert "after the rotation" in text and "before the rotation" not in text
