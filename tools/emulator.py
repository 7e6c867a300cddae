"""The AWS API emulator (moto server) and the pieces to run the real terraform against it.

Nothing here needs an AWS account or the network: moto answers every AWS API on one local
port, the AWS provider is sent there by a Terraform override file, and terraform itself runs
through :mod:`tools.terraform_cli` (offline provider mirror). Typical use::

    from tools import emulator

    with emulator.MotoServer() as moto:                       # free port on 127.0.0.1, always stopped
        work = emulator.copy_stack(stack_dir, tmp / "dev")    # never touch cdktf.out itself
        emulator.write_override(work, moto.url)               # provider -> moto, backend -> local file
        emulator.terraform(work, ["init", "-input=false"], moto.url)
        emulator.terraform(work, ["apply", "-auto-approve", "-input=false"], moto.url)

Used by ``make sandbox`` (:mod:`tools.sandbox`), the state-locking test and ``make plan`` in
emulator mode. The S3 *backend* can be pointed at the emulator too
(:func:`s3_backend_override`), which is how the locking test exercises the real bucket + lock
table.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from tools import terraform_cli

HOST = "127.0.0.1"
#: Name of the override file written into a stack directory (``*_override.tf.json`` is merged
#: by terraform last, over ``cdk.tf.json``).
OVERRIDE_FILE = "zz_emulator_override.tf.json"
#: moto accepts any key pair; these only keep the AWS SDKs from looking for real credentials.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
#: The account moto pretends to be.
ACCOUNT_ID = "123456789012"

#: Provider ``endpoints`` names (hashicorp/aws 5.100, canonical names, no aliases) sent to the
#: emulator: every service the stacks use, plus the ones the coming tiers use. Any service not
#: listed would go to real AWS, so ``tests/tools/test_emulator.py`` checks every resource type
#: of every synthesized stack against :data:`RESOURCE_SERVICES`.
SERVICES = (
    "accessanalyzer",
    "acm",
    "appautoscaling",
    "autoscaling",
    "backup",
    "cloudfront",
    "cloudtrail",
    "cloudwatch",
    "configservice",
    "dynamodb",
    "ec2",
    "elasticache",
    "elb",
    "elbv2",
    "events",
    "firehose",
    "guardduty",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "s3control",
    "secretsmanager",
    "securityhub",
    "sns",
    "sqs",
    "ssm",
    "sts",
    "wafv2",
)

#: Resource/data-source type prefix (after ``aws_``) -> provider endpoint, longest prefix wins.
RESOURCE_SERVICES = {
    "accessanalyzer": "accessanalyzer",
    "acm": "acm",
    "appautoscaling": "appautoscaling",
    "autoscaling": "autoscaling",
    "backup": "backup",
    "caller_identity": "sts",
    "cloudfront": "cloudfront",
    "cloudtrail": "cloudtrail",
    "cloudwatch_dashboard": "cloudwatch",
    "cloudwatch_metric_alarm": "cloudwatch",
    "cloudwatch_composite_alarm": "cloudwatch",
    "cloudwatch_log": "logs",
    "cloudwatch_event": "events",
    "config": "configservice",
    "db": "rds",
    "rds": "rds",
    "default": "ec2",
    "dynamodb": "dynamodb",
    "ebs": "ec2",
    "ec2": "ec2",
    "egress_only": "ec2",
    "eip": "ec2",
    "elasticache": "elasticache",
    "elb": "elb",
    "lb": "elbv2",
    "alb": "elbv2",
    "flow_log": "ec2",
    "guardduty": "guardduty",
    "iam": "iam",
    "instance": "ec2",
    "internet_gateway": "ec2",
    "key_pair": "ec2",
    "kinesis_firehose": "firehose",
    "kms": "kms",
    "lambda": "lambda",
    "launch_template": "ec2",
    "main_route_table": "ec2",
    "nat_gateway": "ec2",
    "network": "ec2",
    "region": "ec2",
    "availability_zones": "ec2",
    "ami": "ec2",
    "partition": "sts",
    "route": "ec2",
    "route53": "route53",
    "s3": "s3",
    # Account-level S3 settings go through the S3 Control API, not S3.
    "s3_account_public_access_block": "s3control",
    "secretsmanager": "secretsmanager",
    "securityhub": "securityhub",
    "security_group": "ec2",
    "sns": "sns",
    "sqs": "sqs",
    "ssm": "ssm",
    "subnet": "ec2",
    "vpc": "ec2",
    "wafv2": "wafv2",
    "elb_service_account": "elb",
}


def service_of(resource_type: str) -> str | None:
    """The provider endpoint a resource type talks to (``aws_lb_listener`` -> ``elbv2``), or None."""
    name = resource_type.removeprefix("aws_")
    best = max((p for p in RESOURCE_SERVICES if name == p or name.startswith(p + "_")), key=len, default=None)
    return RESOURCE_SERVICES[best] if best else None


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class EmulatorError(RuntimeError):
    """moto did not start (the message carries the end of its log)."""


class MotoServer:
    """A moto server on 127.0.0.1, started by ``start()`` / ``with``, stopped by ``stop()`` / exit.

    ``url`` is the endpoint (``http://127.0.0.1:<port>``). The server's output goes to
    ``log_path`` (a file beside the temp dir by default) so a failure can be diagnosed.
    Stopping is idempotent and also happens at interpreter exit if the caller forgot.

    ``tls=True`` serves HTTPS (``https://127.0.0.1:<port>``) with a certificate from a CA made
    for this one server (``ca_bundle``, removed on stop) and evaluates S3 bucket-policy
    conditions on the transport and SSE headers (:mod:`tools.emulator_tls`): what the real S3
    backend against the bootstrap's bucket policy needs.
    """

    def __init__(
        self, port: int | None = None, log_path: Path | None = None, ready_timeout: float = 60, tls: bool = False
    ) -> None:
        self.port = port or free_port()
        self.tls = tls
        self.url = f"{'https' if tls else 'http'}://{HOST}:{self.port}"
        self.log_path = log_path or terraform_cli.TOOLS_DIR / "emulator" / f"moto-{self.port}.log"
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None
        self.ca_bundle: Path | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> MotoServer:
        if self.process is not None:
            return self
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        # MOTO_IAM_LOAD_MANAGED_POLICIES: AWS managed policies (AmazonSSMManagedInstanceCore...) exist, as in AWS.
        # MOTO_ACM_VALIDATION_WAIT: a DNS-validated certificate is issued at once, not after 60 s
        # (the validation record is created all the same; moto does not look it up).
        env = {
            **os.environ,
            **FAKE_CREDENTIALS,
            "MOTO_ALLOW_NONEXISTENT_REGION": "true",
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            "MOTO_ACM_VALIDATION_WAIT": "0",
        }
        # `python -m moto.server` of this interpreter: works wherever moto[server] is installed.
        command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(self.port)]
        if self.tls:
            from tools import emulator_tls

            self._tls_dir = tempfile.TemporaryDirectory(prefix="moto-tls-")
            files = emulator_tls.write_certificates(Path(self._tls_dir.name))
            self.ca_bundle = files.ca
            command = [sys.executable, "-m", "tools.emulator_tls", "-H", HOST, "-p", str(self.port)]
            command += ["-c", str(files.certificate), "-k", str(files.key)]
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(terraform_cli.PROJECT_DIR), env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
        log.close()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self) -> None:
        """Poll until moto answers HTTP (or its process died / the timeout passed)."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise EmulatorError(
                    f"moto server exited early (code {self.process and self.process.returncode}):\n{self.log_tail()}"
                )
            try:
                context = ssl.create_default_context(cafile=str(self.ca_bundle)) if self.ca_bundle else None
                with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2, context=context) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)
        raise EmulatorError(f"moto server not ready on {self.url} after {self.ready_timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Terminate the server (then kill it if it lingers). Safe to call twice."""
        process, self.process = self.process, None
        tls_dir, self._tls_dir = self._tls_dir, None
        try:
            if process is None or process.poll() is not None:
                return
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        finally:
            if tls_dir is not None:
                tls_dir.cleanup()

    def reset(self) -> None:
        """Forget every emulated resource (moto's reset API), keeping the server up."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        context = ssl.create_default_context(cafile=str(self.ca_bundle)) if self.ca_bundle else None
        urllib.request.urlopen(request, timeout=10, context=context).close()

    def client(self, service: str, region: str = "eu-west-1") -> Any:
        """A boto3 client for ``service`` at this emulator (fake keys; our CA trusted over TLS)."""
        return client(self.url, service, region, self.ca_bundle)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __del__(self) -> None:  # last resort; `with` is the way
        try:
            self.stop()
        except Exception:
            pass


def client(endpoint: str, service: str, region: str = "eu-west-1", ca_bundle: Path | None = None) -> Any:
    """A boto3 client for ``service`` at the emulator ``endpoint`` (fake keys; ``ca_bundle`` over TLS)."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        verify=str(ca_bundle) if ca_bundle else None,
    )


