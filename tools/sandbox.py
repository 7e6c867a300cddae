"""``make sandbox``: a whole stage up and down on a laptop, no AWS account, no network.

    python -m tools.sandbox [--stage dev] [--keep-dir DIR]

The stage's account baseline (``digital-booking-security-<account>-<region>``) goes first, as in the
bootstrap order, then the stage itself; each runs the steps below in its own emulator.

1. synthesizes the stage and copies its directory; in the copy only:
   - leaves out the resources the emulator cannot emulate (:data:`UNSUPPORTED`, and for the
     baseline :data:`SECURITY_UNSUPPORTED`) together with everything that references them (the
     closure over ``${...}`` references and ``depends_on``), printing each with the reason;
   - adapts what moto does differently (:data:`ADAPTED`: a CloudFront origin group becomes its
     primary origin), printing each;
   - relaxes the protections that would stop the teardown (:data:`RELAXED`: ``prevent_destroy``,
     deletion protection of databases, load balancers and tables, ``force_destroy`` on
     buckets), printing each;
2. starts a moto server on 127.0.0.1 (free port), creates the public hosted zones the stage
   looks up by name (prod's domain), points the AWS provider at it with an override file (fake
   credentials, local state) and runs the real terraform + AWS provider: init, apply;
3. prints the outputs and checks that every resource left in is in the state;
4. runs a second ``terraform plan`` and reports the drift (what the emulator reads back
   differently from what was applied);
5. destroys everything, checks the state is empty and stops the emulator: always, also after
   a failed step or Ctrl-C;
6. prints a summary line. Exit 0 when apply and destroy succeeded and nothing is left in state
   (drift is reported, not fatal: emulator read-back differences are not platform bugs), 1
   when a step failed (the summary says which, with terraform's error), 130 on Ctrl-C; never a
   Python traceback.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import emulator, terraform_cli

#: What the emulator (moto 5.2.5) cannot create, with the reason: a resource type, or
#: ``type[attribute]`` for the resources of that type that set the attribute. Keep it short:
#: every entry removes a piece of the platform from the sandbox. tests/tools/test_sandbox.py
#: checks each entry still matches a resource of some stage, and each reason still holds
#: against moto (so an entry goes once moto learns the API).
UNSUPPORTED: dict[str, str] = {
    "aws_elasticache_replication_group": "moto 5.2.5 names a replication group's member clusters "
    "(<id>-001...) but DescribeCacheClusters does not know them, and the provider reads them after create",
    "aws_elasticache_parameter_group": "moto 5.2.5 does not implement CreateCacheParameterGroup (HTTP 500)",
    "aws_elasticache_user_group": "moto 5.2.5 does not implement CreateUserGroup (HTTP 500)",
    "aws_elasticache_subnet_group": "moto 5.2.5 does not implement DeleteCacheSubnetGroup (HTTP 500): "
    "the sandbox could create it but never destroy it",
    "aws_db_option_group": "moto 5.2.5 knows option groups only up to MySQL 8.0 (CreateOptionGroup: "
    "'Cannot find major version 8.4 for mysql'); the instances run without the audit plugin",
    "aws_s3_bucket_logging": "moto 5.2.5 answers PutBucketLogging with HTTP 500 when the target bucket's "
    'policy has a "Principal": "*" statement (our deny-non-TLS one) before the logging grant',
    "aws_backup_selection": "moto 5.2.5 does not implement CreateBackupSelection (NotImplementedError): the "
    "plans and vault are created, nothing is assigned to them",
    "aws_cloudfront_response_headers_policy": "moto 5.2.5 does not implement CreateResponseHeadersPolicy (HTTP 404)",
    "aws_db_instance[replicate_source_db]": "moto 5.2.5 gives a read replica its source's DbiResourceId, so "
    "the provider's lookup by resource id finds two instances and reports the replica missing",
    "aws_backup_restore_testing_plan": "moto 5.2.5 does not implement CreateRestoreTestingPlan (HTTP 404)",
    "aws_db_instance_automated_backups_replication": "moto 5.2.5 does not implement "
    "StartDBInstanceAutomatedBackupsReplication (HTTP 500)",
}

#: Optional attributes that may simply lose a reference to a left-out resource instead of taking
#: their whole resource out with it: resource type -> attribute paths (``a.b`` reaches into a
#: nested block). A scalar attribute goes; a list loses only the elements naming a left-out
#: resource. Each detachment is printed. Without these, the audit option group would take the
#: databases out of the sandbox, and the response headers policy the CloudFront distribution,
#: the assets key, the bucket policy and its encryption.
DETACHABLE: dict[str, tuple[str, ...]] = {
    "aws_db_instance": ("option_group_name",),
    "aws_cloudfront_distribution": ("default_cache_behavior.response_headers_policy_id",),
    "aws_db_event_subscription": ("source_ids",),
}

#: Protections the sandbox turns off in its copy so the teardown can finish: resource type
#: (``*``: any), attribute (``lifecycle.prevent_destroy``), the sandbox's value. The stacks in
#: cdktf.out keep them; the run prints each one it changed.
RELAXED: tuple[tuple[str, str, bool], ...] = (
    ("*", "lifecycle.prevent_destroy", False),
    ("aws_db_instance", "deletion_protection", False),
    ("aws_lb", "enable_deletion_protection", False),
    ("aws_dynamodb_table", "deletion_protection_enabled", False),
    ("aws_s3_bucket", "force_destroy", True),
)

#: What the account baseline uses that moto 5.2.5 cannot create, with the reason (the account-level
#: and security services it lacks; tests/tools/test_sandbox.py checks each entry is still needed).
SECURITY_UNSUPPORTED: dict[str, str] = {
    "aws_securityhub_account": "moto 5.2.5 does not implement UpdateSecurityHubConfiguration, which the provider "
    "always calls after EnableSecurityHub (HTTP 500)",
    "aws_securityhub_standards_subscription": "moto 5.2.5 does not implement BatchEnableStandards (HTTP 404)",
    "aws_accessanalyzer_analyzer": "moto 5.2.5 has no IAM Access Analyzer at all (HTTP 404)",
    "aws_guardduty_detector_feature": "moto 5.2.5's UpdateDetector replaces the detector's whole feature list, so "
    "of several feature resources only the last survives and reading the others fails (empty result)",
    "aws_ebs_default_kms_key": "moto 5.2.5 does not implement GetEbsDefaultKmsKeyId / ResetEbsDefaultKmsKeyId "
    "(the provider reads the key back after setting it)",
    "aws_ebs_snapshot_block_public_access": "moto 5.2.5 does not implement EnableSnapshotBlockPublicAccess",
    "aws_s3_account_public_access_block": "the provider sends S3 Control calls to <account id>.<endpoint host>, "
    "a name that cannot resolve for the emulator on 127.0.0.1 (moto itself implements the API)",
}

#: What moto 5.2.5 accepts but does not keep or do, so the sandbox cannot show it, by resource type and
#: attribute: the re-plan reports these as drift, and the log says why (they are not platform bugs).
EMULATOR_GAPS: dict[tuple[str, str], str] = {
    ("aws_autoscaling_group", "instance_maintenance_policy"): "moto 5.2.5 accepts an instance maintenance policy "
    "but does not store it (DescribeAutoScalingGroups leaves it out)",
    ("aws_autoscaling_group", "instance_refresh"): "moto 5.2.5 does not implement StartInstanceRefresh: the sandbox "
    "applies once, so no refresh is started",
}

_ADDRESS = re.compile(r"(?<![\w.-])(data\.)?([a-z][a-z0-9]*_[a-z0-9_]+)\.([A-Za-z][A-Za-z0-9_-]*)")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def references(value: Any) -> set[str]:
    """Addresses (``aws_x.name`` / ``data.aws_x.name``) a config value refers to, incl. ``depends_on``."""
    found: set[str] = set()
    for text in _strings(value):
        if "${" in text:  # the whole string: expressions nest (`${jsonencode({a = x.y.z})}`)
            for data, rtype, name in _ADDRESS.findall(text):
                found.add(f"{data}{rtype}.{name}")
    if isinstance(value, dict):
        for dependency in value.get("depends_on", []) or []:
            found.add(dependency.removeprefix("${").removesuffix("}"))
    return found


def _blocks(document: dict[str, Any]) -> dict[str, Any]:
    """Every addressable block: ``aws_x.n`` (resources), ``data.aws_x.n``, ``output.n``."""
    blocks: dict[str, Any] = {}
    for rtype, items in document.get("resource", {}).items():
        blocks.update({f"{rtype}.{name}": body for name, body in items.items()})
    for rtype, items in document.get("data", {}).items():
        blocks.update({f"data.{rtype}.{name}": body for name, body in items.items()})
    blocks.update({f"output.{name}": body for name, body in document.get("output", {}).items()})
    return blocks


@dataclass
class Exclusion:
    """What was left out of the sandbox, and why (``address -> reason``); and the optional attributes
    detached from resources that stay (``address -> [attribute]``) because they named a left-out one."""

    reasons: dict[str, str] = field(default_factory=dict)
    detached: dict[str, list[str]] = field(default_factory=dict)

    @property
    def addresses(self) -> list[str]:
        return sorted(self.reasons)


def _selects(selector: str, address: str, body: Any) -> bool:
    """Whether an :data:`UNSUPPORTED` key (``aws_x`` or ``aws_x[attribute]``) names this block."""
    rtype, _, attribute = selector.partition("[")
    if not address.startswith(f"{rtype}."):
        return False
    return not attribute or bool(isinstance(body, dict) and body.get(attribute.rstrip("]")))


def _detachable(
    address: str, body: Any, detachable: dict[str, tuple[str, ...]]
) -> list[tuple[str, dict[str, Any], str]]:
    """(path, holder, key) of each detachable attribute this block sets."""
    if address.startswith("data.") or not isinstance(body, dict):
        return []
    found = []
    for path in detachable.get(address.split(".")[0], ()):
        *parents, key = path.split(".")
        holders: list[Any] = [body]
        for parent in parents:
            holders = [h.get(parent) for h in holders if isinstance(h, dict)]
            holders = [x for h in holders for x in (h if isinstance(h, list) else [h])]
        found += [(path, holder, key) for holder in holders if isinstance(holder, dict) and key in holder]
    return found


def _without_detachable(address: str, body: Any, detachable: dict[str, tuple[str, ...]]) -> Any:
    if not _detachable(address, body, detachable):
        return body
    body = copy.deepcopy(body)
    for _, holder, key in _detachable(address, body, detachable):
        del holder[key]
    return body


def exclusion_closure(
    document: dict[str, Any],
    unsupported: dict[str, str] = UNSUPPORTED,
    detachable: dict[str, tuple[str, ...]] = DETACHABLE,
) -> Exclusion:
    """The unsupported resources plus everything that (transitively) refers to them, except through an
    optional attribute of :data:`DETACHABLE`: that attribute is detached and the resource stays."""
    blocks = _blocks(document)
    excluded = Exclusion(
        {
            address: reason
            for address, body in blocks.items()
            for selector, reason in unsupported.items()
            if _selects(selector, address, body)
        }
    )
    referenced = {
        address: references(_without_detachable(address, body, detachable)) for address, body in blocks.items()
    }
    changed = True
    while changed:
        changed = False
        for address in blocks:
            if address in excluded.reasons:
                continue
            culprits = sorted(referenced[address] & set(excluded.reasons))
            if culprits:
                excluded.reasons[address] = f"refers to {culprits[0]}, which is left out"
                changed = True
    gone = set(excluded.reasons)
    for address, body in blocks.items():
        if address not in gone:
            paths = sorted(
                {path for path, holder, key in _detachable(address, body, detachable) if references(holder[key]) & gone}
            )
            if paths:
                excluded.detached[address] = paths
    return excluded


def _primary_origins(body: dict[str, Any]) -> str | None:
    """Cache behaviours that target an origin group target its first member instead; the groups go."""
    groups = body.get("origin_group") or []
    if not groups:
        return None
    primary = {group["origin_id"]: group["member"][0]["origin_id"] for group in groups}
    behaviours = [body.get("default_cache_behavior"), *(body.get("ordered_cache_behavior") or [])]
    for behaviour in behaviours:
        if isinstance(behaviour, dict) and behaviour.get("target_origin_id") in primary:
            behaviour["target_origin_id"] = primary[behaviour["target_origin_id"]]
    del body["origin_group"]
    targets = ", ".join(f"{group} -> {origin}" for group, origin in sorted(primary.items()))
    return (
        f"origin groups replaced by their primary origin ({targets}): moto 5.2.5 refuses a cache behaviour "
        "that targets an origin group (NoSuchOrigin); the failover itself is not exercised"
    )


#: What the sandbox changes in its copy, beyond leaving things out, because moto does it
#: differently: resource type -> a change that returns what it did (or None when nothing applied).
#: The resource stays in the sandbox in the form moto accepts; each change is printed.
ADAPTED: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "aws_cloudfront_distribution": _primary_origins,
}


def adapt(
    document: dict[str, Any], adapted: dict[str, Callable[[dict[str, Any]], str | None]] = ADAPTED
) -> tuple[dict[str, Any], list[str]]:
    """A copy of the stack document in the form the emulator accepts (:data:`ADAPTED`), and what changed."""
    copied = copy.deepcopy(document)
    changes = []
    for rtype, change in adapted.items():
        for name, body in copied.get("resource", {}).get(rtype, {}).items():
            done = change(body)
            if done:
                changes.append(f"{rtype}.{name}: {done}")
    return copied, changes


def relax_protections(
    document: dict[str, Any], relaxed: tuple[tuple[str, str, bool], ...] = RELAXED
) -> tuple[dict[str, Any], list[str]]:
    """A copy of the stack document without the protections that stop a destroy, and what changed."""
    copied = copy.deepcopy(document)
    changes = []
    for rtype, items in copied.get("resource", {}).items():
        for name, body in items.items():
            for wanted_type, attribute, value in relaxed:
                if wanted_type not in ("*", rtype):
                    continue
                holder, key = body, attribute
                if "." in attribute:
                    section, key = attribute.split(".", 1)
                    holder = body.get(section)
                    if not isinstance(holder, dict) or key not in holder:
                        continue
                if holder.get(key, False) != value:
                    holder[key] = value
                    changes.append(f"{rtype}.{name}: {attribute} = {json.dumps(value)}")
    return copied, sorted(changes)


def prune(document: dict[str, Any], excluded: Exclusion) -> dict[str, Any]:
    """A copy of the stack document without the excluded blocks (empty type maps dropped), and
    without the detached references (a list keeps its elements that name no left-out resource)."""
    pruned = copy.deepcopy(document)
    gone = set(excluded.reasons)
    for address, paths in excluded.detached.items():
        rtype, name = address.split(".")
        body = pruned["resource"][rtype][name]
        for _, holder, key in _detachable(address, body, {rtype: tuple(paths)}):
            value = holder[key]
            if isinstance(value, list):
                holder[key] = [item for item in value if not references(item) & gone]
            else:
                del holder[key]
    for address in excluded.addresses:
        parts = address.split(".")
        if parts[0] == "output":
            pruned.get("output", {}).pop(parts[1], None)
        elif parts[0] == "data":
            pruned.get("data", {}).get(parts[1], {}).pop(parts[2], None)
        else:
            pruned.get("resource", {}).get(parts[0], {}).pop(parts[1], None)
    for section in ("resource", "data"):
        if section in pruned:
            pruned[section] = {t: items for t, items in pruned[section].items() if items}
            if not pruned[section]:
                del pruned[section]
    if "output" in pruned and not pruned["output"]:
        del pruned["output"]
    return pruned


def managed_addresses(document: dict[str, Any]) -> list[str]:
    return sorted(f"{t}.{n}" for t, items in document.get("resource", {}).items() for n in items)


@dataclass
class SandboxReport:
    stage: str
    excluded: Exclusion
    expected: list[str] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    drift: dict[str, list[str]] = field(default_factory=dict)  #: address -> actions, changed attributes
    left_after_destroy: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  #: "<step>: <terraform's error>", in order
    interrupted: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return sorted(set(self.expected) - set(self.created))

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and not self.interrupted
            and not self.missing
            and not self.left_after_destroy
            and bool(self.expected)
        )

    def summary(self) -> str:
        timings = ", ".join(f"{k} {v}s" for k, v in self.timings.items())
        verdict = "OK" if self.ok else ("INTERRUPTED" if self.interrupted else "FAILED")
        failed = f"failed: {'; '.join(f.split(':', 1)[0] for f in self.failures)}; " if self.failures else ""
        return (
            f"==> sandbox {verdict} for stage '{self.stage}': {failed}"
            f"{len(set(self.created) & set(self.expected))} of {len(self.expected)} resources created, "
            f"{len(self.excluded.addresses)} left out, {len(self.relaxed)} protections relaxed, "
            f"drift in {len(self.drift)}, {len(self.left_after_destroy)} left after destroy ({timings})"
        )


def _changed_attributes(change: dict[str, Any]) -> list[str]:
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    return sorted(
        k
        for k in set(before) | set(after)
        if before.get(k) != after.get(k) and not (unknown.get(k) is True and k not in after)
    )


def _drift(plan_json: dict[str, Any]) -> dict[str, list[str]]:
    """``address -> [actions..., changed attributes...]`` for every resource the re-plan would touch."""
    return {
        change["address"]: change["change"]["actions"] + _changed_attributes(change["change"])
        for change in plan_json.get("resource_changes", [])
        if change["change"]["actions"] not in (["no-op"], ["read"])
    }


#: A delete the emulator answered with "<thing>NotFound", and the id it was for. Terraform prints
#: one "Error: deleting <what> (<id>): ... api error <Code>: ..." per failed delete.
_GONE_ON_DELETE = re.compile(
    # The id, then the AWS error: after ": " on the same line (SDK resources), or as the error's detail
    # below a blank line, wrapped (Plugin Framework resources such as the security group rules).
    r"Error: deleting [^(\n]+ \(([^()\s]+)\)(?::\s|\s*\n)(?:(?!Error: ).)*?api error\s+[\w.]*NotFound\b",
    re.S,
)


def resources_already_gone(destroy_output: str) -> set[str]:
    """Ids whose delete failed only because the emulator no longer had them."""
    return set(_GONE_ON_DELETE.findall(destroy_output))


#: A security group rule the emulator says exists already, and its address. Terraform prints one
#: "Error: creating VPC Security Group Rule ... with <address>, ... InvalidPermission.Duplicate" each.
_DUPLICATE_RULE = re.compile(
    r"Error: creating VPC Security Group Rule\s+with (aws_vpc_security_group_(?:egress|ingress)_rule\.[\w-]+),"
    r"(?:(?!Error: ).)*?api error\s+InvalidPermission\.Duplicate\b",
    re.S,
)


def rules_created_already(apply_output: str) -> list[str]:
    """Addresses of security group rules whose create failed only because the emulator had them."""
    return sorted(set(_DUPLICATE_RULE.findall(apply_output)))


def find_rule(ec2: Any, egress: bool, group_id: str, config: dict[str, Any]) -> str | None:
    """The id (``sgr-...``) of the emulator's rule of ``group_id`` that ``config`` describes, if any."""
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    for rule in rules["SecurityGroupRules"]:
        if (
            rule["IsEgress"] == egress
            and rule.get("IpProtocol") == str(config.get("ip_protocol"))
            and rule.get("FromPort") == config.get("from_port")
            and rule.get("ToPort") == config.get("to_port")
            and rule.get("ReferencedGroupInfo", {}).get("GroupId") == config.get("referenced_security_group_id")
            and rule.get("CidrIpv4") == config.get("cidr_ipv4")
            and rule.get("PrefixListId") == config.get("prefix_list_id")
        ):
            return str(rule["SecurityGroupRuleId"])
    return None


