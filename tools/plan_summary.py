"""Turn ``terraform show -json <planfile>`` into the Markdown comment a pull request gets per stage.

The comment puts what can lose data first:

1. a loud CAUTION block when a stateful resource (database, bucket, cache, table, key, file
   system, the Terraform state store) would be destroyed or replaced, naming the attributes
   that force the replacement;
2. the counts, the way ``terraform plan`` prints them (a replacement counts once to add and once
   to destroy) plus the number of replacements;
3. every destroyed or replaced resource, before the list of created, updated and other changes.

It reads only the plan JSON: nothing here talks to AWS. Usage::

    terraform show -json tfplan > plan.json
    python -m tools.plan_summary plan.json --stage dev > comment.md

The first line of the comment is a hidden marker (``<!-- digital-booking-plan:dev -->``) by
which the workflow finds and updates its previous comment instead of adding another one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Resource types whose destruction loses data (or makes data unreadable: a KMS key), with the
#: word used in the comment. Prefix entries end in ``*`` (every ``aws_efs_...`` type).
STATEFUL_TYPES: dict[str, str] = {
    "aws_db_instance": "database",
    "aws_rds_cluster": "database cluster",
    "aws_rds_cluster_instance": "database cluster instance",
    "aws_rds_global_cluster": "global database",
    "aws_docdb_cluster": "document database",
    "aws_neptune_cluster": "graph database",
    "aws_dynamodb_table": "DynamoDB table",
    "aws_elasticache_replication_group": "cache",
    "aws_elasticache_cluster": "cache",
    "aws_elasticache_serverless_cache": "cache",
    "aws_memorydb_cluster": "cache",
    "aws_s3_bucket": "S3 bucket",
    "aws_kms_key": "KMS key (data encrypted with it becomes unreadable)",
    "aws_efs*": "EFS file system",
    "aws_ebs_volume": "EBS volume",
    "aws_fsx*": "FSx file system",
    "aws_opensearch_domain": "search domain",
    "aws_secretsmanager_secret": "secret",
    "aws_backup_vault": "backup vault",
    "aws_cloudwatch_log_group": "log group (its logs)",
}

#: Names of the state store's pieces as the bootstrap stack names them (``state-store_...``).
STATE_STORE_MARKERS = ("state-store", "state_store")

MARKER = "<!-- digital-booking-plan:{stage} -->"
#: GitHub refuses comments over 65,536 characters; lists are cut well before that.
MAX_LISTED = 200

_SYMBOL = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "replace": "-/+",
    "read": "<=",
    "forget": "forget",
    "import": "<- import",
    "move": "move",
}


@dataclass(frozen=True)
class Change:
    """One resource's planned change, reduced to what the comment needs."""

    address: str
    type: str
    action: str  # create | update | delete | replace | read | no-op | forget
    replace_paths: tuple[str, ...] = ()
    reason: str = ""
    previous_address: str = ""
    importing: bool = False
    is_state_store: bool = False
    changed_attributes: tuple[str, ...] = ()  # top-level attributes an update changes (names only, no values)

    @property
    def kind(self) -> str | None:
        """What the resource holds, if it is stateful (``None`` for stateless resources)."""
        if self.is_state_store:
            return "Terraform state store"
        if self.type in STATEFUL_TYPES:
            return STATEFUL_TYPES[self.type]
        for pattern, word in STATEFUL_TYPES.items():
            if pattern.endswith("*") and self.type.startswith(pattern[:-1]):
                return word
        return None

    @property
    def destructive(self) -> bool:
        return self.action in ("delete", "replace")

    @property
    def stateful_loss(self) -> bool:
        return self.destructive and self.kind is not None


