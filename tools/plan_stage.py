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
(``http://127.0.0.1:5000``, e.g. a ``moto_server -p 5000`` left running) uses that server.
Emulator runs work in a throwaway copy of the synthesized output (the override file that sends
every AWS endpoint to the emulator with fake credentials, a local state file, ``.terraform``),
removed on every exit, errors and Ctrl-C included: the stage's directory stays exactly as
``make synth`` wrote it. The public Route 53 zones a stage looks up (prod's domain) are created
in the emulator first.

``plan`` keeps the full plan text in ``plan.txt`` and prints a short summary (the counts,
stateful resources destroyed or replaced, where the files are). Beside it: ``tfplan`` (what
``terraform apply`` takes), ``plan.json`` (``terraform show -json``) and ``plan-summary.md``
(``tools/plan_summary.py``, the pull-request comment), in
``cdktf.out/stacks/digital-booking-<stage>`` against AWS and in
``.tools/emulator/plans/<stage>`` against the emulator (there without ``tfplan``: nothing to
apply). The previous run's files are removed first, so a failed plan leaves none behind.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from tools import emulator, plan_summary, terraform_cli

PROJECT_DIR = terraform_cli.PROJECT_DIR
OUT_DIR = PROJECT_DIR / "cdktf.out"
EMULATOR_VARIABLE = "DIGITAL_BOOKING_EMULATOR_URL"
INSTANCE_PROFILE_VARIABLE = "DIGITAL_BOOKING_USE_INSTANCE_PROFILE"
#: Where ``make plan`` against the emulator leaves its files (outside the synthesized stacks).
EMULATOR_PLANS_DIR = terraform_cli.TOOLS_DIR / "emulator" / "plans"
#: What one ``make plan`` writes: all removed before the next one starts.
PLAN_FILES = ("tfplan", "plan.txt", "plan.json", "plan-summary.md")

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


def plans_dir(stage: str, endpoint: str | None) -> Path:
    """Where ``make plan`` leaves its files: beside the stack against AWS (``terraform apply
    tfplan`` runs there), under ``.tools`` against the emulator (never in the stack directory)."""
    return EMULATOR_PLANS_DIR / stage if endpoint else stack_dir(stage)


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


def emulator_env(endpoint: str) -> dict[str, str]:
    """Fake keys that win over any profile; empty values are removed from the environment."""
    return {**emulator.terraform_env(endpoint), "AWS_SESSION_TOKEN": "", "AWS_PROFILE": ""}


@contextlib.contextmanager
def emulator_copy(directory: Path, endpoint: str) -> Iterator[Path]:
    """A throwaway copy of the synthesized output with ``directory``'s stack at the emulator: the
    override file, local state and ``.terraform`` live there and go with it on every exit."""
    with tempfile.TemporaryDirectory(prefix="digital-booking-emulator-") as tmp:
        out = Path(tmp) / "cdktf.out"
        out.mkdir()
        shutil.copy2(directory.parent.parent / "manifest.json", out / "manifest.json")
        for stack in directory.parent.iterdir():
            if stack.is_dir():
                emulator.copy_stack(stack, out / "stacks" / stack.name)
        work = out / "stacks" / directory.name
        emulator.write_override(work, endpoint, state_path=Path(tmp) / "terraform.tfstate")
        yield work


def prepare_emulator(work: Path, endpoint: str) -> None:
    """Create in the emulator what the stage looks up by name and AWS would already have."""
    names = emulator.zones_looked_up(json.loads((work / "cdk.tf.json").read_text()))
    try:
        created = emulator.create_zones(endpoint, names)
    except Exception as error:  # noqa: BLE001 - any failure here is reported, with what and where
        raise SystemExit(
            f"error: could not create the public Route 53 zone(s) {', '.join(names)} that stage "
            f"'{work.name.removeprefix('digital-booking-')}' looks up, in the emulator at {endpoint}: {error}"
        ) from None
    for name in created:
        print(f"==> emulator: created the public hosted zone {name} (the stage looks it up by name)", flush=True)


def _env(extra_env: dict[str, str]) -> dict[str, str]:
    env = terraform_cli.terraform_env(extra_env)
    return {k: v for k, v in env.items() if v != "" or k not in extra_env}


def _stream(args: list[str], cwd: Path, extra_env: dict[str, str]) -> int:
    return subprocess.run(args, cwd=cwd, env=_env(extra_env), stdin=subprocess.DEVNULL).returncode


def _logged(args: list[str], cwd: Path, extra_env: dict[str, str], log: Path) -> int:
    """Run with stdout and stderr into ``log`` (the terminal gets the summary, not 5,000 lines)."""
    with log.open("w") as out:
        return subprocess.run(
            args, cwd=cwd, env=_env(extra_env), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        ).returncode


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_DIR)) if path.is_relative_to(PROJECT_DIR) else str(path)


def remove_plan_files(out_dir: Path) -> None:
    """The previous run's plan files: a failed synth or plan must not leave them to be applied or read."""
    for name in PLAN_FILES:
        (out_dir / name).unlink(missing_ok=True)


