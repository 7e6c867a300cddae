"""Private paths to AWS APIs: interface endpoints with private DNS in every AZ, their own security group,
and endpoint policies that admit this account's principals only (where the service takes a policy)."""

from __future__ import annotations

import json

from environments import load_stage
from modules.network import INTERFACE_ENDPOINTS
from tests.tf_json import references

SERVICES = {
    "ssm",
    "ssmmessages",
    "ec2messages",
    "secretsmanager",
    "logs",
    "monitoring",
    "kms",
    "sts",
    "ec2",
    "autoscaling",
}


def interface_endpoints(stack) -> dict[str, dict]:
    return {
        e["service_name"].rsplit(".", 1)[1]: e
        for e in stack.resources("aws_vpc_endpoint").values()
        if e["vpc_endpoint_type"] == "Interface"
    }


def test_the_stage_switch(stage_stack):
    """On in prod; staging and dev keep their API calls on the NAT gateways (cost, README "Cost notes")."""
    wanted = load_stage(stage_stack.stage).network.interface_endpoints
    assert wanted == (stage_stack.stage == "prod")
    assert set(interface_endpoints(stage_stack)) == (SERVICES if wanted else set())


def test_prod_reaches_every_api_the_instances_call_privately_with_private_dns(prod):
    """ "Access an AWS service using an interface VPC endpoint": with private DNS the service's default name
    resolves to the endpoint's addresses, so the SDKs and agents need no change; it requires the VPC's
    enableDnsHostnames and enableDnsSupport (https://docs.aws.amazon.com/vpc/latest/privatelink/
    create-interface-endpoint.html)."""
    endpoints = interface_endpoints(prod)
    assert set(endpoints) == SERVICES == set(INTERFACE_ENDPOINTS)
    vpc = prod.only("aws_vpc")
    assert vpc["enable_dns_hostnames"] is True and vpc["enable_dns_support"] is True
    app_subnets = {n for n, s in prod.resources("aws_subnet").items() if s["tags"]["tier"] == "private-app"}
    for service, endpoint in endpoints.items():
        assert endpoint["service_name"] == f"com.amazonaws.eu-west-1.{service}"
        assert endpoint["private_dns_enabled"] is True
        # one network interface in every AZ's app subnet: an AZ's loss leaves the others theirs
        assert {name for _, name in references(endpoint["subnet_ids"])} == app_subnets


def test_prod_passes_fsbp_ec2_10(prod):
    """FSBP EC2.10 "Amazon EC2 should be configured to use VPC endpoints that are created for the Amazon EC2
    service" (Config rule service-vpc-endpoint-enabled with serviceName ec2,
    https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-10)."""
    assert interface_endpoints(prod)["ec2"]["service_name"] == "com.amazonaws.eu-west-1.ec2"


def test_the_endpoints_admit_https_from_the_app_subnets_only(prod):
    endpoints = interface_endpoints(prod)
    groups = {name for e in endpoints.values() for _, name in references(e["security_group_ids"])}
    (group,) = groups
    rules = [
        r
        for r in prod.resources("aws_vpc_security_group_ingress_rule").values()
        if (("aws_security_group", group) in references(r["security_group_id"]))
    ]
    app_cidrs = set(load_stage("prod").network.private_app_subnets)
    assert {r["cidr_ipv4"] for r in rules} == app_cidrs
    assert all((r["ip_protocol"], r["from_port"], r["to_port"]) == ("tcp", 443, 443) for r in rules)
    assert not [
        r
        for r in prod.resources("aws_vpc_security_group_egress_rule").values()
        if ("aws_security_group", group) in references(r["security_group_id"])
    ]


# -- endpoint policies --------------------------------------------------------------------------------


def policy_allows(policy: dict, principal_account: str) -> bool:
    """A request through the endpoint by a principal of ``principal_account`` (any action, any resource):
    allowed when an Allow statement for any principal holds its StringEquals conditions and no Deny does."""
    context = {"aws:PrincipalAccount": principal_account}

    def holds(statement: dict) -> bool:
        conditions = statement.get("Condition", {})
        assert set(conditions) <= {"StringEquals"}, conditions  # what this evaluator knows
        return all(context.get(key) == value for key, value in conditions.get("StringEquals", {}).items())

    statements = policy["Statement"]
    if any(s["Effect"] == "Deny" and holds(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and s.get("Principal") == "*" and holds(s) for s in statements)


def test_endpoint_policies_admit_only_this_accounts_principals(prod):
    """ "Control access to VPC endpoints using endpoint policies" (https://docs.aws.amazon.com/vpc/latest/
    privatelink/vpc-endpoints-access.html): an endpoint policy "must contain a Principal element", "cannot
    exceed 20,480 characters", and "You can't use wildcard characters (* or ?) ... with global context keys
    that reference system-generated identifiers (for example, aws:PrincipalAccount ...)". Evaluated: a
    principal of this account passes, one of another account does not."""
    account = "${data.aws_caller_identity.account.account_id}"
    for service, endpoint in interface_endpoints(prod).items():
        if not INTERFACE_ENDPOINTS[service]:
            continue
        text = endpoint["policy"]
        assert len(text) <= 20_480
        policy = json.loads(text)
        assert all("Principal" in s for s in policy["Statement"])
        assert policy_allows(policy, account), service
        assert not policy_allows(policy, "999999999999"), service
        value = policy["Statement"][0]["Condition"]["StringEquals"]["aws:PrincipalAccount"]
        assert "*" not in value and "?" not in value


def test_services_without_endpoint_policies_get_none(prod):
    """Same page: "Not all AWS services support endpoint policies. If an AWS service doesn't support endpoint
    policies, we allow full access to any endpoint for the service." The PrivateLink services table marks
    Systems Manager "No": its three endpoints carry no policy (the security group still admits only the app
    subnets), the others do."""
    endpoints = interface_endpoints(prod)
    assert {s for s, e in endpoints.items() if "policy" not in e} == {"ssm", "ssmmessages", "ec2messages"}
    assert {s for s, takes in INTERFACE_ENDPOINTS.items() if not takes} == {"ssm", "ssmmessages", "ec2messages"}
