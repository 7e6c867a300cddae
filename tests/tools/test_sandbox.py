"""``make sandbox`` (tools/sandbox.py): what is left out of the emulator run, and the run itself."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools import emulator, sandbox

DOCUMENT = {
    "resource": {
        "aws_elasticache_replication_group": {"cache": {"replication_group_id": "x"}},
        "aws_cloudwatch_metric_alarm": {
            "cache-cpu": {"dimensions": {"ReplicationGroupId": "${aws_elasticache_replication_group.cache.id}"}},
            "app-cpu": {"alarm_name": "app"},
        },
        "aws_cloudwatch_dashboard": {
            "main": {"dashboard_body": "${jsonencode({x = aws_cloudwatch_metric_alarm.cache-cpu.arn})}"}
        },
        "aws_security_group": {"cache": {"name": "cache"}},
        "terraform_data": {"after": {"depends_on": ["aws_cloudwatch_dashboard.main"]}},
    },
    "output": {
        "cache_endpoint": {"value": "${aws_elasticache_replication_group.cache.primary_endpoint_address}"},
        "sg": {"value": "${aws_security_group.cache.id}"},
    },
}


def test_unsupported_list_is_short_and_explained() -> None:
    assert 0 < len(sandbox.UNSUPPORTED) <= 12  # each one has its probe (test_sandbox_exclusions.py)
    assert all(t.startswith("aws_") and "moto 5.2.5" in reason for t, reason in sandbox.UNSUPPORTED.items())


def test_replication_groups_are_left_out() -> None:
    assert "aws_elasticache_replication_group" in sandbox.UNSUPPORTED


def test_every_left_out_entry_matches_a_resource_of_some_stage(stacks) -> None:
    """An entry no stack uses any more is stale: remove it (the list must stay short)."""
    for selector in sandbox.UNSUPPORTED:
        matched = [
            address
            for stack in stacks.values()
            for address, body in sandbox._blocks(stack.json).items()
            if sandbox._selects(selector, address, body)
        ]
        assert matched, f"UNSUPPORTED entry {selector!r} matches no resource of any stack"


def test_a_selector_with_an_attribute_picks_only_the_resources_that_set_it() -> None:
    document = {
        "resource": {
            "aws_db_instance": {
                "primary": {"identifier": "db"},
                "replica": {"replicate_source_db": "${aws_db_instance.primary.identifier}"},
            }
        }
    }
    excluded = sandbox.exclusion_closure(document, {"aws_db_instance[replicate_source_db]": "moto 5.2.5: no"})
    assert excluded.addresses == ["aws_db_instance.replica"]


def test_closure_follows_references_transitively() -> None:
    excluded = sandbox.exclusion_closure(DOCUMENT)
    assert excluded.addresses == [
        "aws_cloudwatch_dashboard.main",
        "aws_cloudwatch_metric_alarm.cache-cpu",
        "aws_elasticache_replication_group.cache",
        "output.cache_endpoint",
        "terraform_data.after",
    ]
    assert "moto" in excluded.reasons["aws_elasticache_replication_group.cache"]
    assert (
        excluded.reasons["aws_cloudwatch_dashboard.main"]
        == "refers to aws_cloudwatch_metric_alarm.cache-cpu, which is left out"
    )


def test_a_detachable_attribute_is_dropped_instead_of_the_resource(dev) -> None:
    """The database stays in the sandbox without its audit option group (moto has no MySQL 8.4 ones)."""
    excluded = sandbox.exclusion_closure(dev.json)
    [group] = [a for a in excluded.addresses if a.startswith("aws_db_option_group.")]
    instances = [f"aws_db_instance.{n}" for n in dev.resources("aws_db_instance")]
    assert instances and all(excluded.detached[i] == ["option_group_name"] for i in instances)
    assert not set(instances) & set(excluded.addresses)
    pruned = sandbox.prune(dev.json, excluded)
    assert all("option_group_name" not in i for i in pruned["resource"]["aws_db_instance"].values())
    assert all("option_group_name" in i for i in dev.resources("aws_db_instance").values())  # input untouched
    assert group


def test_prune_keeps_everything_else() -> None:
    pruned = sandbox.prune(DOCUMENT, sandbox.exclusion_closure(DOCUMENT))
    assert sandbox.managed_addresses(pruned) == ["aws_cloudwatch_metric_alarm.app-cpu", "aws_security_group.cache"]
    assert list(pruned["output"]) == ["sg"]
    assert sandbox.managed_addresses(DOCUMENT) != sandbox.managed_addresses(pruned)  # the input is not modified


def test_instances_of_a_for_each_block_count_as_the_block() -> None:
    listed = ['aws_route53_record.validation["booking.example.com"]', "aws_vpc.main", "data.aws_partition.p"]
    assert sandbox.resource_addresses(listed) == ["aws_route53_record.validation", "aws_vpc.main"]


def test_references_read_data_sources_and_depends_on() -> None:
    assert sandbox.references(
        {"a": "${data.aws_partition.p.partition}:${aws_vpc.v.id}", "depends_on": ["aws_s3_bucket.b"]}
    ) == {"data.aws_partition.p", "aws_vpc.v", "aws_s3_bucket.b"}


def test_dev_leaves_out_only_unsupported_resources_and_their_dependents(dev) -> None:
    excluded = sandbox.exclusion_closure(dev.json)
    for address, reason in excluded.reasons.items():
        rtype = address.split(".")[0]
        assert rtype in sandbox.UNSUPPORTED or reason.startswith("refers to "), address
    kept = sandbox.managed_addresses(sandbox.prune(dev.json, excluded))
    assert len(kept) >= 0.8 * len(sandbox.managed_addresses(dev.json)), "the sandbox must stay the platform"


def test_detachable_references_go_instead_of_their_resource() -> None:
    document = {
        "resource": {
            "aws_cloudfront_response_headers_policy": {"headers": {"name": "h"}},
            "aws_db_instance": {"primary": {"identifier": "p"}, "replica": {"replicate_source_db": "p"}},
            "aws_cloudfront_distribution": {
                "cdn": {
                    "default_cache_behavior": {
                        "target_origin_id": "assets",
                        "response_headers_policy_id": "${aws_cloudfront_response_headers_policy.headers.id}",
                    }
                }
            },
            "aws_db_event_subscription": {
                "events": {
                    "source_ids": ["${aws_db_instance.primary.identifier}", "${aws_db_instance.replica.identifier}"]
                }
            },
        }
    }
    unsupported = {
        "aws_cloudfront_response_headers_policy": "moto 5.2.5: no",
        "aws_db_instance[replicate_source_db]": "moto 5.2.5: no",
    }
    excluded = sandbox.exclusion_closure(document, unsupported)
    assert excluded.addresses == ["aws_cloudfront_response_headers_policy.headers", "aws_db_instance.replica"]
    assert excluded.detached == {
        "aws_cloudfront_distribution.cdn": ["default_cache_behavior.response_headers_policy_id"],
        "aws_db_event_subscription.events": ["source_ids"],
    }
    resources = sandbox.prune(document, excluded)["resource"]
    assert resources["aws_cloudfront_distribution"]["cdn"]["default_cache_behavior"] == {"target_origin_id": "assets"}
    assert resources["aws_db_event_subscription"]["events"]["source_ids"] == ["${aws_db_instance.primary.identifier}"]
    assert (
        "response_headers_policy_id"
        in document["resource"]["aws_cloudfront_distribution"]["cdn"]["default_cache_behavior"]
    )  # the input is not modified


def test_an_origin_group_becomes_its_primary_origin_in_the_sandbox(prod) -> None:
    adapted, changes = sandbox.adapt(prod.json)
    (distribution,) = adapted["resource"]["aws_cloudfront_distribution"].values()
    (original,) = prod.resources("aws_cloudfront_distribution").values()
    assert "origin_group" not in distribution and original["origin_group"]  # the stack itself keeps it
    primary = original["origin_group"][0]["member"][0]["origin_id"]
    assert distribution["default_cache_behavior"]["target_origin_id"] == primary
    assert len(changes) == 1 and "origin groups replaced by their primary origin" in changes[0]
    assert sandbox.adapt({"resource": {"aws_cloudfront_distribution": {"plain": {"origin": []}}}})[1] == []


def test_protections_are_relaxed_in_the_copy_only_and_each_is_named() -> None:
    document = {
        "resource": {
            "aws_db_instance": {"db": {"deletion_protection": True, "lifecycle": {"prevent_destroy": True}}},
            "aws_lb": {"alb": {"enable_deletion_protection": True}},
            "aws_dynamodb_table": {"locks": {"deletion_protection_enabled": True}},
            "aws_s3_bucket": {"logs": {"bucket": "logs"}, "emptied": {"force_destroy": True}},
            "aws_kms_key": {"key": {"lifecycle": {"create_before_destroy": True}}},
        }
    }
    relaxed, changes = sandbox.relax_protections(document)
    assert changes == [
        "aws_db_instance.db: deletion_protection = false",
        "aws_db_instance.db: lifecycle.prevent_destroy = false",
        "aws_dynamodb_table.locks: deletion_protection_enabled = false",
        "aws_lb.alb: enable_deletion_protection = false",
        "aws_s3_bucket.logs: force_destroy = true",
    ]
    assert relaxed["resource"]["aws_db_instance"]["db"]["lifecycle"] == {"prevent_destroy": False}
    assert relaxed["resource"]["aws_kms_key"]["key"]["lifecycle"] == {"create_before_destroy": True}
    assert document["resource"]["aws_db_instance"]["db"]["deletion_protection"] is True  # input unchanged


def test_prod_is_relaxed_where_its_protections_would_stop_the_teardown(prod) -> None:
    _, changes = sandbox.relax_protections(prod.json)
    relaxed = {change.split(": ", 1)[1] for change in changes}
    assert {
        "deletion_protection = false",
        "lifecycle.prevent_destroy = false",
        "enable_deletion_protection = false",
        "force_destroy = true",
    } <= relaxed


def test_a_stage_that_fails_to_load_ends_with_a_message_not_a_traceback(capsys) -> None:
    assert sandbox.main(["--stage", "no-such-stage"]) == 1
    err = capsys.readouterr().err
    assert "==> sandbox FAILED for stage 'no-such-stage' before anything was deployed" in err
    assert "unknown stage 'no-such-stage'" in err and "Traceback" not in err


BROKEN = {
    "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": "5.100.0"}}},
    "provider": {"aws": [{"region": "eu-west-1"}]},
    "resource": {
        "aws_sns_topic": {"alarms": {"name": "sandbox-failure-alarms"}},
        "aws_s3_bucket": {"kept": {"bucket": "sandbox-failure-kept", "lifecycle": {"prevent_destroy": True}}},
        "aws_cloudfront_response_headers_policy": {
            "headers": {
                "name": "sandbox-failure-headers",
                "security_headers_config": {"content_type_options": {"override": True}},
            }
        },
    },
}


@pytest.mark.slow
@pytest.mark.emulator
def test_a_failed_apply_still_tears_down_and_says_what_failed(tmp_path: Path) -> None:
    """A resource moto cannot create, not left out on purpose: the apply fails after creating the
    others; the teardown (a protected bucket among them) still leaves nothing in state."""
    stack = tmp_path / "digital-booking-broken"
    stack.mkdir()
    (stack / "cdk.tf.json").write_text(json.dumps(BROKEN))
    lines: list[str] = []
    report = sandbox.run_sandbox(stack, tmp_path / "work", log=lines.append, unsupported={})
    log = "\n".join(lines)
    assert not report.ok and report.failures, log
    assert report.failures[0].startswith("terraform apply: Error: creating CloudFront Response Headers Policy")
    assert "aws_s3_bucket.kept: lifecycle.prevent_destroy = false" in report.relaxed
    assert {"aws_sns_topic.alarms", "aws_s3_bucket.kept"} <= set(report.created)
    assert report.left_after_destroy == [] and "==> terraform destroy" in log
    summary = report.summary()
    assert summary.startswith("==> sandbox FAILED for stage 'broken': failed: terraform apply;")
    assert "0 left after destroy" in summary


@pytest.mark.slow
@pytest.mark.emulator
def test_sandbox_deploys_replans_and_destroys_dev(dev_sandbox) -> None:
    """The shared deployment (tests/tools/conftest.py), which also runs the restore drill before destroy."""
    report = dev_sandbox.report
    log = "\n".join(dev_sandbox.log)
    assert report.expected and not report.missing, log
    assert report.created and set(report.expected) <= set(report.created)
    assert "vpc_id" in report.outputs and report.outputs["vpc_id"].startswith("vpc-")
    assert not report.left_after_destroy, log
    assert "==> terraform destroy" in log and "==> emulator stopped" in log
    assert ("drift: none" in log) or ("drift: the re-plan would change" in log)


TARGET_GROUP_GONE = (  # from a real `make sandbox` run (2026-11-29)
    "Error: deleting ELBv2 Target Group (arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/"
    "digital-booking-dev-app/4180ced0acce7cab): operation error Elastic Load Balancing v2: DeleteTargetGroup, "
    "https response error StatusCode: 400, RequestID: gIc6VjA0, api error TargetGroupNotFound: One or more target "
    "groups not found\n"
)
RULE_GONE = (
    "Error: deleting VPC Security Group Rule (sgr-0a1b2c3d4e5f60718): operation error EC2: "
    "RevokeSecurityGroupEgress, https response error StatusCode: 400, RequestID: 1f2e, api error "
    "InvalidPermission.NotFound: The specified rule does not exist in this security group.\n"
)
RULE_GONE_AS_DETAIL = (  # from a real `make test` run (2026-11-29): the summary, then the wrapped detail
    "Error: deleting VPC Security Group Rule (sgr-80c6f29d7938008c4)\n\n"
    "operation error EC2: RevokeSecurityGroupEgress, https response error\n"
    "StatusCode: 400, RequestID:\n"
    "aHz5OEUVOy80OXZvLQQTqVuuiGqLXyj0LoeLEyQyCkGjty8lMVEg, api error\n"
    "InvalidPermission.NotFound: The specified rule does not exist in this\n"
    "security group\n"
)
STILL_IN_USE = (
    "Error: deleting EC2 Subnet (subnet-0123456789abcdef0): operation error EC2: DeleteSubnet, https response "
    "error StatusCode: 400, RequestID: 9c8d, api error DependencyViolation: The subnet has dependencies\n"
)


def test_deletes_answered_not_found_name_the_resources_already_gone() -> None:
    assert sandbox.resources_already_gone(TARGET_GROUP_GONE + "\n" + RULE_GONE) == {
        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/digital-booking-dev-app/4180ced0acce7cab",
        "sgr-0a1b2c3d4e5f60718",
    }


def test_a_not_found_given_as_the_errors_detail_is_a_resource_already_gone() -> None:
    assert sandbox.resources_already_gone(RULE_GONE_AS_DETAIL) == {"sgr-80c6f29d7938008c4"}
    assert sandbox.resources_already_gone(STILL_IN_USE + "\n" + RULE_GONE_AS_DETAIL) == {"sgr-80c6f29d7938008c4"}


def test_other_delete_failures_are_not_taken_for_gone_resources() -> None:
    # The subnet's error must not borrow the NotFound of the error after it.
    assert sandbox.resources_already_gone(STILL_IN_USE + "\n" + RULE_GONE) == {"sgr-0a1b2c3d4e5f60718"}
    assert sandbox.resources_already_gone(STILL_IN_USE) == set()


# -- the account baseline in the sandbox ----------------------------------------------------------------------

#: The smallest configuration of each type left out of the baseline's sandbox (dependencies included).
ALONE: dict[str, dict] = {
    "aws_securityhub_account": {"aws_securityhub_account": {"it": {}}},
    "aws_securityhub_standards_subscription": {
        "aws_securityhub_standards_subscription": {
            "it": {
                "standards_arn": "arn:aws:securityhub:eu-west-1::standards/"
                "aws-foundational-security-best-practices/v/1.0.0"
            }
        }
    },
    "aws_accessanalyzer_analyzer": {"aws_accessanalyzer_analyzer": {"it": {"analyzer_name": "account"}}},
    "aws_ebs_default_kms_key": {
        "aws_kms_key": {"key": {"description": "EBS default", "deletion_window_in_days": 7}},
        "aws_ebs_default_kms_key": {"it": {"key_arn": "${aws_kms_key.key.arn}"}},
    },
    "aws_ebs_snapshot_block_public_access": {
        "aws_ebs_snapshot_block_public_access": {"it": {"state": "block-all-sharing"}}
    },
    "aws_s3_account_public_access_block": {"aws_s3_account_public_access_block": {"it": {"block_public_acls": True}}},
    "aws_guardduty_detector_feature": {
        "aws_guardduty_detector": {"detector": {"enable": True}},
        "aws_guardduty_detector_feature": {
            name.lower(): {"detector_id": "${aws_guardduty_detector.detector.id}", "name": name, "status": "ENABLED"}
            for name in ("S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS")
        },
    },
}


def test_the_baselines_left_out_types_are_short_explained_and_used(stacks) -> None:
    assert 0 < len(sandbox.SECURITY_UNSUPPORTED) <= 8
    assert all(t.startswith("aws_") and "moto" in reason for t, reason in sandbox.SECURITY_UNSUPPORTED.items())
    used = {t for name, s in stacks.items() if name.startswith("digital-booking-security-") for t in s.json["resource"]}
    assert set(sandbox.SECURITY_UNSUPPORTED) <= used
    assert set(ALONE) == set(sandbox.SECURITY_UNSUPPORTED)  # each is shown to fail below


def test_the_baseline_leaves_out_only_unsupported_resources_and_their_dependents(stacks) -> None:
    baseline = stacks["digital-booking-security-nonprod-eu-west-1"]
    unsupported = {**sandbox.UNSUPPORTED, **sandbox.SECURITY_UNSUPPORTED}
    excluded = sandbox.exclusion_closure(baseline.json, unsupported)
    for address, reason in excluded.reasons.items():
        assert address.split(".")[0] in unsupported or reason.startswith("refers to "), address
    kept = sandbox.managed_addresses(sandbox.prune(baseline.json, excluded))
    assert len(kept) >= 0.8 * len(sandbox.managed_addresses(baseline.json)), "the sandbox must stay the baseline"
    kept_types = {address.split(".")[0] for address in kept}
    for essential in (
        "aws_cloudtrail",
        "aws_cloudwatch_log_metric_filter",
        "aws_guardduty_detector",
        "aws_config_configuration_recorder",
        "aws_cloudwatch_event_rule",
        "aws_ebs_encryption_by_default",
    ):
        assert essential in kept_types, essential


def test_the_sandbox_runs_the_stages_account_baseline_first(tmp_path: Path) -> None:
    assert sandbox.baseline_dir("dev", tmp_path) == tmp_path / "stacks" / "digital-booking-security-nonprod-eu-west-1"
    assert sandbox.baseline_dir("prod", tmp_path) == tmp_path / "stacks" / "digital-booking-security-prod-eu-west-1"


#: What terraform says when each of them is applied alone against moto 5.2.5 (the reason in SECURITY_UNSUPPORTED).
FAILS_WITH = {
    "aws_securityhub_account": "UpdateSecurityHubConfiguration, exceeded maximum number of attempts",
    "aws_securityhub_standards_subscription": "BatchEnableStandards, https response error StatusCode: 404",
    "aws_accessanalyzer_analyzer": "CreateAnalyzer, exceeded maximum number of attempts",
    "aws_ebs_default_kms_key": "GetEbsDefaultKmsKeyId, exceeded maximum number of attempts",
    "aws_ebs_snapshot_block_public_access": "EnableSnapshotBlockPublicAccess, exceeded maximum number of attempts",
    "aws_s3_account_public_access_block": "lookup 123456789012.127.0.0.1: no such host",
    "aws_guardduty_detector_feature": "empty result",
}


@pytest.mark.slow
@pytest.mark.emulator
def test_every_type_left_out_of_the_baseline_really_fails_in_the_emulator(tmp_path: Path) -> None:
    """Only what the emulator cannot do is left out: each type, alone, fails to apply against moto, with the
    error its reason describes (run side by side: each mostly waits for the provider's retries)."""
    assert set(FAILS_WITH) == set(ALONE)

    def apply_alone(moto_url: str, resource_type: str) -> tuple[int, str]:
        work = tmp_path / resource_type
        work.mkdir()
        document = {"provider": {"aws": [{"region": "eu-west-1"}]}, "resource": ALONE[resource_type]}
        (work / "main.tf.json").write_text(json.dumps(document))
        emulator.write_override(work, moto_url, state_path=work / "terraform.tfstate")
        emulator.init(work, moto_url)
        result = emulator.apply(work, moto_url, check=False)
        return result.returncode, result.stderr

    with emulator.MotoServer() as moto, ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = dict(zip(ALONE, pool.map(lambda t: apply_alone(moto.url, t), ALONE), strict=True))
    for resource_type, (code, stderr) in outcomes.items():
        assert code != 0, f"{resource_type} applied in the emulator: take it out of SECURITY_UNSUPPORTED"
        assert FAILS_WITH[resource_type] in " ".join(stderr.split()), (resource_type, stderr[-800:])


@pytest.mark.slow
@pytest.mark.emulator
def test_sandbox_deploys_replans_and_destroys_the_dev_accounts_baseline(synth_dir: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    report = sandbox.run_sandbox(
        synth_dir / "stacks" / "digital-booking-security-nonprod-eu-west-1",
        tmp_path / "work",
        log=lines.append,
        unsupported={**sandbox.UNSUPPORTED, **sandbox.SECURITY_UNSUPPORTED},
    )
    log = "\n".join(lines)
    assert report.expected and not report.missing, log
    assert report.outputs["trail_arn"].endswith(":trail/digital-booking-account-trail"), log
    assert report.outputs["security_topic_arn"].endswith(":digital-booking-security-alerts")
    assert not report.left_after_destroy, log
    assert "drift: none" in log, log


RULE_DUPLICATE = (  # from a real `make sandbox STAGE=staging` run (2026-11-29), terraform's -no-color output
    "Error: creating VPC Security Group Rule\n\n"
    "  with aws_vpc_security_group_egress_rule.app-servers_alb-egress-to-app-8080_514F3B3F,\n"
    "  on cdk.tf.json line 3099, in resource.aws_vpc_security_group_egress_rule."
    "app-servers_alb-egress-to-app-8080_514F3B3F:\n"
    "3099:       },\n\n"
    "operation error EC2: AuthorizeSecurityGroupEgress, https response error\n"
    "StatusCode: 400, RequestID:\nVektDSC832tGrhLUZwzg1hoN7KhOVQXzpIEsdziaqs9ZTex65En0, api error\n"
    "InvalidPermission.Duplicate: The specified rule already exists\n"
)
RULE_REFUSED = (
    "Error: creating VPC Security Group Rule\n\n"
    "  with aws_vpc_security_group_ingress_rule.database_ingress-from-clients_3B7246EE,\n"
    "operation error EC2: AuthorizeSecurityGroupIngress, https response error StatusCode: 400, api error "
    "InvalidGroup.NotFound: The security group 'sg-1' does not exist\n"
)


def test_rules_the_emulator_had_already_are_named_by_address() -> None:
    assert sandbox.rules_created_already(RULE_REFUSED + "\n" + RULE_DUPLICATE) == [
        "aws_vpc_security_group_egress_rule.app-servers_alb-egress-to-app-8080_514F3B3F"
    ]
    assert sandbox.rules_created_already(RULE_REFUSED) == []


def test_the_rule_a_configuration_describes_is_found_in_the_emulator() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        alb = ec2.create_security_group(GroupName="alb", Description="alb", VpcId=vpc)["GroupId"]
        app = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
        permission = {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": app}]}
        ec2.authorize_security_group_egress(GroupId=alb, IpPermissions=[permission])
        config = {"ip_protocol": "tcp", "from_port": 8080, "to_port": 8080, "referenced_security_group_id": app}
        found = sandbox.find_rule(ec2, True, alb, config)
        assert found is not None and found.startswith("sgr-")
        assert sandbox.find_rule(ec2, True, alb, {**config, "from_port": 8443, "to_port": 8443}) is None
        assert sandbox.find_rule(ec2, False, alb, config) is None  # an ingress rule is another rule
