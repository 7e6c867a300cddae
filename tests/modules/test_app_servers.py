"""App-server tier, per stage: launch template hardening, user data, instance role, ASG, scaling, SG chain."""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import re

import pytest

from environments import load_stage
from modules.app_servers import AL2023_AMI_PARAMETERS, AppServerFleet, AppServerSettings
from modules.load_balancer import LoadBalancerSettings, PublicLoadBalancer
from tests.constructs import network_for, synth_construct
from tests.tf_json import SynthesizedStack, refers_to
from tools.log_filter import matches

ARTIFACTS = AppServerSettings(artifact_bucket="digital-booking-artifacts-test")

#: Ports that may face the internet at all (the ALB listeners); everything else must not.
PUBLIC_PORTS = {80, 443}


def name_of(stack, resource_type, config):
    return stack.address_of(resource_type, config).split(".", 1)[1]


def app_sg_name(stack):
    template = stack.only("aws_launch_template")
    (name,) = [
        n
        for n in stack.resources("aws_security_group")
        if refers_to(template["network_interfaces"][0]["security_groups"], "aws_security_group", n)
    ]
    return name


def alb_sg_name(stack):
    alb = stack.only("aws_lb")
    (name,) = [
        n for n in stack.resources("aws_security_group") if refers_to(alb["security_groups"], "aws_security_group", n)
    ]
    return name


def rules_of(stack, rule_type, sg_name):
    return [
        r
        for r in stack.resources(rule_type).values()
        if refers_to(r["security_group_id"], "aws_security_group", sg_name)
    ]


def user_data(stack):
    return base64.b64decode(stack.only("aws_launch_template")["user_data"]).decode()


def role_policies(stack, role_name):
    return [
        json.loads(p["policy"])
        for p in stack.resources("aws_iam_role_policy").values()
        if refers_to(p["role"], "aws_iam_role", role_name)
    ]


def instance_role(stack):
    for name, role in stack.resources("aws_iam_role").items():
        if json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}:
            return name, role
    raise AssertionError("no EC2 instance role")


def fleet_alone(
    settings: AppServerSettings = ARTIFACTS, load_balancer: LoadBalancerSettings | None = None, **synth_options
) -> tuple[AppServerFleet, SynthesizedStack]:
    """One AppServerFleet in a throwaway stack (behind a load balancer if one is given), for settings no
    shipped stage uses."""

    def build(scope, stage):
        network = network_for(scope, stage)
        fleet = AppServerFleet(scope, "app-servers", settings, stage, network=network)
        if load_balancer is not None:
            fleet.register_with(
                PublicLoadBalancer(
                    scope, "load-balancer", load_balancer, stage, network=network, target_port=settings.app_port
                )
            )
        return fleet

    return synth_construct(build, **synth_options)


# --- launch template --------------------------------------------------------------------------


def test_instances_require_imdsv2_with_hop_limit_one(stage_stack):
    metadata = stage_stack.only("aws_launch_template")["metadata_options"]
    assert metadata == {
        **metadata,
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
        "http_endpoint": "enabled",
    }


def test_root_volume_is_encrypted_gp3_of_the_stage_size(stage_stack):
    (device,) = stage_stack.only("aws_launch_template")["block_device_mappings"]
    ebs = device["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volume_type"] == "gp3"
    assert ebs["volume_size"] == load_stage(stage_stack.stage).app_servers.root_volume_gb


def test_instances_have_detailed_monitoring_no_public_ip_and_no_ssh_key(stage_stack):
    template = stage_stack.only("aws_launch_template")
    assert template["monitoring"] == {"enabled": True}
    (interface,) = template["network_interfaces"]
    assert interface["associate_public_ip_address"] == "false"
    assert "key_name" not in template


def test_instance_type_comes_from_the_stage(stage_stack):
    assert (
        stage_stack.only("aws_launch_template")["instance_type"]
        == load_stage(stage_stack.stage).app_servers.instance_type
    )


def test_ami_is_latest_amazon_linux_2023_from_the_public_ssm_parameter(stage_stack):
    config = load_stage(stage_stack.stage).app_servers
    assert config.ami_id is None  # no shipped stage pins an AMI
    ((name, parameter),) = stage_stack.data("aws_ssm_parameter").items()
    assert parameter["name"] == AL2023_AMI_PARAMETERS[config.architecture]
    assert parameter["name"].startswith("/aws/service/ami-amazon-linux-latest/al2023-ami-")
    assert stage_stack.only("aws_launch_template")["image_id"] == f"${{data.aws_ssm_parameter.{name}.insecure_value}}"