# -- what a stack expects to find ----------------------------------------------------------------
def zones_looked_up(document: Mapping[str, Any]) -> list[str]:
    """Public Route 53 zones a stack reads by name (``data.aws_route53_zone``): they must exist
    before it can be planned. On AWS the stage's domain has them; an empty emulator does not."""
    lookups = document.get("data", {}).get("aws_route53_zone", {}).values()
    return sorted({body["name"].rstrip(".") for body in lookups if body.get("name") and not body.get("private_zone")})


def create_zones(endpoint: str, names: list[str], ca_bundle: Path | None = None) -> list[str]:
    """Create each public hosted zone the emulator does not have yet; the names created."""
    route53 = client(endpoint, "route53", ca_bundle=ca_bundle)
    existing = {zone["Name"].rstrip(".") for zone in route53.list_hosted_zones()["HostedZones"]}
    created = []
    for name in names:
        if name not in existing:
            route53.create_hosted_zone(Name=name, CallerReference=f"emulator-{name}-{time.time_ns()}")
            created.append(name)
    return created


# -- Terraform configuration ----------------------------------------------------------------
def provider_settings(
    endpoint: str, services: tuple[str, ...] = SERVICES, ca_bundle: Path | None = None
) -> dict[str, Any]:
    """AWS provider arguments that send every listed service to ``endpoint`` with fake credentials.

    The provider asks the emulator's STS which account it is in (moto's :data:`ACCOUNT_ID`), and the
    stacks' wrong-account guard (``allowed_account_ids``) is replaced by that one account: the guard
    keeps working (any other account is still refused), it just allows the emulator's. Over TLS,
    ``ca_bundle`` is the CA to trust (the argument wins over an ``AWS_CA_BUNDLE`` in the environment)."""
    settings: dict[str, Any] = {
        "access_key": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "secret_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "skip_credentials_validation": True,
        "skip_requesting_account_id": False,
        "allowed_account_ids": [ACCOUNT_ID],
        "skip_metadata_api_check": "true",
        "skip_region_validation": True,
        "s3_use_path_style": True,
        # The emulator never throttles: an error is an emulator limit, fail fast instead of retrying.
        "max_retries": 2,
        "endpoints": [{service: endpoint for service in services}],
    }
    if ca_bundle is not None:
        settings["custom_ca_bundle"] = str(ca_bundle)
    return settings


