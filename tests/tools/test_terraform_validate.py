"""The real ``terraform validate`` with the real hashicorp/aws provider, on every synthesized stack.

The provider comes from the machine's filesystem mirror through the CLI config that
``tools/terraform_cli.py`` writes (the registry where there is no mirror). A missing terraform
or provider fails these tests with terraform's own message: they never skip.
"""

from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import SECURITY_STACKS, STAGES
from tools import terraform_cli

ALL_STACKS = ("digital-booking-state", *(f"digital-booking-{stage}" for stage in STAGES), *SECURITY_STACKS)


def init_and_validate(work) -> dict:
    """``terraform init -backend=false`` then ``terraform validate -json`` in ``work``: the report."""
    terraform_cli.init_offline(work)
    result = terraform_cli.run(["validate", "-json", "-no-color"], cwd=work, check=False)
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def validated(synth_dir, tmp_path_factory) -> dict[str, tuple]:
    """Every stack copied, initialised and validated: stack name -> (its directory, validate's report).
    The runs go side by side: each is one terraform process loading the provider's schema, about
    4 s of one core, and nothing they write is shared (the provider is a symlink into the mirror)."""
    works = {}
    for stack in ALL_STACKS:
        works[stack] = tmp_path_factory.mktemp(stack)
        shutil.copy(synth_dir / "stacks" / stack / "cdk.tf.json", works[stack] / "cdk.tf.json")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        reports = dict(zip(works, pool.map(init_and_validate, works.values()), strict=True))
    return {stack: (works[stack], reports[stack]) for stack in ALL_STACKS}


def test_terraform_is_installed():
    assert terraform_cli.terraform_binary(), "terraform must be on PATH"


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_every_stack_validates_with_the_real_provider(validated, stack):
    _, report = validated[stack]
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=1)
    assert report["error_count"] == 0


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_provider_installed_is_the_pinned_version(validated, stack):
    work, _ = validated[stack]
    lock = (work / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert f'version     = "{terraform_cli.AWS_PROVIDER_VERSION}"' in lock


def test_cli_config_uses_the_mirror_when_one_exists(tmp_path):
    config = terraform_cli.write_cli_config(tmp_path / "rc").read_text()
    mirror = terraform_cli.find_mirror()
    if mirror is None:  # a laptop without a mirror: registry
        assert "direct {}" in config
    else:
        assert f'path    = "{mirror}"' in config and "filesystem_mirror" in config


def test_a_named_mirror_without_the_provider_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv(terraform_cli.MIRROR_VARIABLE, str(tmp_path))
    with pytest.raises(
        terraform_cli.TerraformUnavailable, match="holds no registry.terraform.io/hashicorp/aws 5.100.0"
    ):
        terraform_cli.find_mirror()


def test_missing_terraform_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(terraform_cli.TerraformUnavailable, match="terraform is not on PATH"):
        terraform_cli.terraform_binary()
