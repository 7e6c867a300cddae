"""The real ``terraform validate`` with the real hashicorp/aws provider, on every synthesized stack.

The provider comes from the machine's filesystem mirror through the CLI config that
``tools/terraform_cli.py`` writes (the registry where there is no mirror). A missing terraform
or provider fails these tests with terraform's own message: they never skip.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import SECURITY_STACKS
from tools import terraform_cli

ALL_STACKS = (
    "digital-booking-state",
    "digital-booking-dev",
    "digital-booking-staging",
    "digital-booking-prod",
    *SECURITY_STACKS,
)


@pytest.fixture(scope="session", params=ALL_STACKS)
def initialised_stack(request, synth_dir, tmp_path_factory):
    """A copy of one synthesized stack, after ``terraform init -backend=false``."""
    work = tmp_path_factory.mktemp(request.param)
    shutil.copy(synth_dir / "stacks" / request.param / "cdk.tf.json", work / "cdk.tf.json")
    terraform_cli.init_offline(work)
    return work


def test_terraform_is_installed():
    assert terraform_cli.terraform_binary(), "terraform must be on PATH"


def test_every_stack_validates_with_the_real_provider(initialised_stack):
    result = terraform_cli.run(["validate", "-json", "-no-color"], cwd=initialised_stack, check=False)
    report = json.loads(result.stdout)
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=1)
    assert report["error_count"] == 0


def test_provider_installed_is_the_pinned_version(initialised_stack):
    lock = (initialised_stack / ".terraform.lock.hcl").read_text()
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
