"""The cdktf CLI, run exactly as the README says for a machine with only a provider mirror.

The test works in a copy of the project (the tracked files, with ``.venv`` and ``node_modules``
linked in), so the working tree is never touched:

1. ``make synth`` there writes the CLI config (``.tools/terraformrc``) and says how to use it;
2. ``npx cdktf synth`` synthesizes every stack with no ``[ERROR]`` line (no Node.js banner from
   jsii, no checkpoint lookup);
3. ``npx cdktf diff digital-booking-dev --skip-provider-lock`` plans the dev stack against the
   emulator: the override file is written into the copy's synthesized stack (as a person would
   for a local try), which ``cdktf diff``'s own synth leaves in place.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_style import tracked_files
from tools import emulator
from tools.terraform_cli import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()


def readme_commands(marker: str) -> list[str]:
    """The commands of the README's ```bash block that follows ``marker``, comments removed."""
    block = README.split(marker, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [c for c in commands if c and not c.startswith("#")]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("project") / "digital-booking-infra"
    for path in tracked_files():
        target = copy / path.relative_to(PROJECT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    for linked in (".venv", "node_modules"):
        (copy / linked).symlink_to((PROJECT_DIR / linked).resolve())
    return copy


def shell(command: str, cwd: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "JSII_", "TF_", "CHECKPOINT"))}
    env.update(extra_env or {})
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def test_readme_gives_the_mirror_lines() -> None:
    commands = readme_commands("**With only a provider mirror**")
    assert commands[0] == "make synth node-install"
    assert commands[1] == 'export TF_CLI_CONFIG_FILE="$PWD/.tools/terraformrc" CHECKPOINT_DISABLE=1'
    assert "npx cdktf diff digital-booking-dev --skip-provider-lock" in commands
    assert "npx cdktf deploy digital-booking-dev --skip-provider-lock" in commands


@pytest.mark.slow
@pytest.mark.emulator
def test_npx_cdktf_synth_and_diff_as_the_readme_says(project: Path) -> None:
    synth = shell("make synth", project)
    assert synth.returncode == 0, synth.stdout[-2000:] + synth.stderr[-2000:]
    assert 'export TF_CLI_CONFIG_FILE="$PWD/.tools/terraformrc"' in synth.stdout
    assert (project / ".tools" / "terraformrc").is_file()

    mirror_only = readme_commands("**With only a provider mirror**")
    setup = mirror_only[1]  # the export line, exactly as written
    result = shell(f"{setup} && npx cdktf synth", project)
    output = plain(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert "Generated Terraform code for the stacks" in output
    assert "[ERROR]" not in output and "end-of-life" not in output, output[-3000:]

    stack = project / "cdktf.out" / "stacks" / "digital-booking-dev"
    with emulator.MotoServer() as moto:
        emulator.write_override(stack, moto.url, state_path=stack / "terraform.tfstate")
        init = shell(f"{setup} && terraform -chdir={stack.relative_to(project)} init -input=false -no-color", project)
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
        diff_line = "npx cdktf diff digital-booking-dev --skip-provider-lock"
        assert diff_line in mirror_only
        result = shell(f"{setup} && {diff_line}", project, emulator.terraform_env(moto.url))
    output = plain(result.stdout + result.stderr)
    assert result.returncode == 0, output[-3000:]
    assert re.search(r"Plan: \d+ to add, 0 to change, 0 to destroy", output), output[-3000:]
    assert "[ERROR]" not in output, output[-3000:]
