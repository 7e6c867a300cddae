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
import socket
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
        """End every process the stand-in systemctl started (the app and the drain watcher)."""
        for pid_file in self.root.inside("/run").glob("*.pid"):
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass


#: The instance metadata of the booted instance (the curl stand-in serves it, IMDSv2 only).
METADATA = {
    "local_hostname": "ip-10-30-16-25.eu-west-1.compute.internal",
    "instance_id": "i-0123456789abcdef0",
    "autoscaling__target_lifecycle_state": "InService",
}


def app_unit(root: ThrowawayRoot) -> str:
    """The unit that runs the application: the one logging to a file (StandardOutput=append:)."""
    (unit,) = [
        path.stem
        for path in root.inside("/etc/systemd/system").glob("*.service")
        if re.search(r"^StandardOutput=append:", path.read_text(), re.M)
    ]
    return unit


def boot(root_dir: Path, script: str, opener: str = "manager") -> BootedServer:
    root = ThrowawayRoot.build(root_dir)
    root.set_metadata(**METADATA)
    root.write(USER_DATA, script, mode=0o700)
    booted = root.run(["/bin/bash", USER_DATA], env={"STAND_IN_OUTPUT_OPENER": opener}, timeout=120)
    if booted.returncode != 0:
        BootedServer(root, "", "", "", "").stop()  # what it started before failing
    assert booted.returncode == 0, f"the boot script failed:\n{booted.stdout}\n{booted.stderr}"

    # What the agent was told to run with (amazon-cloudwatch-agent-ctl -a fetch-config ... -c file:<config>).
    (config_path,) = re.findall(r"-c file:(\S+)", root.inside("/var/lib/stand-ins/agent-ctl").read_text())
    agent = json.loads(root.inside(config_path).read_text())
    (collected,) = agent["logs"]["logs_collected"]["files"]["collect_list"]
    unit = app_unit(root)
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


# -- TLS to the load balancer, made at boot ---------------------------------------------------------


@pytest.fixture(scope="module")
def https_server(prod, tmp_path_factory):
    """prod's boot script (HTTPS to the targets), run once for the TLS and lifecycle checks."""
    booted = boot(tmp_path_factory.mktemp("https") / "root", user_data_of(prod))
    yield booted
    booted.stop()


def unit_text(server: BootedServer, unit: str) -> str:
    return server.root.inside(f"/etc/systemd/system/{unit}.service").read_text()


def tls_files(server: BootedServer) -> tuple[str, str]:
    """The certificate and key the app unit hands the app (Spring Boot's server.ssl.certificate and
    server.ssl.certificate-private-key, PEM files)."""
    exec_start = re.search(r"^ExecStart=(.*)$", unit_text(server, server.unit), re.M)
    assert exec_start, "the app unit has no ExecStart="
    arguments = dict(re.findall(r"--([\w.-]+)=(\S+)", exec_start.group(1)))
    assert arguments.get("server.ssl.enabled") == "true", "the app is not told to serve HTTPS"
    return (
        arguments["server.ssl.certificate"].removeprefix("file:"),
        arguments["server.ssl.certificate-private-key"].removeprefix("file:"),
    )


def test_the_app_gets_a_certificate_for_its_private_dns_name(https_server):
    """ "Target groups for your Application Load Balancers", routing configuration: with HTTPS to the
    targets the load balancer establishes TLS connections "using certificates that you install on the
    targets. The load balancer does not validate these certificates. Therefore, you can use
    self-signed certificates" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/
    load-balancer-target-groups.html). The certificate the boot script made names the instance's private
    DNS name, read from the instance metadata with an IMDSv2 token (the curl stand-in refuses requests
    without one), and is the one the app is given."""
    certificate, _ = tls_files(https_server)
    shown = https_server.root.run(
        ["openssl", "x509", "-in", certificate, "-noout", "-subject", "-ext", "subjectAltName"], check=True
    ).stdout
    hostname = METADATA["local_hostname"]
    assert f"CN = {hostname}" in shown and f"DNS:{hostname}" in shown