def s3_backend_override(backend: Mapping[str, Any], endpoint: str, ca_bundle: Path | None = None) -> dict[str, Any]:
    """A stack's own ``s3`` backend settings (bucket, key, table, use_lockfile...) aimed at the emulator."""
    settings = dict(backend)
    if ca_bundle is not None:
        settings["custom_ca_bundle"] = str(ca_bundle)
    settings.update(
        {
            "endpoints": {"s3": endpoint, "dynamodb": endpoint, "sts": endpoint, "iam": endpoint},
            "access_key": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "secret_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
            "use_path_style": True,
        }
    )
    return settings


def override_document(
    endpoint: str,
    state_path: Path | None = None,
    s3_backend: Mapping[str, Any] | None = None,
    aliases: tuple[str, ...] = (),
    ca_bundle: Path | None = None,
) -> dict[str, Any]:
    """The override file's content: every AWS provider (the default one and each alias, e.g. the
    us-east-1 ``edge`` provider) at the emulator; backend local (default) or S3-at-emulator."""
    backend = (
        {"s3": s3_backend_override(s3_backend, endpoint, ca_bundle)}
        if s3_backend is not None
        else {"local": {"path": str(state_path or "terraform.tfstate")}}
    )
    settings = provider_settings(endpoint, ca_bundle=ca_bundle)
    providers = [settings, *({**settings, "alias": alias} for alias in aliases)]
    return {"terraform": {"backend": backend}, "provider": {"aws": providers}}