def test_a_stage_ami_replaces_the_ssm_lookup():
    _, stack = fleet_alone(dataclasses.replace(ARTIFACTS, ami_id="ami-0123456789abcdef0"))
    assert stack.only("aws_launch_template")["image_id"] == "ami-0123456789abcdef0"
    assert stack.data("aws_ssm_parameter") == {}


def test_instance_profile_carries_the_instance_role(stage_stack):
    profile_ref = stage_stack.only("aws_launch_template")["iam_instance_profile"]["arn"]
    (profile_name,) = [
        n
        for n in stage_stack.resources("aws_iam_instance_profile")
        if refers_to(profile_ref, "aws_iam_instance_profile", n)
    ]
    role_name, _ = instance_role(stage_stack)
    assert refers_to(stage_stack.resources("aws_iam_instance_profile")[profile_name]["role"], "aws_iam_role", role_name)


# --- user data --------------------------------------------------------------------------------


def test_user_data_installs_the_stage_artifact_and_runs_it_on_the_app_port(stage_stack):
    config = load_stage(stage_stack.stage).app_servers
    script = user_data(stage_stack)
    assert script.startswith("#!/bin/bash\n") and "set -euo pipefail" in script
    assert f'aws s3 cp --region eu-west-1 "s3://{config.artifact_bucket}/{config.artifact_key}"' in script
    assert f"--server.port={config.app_port}" in script
    assert "systemctl enable --now booking-app" in script and "User=booking" in script


def test_user_data_ships_the_app_log_to_the_app_log_group(stage_stack):
    script = user_data(stage_stack)
    agent = json.loads(re.search(r"<<'AGENT'\n(.*?)\nAGENT\n", script, re.S).group(1))
    (collected,) = agent["logs"]["logs_collected"]["files"]["collect_list"]
    group = next(
        g
        for g in stage_stack.resources("aws_cloudwatch_log_group").values()
        if g["name"] == collected["log_group_name"]
    )
    assert group["retention_in_days"] == load_stage(stage_stack.stage).app_servers.log_retention_days
    assert collected["file_path"] in script and "amazon-cloudwatch-agent-ctl -a fetch-config" in script


def test_the_service_keeps_its_systemd_hardening(stage_stack):
    unit = re.search(r"<<'UNIT'\n(.*?)\nUNIT\n", user_data(stage_stack), re.S).group(1)
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line)
    assert settings["User"] == "booking" and settings["NoNewPrivileges"] == "true"
    assert settings["ProtectSystem"] == "strict" and settings["PrivateTmp"] == "true"
    assert settings["ReadWritePaths"].split() == ["/opt/booking", "/var/log/booking"]
    assert settings["UMask"] == "0027"  # what the service creates is not world-readable


def test_user_data_holds_no_secret(stage_stack):
    """No credential is written into the boot script. A token fetched at boot (the instance metadata's
    session token, ``token=$(curl ...)``) is not in it; a literal one would be."""
    commands = "\n".join(line for line in user_data(stage_stack).splitlines() if not line.startswith("#"))
    assert not re.search(
        r"(?i)password|secret|token\s*=\s*[^$\s]|AKIA[0-9A-Z]{16}|BEGIN (RSA|EC|OPENSSH)? ?PRIVATE", commands
    )


# --- application errors -------------------------------------------------------------------------