def test_the_key_belongs_to_the_certificate_and_only_the_app_user_reads_it(https_server):
    """Least privilege for the private key: owned by the service user, mode 0400, in a directory only
    root and the service's group enter; the CloudWatch agent's user and anybody else cannot read it."""
    certificate, key = tls_files(https_server)
    root = https_server.root
    facts = root.run(["stat", "-c", "%U %G %a", key], check=True).stdout.split()
    assert facts == [https_server.service_user, https_server.service_user, "400"]
    assert "BEGIN PRIVATE KEY" in https_server.read(key, https_server.service_user)  # a PKCS 8 PEM key
    for other in (https_server.agent_user, "nobody"):
        assert root.run(["cat", key], user=other).returncode != 0, f"{other} can read the TLS key"
    from_key = root.run(["openssl", "pkey", "-in", key, "-pubout"], check=True).stdout
    from_certificate = root.run(["openssl", "x509", "-in", certificate, "-noout", "-pubkey"], check=True).stdout
    assert from_key == from_certificate


def test_a_plain_http_stage_makes_no_key_and_serves_http(dev, tmp_path):
    """A non-production stage may talk plain HTTP to its targets (target_protocol = "HTTP"): then no key
    is made and the app is not told to serve TLS."""
    server = boot(tmp_path / "root", user_data_of(dev))
    try:
        assert not server.root.inside("/etc/booking/tls").exists()
        assert "--server.ssl" not in unit_text(server, server.unit)
    finally:
        server.stop()


# -- lifecycle hooks -----------------------------------------------------------------------------------


def hook_named(stack, transition: str) -> dict:
    group = stack.only("aws_autoscaling_group")
    (hook,) = [h for h in group["initial_lifecycle_hook"] if h["lifecycle_transition"] == transition]
    return {**hook, "group": group["name"]}


def completed_actions(server: BootedServer) -> list[dict[str, str]]:
    """The complete-lifecycle-action calls the aws stand-in recorded, as option -> value."""
    recorded = server.root.inside("/var/lib/stand-ins/lifecycle-actions")
    lines = recorded.read_text().splitlines() if recorded.exists() else []
    return [dict(re.findall(r"--([\w-]+) (\S+)", line)) for line in lines]


def test_the_boot_completes_the_launch_hook_once_the_app_answers(https_server, prod):
    """ "How lifecycle hooks work": a launching instance waits in Pending:Wait "until you either complete
    the lifecycle action, or the timeout period ends" (https://docs.aws.amazon.com/autoscaling/ec2/
    userguide/lifecycle-hooks-overview.html). The boot completes the group's launch hook for this instance
    with CONTINUE after the app answered on its port (the curl stand-in answers while the app runs)."""
    hook = hook_named(prod, "autoscaling:EC2_INSTANCE_LAUNCHING")
    assert {
        "lifecycle-hook-name": hook["name"],
        "auto-scaling-group-name": hook["group"],
        "instance-id": METADATA["instance_id"],
        "lifecycle-action-result": "CONTINUE",
        "region": "eu-west-1",
    } in completed_actions(https_server)


def test_the_launch_hook_is_completed_at_every_boot(https_server):
    """ "Use lifecycle hooks with a warm pool": with a launch hook, a new instance "pauses to perform the
    custom action when it reaches the Warmed:Pending:Wait state, and then again when the instance restarts
    and reaches the Pending:Wait state"; and "by default, cloud-init runs user data only on the first boot"
    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pool-instance-lifecycle.html). So the unit
    that completes it is enabled for every boot, not a step of the boot script."""
    ready = unit_text(https_server, "booking-ready")
    assert re.search(r"^WantedBy=multi-user\.target$", ready, re.M)
    assert re.search(r"^Type=oneshot$", ready, re.M)
    assert "enable booking-ready" in https_server.root.inside("/var/lib/stand-ins/systemctl").read_text() or (
        "start booking-ready" in https_server.root.inside("/var/lib/stand-ins/systemctl").read_text()
    )
    before = len(completed_actions(https_server))
    command = re.search(r"^ExecStart=(.*)$", ready, re.M).group(1).split()  # as systemd starts it at a boot
    https_server.root.run(command, check=True, timeout=30)
    assert len(completed_actions(https_server)) == before + 1


@pytest.mark.slow
def test_a_leaving_instance_keeps_the_app_while_the_load_balancer_still_has_a_connection(prod, tmp_path):
    """ "Target groups for your Application Load Balancers", Deregistration delay: a deregistering target
    keeps its in-flight requests until they complete or the delay ends, then the load balancer closes its
    connections. The target lifecycle state may already read Terminated then ("Retrieve the target
    lifecycle state through instance metadata": it changes when the instance prepares to transition), so
    the drain unit keeps the app running while a connection to the app port is open, and stops it once
    the connection is gone. The load balancer's connection is one accepted on the app port here."""
    app_port = int(user_data_of(prod).split("sport = :", 1)[1].split(" ", 1)[0])
    server = boot(tmp_path / "root", user_data_of(prod))
    listener = socket.create_server(("127.0.0.1", app_port))
    try:
        client = socket.create_connection(("127.0.0.1", app_port))
        accepted, _ = listener.accept()
        app_pid = int(server.root.inside(f"/run/{server.unit}.pid").read_text())
        time.sleep(6)  # the drain unit has seen the instance in service
        server.root.set_metadata(autoscaling__target_lifecycle_state="Terminated")
        time.sleep(12)  # two polls of the state, then the connection check
        os.kill(app_pid, 0)  # still serving the in-flight request
        history = server.root.inside("/var/lib/stand-ins/systemctl").read_text()
        assert f"stop {server.unit}" not in history
        accepted.close()
        client.close()
        deadline = time.monotonic() + 40
        while f"stop {server.unit}" not in server.root.inside("/var/lib/stand-ins/systemctl").read_text():
            assert time.monotonic() < deadline, "the app was not stopped after the last connection closed"
            time.sleep(0.5)
    finally:
        listener.close()
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("target_state", ["Terminated", "Warmed:Stopped"])
def test_a_leaving_instance_stops_the_app_then_completes_the_terminating_hook(prod, tmp_path, target_state):
    """ "How lifecycle hooks work": a terminating instance is first deregistered from the load balancer
    (in-flight requests drain), then "the lifecycle hook puts the instance into a wait state
    (Terminating:Wait)" until the action is completed or times out; with a warm pool's reuse policy, an
    instance going back to the pool waits in Warmed:Pending:Wait. "Retrieve the target lifecycle state
    through instance metadata" (https://docs.aws.amazon.com/autoscaling/ec2/userguide/
    retrieving-target-lifecycle-state-through-imds.html): the instance reads where it is going. The drain
    unit waits for that state to leave InService, stops the app (gracefully, its unit's TimeoutStopSec),
    then completes the group's terminating hook for this instance. Slow: the unit polls every 5 seconds
    and gives the CloudWatch agent 10 seconds for the last lines."""
    server = boot(tmp_path / "root", user_data_of(prod))
    try:
        hook = hook_named(prod, "autoscaling:EC2_INSTANCE_TERMINATING")
        app_pid = int(server.root.inside(f"/run/{server.unit}.pid").read_text())
        time.sleep(6)  # the drain unit has seen the instance in service
        server.root.set_metadata(autoscaling__target_lifecycle_state=target_state)
        deadline = time.monotonic() + 40
        while not any(a.get("lifecycle-hook-name") == hook["name"] for a in completed_actions(server)):
            assert time.monotonic() < deadline, "the drain unit never completed the terminating hook"
            time.sleep(0.5)
        (action,) = [a for a in completed_actions(server) if a["lifecycle-hook-name"] == hook["name"]]
        assert action["lifecycle-action-result"] == "CONTINUE"
        assert action["instance-id"] == METADATA["instance_id"]
        assert action["auto-scaling-group-name"] == hook["group"]
        with pytest.raises(ProcessLookupError):
            os.kill(app_pid, 0)
        history = server.root.inside("/var/lib/stand-ins/systemctl").read_text()
        assert f"stop {server.unit}" in history
    finally:
        server.stop()
