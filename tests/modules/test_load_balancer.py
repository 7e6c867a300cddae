"""Load balancer tier, per stage: ALB placement and hardening, HTTPS/redirect, certificate, access logs, WAF."""

from __future__ import annotations

import json

import pytest

from environments import load_stage, stage_names
from modules.load_balancer import TLS_POLICY, LoadBalancerSettings, PublicLoadBalancer
from tests.constructs import network_for, synth_construct
from tests.tf_json import SynthesizedStack, refers_to

MANAGED_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
}


def name_of(stack, resource_type, config):
    return stack.address_of(resource_type, config).split(".", 1)[1]


def alb_sg_name(stack):
    alb = stack.only("aws_lb")
    (name,) = [
        n for n in stack.resources("aws_security_group") if refers_to(alb["security_groups"], "aws_security_group", n)
    ]
    return name


def listeners(stack):
    return {listener["port"]: listener for listener in stack.resources("aws_lb_listener").values()}


def log_bucket(stack):
    alb = stack.only("aws_lb")
    (name,) = [
        n for n in stack.resources("aws_s3_bucket") if refers_to(alb["access_logs"]["bucket"], "aws_s3_bucket", n)
    ]
    return name


def of_bucket(stack, resource_type, bucket_name):
    (config,) = [
        c for c in stack.resources(resource_type).values() if refers_to(c["bucket"], "aws_s3_bucket", bucket_name)
    ]
    return config


def load_balancer_alone(settings: LoadBalancerSettings) -> tuple[PublicLoadBalancer, SynthesizedStack]:
    """One PublicLoadBalancer in a throwaway stack, for settings no shipped stage uses."""
    return synth_construct(
        lambda scope, stage: PublicLoadBalancer(
            scope, "load-balancer", settings, stage, network=network_for(scope, stage), target_port=8080
        )
    )


# --- placement and hardening ------------------------------------------------------------------


def test_alb_is_internet_facing_in_every_public_subnet(stage_stack):
    alb = stage_stack.only("aws_lb")
    public = [n for n, s in stage_stack.resources("aws_subnet").items() if s["tags"]["tier"] == "public"]
    assert alb["internal"] is False and alb["load_balancer_type"] == "application"
    assert len(alb["subnets"]) == len(public) == len(load_stage(stage_stack.stage).network.azs)
    assert all(any(refers_to(ref, "aws_subnet", n) for n in public) for ref in alb["subnets"])


def test_alb_drops_invalid_headers_and_mitigates_desync(stage_stack):
    alb = stage_stack.only("aws_lb")
    assert alb["drop_invalid_header_fields"] is True
    assert alb["desync_mitigation_mode"] in ("defensive", "strictest")


def test_deletion_protection_follows_the_stage(stacks):
    assert stacks["digital-booking-prod"].only("aws_lb")["enable_deletion_protection"] is True
    assert stacks["digital-booking-dev"].only("aws_lb")["enable_deletion_protection"] is False


def test_alb_group_admits_only_http_and_https_from_the_internet(stage_stack):
    sg = alb_sg_name(stage_stack)
    rules = [
        r
        for r in stage_stack.resources("aws_vpc_security_group_ingress_rule").values()
        if refers_to(r["security_group_id"], "aws_security_group", sg)
    ]
    expected = {80, 443} if load_stage(stage_stack.stage).load_balancer.https else {80}
    assert {r["from_port"] for r in rules} == expected
    assert all(r["to_port"] == r["from_port"] and r["cidr_ipv4"] == "0.0.0.0/0" for r in rules)


def test_every_security_group_and_rule_has_a_description(stage_stack):
    for resource_type in (
        "aws_security_group",
        "aws_vpc_security_group_ingress_rule",
        "aws_vpc_security_group_egress_rule",
    ):
        for name, config in stage_stack.resources(resource_type).items():
            assert config.get("description", "").strip(), f"{resource_type}.{name} has no description"


# --- listeners, certificate, DNS --------------------------------------------------------------


def test_prod_serves_https_with_a_tls13_policy(prod):
    https = listeners(prod)[443]
    assert https["protocol"] == "HTTPS" and https["ssl_policy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["default_action"][0]["type"] == "forward"
    assert "aws_lb_target_group" in https["default_action"][0]["target_group_arn"]


def test_https_port_80_only_redirects_to_443(prod):
    http = listeners(prod)[80]
    (action,) = http["default_action"]
    assert action["type"] == "redirect" and "target_group_arn" not in action
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}


def test_dev_without_certificate_serves_plain_http_only(dev):
    assert list(listeners(dev)) == [80]
    assert listeners(dev)[80]["default_action"][0]["type"] == "forward"
    assert dev.resources("aws_acm_certificate") == {}


def test_prod_requests_a_dns_validated_certificate_for_its_domain(prod):
    config = load_stage("prod").load_balancer
    certificate = prod.only("aws_acm_certificate", within="load-balancer")
    assert certificate["domain_name"] == config.domain_name and certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"]["create_before_destroy"] is True
    cert_name = name_of(prod, "aws_acm_certificate", certificate)
    validation = prod.only("aws_acm_certificate_validation", within="load-balancer")
    assert refers_to(validation["certificate_arn"], "aws_acm_certificate", cert_name)
    # The HTTPS listener uses the certificate only once it is validated.
    assert refers_to(
        listeners(prod)[443]["certificate_arn"],
        "aws_acm_certificate_validation",
        name_of(prod, "aws_acm_certificate_validation", validation),
    )


def test_validation_records_iterate_over_the_validation_option_set(prod):
    cert_name = name_of(prod, "aws_acm_certificate", prod.only("aws_acm_certificate", within="load-balancer"))
    ((name, record),) = [
        (n, r)
        for n, r in prod.resources("aws_route53_record").items()
        if "for_each" in r and n.startswith("load-balancer_")
    ]
    # keyed by domain name: a set cannot be indexed, and the keys are known at plan time
    assert f"aws_acm_certificate.{cert_name}.domain_validation_options" in record["for_each"]
    assert "val.domain_name => val" in record["for_each"]
    assert record["name"] == "${each.value.resource_record_name}"
    assert record["records"] == ["${each.value.resource_record_value}"]
    fqdns = prod.only("aws_acm_certificate_validation", within="load-balancer")["validation_record_fqdns"]
    assert f"aws_route53_record.{name}: val.fqdn" in fqdns


def test_prod_domain_is_an_alias_of_the_alb_in_the_stage_zone(prod):
    config = load_stage("prod").load_balancer
    zone = {n: z for n, z in prod.data("aws_route53_zone").items() if n.startswith("load-balancer_")}
    ((zone_name, zone_config),) = zone.items()
    assert zone_config == {**zone_config, "name": config.hosted_zone_name, "private_zone": False}
    (alias,) = [
        r for n, r in prod.resources("aws_route53_record").items() if "alias" in r and n.startswith("load-balancer_")
    ]
    assert alias["name"] == config.domain_name and alias["type"] == "A"
    assert "aws_lb." in alias["alias"]["name"] and alias["alias"]["evaluate_target_health"] is True
    assert "data.aws_route53_zone." + zone_name in alias["zone_id"]


def test_outputs_give_the_alb_dns_name_and_the_site_url(stage_stack):
    outputs = stage_stack.outputs()
    assert "aws_lb." in outputs["alb_dns_name"]["value"] and outputs["alb_dns_name"]["value"].endswith(".dns_name}")
    domain = load_stage(stage_stack.stage).load_balancer.domain_name
    if domain:
        assert outputs["site_url"]["value"] == f"https://{domain}"
    else:
        assert "site_url" not in outputs


def test_an_existing_certificate_is_used_as_is():
    arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    _, stack = load_balancer_alone(LoadBalancerSettings(certificate_arn=arn, waf_enabled=False))
    assert (
        listeners(stack)[443]["certificate_arn"] == arn
        and listeners(stack)[80]["default_action"][0]["type"] == "redirect"
    )
    assert stack.resources("aws_acm_certificate") == {} and stack.resources("aws_route53_record") == {}


# --- target group -----------------------------------------------------------------------------


def test_target_group_checks_the_stage_health_path_on_the_app_port(stage_stack):
    config = load_stage(stage_stack.stage)
    group = stage_stack.only("aws_lb_target_group")
    assert group["port"] == config.app_servers.app_port and group["protocol"] == config.app_servers.target_protocol
    check = group["health_check"]
    assert check["enabled"] is True and check["path"] == config.load_balancer.health_check_path
    assert check["protocol"] == config.app_servers.target_protocol
    assert check["port"] == (
        str(config.load_balancer.health_check_port) if config.load_balancer.health_check_port else "traffic-port"
    )


# --- access logs ------------------------------------------------------------------------------


def test_access_logs_go_to_the_log_bucket(stage_stack):
    logs = stage_stack.only("aws_lb")["access_logs"]
    assert logs["enabled"] is True and logs["prefix"] == "alb"
    assert "aws_s3_bucket_policy" in " ".join(stage_stack.only("aws_lb")["depends_on"])


def test_log_bucket_is_private_sse_s3_versioned_and_owner_enforced(stage_stack):
    bucket = log_bucket(stage_stack)
    access = of_bucket(stage_stack, "aws_s3_bucket_public_access_block", bucket)
    assert all(
        access[flag] is True
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    (rule,) = of_bucket(stage_stack, "aws_s3_bucket_server_side_encryption_configuration", bucket)["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"  # ALB cannot write SSE-KMS
    assert (
        of_bucket(stage_stack, "aws_s3_bucket_ownership_controls", bucket)["rule"]["object_ownership"]
        == "BucketOwnerEnforced"
    )
    assert of_bucket(stage_stack, "aws_s3_bucket_versioning", bucket)["versioning_configuration"]["status"] == "Enabled"


def test_log_bucket_expires_logs_after_the_stage_days(stage_stack):
    (rule,) = of_bucket(stage_stack, "aws_s3_bucket_lifecycle_configuration", log_bucket(stage_stack))["rule"]
    assert rule["status"] == "Enabled" and rule["filter"]
    assert rule["expiration"][0]["days"] == load_stage(stage_stack.stage).load_balancer.access_log_expiration_days
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] > 0


def test_log_bucket_policy_lets_only_elb_log_delivery_write_over_tls(stage_stack):
    policy = json.loads(of_bucket(stage_stack, "aws_s3_bucket_policy", log_bucket(stage_stack))["policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {json.dumps(s["Principal"]) for s in allows} == {
        json.dumps(
            {
                "AWS": "${data.aws_elb_service_account."
                + next(iter(stage_stack.data("aws_elb_service_account")))
                + ".arn}"
            }
        ),
        json.dumps({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}),
    }
    for statement in allows:
        assert statement["Action"] == "s3:PutObject" and "/alb/AWSLogs/" in statement["Resource"]
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Principal"] == "*" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# --- WAF --------------------------------------------------------------------------------------


def test_waf_is_on_where_the_stage_says_so(stacks):
    for stage in stage_names():
        expected = load_stage(stage).load_balancer.waf_enabled
        assert bool(stacks[f"digital-booking-{stage}"].resources("aws_wafv2_web_acl")) is expected, stage
    assert stacks["digital-booking-prod"].resources("aws_wafv2_web_acl")


@pytest.fixture(params=["staging", "prod"])
def waf_stack(request, stacks):
    return stacks[f"digital-booking-{request.param}"]


def test_web_acl_runs_the_managed_rule_groups_and_a_rate_limit(waf_stack):
    acl = waf_stack.only("aws_wafv2_web_acl", within="load-balancer")
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    groups = {
        r["statement"]["managed_rule_group_statement"]["name"]
        for r in acl["rule"]
        if "managed_rule_group_statement" in r["statement"]
    }
    assert groups == MANAGED_GROUPS
    (rate,) = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
    assert rate["action"] == {"block": {}}
    assert (
        rate["statement"]["rate_based_statement"]["limit"] == load_stage(waf_stack.stage).load_balancer.waf_rate_limit
    )
    assert len({r["priority"] for r in acl["rule"]}) == len(acl["rule"])
    assert all(r["visibility_config"]["cloudwatch_metrics_enabled"] for r in acl["rule"])


def test_web_acl_protects_the_alb(waf_stack):
    association = waf_stack.only("aws_wafv2_web_acl_association")
    assert "aws_lb." in association["resource_arn"] and "aws_wafv2_web_acl." in association["web_acl_arn"]


def test_waf_logs_to_its_own_group_with_retention(waf_stack):
    logging = waf_stack.only("aws_wafv2_web_acl_logging_configuration", within="load-balancer")
    (group_name,) = [
        n
        for n in waf_stack.resources("aws_cloudwatch_log_group")
        if refers_to(logging["log_destination_configs"], "aws_cloudwatch_log_group", n)
    ]
    group = waf_stack.resources("aws_cloudwatch_log_group")[group_name]
    assert group["name"].startswith("aws-waf-logs-")
    assert group["retention_in_days"] == load_stage(waf_stack.stage).load_balancer.waf_log_retention_days
    assert {f["single_header"]["name"] for f in logging["redacted_fields"]} == {"authorization", "cookie"}


def test_construct_exposes_the_contract_attributes():
    lb, _ = load_balancer_alone(LoadBalancerSettings())
    for attribute in (
        "security_group_id",
        "alb_arn",
        "alb_arn_suffix",
        "target_group_arn",
        "target_group_arn_suffix",
        "target_group_resource_label",
        "dns_name",
        "web_acl_name",
        "web_acl_metric_name",
        "waf_log_group_name",
    ):
        assert isinstance(getattr(lb, attribute), str), attribute
    assert lb.https_enabled is False and lb.site_url is None