def _apply(work: Path, endpoint: str, log: Callable[[str], None]) -> subprocess.CompletedProcess[str]:
    """``terraform apply``, working around a moto 5.2.5 quirk under load: a slow answer to
    AuthorizeSecurityGroup{Ingress,Egress} makes the provider send it again, and moto answers the
    repeat with InvalidPermission.Duplicate although the first one created the rule. Such a rule
    exists as configured: it is imported into the state and apply runs again. Anything else fails."""
    for attempt in range(3):
        result = emulator.apply(work, endpoint, check=False)
        duplicates = rules_created_already(result.stdout + result.stderr) if result.returncode else []
        if not duplicates or attempt == 2:
            return result
        document = json.loads((work / "cdk.tf.json").read_text())
        state = json.loads(emulator.terraform(work, ["show", "-json"], endpoint).stdout)
        ids = {
            r["address"]: r["values"].get("id")
            for r in state.get("values", {}).get("root_module", {}).get("resources", [])
        }
        ec2 = emulator.client(endpoint, "ec2")
        imported = 0
        for address in duplicates:
            rtype, name = address.split(".")
            config = {
                key: ids.get(value[2:-4], value) if isinstance(value, str) and value.endswith(".id}") else value
                for key, value in document["resource"][rtype][name].items()
            }
            rule = find_rule(ec2, rtype.endswith("egress_rule"), config["security_group_id"], config)
            if rule is not None:
                log(f"    emulator quirk: moto already had {address} ({rule}) after a repeated call: importing it")
                emulator.terraform(work, ["import", "-input=false", "-no-color", address, rule], endpoint)
                imported += 1
        if not imported:
            return result
    return result