@dataclass
class PlanSummary:
    """Every change of one plan, classified; ``render()`` writes the comment."""

    stage: str
    changes: list[Change] = field(default_factory=list)
    output_changes: dict[str, str] = field(default_factory=dict)
    terraform_version: str = ""
    errored: bool = False

    # ---- counts, the way `terraform plan` prints them --------------------------------------
    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def to_add(self) -> int:
        return self.count("create") + self.count("replace")

    @property
    def to_change(self) -> int:
        return self.count("update")

    @property
    def to_destroy(self) -> int:
        return self.count("delete") + self.count("replace")

    @property
    def to_replace(self) -> int:
        return self.count("replace")

    @property
    def to_import(self) -> int:
        return sum(1 for c in self.changes if c.importing)

    @property
    def moved(self) -> list[Change]:
        return [c for c in self.changes if c.previous_address and c.previous_address != c.address]

    @property
    def stateful_losses(self) -> list[Change]:
        return [c for c in self.changes if c.stateful_loss]

    @property
    def destructive(self) -> list[Change]:
        """Destroyed or replaced resources, stateful ones first, then by address."""
        return sorted((c for c in self.changes if c.destructive), key=lambda c: (not c.stateful_loss, c.address))

    @property
    def has_changes(self) -> bool:
        return (
            any(c.action not in ("no-op", "read") for c in self.changes)
            or bool(self.output_changes)
            or bool(self.moved)
        )

    # ---- rendering -------------------------------------------------------------------------
    def headline(self) -> str:
        text = f"**Plan:** {self.to_add} to add, {self.to_change} to change, {self.to_destroy} to destroy"
        if self.to_replace:
            text += f" ({self.to_replace} of them replaced: destroyed and created again)"
        extras = []
        if self.to_import:
            extras.append(f"{self.to_import} to import")
        if self.moved:
            extras.append(f"{len(self.moved)} moved")
        if self.count("forget"):
            extras.append(f"{self.count('forget')} to forget")
        if extras:
            text += "; " + ", ".join(extras)
        return text + "."

    def render(self) -> str:
        lines = [MARKER.format(stage=self.stage), f"## Terraform plan: `{self.stage}`", ""]
        if self.errored:
            lines += [
                "> [!WARNING]",
                "> **The plan errored**: what follows is only what terraform planned before "
                "the error. Read the job log.",
                "",
            ]
        losses = self.stateful_losses
        if losses:
            lines += [
                "> [!CAUTION]",
                f"> **:rotating_light: {len(losses)} stateful resource(s) would be DESTROYED or REPLACED: "
                "data may be lost.** Check backups/snapshots before merging.",
                ">",
            ]
            lines += [f"> - **{c.action.upper()}** `{c.address}` ({c.kind}){_why(c)}" for c in losses]
            lines.append("")
        if not self.has_changes:
            lines += ["**No changes.** The infrastructure matches the configuration.", ""]
            return _footer(lines, self)
        lines += [self.headline(), ""]
        destructive = self.destructive
        if destructive:
            lines += ["### Destroyed or replaced", "", "| action | resource | why |", "| --- | --- | --- |"]
            lines += [
                f"| {'**' + c.action + '**' if c.stateful_loss else c.action} | `{c.address}`"
                f"{' (' + c.kind + ')' if c.kind else ''} | {_why(c, table=True) or ' '} |"
                for c in destructive[:MAX_LISTED]
            ]
            lines += _cut(len(destructive)) + [""]
        for title, wanted in (("Updated in place", "update"), ("Created", "create"), ("Forgotten", "forget")):
            group = sorted((c for c in self.changes if c.action == wanted), key=lambda c: c.address)
            if group:
                lines += [f"<details><summary>{title}: {len(group)}</summary>", ""]
                lines += [
                    f"- `{_SYMBOL[wanted]}` `{c.address}`{' (import)' if c.importing else ''}"
                    f"{_attributes(c) if wanted == 'update' else ''}"
                    for c in group[:MAX_LISTED]
                ]
                lines += _cut(len(group)) + ["", "</details>", ""]
        if self.moved:
            lines += [f"<details><summary>Moved: {len(self.moved)}</summary>", ""]
            lines += [f"- `{c.previous_address}` -> `{c.address}`" for c in self.moved[:MAX_LISTED]]
            lines += ["", "</details>", ""]
        if self.output_changes:
            lines += [f"<details><summary>Outputs: {len(self.output_changes)}</summary>", ""]
            lines += [f"- `{_SYMBOL.get(a, a)}` `{name}`" for name, a in sorted(self.output_changes.items())]
            lines += ["", "</details>", ""]
        return _footer(lines, self)


def _why(change: Change, table: bool = False) -> str:
    if change.action == "delete":
        reason = {
            "delete_because_no_resource_config": "removed from the code",
            "delete_because_count_index": "count reduced",
            "delete_because_each_key": "for_each key removed",
            "delete_because_no_module": "module removed",
            "delete_because_wrong_repetition": "count/for_each changed",
        }.get(change.reason, change.reason)
        text = reason or "destroyed"
    else:
        if change.replace_paths:
            text = "forces replacement: " + ", ".join(f"`{p}`" for p in change.replace_paths)
        else:
            text = {
                "replace_because_tainted": "tainted",
                "replace_by_request": "`-replace` requested",
                "replace_by_triggers": "replace_triggered_by",
            }.get(change.reason, change.reason or "replaced")
    return text if table else f": {text}"


def _attributes(change: Change, most: int = 6) -> str:
    names = change.changed_attributes
    if not names:
        return ""
    shown = ", ".join(f"`{n}`" for n in names[:most])
    return f": {shown}{f' and {len(names) - most} more' if len(names) > most else ''}"


def _changed_attributes(change: dict[str, Any]) -> tuple[str, ...]:
    """Top-level attribute names whose value differs or becomes unknown (``tags_all`` follows ``tags``)."""
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    names = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    names |= {k for k, v in unknown.items() if v is True or (v and before.get(k) is not None)}
    names.discard("tags_all") if "tags" in names else None
    return tuple(sorted(names))


def _cut(total: int) -> list[str]:
    return [f"- ... and {total - MAX_LISTED} more (see the job log)"] if total > MAX_LISTED else []


