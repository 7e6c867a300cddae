"""The AWS accounts file, ``environments/_accounts.toml``: which accounts exist, and which stage runs where.

Each ``[accounts.<name>]`` table declares one account: its 12-digit ``id``, its ``regions`` (the
first is the home region, where the multi-region trail lives), whether it is a ``production``
account, its ``security_emails``, and optionally ``[accounts.<name>.baseline]``
(:class:`modules.security_baseline.SecurityBaselineSettings`). Every problem is reported at once,
naming the file, the field, the value and what is allowed, like the stage files.

A stage names its account in ``[stage] account``; :func:`check_stage_account` refuses an unknown
name, a production stage in a non-production account, and a stage region the account does not list
(a production stage without an account is a row of ``environments/production.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from environments.schema import build_section
from modules.monitoring import EMAIL
from modules.security_baseline import SecurityBaselineSettings
from modules.settings import REGION, Problems, SectionProblems, setting

ACCOUNTS_FILE = "_accounts.toml"
ACCOUNT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,15}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class AccountSection:
    """``[accounts.<name>]``: one AWS account."""

    id: str = setting(allowed="the account's 12-digit id as a string, e.g. '111122223333'")
    regions: tuple[str, ...] = setting(
        allowed="the AWS regions the platform uses in this account, home region first, e.g. ['eu-west-1']"
    )
    production: bool = setting(
        False, allowed="true or false: a production account (production stages need one; S3 data events are logged)"
    )
    security_emails: tuple[str, ...] = setting(
        (),
        allowed="e-mail addresses subscribed to the account's security topic (at least one in a production account)",
    )

    def check(self, problems: SectionProblems, region: str) -> None:
        if not ACCOUNT_ID.match(self.id):
            problems.add("id", self.id, "not an AWS account id", "exactly 12 digits as a string, e.g. '111122223333'")
        if not self.regions:
            problems.add("regions", [], "no region", "at least one AWS region, home region first")
        for index, name in enumerate(self.regions):
            if not REGION.match(name):
                problems.add(f"regions[{index}]", name, "not a region name", "an AWS region name such as 'eu-west-1'")
        if len(set(self.regions)) != len(self.regions):
            problems.add("regions", list(self.regions), "a region is listed twice", "distinct regions")
        for index, address in enumerate(self.security_emails):
            if not EMAIL.match(address):
                problems.add(
                    f"security_emails[{index}]",
                    address,
                    "not an e-mail address",
                    "an address such as 'sec@example.com'",
                )
        if len({a.lower() for a in self.security_emails}) != len(self.security_emails):
            problems.add(
                "security_emails", list(self.security_emails), "an address is listed twice", "distinct addresses"
            )
        if self.production and not self.security_emails:
            problems.add(
                "security_emails",
                [],
                "nobody would hear a security alarm of a production account",
                "at least one e-mail address in a production account",
            )


@dataclass(frozen=True)
class AccountConfig:
    """One validated account."""

    name: str
    id: str
    regions: tuple[str, ...]
    production: bool
    security_emails: tuple[str, ...]
    baseline: SecurityBaselineSettings
    #: The accounts file it was read from, for error messages.
    source: str = ACCOUNTS_FILE

    @property
    def home_region(self) -> str:
        """Where the account's multi-region trail, CIS alarms and account-wide settings live."""
        return self.regions[0]


def parse_accounts(raw: Mapping[str, Any], problems: Problems) -> dict[str, AccountConfig]:
    """Every account of a parsed accounts file (problems reported, the bad accounts left out)."""
    for key in raw:
        if key != "accounts":
            problems.add(key, raw[key], "unknown key (a typo?)", "only [accounts.<name>] tables")
    tables = raw.get("accounts")
    if not isinstance(tables, dict) or not tables:
        problems.add("accounts", tables, "no account", "at least one [accounts.<name>] table")
        return {}
    accounts: dict[str, AccountConfig] = {}
    for name, table in tables.items():
        where = f"accounts.{name}"
        if not ACCOUNT_NAME.match(name):
            problems.add(
                where, name, "not an account name", "2-16 lowercase letters, digits and '-', starting with a letter"
            )
        if not isinstance(table, dict):
            problems.add(where, table, "must be a table", f"an [{where}] table")
            continue
        table = dict(table)
        baseline_raw = table.pop("baseline", None)
        section: AccountSection | None = build_section(AccountSection, table, where, problems)
        baseline: SecurityBaselineSettings | None = build_section(
            SecurityBaselineSettings, baseline_raw, f"{where}.baseline", problems
        )
        if section is None or baseline is None:
            continue
        section.check(problems.within(where), "")
        baseline.check(problems.within(f"{where}.baseline"), section.regions[0] if section.regions else "")
        accounts[name] = AccountConfig(
            name=name,
            id=section.id,
            regions=section.regions,
            production=section.production,
            security_emails=section.security_emails,
            baseline=baseline,
            source=problems.source,
        )
    owners: dict[str, str] = {}
    for account in accounts.values():
        if account.id in owners:
            problems.add(
                f"accounts.{account.name}.id",
                account.id,
                f"the same id as accounts.{owners[account.id]} (one account, two names)",
                "a distinct account id per account",
            )
        owners.setdefault(account.id, account.name)
    return accounts


def check_stage_account(
    stage_account: str | None,
    production: bool,
    region: str,
    accounts: Mapping[str, AccountConfig],
    problems: Problems,
    dr_region: str | None = None,
) -> AccountConfig | None:
    """The account a stage names, or None; every mismatch with the accounts file as a problem."""
    if stage_account is None:
        return None  # a production stage without an account is a production rule
    accounts_source = next(iter(accounts.values())).source if accounts else f"environments/{ACCOUNTS_FILE}"
    account = accounts.get(stage_account)
    if account is None:
        problems.add(
            "stage.account",
            stage_account,
            f"no such account in {accounts_source}",
            "one of " + ", ".join(sorted(accounts)) if accounts else f"an account declared in {accounts_source}",
        )
        return None
    if production and not account.production:
        problems.add(
            "stage.account",
            stage_account,
            f"a production stage must run in a production account ({accounts_source} says production = false)",
            "a production account: " + ", ".join(sorted(a.name for a in accounts.values() if a.production)),
        )
    unlisted = f"account {stage_account!r} does not list this region in {accounts_source}"
    listed = "one of " + ", ".join(account.regions) + f" (or add the region to the account in {accounts_source})"
    if region not in account.regions:
        problems.add("stage.region", region, unlisted, listed)
    if dr_region is not None and dr_region not in account.regions:
        # The stage keeps backup copies and a replica bucket there: GuardDuty, Config and Security Hub
        # are regional, so the account's baseline must cover that region too.
        unwatched = f"{unlisted}, so no security baseline watches the stage's copies there"
        problems.add("stage.dr_region", dr_region, unwatched, listed)
    return account


def accounts_path(directory: Path) -> Path:
    return directory / ACCOUNTS_FILE
