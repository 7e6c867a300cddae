"""Run the real ``terraform`` the way this project needs it, offline when a mirror exists.

The project writes its own Terraform CLI config (``.tools/terraformrc``) instead of trusting
the user's: with a filesystem mirror of hashicorp/aws on disk it installs the provider from
there and never touches the network; without one (a laptop) it falls back to the registry.
A missing ``terraform`` is an error with a clear message, never a reason to skip a check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
TOOLS_DIR = PROJECT_DIR / ".tools"
AWS_PROVIDER_VERSION = "5.100.0"  # the version cdktf-cdktf-provider-aws 20.1.0 is generated for
_PROVIDER = "registry.terraform.io/hashicorp/aws"

#: Where a filesystem mirror of the provider is looked for, first hit wins. The variable lets
#: a machine name its own mirror.
MIRROR_VARIABLE = "DIGITAL_BOOKING_PROVIDER_MIRROR"
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


class TerraformUnavailable(RuntimeError):
    """terraform (or the provider) cannot be had here; the message says what to do."""


def find_mirror() -> Path | None:
    """A directory holding hashicorp/aws at the pinned version, packed or unpacked layout."""
    candidates = [os.environ[MIRROR_VARIABLE]] if os.environ.get(MIRROR_VARIABLE) else list(MIRROR_CANDIDATES)
    for candidate in candidates:
        root = Path(candidate).expanduser()
        provider_dir = root / _PROVIDER
        if (provider_dir / AWS_PROVIDER_VERSION).is_dir() or any(provider_dir.glob(f"*_{AWS_PROVIDER_VERSION}_*.zip")):
            return root
    if os.environ.get(MIRROR_VARIABLE):
        raise TerraformUnavailable(
            f"{MIRROR_VARIABLE}={os.environ[MIRROR_VARIABLE]} holds no {_PROVIDER} {AWS_PROVIDER_VERSION}"
        )
    return None


def write_cli_config(path: Path | None = None) -> Path:
    """Write the CLI config terraform runs with: the mirror for hashicorp/aws if there is one."""
    path = path or TOOLS_DIR / "terraformrc"
    path.parent.mkdir(parents=True, exist_ok=True)
    mirror = find_mirror()
    if mirror is None:
        text = (
            "# No provider mirror found on this machine: providers come from the registry.\n"
            "provider_installation {\n  direct {}\n}\n"
        )
    else:
        text = (
            f"# Written by tools/terraform_cli.py: {_PROVIDER} from the mirror, offline.\n"
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n    include = ["{_PROVIDER}"]\n  }}\n'
            f'  direct {{\n    exclude = ["{_PROVIDER}"]\n  }}\n'
            "}\n"
        )
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        raise TerraformUnavailable(
            "terraform is not on PATH. Install Terraform >= 1.10 (https://developer.hashicorp.com/terraform/install);"
            " the tests need the real binary and never skip without it."
        )
    return binary


def terraform_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for every terraform run: our CLI config, no prompts, no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(write_cli_config()),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        }
    )
    env.update(extra or {})
    return env


def run(
    args: list[str], cwd: Path, extra_env: dict[str, str] | None = None, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run ``terraform <args>`` in ``cwd``; on failure raise with terraform's own output."""
    result = subprocess.run(
        [terraform_binary(), *args],
        cwd=cwd,
        env=terraform_env(extra_env),
        text=True,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"terraform {' '.join(args)} failed in {cwd} (exit {result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def error_text(output: str, most: int = 60) -> str:
    """Terraform's error blocks (from the first ``Error:`` line on), else the end of the output:
    what a person needs from thousands of lines of plan or apply output."""
    lines = output.splitlines()
    first = next((i for i, line in enumerate(lines) if line.lstrip("│ ").startswith("Error:")), None)
    return "\n".join(lines[first : first + most] if first is not None else lines[-most:])


def init_offline(stack_dir: Path) -> None:
    """``terraform init -backend=false``: installs the provider, ignores the S3 backend."""
    run(["init", "-backend=false", "-input=false", "-no-color"], cwd=stack_dir)


def cli_config_hint(path: Path) -> str:
    """What a person running terraform or ``npx cdktf`` by hand needs to know about the CLI config."""
    shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
    mirror = find_mirror()
    if mirror is None:
        return f"Terraform CLI config: {shown} (no provider mirror here: providers come from the registry)"
    return (
        f"Terraform CLI config: {shown} ({_PROVIDER} {AWS_PROVIDER_VERSION} from the mirror {mirror}, offline).\n"
        f'For terraform and npx cdktf by hand: export TF_CLI_CONFIG_FILE="$PWD/{shown}" CHECKPOINT_DISABLE=1, '
        "and add --skip-provider-lock to npx cdktf diff/deploy (README: The cdktf CLI)"
    )


if __name__ == "__main__":  # `python -m tools.terraform_cli`: print the CLI config path, for make targets
    import sys

    config = write_cli_config()
    print(cli_config_hint(config) if "--hint" in sys.argv[1:] else config)