#: Lines the booking app (Spring Boot: Logback by default, Log4j 2 possible) writes for an error.
ERROR_LINES = (
    "2025-05-01T12:00:00.123Z ERROR 4242 --- [booking] [nio-8080-exec-3] c.d.b.c.CheckoutController"
    " : Payment declined for booking 1187",
    # Spring Boot 2's layout
    "2025-05-01 12:00:00.123 ERROR 4242 --- [nio-8080-exec-3] o.a.c.c.C.[.[.[/].[dispatcherServlet]"
    " : Servlet.service() threw exception",
    # structured (ECS JSON) logging
    '{"@timestamp":"2025-05-01T12:00:00.123Z","log.level":"ERROR","message":"Payment declined"}',
    # Log4j 2
    "2025-05-01 12:00:00,123 FATAL [main] c.d.b.BookingApplication - Cannot start: port 8080 in use",
)
#: Lines that are not errors, some of them close.
OTHER_LINES = (
    "2025-05-01T12:00:00.123Z  INFO 4242 --- [booking] [main] c.d.b.BookingApplication"
    " : Started BookingApplication in 6.1 seconds",
    "2025-05-01T12:00:00.123Z  WARN 4242 --- [booking] [main] o.h.e.j.e.i.JdbcEnvironmentInitiator"
    " : HHH000342: Could not obtain connection to query metadata",
    "2025-05-01T12:00:00.123Z DEBUG 4242 --- [booking] [main] o.s.w.s.DispatcherServlet : Completed 200 OK",
    "2025-05-01T12:00:00.123Z  INFO 4242 --- [booking] [main] o.s.b.w.s.ErrorPageFilter : 0 errors, error page ready",
    '{"@timestamp":"2025-05-01T12:00:00.123Z","log.level":"INFO","message":"ERRORS_TOTAL metric registered"}',
    # the lines of a stack trace are log events of their own (no multi-line grouping in the agent config)
    "java.lang.IllegalStateException: payment gateway timed out",
    "\tat com.digitalbooking.checkout.PaymentClient.charge(PaymentClient.java:88)",
)


def app_error_filter(stack):
    (metric_filter,) = stack.resources("aws_cloudwatch_log_metric_filter").values()
    return metric_filter


def test_error_metric_filter_counts_error_and_fatal_lines_only(stage_stack):
    """The filter pattern, evaluated per tools/log_filter.py as the AWS page "Filter pattern syntax for
    metric filters, subscription filters, filter log events, and Live Tail" defines unstructured terms
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html): counts each
    error line the app writes, and none of the others (case-sensitive: 'errors' is no ERROR)."""
    pattern = app_error_filter(stage_stack)["pattern"]
    assert [line for line in ERROR_LINES if not matches(pattern, line)] == []
    assert [line for line in OTHER_LINES if matches(pattern, line)] == []


def test_error_metric_filter_reads_the_app_log_group_and_counts_one_per_line(stage_stack):
    """AWS page "Creating metrics from log events using filters" (MonitoringLogData.html): the default
    value is "reported ... during a period when logs are ingested but no matching logs are found. By
    setting this to 0, you ensure that data is reported during every such period"."""
    metric_filter = app_error_filter(stage_stack)
    (app_group,) = [
        n for n, g in stage_stack.resources("aws_cloudwatch_log_group").items() if g["name"].endswith("/app")
    ]
    assert refers_to(metric_filter["log_group_name"], "aws_cloudwatch_log_group", app_group)
    transformation = metric_filter["metric_transformation"]
    assert transformation["value"] == "1" and transformation["unit"] == "Count"
    assert transformation["default_value"] == "0"
    assert transformation["namespace"] == f"{stage_stack.name}/app"
    assert not transformation["namespace"].startswith("AWS/")  # reserved for AWS services


# --- instance role ----------------------------------------------------------------------------


def test_instance_role_has_ssm_core_and_no_other_managed_policy(stage_stack):
    role_name, _ = instance_role(stage_stack)
    attached = [
        a["policy_arn"]
        for a in stage_stack.resources("aws_iam_role_policy_attachment").values()
        if refers_to(a["role"], "aws_iam_role", role_name)
    ]
    assert len(attached) == 1
    assert attached[0].startswith("arn:${data.aws_partition.")
    assert attached[0].endswith(".partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")


def test_instance_role_reads_exactly_the_artifact_object(stage_stack):
    config = load_stage(stage_stack.stage).app_servers
    role_name, _ = instance_role(stage_stack)
    # Other tiers add their own statements to this role (the asset tier lets it write uploads);
    # reading from S3 is granted once, for the artifact only.
    s3_reads = [
        s
        for p in role_policies(stage_stack, role_name)
        for s in p["Statement"]
        if any(
            # Listing the parts of one's own multipart upload is part of writing it, not reading.
            a.startswith("s3:Get") or (a.startswith("s3:List") and a != "s3:ListMultipartUploadParts") or a == "s3:*"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        )
    ]
    (statement,) = s3_reads
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"].endswith(f":s3:::{config.artifact_bucket}/{config.artifact_key}")


def test_cloudwatch_agent_may_write_only_the_app_log_group(stage_stack):
    role_name, _ = instance_role(stage_stack)
    statements = {s["Sid"]: s for p in role_policies(stage_stack, role_name) for s in p["Statement"]}
    logs = statements["ShipAppLogs"]
    assert (
        all(
            refers_to(r, "aws_cloudwatch_log_group", name_of(stage_stack, "aws_cloudwatch_log_group", g))
            for r in logs["Resource"]
            for g in stage_stack.resources("aws_cloudwatch_log_group").values()
            if g["name"].endswith("/app")
        )
        and "logs:CreateLogGroup" not in logs["Action"]
    )
    metrics = statements["PublishAgentMetrics"]
    assert metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": "CWAgent"}}


def test_wildcard_resources_only_where_aws_has_no_resource_level_permissions(stage_stack):
    role_name, _ = instance_role(stage_stack)
    for policy in role_policies(stage_stack, role_name):
        for statement in policy["Statement"]:
            if statement["Resource"] == "*":
                assert statement["Action"] in ("cloudwatch:PutMetricData", "ec2:DescribeTags"), statement
            assert not any(
                a.endswith(":*") or a == "*"
                for a in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
            )


# --- Auto Scaling group -----------------------------------------------------------------------


def test_group_spans_the_private_app_subnets(stage_stack):
    group = stage_stack.only("aws_autoscaling_group")
    app = [n for n, s in stage_stack.resources("aws_subnet").items() if s["tags"]["tier"] == "private-app"]
    assert len(group["vpc_zone_identifier"]) == len(app)
    assert all(any(refers_to(ref, "aws_subnet", n) for n in app) for ref in group["vpc_zone_identifier"])


def test_group_size_follows_the_stage(stage_stack):
    config = load_stage(stage_stack.stage).app_servers
    group = stage_stack.only("aws_autoscaling_group")
    assert (group["min_size"], group["max_size"], group["desired_capacity"]) == (
        config.min_size,
        config.max_size,
        config.desired_capacity,
    )


def test_prod_keeps_at_least_two_instances_and_dev_one(prod, dev):
    assert prod.only("aws_autoscaling_group")["min_size"] >= 2
    assert dev.only("aws_autoscaling_group")["min_size"] == 1


def test_group_uses_elb_health_checks_with_a_grace_period_and_the_target_group(stage_stack):
    group = stage_stack.only("aws_autoscaling_group")
    assert group["health_check_type"] == "ELB"
    assert (
        group["health_check_grace_period"] == load_stage(stage_stack.stage).app_servers.health_check_grace_seconds > 0
    )
    (target_group,) = group["target_group_arns"]
    assert target_group.startswith("${aws_lb_target_group.")


def test_launch_template_change_rolls_the_fleet(stage_stack):
    group = stage_stack.only("aws_autoscaling_group")
    template = name_of(stage_stack, "aws_launch_template", stage_stack.only("aws_launch_template"))
    # the concrete version (not "$Latest") makes a new template version a change of the group
    specification = (
        group["mixed_instances_policy"]["launch_template"]["launch_template_specification"]
        if "mixed_instances_policy" in group
        else group["launch_template"]
    )
    assert specification["version"] == f"${{aws_launch_template.{template}.latest_version}}"
    refresh = group["instance_refresh"]
    assert refresh["strategy"] == "Rolling" and refresh["preferences"]["min_healthy_percentage"] == 100


def test_later_applies_do_not_reset_desired_capacity(stage_stack):
    assert "desired_capacity" in stage_stack.only("aws_autoscaling_group")["lifecycle"]["ignore_changes"]


def target_tracking(stack) -> dict[str, dict]:
    """The target tracking policies' configurations, by their predefined metric."""
    return {
        p["target_tracking_configuration"]["predefined_metric_specification"]["predefined_metric_type"]: p[
            "target_tracking_configuration"
        ]
        for p in stack.resources("aws_autoscaling_policy").values()
        if p["policy_type"] == "TargetTrackingScaling"
    }


def test_target_tracking_on_cpu_and_on_requests_per_target(stage_stack):
    config = load_stage(stage_stack.stage).app_servers
    policies = target_tracking(stage_stack)
    assert set(policies) == {"ASGAverageCPUUtilization", "ALBRequestCountPerTarget"}
    assert policies["ASGAverageCPUUtilization"]["target_value"] == config.cpu_target_percent
    assert policies["ALBRequestCountPerTarget"]["target_value"] == config.requests_per_target
    label = policies["ALBRequestCountPerTarget"]["predefined_metric_specification"]["resource_label"]
    assert re.fullmatch(r"\$\{aws_lb\.[^}]+\.arn_suffix\}/\$\{aws_lb_target_group\.[^}]+\.arn_suffix\}", label)


# --- security group chain ---------------------------------------------------------------------


def test_app_port_admits_only_the_alb(stage_stack):
    port = load_stage(stage_stack.stage).app_servers.app_port
    (rule,) = rules_of(stage_stack, "aws_vpc_security_group_ingress_rule", app_sg_name(stage_stack))
    assert (rule["from_port"], rule["to_port"]) == (port, port) and "cidr_ipv4" not in rule
    assert refers_to(rule["referenced_security_group_id"], "aws_security_group", alb_sg_name(stage_stack))


def test_alb_egress_reaches_only_the_app_port_of_the_app_group(stage_stack):
    port = load_stage(stage_stack.stage).app_servers.app_port
    (rule,) = rules_of(stage_stack, "aws_vpc_security_group_egress_rule", alb_sg_name(stage_stack))
    assert (rule["from_port"], rule["to_port"]) == (port, port) and "cidr_ipv4" not in rule
    assert refers_to(rule["referenced_security_group_id"], "aws_security_group", app_sg_name(stage_stack))


def test_app_egress_is_https_only(stage_stack):
    rules = rules_of(stage_stack, "aws_vpc_security_group_egress_rule", app_sg_name(stage_stack))
    internet = [r for r in rules if r.get("cidr_ipv4") == "0.0.0.0/0"]
    assert [(r["ip_protocol"], r["from_port"], r["to_port"]) for r in internet] == [("tcp", 443, 443)]


def test_nothing_but_the_alb_listeners_is_reachable_from_the_internet(stage_stack):
    for name, rule in stage_stack.resources("aws_vpc_security_group_ingress_rule").items():
        cidr = rule.get("cidr_ipv4") or rule.get("cidr_ipv6")
        if cidr and ipaddress.ip_network(cidr).prefixlen == 0:
            assert rule["ip_protocol"] == "tcp" and {rule["from_port"], rule["to_port"]} <= PUBLIC_PORTS, name
            assert refers_to(rule["security_group_id"], "aws_security_group", alb_sg_name(stage_stack)), name


def test_a_separate_health_check_port_is_admitted_from_the_alb_too():
    _, stack = fleet_alone(load_balancer=LoadBalancerSettings(health_check_port=8081, waf_enabled=False))
    alb = alb_sg_name(stack)
    ingress = rules_of(stack, "aws_vpc_security_group_ingress_rule", app_sg_name(stack))
    egress = rules_of(stack, "aws_vpc_security_group_egress_rule", alb)
    assert sorted(r["from_port"] for r in ingress) == sorted(r["from_port"] for r in egress) == [8080, 8081]
    assert all(refers_to(r["referenced_security_group_id"], "aws_security_group", alb) for r in ingress)


def test_registering_with_a_load_balancer_of_another_port_is_refused():
    def build(scope, stage):
        network = network_for(scope, stage)
        fleet = AppServerFleet(scope, "app-servers", ARTIFACTS, stage, network=network)
        fleet.register_with(
            PublicLoadBalancer(scope, "load-balancer", LoadBalancerSettings(), stage, network=network, target_port=9090)
        )

    with pytest.raises(ValueError, match="forwards to port 9090, the app servers listen on 8080"):
        synth_construct(build)


def test_construct_exposes_the_contract_attributes():
    fleet, stack = fleet_alone(log_kms_key_arn="arn:aws:kms:eu-west-1:123456789012:key/x")
    for attribute in (
        "security_group_id",
        "autoscaling_group_name",
        "instance_role_name",
        "instance_role_arn",
        "log_group_name",
        "error_metric_namespace",
        "error_metric_name",
    ):
        assert isinstance(getattr(fleet, attribute), str), attribute
    transformation = app_error_filter(stack)["metric_transformation"]
    assert (transformation["namespace"], transformation["name"]) == (
        fleet.error_metric_namespace,
        fleet.error_metric_name,
    )
    (group,) = [g for g in stack.resources("aws_cloudwatch_log_group").values() if g["name"].endswith("/app")]
    assert group["kms_key_id"] == "arn:aws:kms:eu-west-1:123456789012:key/x"


def test_group_is_tagged_for_its_instances(stage_stack):
    tags = {t["key"]: t for t in stage_stack.only("aws_autoscaling_group")["tag"]}
    assert tags["Name"]["value"] == f"digital-booking-{stage_stack.stage}-app" and tags["Name"]["propagate_at_launch"]