#: A network ACL rule delete that moto 5.2.5 answered with HTTP 500: its DeleteNetworkAclEntry looks the
#: entry up while another request removes one from the same list (terraform deletes the rules of an ACL
#: in parallel), misses it and fails. The rule is still there; destroy deletes it when it runs again.
_ACL_ENTRY_RACE = re.compile(
    r"Error: deleting EC2 Network ACL Rule \([^)]*\): operation error EC2: DeleteNetworkAclEntry,[^\n]*StatusCode: 500"
)


def acl_entry_race(destroy_output: str) -> bool:
    """Whether a failed destroy failed only on moto's network ACL entry race (:data:`_ACL_ENTRY_RACE`)."""
    errors = re.findall(r"^Error: .*$", destroy_output, re.M)
    return bool(errors) and all(_ACL_ENTRY_RACE.match(error) for error in errors)


def _destroy(work: Path, endpoint: str, log: Callable[[str], None]) -> None:
    """``terraform destroy``, working around two moto 5.2.5 quirks. A delete of something moto has
    already forgotten answers a NotFound error (seen on security group egress rules that reference
    another group, InvalidPermission.NotFound, and once on the target group, TargetGroupNotFound,
    when a delete call was retried): such a resource is gone already, which is what destroy wants,
    so it leaves the state and destroy reruns. A network ACL rule delete lost in moto's race
    (:data:`_ACL_ENTRY_RACE`): destroy reruns. Any other failure stops the sandbox."""
    for attempt in range(3):
        result = emulator.destroy(work, endpoint, check=False)
        if result.returncode == 0:
            return
        output = result.stdout + result.stderr
        if attempt < 2 and acl_entry_race(output):
            log("    emulator quirk: moto lost a network ACL rule delete in a race (HTTP 500): destroying again")
            continue
        gone = resources_already_gone(output)
        if not gone or attempt == 2:
            raise RuntimeError(f"terraform destroy failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        state = json.loads(emulator.terraform(work, ["show", "-json"], endpoint).stdout)
        addresses = [
            r["address"]
            for r in state.get("values", {}).get("root_module", {}).get("resources", [])
            if r.get("values", {}).get("id") in gone
        ]
        log(
            f"    emulator quirk: moto already forgot {', '.join(sorted(gone))} ({', '.join(addresses)}): "
            f"dropping from state, destroying again"
        )
        if addresses:
            emulator.terraform(work, ["state", "rm", *addresses], endpoint)


def resource_addresses(state_addresses: list[str]) -> list[str]:
    """The managed resources of ``terraform state list``, one per resource block (instances of a
    ``count``/``for_each`` block, ``x.y["key"]``, are the block ``x.y``); data sources dropped."""
    return sorted({re.sub(r"\[[^\]]*\]$", "", a) for a in state_addresses if not a.startswith("data.")})


def _failure(step: str, error: Exception) -> str:
    return f"{step}: {terraform_cli.error_text(str(error), most=40)}"


def run_sandbox(
    stack_dir: Path,
    work_dir: Path,
    log: Callable[[str], None] = print,
    unsupported: dict[str, str] = UNSUPPORTED,
    exercise: Callable[[str, dict[str, Any]], None] | None = None,
) -> SandboxReport:
    """Deploy ``stack_dir`` (a synthesized stack) into a fresh emulator, re-plan, destroy. ``exercise``:
    run against the deployed stage before it is destroyed (the emulator's URL and the outputs), e.g. a
    restore.

    Never raises for a failed step or Ctrl-C: the teardown runs, and the report says what failed."""
    stage = Path(stack_dir).name.removeprefix("digital-booking-")
    work = emulator.copy_stack(Path(stack_dir), Path(work_dir))
    document = json.loads((work / "cdk.tf.json").read_text())
    excluded = exclusion_closure(document, unsupported)
    adapted_document, adapted = adapt(prune(document, excluded))
    pruned, relaxed = relax_protections(adapted_document)
    (work / "cdk.tf.json").write_text(json.dumps(pruned, indent=2))
    report = SandboxReport(stage, excluded, expected=managed_addresses(pruned), relaxed=relaxed, adapted=adapted)
    log(
        f"==> sandbox for stage '{stage}': {len(report.expected)} resources to create, "
        f"{len(excluded.addresses)} left out, {len(relaxed)} protections relaxed (in the sandbox's copy only)"
    )
    for address in excluded.addresses:
        log(f"    left out: {address}: {excluded.reasons[address]}")
    for address, attributes in sorted(excluded.detached.items()):
        log(f"    detached: {address}: {', '.join(attributes)} (it names a left-out resource)")
    for change in relaxed:
        log(f"    relaxed for the teardown: {change}")
    for change in adapted:
        log(f"    adapted for the emulator: {change}")

    def step(name: str, action: Callable[[], Any]) -> Any:
        log(f"==> {name}")
        started = time.monotonic()
        try:
            return action()
        finally:
            report.timings[name] = round(time.monotonic() - started, 1)

    with emulator.MotoServer() as moto:
        log(f"==> emulator: moto server at {moto.url} (log {moto.log_path})")
        emulator.write_override(work, moto.url, state_path=work / "terraform.tfstate")
        try:
            for zone in emulator.create_zones(moto.url, emulator.zones_looked_up(pruned)):
                log(f"    emulator: created the public hosted zone {zone} (the stage looks it up by name)")
            step("terraform init", lambda: emulator.init(work, moto.url))
            applied = step("terraform apply", lambda: _apply(work, moto.url, log))
            report.created = resource_addresses(emulator.state_addresses(work, moto.url))
            log(f"    created {len(set(report.created) & set(report.expected))} of {len(report.expected)} resources")
            if applied.returncode != 0:
                report.failures.append(_failure("terraform apply", RuntimeError(applied.stdout + applied.stderr)))
                log(f"    FAILED: {report.failures[-1]}")
            else:
                for address in report.missing:
                    log(f"    NOT CREATED: {address}")
                report.outputs = emulator.outputs(work, moto.url)
                log("==> outputs")
                for name, value in sorted(report.outputs.items()):
                    log(f"    {name} = {json.dumps(value)}")
                step("terraform plan (drift check)", lambda: emulator.plan(work, moto.url, ["-out=drift.tfplan"]))
                shown = emulator.terraform(work, ["show", "-json", "drift.tfplan"], moto.url)
                report.drift = _drift(json.loads(shown.stdout))
                _log_drift(report.drift, log)
                if exercise is not None:
                    step("exercise", lambda: exercise(moto.url, report.outputs))
        except KeyboardInterrupt:
            report.interrupted = True
            log("    interrupted (Ctrl-C): tearing down what was created")
        except Exception as error:  # noqa: BLE001 - recorded and reported; the teardown must still run
            report.failures.append(_failure(next(reversed(report.timings), "emulator setup"), error))
            log(f"    FAILED: {report.failures[-1]}")
        finally:
            if (work / "terraform.tfstate").exists():
                try:
                    step("terraform destroy", lambda: _destroy(work, moto.url, log))
                except Exception as error:  # noqa: BLE001
                    report.failures.append(_failure("terraform destroy", error))
                    log(f"    FAILED: {report.failures[-1]}")
                report.left_after_destroy = [
                    a for a in emulator.state_addresses(work, moto.url) if not a.startswith("data.")
                ]
                log(f"    destroyed; {len(report.left_after_destroy)} resources left in state")
                for address in report.left_after_destroy:
                    log(f"    LEFT IN STATE: {address}")
        log("==> emulator stopped")
    return report


def _log_drift(drift: dict[str, list[str]], log: Callable[[str], None]) -> None:
    if not drift:
        log("    drift: none, the re-plan is empty")
        return
    log(
        f"    drift: the re-plan would change {len(drift)} resource(s) "
        f"(what the emulator reads back differs from what was applied):"
    )
    for address, detail in sorted(drift.items()):
        actions = [a for a in detail if a in ("create", "update", "delete")]
        attributes = [a for a in detail if a not in actions]
        log(f"      {'/'.join(actions)}: {address}" + (f" ({', '.join(attributes)})" if attributes else ""))
        rtype = address.split(".")[0]
        for attribute in attributes:
            if (rtype, attribute) in EMULATOR_GAPS:
                log(f"        {attribute}: {EMULATOR_GAPS[(rtype, attribute)]}")


def synth_stage(stage: str, out_dir: Path) -> Path:
    """Synthesize one stage (and the bootstrap and account baseline stacks) into ``out_dir``; its stack directory."""
    import os

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from stacks.app import build_app  # jsii starts here, only when synthesizing

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    build_app(outdir=str(out_dir), stages=[stage]).synth()
    return Path(out_dir) / "stacks" / f"digital-booking-{stage}"


def baseline_dir(stage: str, out_dir: Path) -> Path | None:
    """The synthesized security baseline of the stage's account and region, or None (no account named)."""
    from environments import load_stage
    from stacks.security_stack import security_stack_name

    config = load_stage(stage)
    if config.account is None:
        return None
    return Path(out_dir) / "stacks" / security_stack_name(config.account.name, config.stage.region)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="deploy a stage into a local AWS emulator and tear it down")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--keep-dir", type=Path, help="work here instead of a temp dir (left for inspection)")
    args = parser.parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the teardown runs and the emulator stops.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: _interrupt())
    try:
        return _run(args.stage, args.keep_dir)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(stage: str, keep_dir: Path | None) -> int:
    reports: list[SandboxReport] = []

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        with tempfile.TemporaryDirectory(prefix="sandbox-") as tmp:
            base = keep_dir or Path(tmp)
            log(f"==> synth stage '{stage}'")
            stack_dir = synth_stage(stage, base / "cdktf.out")
            baseline = baseline_dir(stage, base / "cdktf.out")
            # The bootstrap order: the account's baseline first, then the stage (not after a failed baseline).
            if baseline is not None:
                unsupported = {**UNSUPPORTED, **SECURITY_UNSUPPORTED}
                reports.append(run_sandbox(baseline, base / "work-security", log=log, unsupported=unsupported))
            if all(report.ok for report in reports):
                reports.append(run_sandbox(stack_dir, base / "work", log=log))
    except KeyboardInterrupt:
        print(f"==> sandbox INTERRUPTED for stage '{stage}' before anything was deployed", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - a clear message instead of a traceback
        print(f"==> sandbox FAILED for stage '{stage}' before anything was deployed: {error}", file=sys.stderr)
        return 1
    for report in reports:
        log(report.summary())
        for failure in report.failures:
            log(f"    {failure}")
    if any(report.interrupted for report in reports):
        return 130
    ran_the_stage = bool(reports) and reports[-1].stage == stage
    return 0 if ran_the_stage and all(report.ok for report in reports) else 1


def _interrupt() -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
