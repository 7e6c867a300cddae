"""``make plan STAGE=<stage>`` and ``make diff STAGE=<stage>``: what a change would do to one stage.

    python -m tools.plan_stage plan dev    # synth dev, terraform init + plan, summary
    python -m tools.plan_stage diff dev    # synth dev, `cdktf diff` through the npm cdktf CLI

Both first look for AWS credentials the way the AWS provider does (environment keys, a
profile in the shared config/credentials files, SSO, credential_process, web identity, the
ECS/EKS container endpoints). Where there are none they say so and stop (exit 2) instead of
letting terraform probe and fail slowly; nothing ever waits for input (``-input=false``,
stdin closed). On an EC2 runner that relies on its instance profile, set
``DIGITAL_BOOKING_USE_INSTANCE_PROFILE=1`` to skip the check.

Point them at the emulator (moto, :mod:`tools.emulator`) with ``DIGITAL_BOOKING_EMULATOR_URL``:
``start`` runs a throwaway moto server for the one command, a URL
(``http://127.0.0.1:5000``, e.g. a ``moto_server -p 5000`` left running) uses that server. The
stage's generated directory then gets the emulator override file (every AWS endpoint at the
emulator, fake credentials) and keeps the state in a local file
(``.tools/emulator-state/<stage>.tfstate``), never in S3. Without the variable that file is removed.

``plan`` leaves ``tfplan``, ``plan.json`` (``terraform show -json``) and ``plan-summary.md``
(``tools/plan_summary.py``, the pull-request comment) in ``cdktf.out/stacks/digital-booking-<stage>``.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tools import emulator, plan_summary, terraform_cli

PROJECT_DIR = terraform_cli.PROJECT_DIR
OUT_DIR = PROJECT_DIR / "cdktf.out"
EMULATOR_VARIABLE = "DIGITAL_BOOKING_EMULATOR_URL"
INSTANCE_PROFILE_VARIABLE = "DIGITAL_BOOKING_USE_INSTANCE_PROFILE"
EMULATOR_STATE_DIR = terraform_cli.TOOLS_DIR / "emulator-state"

NO_CREDENTIALS = """\
error: no AWS credentials found, so `{command}` cannot reach AWS for stage '{stage}'. Looked for:
  - AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY in the environment
  - AWS_PROFILE / a [default] profile in {config} or {credentials}
    (keys, SSO `sso_session`/`sso_start_url`, `credential_process`, `role_arn`)
  - AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (GitHub Actions OIDC, EKS)
  - AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (ECS, CodeBuild)
