"""``digital-booking-<stage>``: one stack per stage file, composing the platform's tiers."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from environments import StageConfig, StateBackendSettings
from modules.network import Network, NetworkProps


def stage_stack_name(stage: str) -> str:
    return f"digital-booking-{stage}"


def state_key(stage: str) -> str:
    """Object key of a stage's state in the state bucket (and ``<key>.tflock`` beside it)."""
    return f"stages/{stage}/terraform.tfstate"


def default_tags(config: StageConfig) -> dict[str, str]:
    return {**config.stage.tags, "project": "digital-booking", "stage": config.name, "owner": config.stage.owner,
            "cost-centre": config.stage.cost_centre, "managed-by": "cdktf"}


class StageStack(TerraformStack):
    """The whole platform for one stage. Tiers are wired only through their public attributes."""

    def __init__(self, scope: Construct, config: StageConfig, state: StateBackendSettings) -> None:
        super().__init__(scope, stage_stack_name(config.name))
        self.config = config
        self._backend(config, state)
        AwsProvider(self, "aws", region=config.stage.region,
                    default_tags=[AwsProviderDefaultTags(tags=default_tags(config))])
        name = stage_stack_name(config.name)

        net = config.network
        self.network = Network(self, "network", NetworkProps(
            name=name, region=config.stage.region, vpc_cidr=net.vpc_cidr, azs=net.azs,
            public_subnet_cidrs=net.public_subnets, private_app_subnet_cidrs=net.private_app_subnets,
            private_data_subnet_cidrs=net.private_data_subnets, nat_per_az=net.nat_gateways == "per_az",
            flow_log_retention_days=net.flow_log_retention_days))

        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)

    def _backend(self, config: StageConfig, state: StateBackendSettings) -> None:
        backend = S3Backend(self, bucket=state.bucket, key=state_key(config.name), region=state.region, encrypt=True,
                            dynamodb_table=state.lock_table if config.state.dynamodb_lock else None)
        if config.state.use_lockfile:
            # cdktf 0.21's S3Backend has no `use_lockfile` (Terraform 1.10+): S3-native locking on
            # `<key>.tflock`. With dynamodb_table as well, both locks are taken: the migration path.
            backend.add_override("use_lockfile", True)
