"""What moto can run of the fleet and the network, run: the real terraform and provider apply a network
with interface endpoints and tier ACLs, an ALB and a fleet with a warm pool, lifecycle hooks, predictive
and scheduled scaling into the emulator; boto3 reads back what AWS would hold; then all is destroyed.

What moto 5.2.5 cannot show: it accepts an instance maintenance policy but does not store it (the
sandbox's re-plan reports it as drift), it does not refuse a warm pool on a mixed instances group
(the loader does), and StartInstanceRefresh is not implemented (an instance refresh is never started
here). The dev sandbox (`make sandbox`) deploys the same fleet features as part of the dev stage.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.app_servers import AppServerFleet, AppServerSettings, ScheduledAction
from modules.load_balancer import LoadBalancerSettings, PublicLoadBalancer
from modules.network import INTERFACE_ENDPOINTS, Network, NetworkSettings
from tests.constructs import NETWORK, synth_construct
from tools import emulator, sandbox

SETTINGS = AppServerSettings(
    artifact_bucket="digital-booking-artifacts-test",
    instance_types=("t3.micro",),
    min_size=1,
    max_size=2,
    desired_capacity=1,
    warm_pool=True,
    warm_pool_min_size=1,
    predictive_scaling="ForecastOnly",
    scheduled_actions=(ScheduledAction(name="mornings", recurrence="0 7 * * MON-FRI", min_size=1, max_size=2),),
    ami_id="ami-0123456789abcdef0",  # no SSM public parameter lookup
)


def build(scope, stage):
    network = Network(scope, "network", NetworkSettings(**{**vars(NETWORK), "interface_endpoints": True}), stage)
    lb = PublicLoadBalancer(
        scope,
        "load-balancer",
        LoadBalancerSettings(deletion_protection=False, waf_enabled=False),
        stage,
        network=network,
        target_port=SETTINGS.app_port,
    )
    fleet = AppServerFleet(scope, "app-servers", SETTINGS, stage, network=network)
    fleet.register_with(lb)
    return network


def client(service: str, moto: emulator.MotoServer):
    import boto3

    return boto3.client(
        service,
        endpoint_url=moto.url,
        region_name="eu-west-1",
        aws_access_key_id=emulator.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=emulator.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.mark.slow
@pytest.mark.emulator
def test_the_fleet_and_network_features_apply_and_read_back_in_the_emulator(tmp_path: Path):
    _, stack = synth_construct(build, name="scale-test")
    work = tmp_path / "root"
    work.mkdir()
    (work / "cdk.tf.json").write_text(json.dumps(stack.json, indent=2))
    with emulator.MotoServer() as moto:
        emulator.write_override(work, moto.url, state_path=work / "terraform.tfstate")
        emulator.init(work, moto.url)
        try:
            emulator.apply(work, moto.url)
            autoscaling, ec2 = client("autoscaling", moto), client("ec2", moto)

            pool = autoscaling.describe_warm_pool(AutoScalingGroupName="scale-test-app")["WarmPoolConfiguration"]
            assert pool["PoolState"] == "Stopped" and pool["MinSize"] == 1
            assert pool["InstanceReusePolicy"] == {"ReuseOnScaleIn": True}
            hooks = {
                h["LifecycleTransition"]: h
                for h in autoscaling.describe_lifecycle_hooks(AutoScalingGroupName="scale-test-app")["LifecycleHooks"]
            }
            assert hooks["autoscaling:EC2_INSTANCE_LAUNCHING"]["DefaultResult"] == "ABANDON"
            assert hooks["autoscaling:EC2_INSTANCE_TERMINATING"]["DefaultResult"] == "CONTINUE"
            policies = autoscaling.describe_policies(AutoScalingGroupName="scale-test-app")["ScalingPolicies"]
            (predictive,) = [p for p in policies if p["PolicyType"] == "PredictiveScaling"]
            configuration = predictive["PredictiveScalingConfiguration"]
            assert configuration["Mode"] == "ForecastOnly"
            pair = configuration["MetricSpecifications"][0]["PredefinedMetricPairSpecification"]
            assert pair["PredefinedMetricType"] == "ALBRequestCount" and "/targetgroup/" in pair["ResourceLabel"]
            (schedule,) = autoscaling.describe_scheduled_actions(AutoScalingGroupName="scale-test-app")[
                "ScheduledUpdateGroupActions"
            ]
            assert schedule["Recurrence"] == "0 7 * * MON-FRI" and schedule["TimeZone"] == "Etc/UTC"

            vpc_id = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["scale-test-vpc"]}])["Vpcs"][0]["VpcId"]
            endpoints = ec2.describe_vpc_endpoints(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "vpc-endpoint-type", "Values": ["Interface"]}]
            )["VpcEndpoints"]
            by_service = {e["ServiceName"].rsplit(".", 1)[1]: e for e in endpoints}
            assert set(by_service) == set(INTERFACE_ENDPOINTS)
            for service, endpoint in by_service.items():
                assert endpoint["PrivateDnsEnabled"] is True and len(endpoint["SubnetIds"]) == 2
                if INTERFACE_ENDPOINTS[service]:
                    statement = json.loads(endpoint["PolicyDocument"])["Statement"][0]
                    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalAccount": emulator.ACCOUNT_ID}}

            acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"]
            (default,) = [a for a in acls if a["IsDefault"]]
            # the provider removed the default ACL's allow-all entries: only the final denies remain
            assert {(e["RuleNumber"], e["RuleAction"]) for e in default["Entries"]} == {(32767, "deny")}
            assert not default["Associations"]
            tier_acls = [a for a in acls if not a["IsDefault"]]
            assert len(tier_acls) == 3 and all(len(a["Associations"]) == 2 for a in tier_acls)
            assert all(
                not (
                    e["CidrBlock"] == "0.0.0.0/0"
                    and not e["Egress"]
                    and e["RuleAction"] == "allow"
                    and e["PortRange"]["From"] <= 3389 <= e["PortRange"]["To"]
                )
                for a in tier_acls
                for e in a["Entries"]
                if "PortRange" in e
            )
        finally:
            sandbox._destroy(work, moto.url, log=print)  # as the sandbox destroys (moto's quirks handled)