def _footer(lines: list[str], summary: PlanSummary) -> str:
    version = f" {summary.terraform_version}" if summary.terraform_version else ""
    lines.append(f"<sub>Generated by `tools/plan_summary.py` from `terraform{version} show -json`.</sub>")
    return "\n".join(lines).rstrip() + "\n"


def _path_text(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _action(actions: list[str]) -> str:
    if sorted(actions) == ["create", "delete"]:
        return "replace"  # either order: delete-before-create or create_before_destroy
    if len(actions) == 1 and actions[0] in ("create", "update", "delete", "read", "no-op", "forget"):
        return actions[0]
    raise ValueError(f"unknown terraform plan actions {actions!r}")


def _is_state_store(resource: dict[str, Any], state_names: frozenset[str]) -> bool:
    if any(marker in resource.get("name", "") for marker in STATE_STORE_MARKERS):
        return True
    change = resource.get("change", {})
    for values in (change.get("before"), change.get("after")):
        if isinstance(values, dict) and any(values.get(k) in state_names for k in ("bucket", "name")):
            return True
    return False


def summarize(plan: dict[str, Any], stage: str, state_names: Iterable[str] = ()) -> PlanSummary:
    """Classify every resource change of a ``terraform show -json`` plan document."""
    if "resource_changes" not in plan and "planned_values" not in plan and "format_version" not in plan:
        raise ValueError("not a terraform plan JSON (expected the output of `terraform show -json <planfile>`)")
    names = frozenset(n for n in state_names if n)
    summary = PlanSummary(
        stage=stage, terraform_version=plan.get("terraform_version", ""), errored=bool(plan.get("errored", False))
    )
    for resource in plan.get("resource_changes") or []:
        if resource.get("mode", "managed") != "managed":
            continue  # data sources are read, never changed
        change = resource.get("change", {})
        summary.changes.append(
            Change(
                address=resource["address"],
                type=resource["type"],
                action=_action(change.get("actions", ["no-op"])),
                replace_paths=tuple(_path_text(p) for p in change.get("replace_paths") or []),
                reason=resource.get("action_reason", ""),
                previous_address=resource.get("previous_address", ""),
                importing=bool(change.get("importing")),
                is_state_store=_is_state_store(resource, names),
                changed_attributes=_changed_attributes(change) if change.get("actions") == ["update"] else (),
            )
        )
    for name, output in (plan.get("output_changes") or {}).items():
        action = _action(output.get("actions", ["no-op"]))
        if action != "no-op":
            summary.output_changes[name] = action
    return summary


def failure_comment(stage: str, log_url: str = "") -> str:
    """The comment that replaces a stage's previous one when its plan could not be made."""
    where = f"the [job log]({log_url})" if log_url else "the job log"
    return "\n".join(
        [
            MARKER.format(stage=stage),
            f"## Terraform plan: `{stage}`",
            "",
            "> [!WARNING]",
            f"> **The plan failed**: no plan for this commit. See {where}. An earlier plan comment no longer applies.",
            "",
        ]
    )


def _state_names() -> list[str]:
    """The state bucket and lock table named in ``environments/_state.toml`` (empty if unreadable)."""
    try:
        from environments import load_state_backend

        settings = load_state_backend()
    except Exception:  # noqa: BLE001 - the summary must still render without the stage files
        return []
    return [settings.bucket, settings.lock_table]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan_json", nargs="?", help="output of `terraform show -json <planfile>` ('-' reads stdin)")
    parser.add_argument("--stage", required=True, help="stage name shown in the comment and its marker")
    parser.add_argument("--output", "-o", help="write the Markdown here instead of stdout")
    parser.add_argument(
        "--fail-on-stateful-loss",
        action="store_true",
        help="exit 3 when a stateful resource would be destroyed or replaced",
    )
    parser.add_argument(
        "--plan-failed",
        metavar="LOG_URL",
        nargs="?",
        const="",
        help="write the 'plan failed' comment instead (no plan JSON), linking LOG_URL",
    )
    args = parser.parse_args(argv)
    if args.plan_failed is not None:
        _write(failure_comment(args.stage, args.plan_failed), args.output)
        return 0
    if not args.plan_json:
        parser.error("plan_json is required (or --plan-failed)")
    text = sys.stdin.read() if args.plan_json == "-" else Path(args.plan_json).read_text()
    try:
        summary = summarize(json.loads(text), args.stage, _state_names())
    except (json.JSONDecodeError, ValueError) as error:
        print(f"error: {args.plan_json}: {error}", file=sys.stderr)
        return 2
    _write(summary.render(), args.output)
    return 3 if args.fail_on_stateful_loss and summary.stateful_losses else 0


def _write(comment: str, output: str | None) -> None:
    if output:
        Path(output).write_text(comment)
    else:
        sys.stdout.write(comment)


if __name__ == "__main__":
    sys.exit(main())