Do one of: `aws configure sso` / `aws sso login --profile <p>` then `export AWS_PROFILE=<p>`;
export the keys; or set {instance}=1 on an EC2 host with an instance profile.
To run it against the local emulator (moto) instead, no AWS account needed:
  {emulator}=start make {command_short} STAGE={stage}"""

_PROFILE_KEYS = (
    "aws_access_key_id",
    "sso_session",
    "sso_start_url",
    "credential_process",
    "role_arn",
    "web_identity_token_file",
    "source_profile",
    "credential_source",
    "login_session",
)


def _profiles(path: Path, config_file: bool) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()
    try:
        parser.read(path)
    except configparser.Error:
        return {}
    profiles = {}
    for section in parser.sections():
        name = section.removeprefix("profile ").strip() if config_file else section.strip()
        if config_file and section.startswith(("sso-session ", "services ")):
            continue
        profiles[name] = dict(parser.items(section))
    return profiles


def find_credentials(env: Mapping[str, str] | None = None) -> str | None:
    """Where the AWS SDK would get credentials from, or ``None`` where it would find none.

    Only looks at the environment and the shared files; it never calls AWS or the metadata service.
    """
    env = os.environ if env is None else env
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return "environment variables AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE") and env.get("AWS_ROLE_ARN"):
        return f"web identity token for {env['AWS_ROLE_ARN']}"
    if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return "container credentials endpoint"
    if env.get(INSTANCE_PROFILE_VARIABLE) == "1":
        return "EC2 instance profile (assumed: DIGITAL_BOOKING_USE_INSTANCE_PROFILE=1)"
    home = Path(env.get("HOME", str(Path.home())))
    config = Path(env.get("AWS_CONFIG_FILE", home / ".aws" / "config"))
    credentials = Path(env.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials"))
    profile = env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE") or "default"
    settings = {**_profiles(config, True).get(profile, {}), **_profiles(credentials, False).get(profile, {})}
    if any(settings.get(key) for key in _PROFILE_KEYS):
        return f"profile '{profile}' in {config if profile in _profiles(config, True) else credentials}"
    return None


def no_credentials_message(command: str, stage: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    home = Path(env.get("HOME", str(Path.home())))
    return NO_CREDENTIALS.format(
        command=f"make {command}",
        command_short=command,
        stage=stage,
        instance=INSTANCE_PROFILE_VARIABLE,
        emulator=EMULATOR_VARIABLE,
        config=env.get("AWS_CONFIG_FILE", home / ".aws" / "config"),
        credentials=env.get("AWS_SHARED_CREDENTIALS_FILE", home / ".aws" / "credentials"),
    )


def stack_dir(stage: str, out_dir: Path = OUT_DIR) -> Path:
    return out_dir / "stacks" / f"digital-booking-{stage}"


def synth(stage: str) -> Path:
    """Synthesize the one stage (plus the bootstrap stack) exactly as ``make synth STAGE=`` does."""
    env = {**os.environ, "DIGITAL_BOOKING_STAGES": stage, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run([sys.executable, "main.py"], cwd=PROJECT_DIR, env=env, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise SystemExit(result.returncode)
    directory = stack_dir(stage)
    if not (directory / "cdk.tf.json").is_file():
        raise SystemExit(f"error: synth wrote no {directory}/cdk.tf.json")
    return directory


def prepare(directory: Path, stage: str, endpoint: str | None) -> dict[str, str]:
    """Write (emulator) or remove (AWS) the override file; the extra environment terraform runs with."""
    if not endpoint:
        (directory / emulator.OVERRIDE_FILE).unlink(missing_ok=True)
        return {}
    EMULATOR_STATE_DIR.mkdir(parents=True, exist_ok=True)
    emulator.write_override(directory, endpoint, state_path=EMULATOR_STATE_DIR / f"{stage}.tfstate")
    # Fake keys that win over any profile; empty values are removed from the environment.
    return {**emulator.terraform_env(endpoint), "AWS_SESSION_TOKEN": "", "AWS_PROFILE": ""}


def _env(extra_env: dict[str, str]) -> dict[str, str]:
    env = terraform_cli.terraform_env(extra_env)
    return {k: v for k, v in env.items() if v != "" or k not in extra_env}


def _stream(args: list[str], cwd: Path, extra_env: dict[str, str]) -> int:
    return subprocess.run(args, cwd=cwd, env=_env(extra_env), stdin=subprocess.DEVNULL).returncode


def plan(stage: str, endpoint: str | None) -> int:
    directory = synth(stage)
    extra = prepare(directory, stage, endpoint)
    terraform = terraform_cli.terraform_binary()
    where = f"the emulator at {endpoint}" if endpoint else "AWS"
    print(f"==> terraform init + plan of {directory.relative_to(PROJECT_DIR)} against {where}", flush=True)
    if _stream([terraform, "init", "-input=false", "-reconfigure", "-no-color"], directory, extra):
        print("error: terraform init failed (see above)", file=sys.stderr)
        return 1
    code = _stream(
        [terraform, "plan", "-input=false", "-lock-timeout=60s", "-out=tfplan", "-detailed-exitcode"], directory, extra
    )
    if code == 1:
        print("error: terraform plan failed (see above)", file=sys.stderr)
        return 1
    shown = subprocess.run(
        [terraform, "show", "-json", "tfplan"],
        cwd=directory,
        env=_env(extra),
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    (directory / "plan.json").write_text(shown.stdout)
    summary = plan_summary.summarize(json.loads(shown.stdout), stage, plan_summary._state_names())
    (directory / "plan-summary.md").write_text(summary.render())
    print(f"\n==> {summary.headline().replace('**', '')}")
    for change in summary.stateful_losses:
        print(f"    !! STATEFUL {change.action.upper()}: {change.address} ({change.kind})")
    print(
        f"    plan: {(directory / 'tfplan').relative_to(PROJECT_DIR)}, "
        f"comment: {(directory / 'plan-summary.md').relative_to(PROJECT_DIR)}"
    )
    return 0


def diff(stage: str, endpoint: str | None) -> int:
    cdktf = PROJECT_DIR / "node_modules" / ".bin" / "cdktf"
    if not cdktf.exists():
        print("error: the cdktf CLI is not installed: run `make node-install` (npm ci)", file=sys.stderr)
        return 2
    directory = synth(stage)
    extra = prepare(directory, stage, endpoint)
    if endpoint:  # cdktf diff keeps the existing .terraform: make it follow the override's backend
        if _stream(
            [terraform_cli.terraform_binary(), "init", "-input=false", "-reconfigure", "-no-color"], directory, extra
        ):
            return 1
    extra.update(
        {
            "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "true",
            "CHECKPOINT_DISABLE": "1",
            "DIGITAL_BOOKING_STAGES": stage,
            "CI": os.environ.get("CI", "1"),
        }
    )
    return _stream(
        [
            str(cdktf),
            "diff",
            f"digital-booking-{stage}",
            "--skip-synth",
            "--skip-provider-lock",
            "--app",
            f"{sys.executable} main.py",
        ],
        PROJECT_DIR,
        extra,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="terraform plan / cdktf diff of one stage")
    parser.add_argument("command", choices=("plan", "diff"))
    parser.add_argument("stage", nargs="?", default="")
    args = parser.parse_args(argv)
    if not args.stage:
        print(f"error: name a stage: make {args.command} STAGE=<stage> (e.g. STAGE=dev)", file=sys.stderr)
        return 2
    endpoint = os.environ.get(EMULATOR_VARIABLE, "").strip() or None
    run = plan if args.command == "plan" else diff
    if endpoint is None:
        source = find_credentials()
        if source is None:
            print(no_credentials_message(args.command, args.stage), file=sys.stderr)
            return 2
        print(f"==> AWS credentials: {source}", flush=True)
    elif endpoint == "start":  # a throwaway emulator for this one run (empty: everything is to add)
        (EMULATOR_STATE_DIR / f"{args.stage}.tfstate").unlink(missing_ok=True)  # no state from an old emulator
        with emulator.MotoServer() as moto:
            print(f"==> started the emulator (moto) at {moto.url}; it stops when the {args.command} ends", flush=True)
            return run(args.stage, moto.url)
    return run(args.stage, endpoint)


if __name__ == "__main__":
    sys.exit(main())