def provider_aliases(stack_dir: Path) -> tuple[str, ...]:
    """The aliases of the AWS providers a stack directory's ``*.tf.json`` declare (each must be
    overridden, or it would call AWS)."""
    aliases: list[str] = []
    for path in sorted(Path(stack_dir).glob("*.tf.json")):
        if path.name == OVERRIDE_FILE:
            continue
        providers = json.loads(path.read_text()).get("provider", {}).get("aws", [])
        aliases += [p["alias"] for p in (providers if isinstance(providers, list) else [providers]) if "alias" in p]
    return tuple(aliases)


def write_override(
    stack_dir: Path,
    endpoint: str,
    state_path: Path | None = None,
    s3_backend: Mapping[str, Any] | None = None,
    ca_bundle: Path | None = None,
) -> Path:
    """Write :data:`OVERRIDE_FILE` into ``stack_dir``. Terraform merges it over ``cdk.tf.json``:
    the provider block gains the emulator settings (default tags stay), the backend is replaced."""
    path = Path(stack_dir) / OVERRIDE_FILE
    document = override_document(endpoint, state_path, s3_backend, provider_aliases(stack_dir), ca_bundle)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def copy_stack(source_dir: Path, dest_dir: Path) -> Path:
    """Copy a synthesized stack directory (``cdk.tf.json`` + assets, no ``.terraform``) to work in."""
    dest_dir = Path(dest_dir)
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    shutil.copytree(
        source_dir,
        dest_dir,
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.backup", "tfplan", OVERRIDE_FILE),
    )
    return dest_dir


def terraform_env(endpoint: str | None = None) -> dict[str, str]:
    """Extra environment for terraform runs against the emulator: fake keys (they win over any profile), no IMDS."""
    env = {
        **FAKE_CREDENTIALS,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": os.environ.get("AWS_REGION", "eu-west-1"),
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint  # anything the override misses (e.g. local-exec aws cli) stays local
    return env


def terraform(
    stack_dir: Path, args: list[str], endpoint: str | None = None, check: bool = True, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """``terraform <args>`` in ``stack_dir`` through :func:`tools.terraform_cli.run` (offline CLI config)."""
    return terraform_cli.run(args, cwd=Path(stack_dir), extra_env=terraform_env(endpoint), check=check, timeout=timeout)


def init(stack_dir: Path, endpoint: str) -> None:
    terraform(stack_dir, ["init", "-input=false", "-no-color", "-reconfigure"], endpoint)


def apply(
    stack_dir: Path, endpoint: str, extra_args: list[str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return terraform(
        stack_dir, ["apply", "-auto-approve", "-input=false", "-no-color", *(extra_args or [])], endpoint, check=check
    )


def plan(stack_dir: Path, endpoint: str, extra_args: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """``terraform plan -detailed-exitcode``: returncode 0 = no changes, 2 = changes (never raises on 2)."""
    result = terraform(
        stack_dir,
        ["plan", "-input=false", "-no-color", "-detailed-exitcode", *(extra_args or [])],
        endpoint,
        check=False,
    )
    if result.returncode not in (0, 2):
        raise RuntimeError(
            f"terraform plan failed in {stack_dir} (exit {result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def destroy(
    stack_dir: Path, endpoint: str, extra_args: list[str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return terraform(
        stack_dir, ["destroy", "-auto-approve", "-input=false", "-no-color", *(extra_args or [])], endpoint, check=check
    )


def outputs(stack_dir: Path, endpoint: str) -> dict[str, Any]:
    """``terraform output -json`` as ``{name: value}``."""
    shown = terraform(stack_dir, ["output", "-json"], endpoint)
    return {name: item.get("value") for name, item in json.loads(shown.stdout or "{}").items()}


def state_addresses(stack_dir: Path, endpoint: str) -> list[str]:
    """Addresses in the state (``terraform state list``); empty when there is no state."""
    result = terraform(stack_dir, ["state", "list"], endpoint, check=False)
    return [line for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []
