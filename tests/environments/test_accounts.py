"""The accounts file (environments/_accounts.toml) and each stage's account: the shipped file loads, every
kind of bad input is refused with a message naming the file, the field, the value and what is allowed."""

from __future__ import annotations

import copy
import tomllib

import pytest

from environments import (
    ENVIRONMENTS_DIR,
    StageConfigError,
    load_accounts,
    load_stage,
    load_stages,
    parse_stage,
    stage_names,
)
from environments.accounts import parse_accounts
from modules.settings import Problems
from stacks.security_stack import security_stack_name
from tests.environments.stage_edits import rejection, shipped

SHIPPED = tomllib.loads((ENVIRONMENTS_DIR / "_accounts.toml").read_text())


def account_problems(edit) -> str:
    """Apply ``edit`` to a copy of the shipped accounts file; the problems it reports, one per line."""
    raw = copy.deepcopy(SHIPPED)
    edit(raw)
    problems = Problems("environments/_accounts.toml")
    parse_accounts(raw, problems)
    assert problems, "the edit should have been refused"
    return "\n".join(problems.lines)


def test_the_shipped_accounts_load():
    accounts = load_accounts()
    assert sorted(accounts) == ["nonprod", "prod"]
    assert accounts["prod"].production and not accounts["nonprod"].production
    assert all(a.home_region == a.regions[0] == "eu-west-1" for a in accounts.values())
    assert accounts["prod"].security_emails


def test_the_shipped_ids_are_marked_as_examples():
    """Like the example domain in prod.toml, the placeholder ids say so where they are written."""
    text = (ENVIRONMENTS_DIR / "_accounts.toml").read_text()
    for account in load_accounts().values():
        [line] = [line for line in text.splitlines() if f'"{account.id}"' in line]
        assert "EXAMPLE" in line, line
    assert "Replace them with your own" in text


def test_dev_and_staging_share_an_account_and_prod_has_its_own():
    by_stage = {c.name: c.account.name for c in load_stages() if c.account is not None}
    assert by_stage == {"dev": "nonprod", "staging": "nonprod", "prod": "prod"}


@pytest.mark.parametrize(
    "bad_id, why",
    [("12345", "not an AWS account id"), ("1111222233334", "not an AWS account id"), ("11112222333x", "not an AWS")],
)
def test_a_malformed_account_id_is_refused(bad_id, why):
    message = account_problems(lambda raw: raw["accounts"]["prod"].update(id=bad_id))
    assert f"environments/_accounts.toml: accounts.prod.id = '{bad_id}': {why}" in message
    assert "exactly 12 digits as a string" in message


def test_an_account_id_written_as_a_number_is_refused():
    """TOML integers lose leading zeros (012345678901): ids are strings."""
    message = account_problems(lambda raw: raw["accounts"]["prod"].update(id=444455556666))
    assert (
        "accounts.prod.id = 444455556666: wrong type or value; allowed: the account's 12-digit id as a string"
        in message
    )


def test_two_accounts_with_the_same_id_are_refused():
    message = account_problems(lambda raw: raw["accounts"]["prod"].update(id="111122223333"))
    assert "accounts.prod.id = '111122223333': the same id as accounts.nonprod (one account, two names)" in message


def test_two_accounts_with_the_same_name_are_refused(tmp_path):
    text = (ENVIRONMENTS_DIR / "_accounts.toml").read_text()
    (tmp_path / "_accounts.toml").write_text(text + '\n[accounts.prod]\nid = "777788889999"\nregions = ["eu-west-1"]\n')
    with pytest.raises(StageConfigError, match=r"_accounts.toml: not valid TOML: .*accounts"):
        load_accounts(tmp_path)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda raw: raw["accounts"]["nonprod"].update(regions=[]),
            "accounts.nonprod.regions = []: no region; allowed: at least one AWS region",
        ),
        (
            lambda raw: raw["accounts"]["nonprod"].update(regions=["eu-west-1", "Ireland"]),
            "accounts.nonprod.regions[1] = 'Ireland': not a region name",
        ),
        (
            lambda raw: raw["accounts"]["nonprod"].update(regions=["eu-west-1", "eu-west-1"]),
            "accounts.nonprod.regions = ['eu-west-1', 'eu-west-1']: a region is listed twice",
        ),
        (
            lambda raw: raw["accounts"]["prod"].update(security_emails=[]),
            "accounts.prod.security_emails = []: nobody would hear a security alarm of a production account",
        ),
        (
            lambda raw: raw["accounts"]["prod"].update(security_emails=["security"]),
            "accounts.prod.security_emails[0] = 'security': not an e-mail address",
        ),
        (
            lambda raw: raw["accounts"]["prod"].update(regoins=["eu-west-1"]),
            "accounts.prod.regoins = ['eu-west-1']: unknown key (a typo?); allowed: one of ",
        ),
        (
            lambda raw: raw["accounts"]["prod"].pop("id"),
            "accounts.prod.id = None: missing required value",
        ),
        (
            lambda raw: raw["accounts"].update(Prod=raw["accounts"]["prod"]),
            "accounts.Prod = 'Prod': not an account name",
        ),
        (
            lambda raw: raw.update(acounts={}),
            "acounts = {}: unknown key (a typo?); allowed: only [accounts.<name>] tables",
        ),
        (
            lambda raw: raw.update(accounts={}),
            "accounts = {}: no account; allowed: at least one [accounts.<name>] table",
        ),
        (
            lambda raw: raw["accounts"]["prod"].update(baseline={"trail_log_retention_days": 366}),
            "accounts.prod.baseline.trail_log_retention_days = 366: CloudWatch Logs does not accept this retention",
        ),
        (
            lambda raw: raw["accounts"]["prod"].update(baseline={"trail_retention": 30}),
            "accounts.prod.baseline.trail_retention = 30: unknown key (a typo?)",
        ),
        (
            lambda raw: raw["accounts"]["prod"].update(baseline={"trail_expiration_days": 90}),
            "accounts.prod.baseline.trail_expiration_days = 90: trail log files would expire before they are archived",
        ),
    ],
)
def test_bad_account_values_are_refused(edit, expected):
    assert expected in account_problems(edit)


def test_a_missing_accounts_file_is_a_clear_error(tmp_path):
    with pytest.raises(StageConfigError, match="_accounts.toml: no such accounts file"):
        load_accounts(tmp_path)


def test_load_accounts_reports_every_problem_of_the_file(tmp_path):
    (tmp_path / "_accounts.toml").write_text('[accounts.prod]\nid = "1"\nregions = ["x"]\nproduction = true\n')
    with pytest.raises(StageConfigError) as caught:
        load_accounts(tmp_path)
    message = str(caught.value)
    assert message.startswith("3 problem(s) in accounts file ")
    assert "accounts.prod.id = '1'" in message and "accounts.prod.regions[0] = 'x'" in message


# -- a stage and its account ----------------------------------------------------------------------------


def test_a_stage_naming_an_unknown_account_is_refused():
    message = rejection("dev", "stage", account="qa")
    assert (
        "environments/dev.toml: stage.account = 'qa': no such account in environments/_accounts.toml;"
        " allowed: one of nonprod, prod" in message
    )


def test_a_production_stage_without_an_account_is_refused():
    message = rejection("prod", "stage", account=None)
    assert (
        "environments/prod.toml: stage.account = None: a production stage must name the AWS account it runs in"
        in message
    )
    assert "allowed: the name of a production account in environments/_accounts.toml" in message


def test_a_production_stage_in_a_non_production_account_is_refused():
    message = rejection("prod", "stage", account="nonprod")
    assert "environments/prod.toml: stage.account = 'nonprod': a production stage must run in a production account" in (
        message
    )
    assert "allowed: a production account: prod" in message


def test_a_stage_in_a_region_its_account_does_not_list_is_refused():
    def to_stockholm(raw):
        raw["stage"]["region"] = "eu-north-1"
        raw["network"]["azs"] = ["eu-north-1a", "eu-north-1b"]

    from tests.environments.stage_edits import rejection_of_edit

    message = rejection_of_edit("dev", to_stockholm)
    assert "stage.region = 'eu-north-1': account 'nonprod' does not list this region" in message
    assert "allowed: one of eu-west-1, eu-central-1 (or add the region to the account in" in message


def test_a_disaster_recovery_region_its_account_does_not_list_is_refused():
    """GuardDuty, AWS Config and Security Hub are regional services (GuardDuty User Guide, "Regions and
    endpoints": "enable GuardDuty in all supported AWS Regions"): a region holding the stage's backup
    copies and replica bucket with no baseline stack would go unwatched."""
    message = rejection("prod", "stage", dr_region="eu-north-1")
    assert (
        "environments/prod.toml: stage.dr_region = 'eu-north-1': account 'prod' does not list this region in "
        "environments/_accounts.toml, so no security baseline watches the stage's copies there"
    ) in message
    assert "allowed: one of eu-west-1, eu-central-1" in message


def test_every_disaster_recovery_region_has_its_accounts_baseline(stacks):
    for stage in stage_names():
        config = load_stage(stage)
        if config.account is not None and config.stage.dr_region is not None:
            name = security_stack_name(config.account.name, config.stage.dr_region)
            assert name in stacks, f"{stage}: no baseline stack {name}"


def test_a_non_production_stage_may_name_no_account():
    raw = copy.deepcopy(shipped("dev"))
    del raw["stage"]["account"]
    assert parse_stage("dev", raw, "environments/dev.toml").account is None


def test_stages_are_checked_against_the_accounts_given():
    """A stage names accounts of the accounts file it is loaded with, not of the shipped one."""
    problems = Problems("elsewhere/_accounts.toml")
    other = parse_accounts({"accounts": {"sandbox": {"id": "999988887777", "regions": ["eu-west-1"]}}}, problems)
    config = parse_stage(
        "dev", {**shipped("dev"), "stage": {**shipped("dev")["stage"], "account": "sandbox"}}, "x", other
    )
    assert config.account is not None and config.account.id == "999988887777"
    with pytest.raises(StageConfigError, match="no such account in elsewhere/_accounts.toml; allowed: one of sandbox"):
        parse_stage("dev", shipped("dev"), "x", other)
