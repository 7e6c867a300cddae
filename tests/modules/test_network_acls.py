"""Network ACLs, per stage, evaluated over example flows (tests/network_acl.py): what each subnet tier lets
through, both ways (the ACLs are stateless), and what it stops; and the rules FSBP and checkov hold them to."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from environments import load_stage
from tests.network_acl import Network

CLIENT = ipaddress.IPv4Address("203.0.113.9")  # somebody on the internet (TEST-NET-3)
AWS_API = ipaddress.IPv4Address("52.95.150.10")  # an AWS service's public address (S3 through the gateway endpoint)
#: Ephemeral ports a client may use (Linux: 32768-60999; NAT gateways: 1024-65535).
CLIENT_PORTS = (1024, 32768, 49152, 60999, 65535)


def net(stage_stack) -> Network:
    return Network(stage_stack)


def ports(stage_stack) -> dict[str, int]:
    config = load_stage(stage_stack.stage)
    return {"app": config.app_servers.app_port, "database": config.database.effective_port, "cache": 6379}


# -- what must get through ----------------------------------------------------------------------------------


@pytest.mark.parametrize("listener", [443, 80])
def test_clients_reach_the_alb_listeners_and_get_their_answers(stage_stack, listener):
    n = net(stage_stack)
    for az, client_port in itertools.product(range(n.tier_size("public")), CLIENT_PORTS):
        alb = n.host("public", az)
        assert n.flow(CLIENT, alb, listener, client_port), n.why(CLIENT, alb, listener, client_port)


def test_the_alb_reaches_the_app_port_in_every_az(stage_stack):
    """The ALB's nodes in each AZ send to targets in every AZ (cross-zone load balancing), requests and
    health checks alike."""
    n, app_port = net(stage_stack), ports(stage_stack)["app"]
    for alb_az, app_az in itertools.product(range(n.tier_size("public")), range(n.tier_size("private-app"))):
        alb, server = n.host("public", alb_az), n.host("private-app", app_az)
        assert n.flow(alb, server, app_port), n.why(alb, server, app_port)


def test_app_servers_reach_https_through_the_nat_and_get_the_replies(stage_stack):
    """ "NAT gateway basics": the NAT gateway replaces the source address and port; its connections use
    ports 1024-65535 (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html). Two legs:
    instance to the NAT (in a public subnet), the NAT to the internet."""
    n = net(stage_stack)
    nat = n.host("public", 0, offset=20)
    for az in range(n.tier_size("private-app")):
        server = n.host("private-app", az)
        assert n.flow(server, nat, 443), n.why(server, nat, 443)
    for nat_port in (1024, 3388, 3390, 49152, 65535):
        assert n.flow(nat, AWS_API, 443, nat_port), n.why(nat, AWS_API, 443, nat_port)


def test_the_nat_loses_only_a_connection_it_maps_to_port_3389(stage_stack):
    """The price of keeping 3389 closed to the internet (FSBP EC2.21): a reply to a NAT connection that got
    source port 3389 is dropped; one port in 64,512 (the client retries on another). Every other is fine."""
    n = net(stage_stack)
    nat = n.host("public", 0, offset=20)
    assert not n.flow(nat, AWS_API, 443, 3389)


def test_app_servers_reach_aws_apis_through_the_gateway_endpoints(stage_stack):
    """S3 and DynamoDB through gateway endpoints: the route sends the traffic to the services' public
    addresses (prefix lists) without a NAT, so the app tier's own ACL must pass HTTPS and its replies."""
    n = net(stage_stack)
    for az, client_port in itertools.product(range(n.tier_size("private-app")), (32768, 60999)):
        server = n.host("private-app", az)
        assert n.flow(server, AWS_API, 443, client_port), n.why(server, AWS_API, 443, client_port)


def test_app_servers_reach_the_database_and_cache_in_every_az(stage_stack):
    n, p = net(stage_stack), ports(stage_stack)
    for app_az, data_az in itertools.product(range(n.tier_size("private-app")), range(n.tier_size("private-data"))):
        server, data = n.host("private-app", app_az), n.host("private-data", data_az)
        for what in ("database", "cache"):
            assert n.flow(server, data, p[what]), f"{what}: {n.why(server, data, p[what])}"


def test_app_servers_reach_interface_endpoints_in_other_azs(prod):
    """The endpoints' network interfaces sit in every app subnet; private DNS may hand an instance another
    AZ's address, which crosses from one app subnet to another (prod has the endpoints)."""
    n = net(prod)
    for a, b in itertools.permutations(range(n.tier_size("private-app")), 2):
        server, endpoint = n.host("private-app", a), n.host("private-app", b, offset=30)
        assert n.flow(server, endpoint, 443), n.why(server, endpoint, 443)


# -- what must be stopped ------------------------------------------------------------------------------------


def test_nothing_from_the_internet_reaches_the_private_tiers(stage_stack):
    n, p = net(stage_stack), ports(stage_stack)
    for tier, port in itertools.product(("private-app", "private-data"), (22, 3389, p["app"], p["database"], 6379)):
        target = n.host(tier, 0)
        assert not n.flow(CLIENT, target, port), n.why(CLIENT, target, port)


@pytest.mark.parametrize("port", [22, 25, 1023, 3389])
def test_the_public_tier_admits_only_its_listeners_below_the_ephemeral_range(stage_stack, port):
    n = net(stage_stack)
    alb = n.host("public", 0)
    assert not n.flow(CLIENT, alb, port), n.why(CLIENT, alb, port)


def test_the_public_tier_leaves_ephemeral_ports_to_the_security_groups(stage_stack):
    """What a stateless ACL cannot tell apart: a NAT gateway's replies arrive from anywhere on ephemeral
    ports, so the public ACL admits 1024-65535 from anywhere (but 3389). A connection to such a port of the
    ALB is stopped by its security group, which admits 80 and 443 only (tests/modules/test_load_balancer.py)."""
    n = net(stage_stack)
    alb = n.host("public", 0)
    assert n.flow(CLIENT, alb, 8080)
    ingress = [
        r
        for r in stage_stack.resources("aws_vpc_security_group_ingress_rule").values()
        if r.get("cidr_ipv4") == "0.0.0.0/0"
    ]
    assert {(r["from_port"], r["to_port"]) for r in ingress} <= {(80, 80), (443, 443)}


def test_the_data_tier_admits_only_its_ports_and_only_from_the_app_tier(stage_stack):
    n, p = net(stage_stack), ports(stage_stack)
    data = n.host("private-data", 0)
    alb = n.host("public", 0)
    server = n.host("private-app", 0)
    for port in (p["database"], 6379):
        assert not n.flow(alb, data, port), n.why(alb, data, port)  # not from the public tier
    for port in (22, 443, 3389, p["app"]):
        assert not n.flow(server, data, port), n.why(server, data, port)  # nothing else from the app tier


def test_the_data_tier_starts_no_connection(stage_stack):
    """No route to the internet, and no rule either: the data tier only answers."""
    n, p = net(stage_stack), ports(stage_stack)
    data = n.host("private-data", 0)
    assert not n.flow(data, AWS_API, 443)
    assert not n.flow(data, n.host("private-app", 0), p["app"])
    assert not n.flow(data, n.host("public", 0), 443)


def test_the_default_acl_admits_nothing(stage_stack):
    """ "Default network ACL": a VPC's default ACL allows all traffic until changed; aws_default_network_acl
    "immediately removes all rules" when adopted and creates only those configured (provider docs). With
    none, any subnet that falls back to it is cut off: FSBP EC2.21 has nothing to find there."""
    (default,) = stage_stack.resources("aws_default_network_acl").values()
    assert "ingress" not in default and "egress" not in default
    assert default["lifecycle"]["ignore_changes"] == ["subnet_ids"]
    n = net(stage_stack)
    assert all(acl.name != "default" for acl in n.acl_of.values()), "a subnet is left on the default ACL"


# -- the rules as AWS and checkov read them ---------------------------------------------------------------


def rules(stage_stack):
    return list(stage_stack.resources("aws_network_acl_rule").values())


def test_no_rule_admits_22_or_3389_from_anywhere(stage_stack):
    """Security Hub EC2.21 "Network ACLs should not allow ingress from 0.0.0.0/0 to port 22 or port 3389"
    (Config rule nacl-no-unrestricted-ssh-rdp, https://docs.aws.amazon.com/securityhub/latest/userguide/
    ec2-controls.html#ec2-21); checkov CKV_AWS_231 checks the same of each aws_network_acl_rule."""
    for rule in rules(stage_stack):
        if rule["egress"] or rule["rule_action"] != "allow" or rule["cidr_block"] != "0.0.0.0/0":
            continue
        for port in (22, 3389):
            assert not rule["from_port"] <= port <= rule["to_port"], rule


def test_every_ingress_rule_names_its_ports_and_protocol(stage_stack):
    """checkov CKV_AWS_352: an ingress rule with all protocols (``-1``) opens every port."""
    for rule in rules(stage_stack):
        assert rule["protocol"] == "tcp" and rule["from_port"] > 0, rule


def test_each_acl_stays_within_the_rule_quota(stage_stack):
    """Amazon VPC quotas: 20 rules per network ACL and direction by default (40 on request)
    (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html). Rule numbers are unique per
    ACL and direction."""
    counts: dict[tuple[str, bool], list[int]] = {}
    for rule in rules(stage_stack):
        counts.setdefault((rule["network_acl_id"], rule["egress"]), []).append(rule["rule_number"])
    for numbers in counts.values():
        assert len(numbers) <= 20 and len(set(numbers)) == len(numbers)


def test_every_acl_is_attached_to_its_tier(stage_stack):
    """checkov CKV2_AWS_1: every network ACL is attached to subnets; each tier's ACL to exactly its subnets."""
    n = net(stage_stack)
    by_acl: dict[str, set[str]] = {}
    for subnet, acl in n.acl_of.items():
        by_acl.setdefault(acl.name, set()).add(n.tiers[subnet])
    assert len(by_acl) == 3 and all(len(tiers) == 1 for tiers in by_acl.values())