def run_plan(work: Path, stage: str, extra: dict[str, str], out_dir: Path, where: str) -> int:
    """terraform init + plan in ``work``; the files into ``out_dir``; a short summary printed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_plan_files(out_dir)
    terraform = terraform_cli.terraform_binary()
    text = out_dir / "plan.txt"
    print(f"==> terraform init + plan of stage '{stage}' against {where} (full text: {_shown(text)})", flush=True)
    if _logged([terraform, "init", "-input=false", "-reconfigure", "-no-color"], work, extra, text):
        print(f"error: terraform init failed:\n{terraform_cli.error_text(text.read_text())}", file=sys.stderr)
        print(f"(full output: {_shown(text)})", file=sys.stderr)
        return 1
    code = _logged(
        [terraform, "plan", "-input=false", "-no-color", "-lock-timeout=60s", "-out=tfplan", "-detailed-exitcode"],
        work,
        extra,
        text,
    )
    if code not in (0, 2):
        (work / "tfplan").unlink(missing_ok=True)
        print(f"error: terraform plan failed:\n{terraform_cli.error_text(text.read_text())}", file=sys.stderr)
        print(f"(full output: {_shown(text)})", file=sys.stderr)
        return 1
    shown = subprocess.run(
        [terraform, "show", "-json", "tfplan"],
        cwd=work,
        env=_env(extra),
        text=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=True,
    )
    (out_dir / "plan.json").write_text(shown.stdout)
    summary = plan_summary.summarize(json.loads(shown.stdout), stage, plan_summary._state_names())
    (out_dir / "plan-summary.md").write_text(summary.render())
    print(f"==> {summary.headline().replace('**', '')}")
    for change in summary.stateful_losses:
        forced = f", forced by {', '.join(change.replace_paths)}" if change.replace_paths else ""
        print(f"    !! STATEFUL {change.action.upper()}: {change.address} ({change.kind}{forced})")
    lines = len(text.read_text().splitlines())
    print(f"    full plan: {_shown(text)} ({lines} lines)")
    print(f"    comment:   {_shown(out_dir / 'plan-summary.md')} (plan.json beside it)")
    if (out_dir / "tfplan").exists():
        print(f"    to apply:  terraform -chdir={_shown(out_dir)} apply tfplan")
    return 0


def plan(stage: str, endpoint: str | None) -> int:
    remove_plan_files(plans_dir(stage, endpoint))
    directory = synth(stage)
    if not endpoint:
        (directory / emulator.OVERRIDE_FILE).unlink(missing_ok=True)  # left by an older version
        return run_plan(directory, stage, {}, directory, "AWS")
    with emulator_copy(directory, endpoint) as work:
        prepare_emulator(work, endpoint)
        return run_plan(work, stage, emulator_env(endpoint), plans_dir(stage, endpoint), f"the emulator at {endpoint}")


def diff(stage: str, endpoint: str | None) -> int:
    cdktf = PROJECT_DIR / "node_modules" / ".bin" / "cdktf"
    if not cdktf.exists():
        print("error: the cdktf CLI is not installed: run `make node-install` (npm ci)", file=sys.stderr)
        return 2
    directory = synth(stage)
    cli_env = {
        "CDKTF_DISABLE_PLUGIN_CACHE_ENV": "true",
        "CHECKPOINT_DISABLE": "1",
        "DIGITAL_BOOKING_STAGES": stage,
        "CI": os.environ.get("CI", "1"),
    }
    command = [str(cdktf), "diff", f"digital-booking-{stage}", "--skip-synth", "--skip-provider-lock"]
    command += ["--app", f"{sys.executable} main.py"]
    if not endpoint:
        (directory / emulator.OVERRIDE_FILE).unlink(missing_ok=True)  # left by an older version
        return _stream(command, PROJECT_DIR, cli_env)
    with emulator_copy(directory, endpoint) as work:
        prepare_emulator(work, endpoint)
        extra = {**emulator_env(endpoint), **cli_env}
        # cdktf diff keeps an existing .terraform: initialize the copy on the override's local backend
        if _stream([terraform_cli.terraform_binary(), "init", "-input=false", "-no-color"], work, extra):
            return 1
        return _stream([*command, "--output", str(work.parent.parent)], PROJECT_DIR, extra)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="terraform plan / cdktf diff of one stage")
    parser.add_argument("command", choices=("plan", "diff"))
    parser.add_argument("stage", nargs="?", default="")
    args = parser.parse_args(argv)
    if not args.stage:
        print(f"error: name a stage: make {args.command} STAGE=<stage> (e.g. STAGE=dev)", file=sys.stderr)
        return 2
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C: the emulator and the work copy go.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        return _run(args.command, args.stage)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(command: str, stage: str) -> int:
    endpoint = os.environ.get(EMULATOR_VARIABLE, "").strip() or None
    run = plan if command == "plan" else diff
    try:
        if endpoint is None:
            source = find_credentials()
            if source is None:
                print(no_credentials_message(command, stage), file=sys.stderr)
                return 2
            print(f"==> AWS credentials: {source}", flush=True)
        elif endpoint == "start":  # a throwaway emulator for this one run (empty: everything is to add)
            with emulator.MotoServer() as moto:
                print(f"==> started the emulator (moto) at {moto.url}; it stops when the {command} ends", flush=True)
                return run(stage, moto.url)
        return run(stage, endpoint)
    except KeyboardInterrupt:
        print(f"\ninterrupted: {command} of stage '{stage}' stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
