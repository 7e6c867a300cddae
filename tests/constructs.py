"""One tier alone in a throwaway stack: the tier tests' single synthesis helper.

    lb, stack = synth_construct(lambda scope, stage: PublicLoadBalancer(
        scope, "load-balancer", LoadBalancerSettings(), stage, network=network_for(scope, stage), target_port=8080))

``stage`` is a :class:`StageContext` like a stage stack's (account and partition looked up,
a test alarm topic, no log key unless ``log_kms_key_arn`` is given); ``stack`` is the
synthesized JSON, read with :class:`tests.tf_json.SynthesizedStack`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

import modules  # noqa: F401  (installs the light provider loader before the binding is imported)
from modules.kit import AwsAccount, StageContext
from modules.network import Network, NetworkSettings
from tests.tf_json import SynthesizedStack

T = TypeVar("T")
ALARM_TOPIC = "arn:aws:sns:eu-west-1:123456789012:digital-booking-test-alarms"
#: A two-AZ network in eu-west-1, enough for every tier.
NETWORK = NetworkSettings(
    vpc_cidr="10.0.0.0/16",
    azs=("eu-west-1a", "eu-west-1b"),
    public_subnets=("10.0.0.0/24", "10.0.1.0/24"),
    private_app_subnets=("10.0.10.0/24", "10.0.11.0/24"),
    private_data_subnets=("10.0.20.0/24", "10.0.21.0/24"),
    nat_gateways="single",
)


def synth_construct(
    build: Callable[[Construct, StageContext], T],
    *,
    name: str = "digital-booking-test",
    log_kms_key_arn: str | None = None,
) -> tuple[T, SynthesizedStack]:
    """``build(scope, stage)`` in a fresh stack; what it returned, and the synthesized stack."""
    stack = TerraformStack(Testing.app(), name)
    AwsProvider(stack, "aws", region="eu-west-1")
    stage = StageContext(
        name=name,
        region="eu-west-1",
        account=AwsAccount(stack),
        alarm_topic_arn=ALARM_TOPIC,
        log_kms_key_arn=log_kms_key_arn,
    )
    built = build(stack, stage)
    return built, SynthesizedStack(name, json.loads(Testing.synth(stack)))


def network_for(scope: Construct, stage: StageContext, settings: NetworkSettings = NETWORK) -> Network:
    """The network a tier under test is placed in."""
    return Network(scope, "network", settings, stage)
