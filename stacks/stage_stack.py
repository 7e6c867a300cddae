"""``digital-booking-<stage>``: one stack per stage file, composing the platform's tiers."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from environments import StageConfig, StateBackendSettings
from modules.network import Network, NetworkProps
from modules.app_servers import AppServerFleet, AppServerFleetProps
from modules.cache import BookingCache, BookingCacheProps
from modules.database import BookingDatabase, BookingDatabaseProps
from modules.load_balancer import LoadBalancerProps, PublicLoadBalancer
from modules.monitoring import (
    AlarmThresholds,
    PlatformAlarms,
    PlatformAlarmsProps,
    StageAlerting,
    StageAlertingProps,
)
from modules.static_assets import StaticAssets, StaticAssetsProps


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

        # Monitoring first (issue 5): the alarm topic and (prod) the log KMS key every tier uses.
        mon = config.monitoring
        self.alerting = StageAlerting(self, "alerting", StageAlertingProps(
            name=name, region=config.stage.region, alarm_emails=mon.alarm_emails, encrypt_logs=config.production))

        net = config.network
        self.network = Network(self, "network", NetworkProps(
            name=name, region=config.stage.region, vpc_cidr=net.vpc_cidr, azs=net.azs,
            public_subnet_cidrs=net.public_subnets, private_app_subnet_cidrs=net.private_app_subnets,
            private_data_subnet_cidrs=net.private_data_subnets, nat_per_az=net.nat_gateways == "per_az",
            flow_log_retention_days=net.flow_log_retention_days, log_kms_key_arn=self.alerting.log_kms_key_arn))

        # Application tier (issue 3): internet -> ALB (public subnets) -> app fleet (private-app subnets).
        lb, app = config.load_balancer, config.app_servers
        self.load_balancer = PublicLoadBalancer(self, "load-balancer", LoadBalancerProps(
            name=name, vpc_id=self.network.vpc_id, public_subnet_ids=tuple(self.network.public_subnet_ids),
            app_port=app.app_port, health_check_path=lb.health_check_path, health_check_port=lb.health_check_port,
            certificate_arn=lb.certificate_arn, domain_name=lb.domain_name, hosted_zone_name=lb.hosted_zone_name,
            deletion_protection=lb.deletion_protection, waf_enabled=lb.waf_enabled, waf_rate_limit=lb.waf_rate_limit,
            idle_timeout_seconds=lb.idle_timeout_seconds, access_log_expiration_days=lb.access_log_expiration_days,
            log_retention_days=lb.waf_log_retention_days, log_kms_key_arn=self.alerting.log_kms_key_arn))
        self.app_servers = AppServerFleet(self, "app-servers", AppServerFleetProps(
            name=name, region=config.stage.region, vpc_id=self.network.vpc_id,
            private_app_subnet_ids=tuple(self.network.private_app_subnet_ids),
            load_balancer_security_group_id=self.load_balancer.security_group_id,
            target_group_arn=self.load_balancer.target_group_arn,
            request_count_resource_label=f"{self.load_balancer.alb_arn_suffix}/{self.load_balancer.target_group_arn_suffix}",
            app_port=app.app_port, health_check_port=lb.health_check_port, artifact_bucket=app.artifact_bucket,
            artifact_key=app.artifact_key, instance_type=app.instance_type, architecture=app.architecture,
            ami_id=app.ami_id, root_volume_gb=app.root_volume_gb, min_size=app.min_size, max_size=app.max_size,
            desired_capacity=app.desired_capacity, health_check_grace_seconds=app.health_check_grace_seconds,
            cpu_target_percent=app.cpu_target_percent, requests_per_target=app.requests_per_target,
            log_retention_days=app.log_retention_days, log_kms_key_arn=self.alerting.log_kms_key_arn))
        TerraformOutput(self, "alb_dns_name", value=self.load_balancer.dns_name,
                        description="DNS name of the public load balancer")
        if self.load_balancer.site_url:
            TerraformOutput(self, "site_url", value=self.load_balancer.site_url,
                            description="Public URL of the site (alias record to the load balancer)")

        # Data tier (issue 4): RDS and Redis in the private-data subnets, reachable only from the app servers.
        db, cache = config.database, config.cache
        data_subnets = tuple(self.network.private_data_subnet_ids)
        self.database = BookingDatabase(self, "database", BookingDatabaseProps(
            name=name, region=config.stage.region, vpc_id=self.network.vpc_id, subnet_ids=data_subnets,
            azs=self.network.azs, client_security_group_id=self.app_servers.security_group_id,
            client_role_name=self.app_servers.instance_role_name, engine=db.engine, engine_version=db.engine_version,
            instance_class=db.instance_class, allocated_storage_gb=db.allocated_storage_gb,
            max_allocated_storage_gb=db.max_allocated_storage_gb, multi_az=db.multi_az, read_replicas=db.read_replicas,
            port=db.port, database_name=db.database_name, master_username=db.master_username,
            backup_retention_days=db.backup_retention_days, backup_window=db.backup_window,
            maintenance_window=db.maintenance_window, deletion_protection=db.deletion_protection,
            performance_insights_retention_days=db.performance_insights_retention_days,
            monitoring_interval_seconds=db.monitoring_interval_seconds, log_retention_days=db.log_retention_days,
            log_kms_key_arn=self.alerting.log_kms_key_arn, alarm_topic_arn=self.alerting.alarm_topic_arn))
        self.cache = BookingCache(self, "cache", BookingCacheProps(
            name=name, region=config.stage.region, vpc_id=self.network.vpc_id, subnet_ids=data_subnets,
            client_security_group_id=self.app_servers.security_group_id,
            client_role_name=self.app_servers.instance_role_name, node_type=cache.node_type,
            node_count=cache.node_count, automatic_failover=cache.automatic_failover,
            engine_version=cache.engine_version, maxmemory_policy=cache.maxmemory_policy,
            snapshot_retention_days=cache.snapshot_retention_days, snapshot_window=cache.snapshot_window,
            maintenance_window=cache.maintenance_window, log_retention_days=cache.log_retention_days,
            log_kms_key_arn=self.alerting.log_kms_key_arn, alarm_topic_arn=self.alerting.alarm_topic_arn))
        TerraformOutput(self, "db_endpoint", value=self.database.endpoint_address,
                        description="Primary database endpoint (writes)")
        TerraformOutput(self, "db_reader_endpoints", value=self.database.reader_endpoint_addresses,
                        description="Read replica endpoints (reads)")
        TerraformOutput(self, "cache_primary_endpoint", value=self.cache.primary_endpoint_address,
                        description="Redis primary endpoint (TLS, IAM auth)")
        TerraformOutput(self, "cache_reader_endpoint", value=self.cache.reader_endpoint_address,
                        description="Redis reader endpoint (TLS, IAM auth)")

        # Static assets (issue 5): private bucket behind CloudFront; the app servers may only write uploads.
        assets = config.static_assets
        self.static_assets = StaticAssets(self, "static-assets", StaticAssetsProps(
            name=name, region=config.stage.region, cloudfront_enabled=assets.cloudfront_enabled,
            transition_to_ia_days=assets.transition_to_ia_days,
            transition_to_archive_days=assets.transition_to_archive_days,
            archive_storage_class=assets.archive_storage_class,
            noncurrent_version_expiration_days=assets.noncurrent_version_expiration_days,
            abort_incomplete_multipart_days=assets.abort_incomplete_multipart_days,
            access_log_expiration_days=assets.access_log_expiration_days, upload_prefix=assets.upload_prefix,
            default_root_object=assets.default_root_object, price_class=assets.price_class,
            certificate_arn=assets.certificate_arn, aliases=assets.aliases,
            writer_role_name=self.app_servers.instance_role_name, protect_from_deletion=config.production))
        TerraformOutput(self, "assets_bucket", value=self.static_assets.bucket_name,
                        description="Bucket of the listings' images and media (uploads under its upload prefix)")
        if self.static_assets.distribution_domain_name is not None:
            TerraformOutput(self, "assets_domain_name", value=self.static_assets.distribution_domain_name,
                            description="CloudFront domain serving the static assets")
        TerraformOutput(self, "alarm_topic_arn", value=self.alerting.alarm_topic_arn,
                        description="SNS topic every alarm of the stage notifies")

        # Alarms and dashboard LAST (issue 5): derived from the public attributes of the tiers above.
        self.alarms = PlatformAlarms(self, "alarms", PlatformAlarmsProps.from_tiers(
            name=name, region=config.stage.region, alarm_topic_arn=self.alerting.alarm_topic_arn,
            thresholds=AlarmThresholds.taken_from(config.monitoring), network=self.network,
            load_balancer=self.load_balancer, app_servers=self.app_servers, database=self.database, cache=self.cache,
            static_assets=self.static_assets))

        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)

    def _backend(self, config: StageConfig, state: StateBackendSettings) -> None:
        backend = S3Backend(self, bucket=state.bucket, key=state_key(config.name), region=state.region, encrypt=True,
                            dynamodb_table=state.lock_table if config.state.dynamodb_lock else None)
        if config.state.use_lockfile:
            # cdktf 0.21's S3Backend has no `use_lockfile` (Terraform 1.10+): S3-native locking on
            # `<key>.tflock`. With dynamodb_table as well, both locks are taken: the migration path.
            backend.add_override("use_lockfile", True)
