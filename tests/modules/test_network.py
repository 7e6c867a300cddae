"""Network tier, per stage: AZs, subnet tiers, NAT count, routes, endpoints, flow logs."""

from __future__ import annotations

import ipaddress

from environments import load_stage
from tests.tf_json import refers_to


def subnets_of_tier(stack, tier):
    return {name: s for name, s in stack.resources("aws_subnet").items() if s["tags"]["tier"] == tier}


def route_table_of(stack, subnet_name):
    """The route table name a subnet is associated with."""
    for assoc in stack.resources("aws_route_table_association").values():
        if refers_to(assoc["subnet_id"], "aws_subnet", subnet_name):
            return next(
                name
                for name in stack.resources("aws_route_table")
                if refers_to(assoc["route_table_id"], "aws_route_table", name)
            )
    raise AssertionError(f"{stack.name}: subnet {subnet_name} has no route table association")


def routes_of(stack, route_table_name):
    return [
        r
        for r in stack.resources("aws_route").values()
        if refers_to(r["route_table_id"], "aws_route_table", route_table_name)
    ]


def test_vpc_has_stage_cidr_and_dns(stage_stack):
    config = load_stage(stage_stack.stage)
    vpc = stage_stack.only("aws_vpc")
    assert vpc["cidr_block"] == config.network.vpc_cidr
    assert vpc["enable_dns_hostnames"] is True and vpc["enable_dns_support"] is True


def test_each_tier_has_one_subnet_in_every_az(stage_stack):
    azs = sorted(load_stage(stage_stack.stage).network.azs)
    for tier in ("public", "private-app", "private-data"):
        assert sorted(s["availability_zone"] for s in subnets_of_tier(stage_stack, tier).values()) == azs, tier


def test_prod_spans_three_azs(prod):
    assert len({s["availability_zone"] for s in prod.resources("aws_subnet").values()}) == 3


def test_subnets_lie_inside_the_vpc_without_overlap(stage_stack):
    vpc = ipaddress.ip_network(stage_stack.only("aws_vpc")["cidr_block"])
    nets = [ipaddress.ip_network(s["cidr_block"]) for s in stage_stack.resources("aws_subnet").values()]
    assert all(n.subnet_of(vpc) for n in nets)
    assert not any(a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1 :])


def test_no_subnet_assigns_public_ips(stage_stack):
    assert all(s["map_public_ip_on_launch"] is False for s in stage_stack.resources("aws_subnet").values())


def test_nat_gateway_count_follows_the_stage_switch(stacks):
    assert len(stacks["digital-booking-dev"].resources("aws_nat_gateway")) == 1
    assert len(stacks["digital-booking-staging"].resources("aws_nat_gateway")) == 3
    assert len(stacks["digital-booking-prod"].resources("aws_nat_gateway")) == 3


def test_nat_gateways_sit_in_public_subnets(stage_stack):
    public = subnets_of_tier(stage_stack, "public")
    for nat in stage_stack.resources("aws_nat_gateway").values():
        assert any(refers_to(nat["subnet_id"], "aws_subnet", name) for name in public)


def test_public_subnets_route_to_the_internet_gateway(stage_stack):
    for name in subnets_of_tier(stage_stack, "public"):
        routes = routes_of(stage_stack, route_table_of(stage_stack, name))
        assert [r["destination_cidr_block"] for r in routes] == ["0.0.0.0/0"]
        assert "aws_internet_gateway" in routes[0]["gateway_id"]


def test_prod_app_subnets_use_the_nat_gateway_of_their_own_az(prod):
    nat_az = {}
    for nat_name, nat in prod.resources("aws_nat_gateway").items():
        subnet = next(
            s for n, s in prod.resources("aws_subnet").items() if refers_to(nat["subnet_id"], "aws_subnet", n)
        )
        nat_az[nat_name] = subnet["availability_zone"]
    for name, subnet in subnets_of_tier(prod, "private-app").items():
        (route,) = routes_of(prod, route_table_of(prod, name))
        (nat_name,) = [n for n in nat_az if refers_to(route["nat_gateway_id"], "aws_nat_gateway", n)]
        assert nat_az[nat_name] == subnet["availability_zone"]


def test_app_subnets_egress_only_through_nat(stage_stack):
    for name in subnets_of_tier(stage_stack, "private-app"):
        routes = routes_of(stage_stack, route_table_of(stage_stack, name))
        assert len(routes) == 1 and "aws_nat_gateway" in routes[0]["nat_gateway_id"]
        assert "gateway_id" not in routes[0]


def test_data_subnets_have_no_route_to_the_internet(stage_stack):
    for name in subnets_of_tier(stage_stack, "private-data"):
        assert routes_of(stage_stack, route_table_of(stage_stack, name)) == []
        table = stage_stack.resources("aws_route_table")[route_table_of(stage_stack, name)]
        assert not table.get("route")  # no inline routes either


def test_gateway_endpoints_serve_every_private_route_table(stage_stack):
    private_tables = {
        route_table_of(stage_stack, n) for t in ("private-app", "private-data") for n in subnets_of_tier(stage_stack, t)
    }
    endpoints = [e for e in stage_stack.resources("aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Gateway"]
    assert sorted(e["service_name"].rsplit(".", 1)[1] for e in endpoints) == ["dynamodb", "s3"]
    for endpoint in endpoints:
        assert {
            t for t in private_tables if refers_to(endpoint["route_table_ids"], "aws_route_table", t)
        } == private_tables


def test_default_security_group_allows_nothing(stage_stack):
    group = stage_stack.only("aws_default_security_group")
    assert group["ingress"] == [] and group["egress"] == []


def test_flow_logs_capture_all_traffic_to_a_log_group_with_stage_retention(stage_stack):
    config = load_stage(stage_stack.stage)
    flow_log = stage_stack.only("aws_flow_log")
    assert flow_log["traffic_type"] == "ALL" and flow_log["log_destination_type"] == "cloud-watch-logs"
    (group_name,) = [
        n
        for n, g in stage_stack.resources("aws_cloudwatch_log_group").items()
        if refers_to(flow_log["log_destination"], "aws_cloudwatch_log_group", n)
    ]
    group = stage_stack.resources("aws_cloudwatch_log_group")[group_name]
    assert group["retention_in_days"] == config.network.flow_log_retention_days


def test_flow_log_role_may_write_only_its_log_group(stage_stack):
    import json

    flow_log = stage_stack.only("aws_flow_log")
    (role_name,) = [
        n for n in stage_stack.resources("aws_iam_role") if refers_to(flow_log["iam_role_arn"], "aws_iam_role", n)
    ]
    role = stage_stack.resources("aws_iam_role")[role_name]
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
        "Service": "vpc-flow-logs.amazonaws.com"
    }
    (policy,) = [
        p
        for p in stage_stack.resources("aws_iam_role_policy").values()
        if refers_to(p["role"], "aws_iam_role", role_name)
    ]
    for statement in json.loads(policy["policy"])["Statement"]:
        assert all("aws_cloudwatch_log_group" in r for r in statement["Resource"])
