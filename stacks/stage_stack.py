"""``digital-booking-<stage>``: one stack per stage file, composing the platform's tiers."""

from __future__ import annotations

from cdktf import S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from environments import StageConfig
from environments.schema import StateSection
from modules.app_servers import AppServerFleet
from modules.backup import StageBackups
from modules.cache import BookingCache
from modules.cis_alarms import CisDashboardRow
from modules.database import BookingDatabase
from modules.kit import AwsAccount, SecondRegion, StageContext
from modules.load_balancer import PublicLoadBalancer
from modules.monitoring import PlatformAlarms, StageAlerting
from modules.network import Network
from modules.state_store import StateStoreSettings
from modules.static_assets import EDGE_REGION, StaticAssets


def stage_stack_name(stage: str) -> str:
    return f"digital-booking-{stage}"


def state_key(stage: str) -> str:
    """Object key of a stage's state in the state bucket (and ``<key>.tflock`` beside it)."""
    return f"stages/{stage}/terraform.tfstate"


def default_tags(config: StageConfig) -> dict[str, str]:
    return {
        **config.stage.tags,
        "project": "digital-booking",
        "stage": config.name,
        "owner": config.stage.owner,
        "cost-centre": config.stage.cost_centre,
        "managed-by": "cdktf",
    }


class StageStack(TerraformStack):
    """The whole platform for one stage, wired through the tiers' intent methods."""

    def __init__(self, scope: Construct, config: StageConfig, state: StateStoreSettings) -> None:
        name = stage_stack_name(config.name)
        super().__init__(scope, name)
        self.config = config
        s3_backend(self, state, state_key(config.name), config.state)
        region = config.stage.region
        tags = [AwsProviderDefaultTags(tags=default_tags(config))]
        # The wrong-account guard: every provider refuses to plan or apply with credentials of any
        # account but the stage's own (a prod configuration with dev credentials, or the reverse).
        allowed = [config.account.id] if config.account is not None else None
        AwsProvider(self, "aws", region=region, allowed_account_ids=allowed, default_tags=tags)
        # CloudFront's region: its log delivery (and certificates, web ACLs) are configured there.
        edge = AwsProvider(
            self, "aws-edge", alias="edge", region=EDGE_REGION, allowed_account_ids=allowed, default_tags=tags
        )
        # The disaster-recovery region: the copies of the stage's data that survive its region's loss.
        dr_region = config.stage.dr_region
        dr = (
            SecondRegion(
                dr_region,
                AwsProvider(
                    self, "aws-dr", alias="dr", region=dr_region, allowed_account_ids=allowed, default_tags=tags
                ),
            )
            if dr_region is not None
            else None
        )
        account = AwsAccount(self)

        # Who hears about trouble comes first: every tier sends its alarms and events to the topic,
        # and in production encrypts its logs with the stage's log key.
        self.alerting = StageAlerting(
            self,
            "alerting",
            config.monitoring,
            name=name,
            region=region,
            account=account,
            encrypt_logs=config.production,
        )
        stage = StageContext(
            name=name,
            region=region,
            account=account,
            alarm_topic_arn=self.alerting.alarm_topic_arn,
            log_kms_key_arn=self.alerting.log_kms_key_arn,
        )

        # Internet -> ALB (public subnets) -> app fleet (private-app subnets) -> data (private-data subnets).
        self.network = Network(self, "network", config.network, stage)
        self.load_balancer = PublicLoadBalancer(
            self,
            "load-balancer",
            config.load_balancer,
            stage,
            network=self.network,
            target_port=config.app_servers.app_port,
            target_protocol=config.app_servers.target_protocol,
        )
        self.app_servers = AppServerFleet(self, "app-servers", config.app_servers, stage, network=self.network)
        self.app_servers.register_with(self.load_balancer)

        self.database = BookingDatabase(self, "database", config.database, stage, network=self.network)
        self.database.allow_from(self.app_servers)
        self.database.grant_connect(self.app_servers.role)
        # Operators reach the database (to create the app's user) through an app server, never the app's role.
        self.app_servers.grant_port_forwarding(self.database.operator_role)
        self.cache = BookingCache(self, "cache", config.cache, stage, network=self.network)
        self.cache.allow_from(self.app_servers)
        self.cache.grant_connect(self.app_servers.role)
        self.alerting.subscribe_to(self.cache)

        # The listings' media: a private bucket behind CloudFront; the app servers may only write uploads.
        self.static_assets = StaticAssets(
            self,
            "static-assets",
            config.static_assets,
            stage,
            edge=edge,
            dr=dr,
            protect_from_deletion=config.production,
        )
        self.static_assets.grant_uploads(self.app_servers.role)

        # The data's second line: AWS Backup of the database and the media, copied to the DR region.
        self.backups = StageBackups(
            self, "backup", config.backup, stage, dr=dr, protect_from_deletion=config.production
        )
        self.backups.protect_database(self.database)
        self.backups.protect_bucket(self.static_assets)
        self.backups.protect_volumes(self.app_servers)

        # Alarms and dashboard last: they read what the tiers above expose.
        self.alarms = PlatformAlarms(
            self,
            "alarms",
            config.monitoring,
            stage,
            network=self.network,
            load_balancer=self.load_balancer,
            app_servers=self.app_servers,
            database=self.database,
            cache=self.cache,
            static_assets=self.static_assets,
            # The account's CIS alarms notify the account's security topic (its baseline stack); the
            # stage's dashboard shows their metrics next to the stage's own.
            security=CisDashboardRow(config.account.home_region) if config.account is not None else None,
        )
        self._outputs()

    def _outputs(self) -> None:
        TerraformOutput(
            self, "alb_dns_name", value=self.load_balancer.dns_name, description="DNS name of the public load balancer"
        )
        if self.load_balancer.site_url:
            TerraformOutput(
                self,
                "site_url",
                value=self.load_balancer.site_url,
                description="Public URL of the site (alias record to the load balancer)",
            )
        TerraformOutput(
            self, "db_endpoint", value=self.database.endpoint_address, description="Primary database endpoint (writes)"
        )
        TerraformOutput(
            self,
            "db_master_secret_arn",
            value=self.database.master_secret_arn,
            description="The RDS-managed master secret (only the operator role may read it)",
        )
        TerraformOutput(
            self,
            "db_operator_role_arn",
            value=self.database.operator_role.arn,
            description="Role operators assume (with MFA) for the master secret and port forwarding",
        )
        TerraformOutput(
            self,
            "db_reader_endpoints",
            value=self.database.reader_endpoint_addresses,
            description="Read replica endpoints (reads)",
        )
        TerraformOutput(
            self,
            "cache_primary_endpoint",
            value=self.cache.primary_endpoint_address,
            description=f"{self.cache.engine_label} primary endpoint (TLS, IAM auth)",
        )
        TerraformOutput(
            self,
            "cache_reader_endpoint",
            value=self.cache.reader_endpoint_address,
            description=f"{self.cache.engine_label} reader endpoint (TLS, IAM auth)",
        )
        TerraformOutput(
            self,
            "assets_bucket",
            value=self.static_assets.bucket_name,
            description="Bucket of the listings' images and media (uploads under its upload prefix)",
        )
        if self.static_assets.distribution_domain_name is not None:
            TerraformOutput(
                self,
                "assets_domain_name",
                value=self.static_assets.distribution_domain_name,
                description="CloudFront domain serving the static assets",
            )
        if self.static_assets.assets_url is not None:
            TerraformOutput(
                self,
                "assets_url",
                value=self.static_assets.assets_url,
                description="The assets' own domain (alias records to the distribution)",
            )
        TerraformOutput(
            self,
            "backup_vault_name",
            value=self.backups.vault_name,
            description="AWS Backup vault of the stage (recovery points of the database and the assets)",
        )
        if self.backups.dr_vault_name is not None:
            TerraformOutput(
                self,
                "dr_backup_vault_name",
                value=self.backups.dr_vault_name,
                description="AWS Backup vault in the disaster-recovery region (copies of every recovery point)",
            )
        TerraformOutput(
            self,
            "alarm_topic_arn",
            value=self.alerting.alarm_topic_arn,
            description="SNS topic every alarm of the stage notifies",
        )
        TerraformOutput(self, "vpc_id", value=self.network.vpc_id)


def s3_backend(stack: TerraformStack, state: StateStoreSettings, key: str, locking: StateSection) -> S3Backend:
    """The S3 backend every stack with remote state uses: the bootstrap's bucket and lock table, ``key``."""
    backend = S3Backend(
        stack,
        bucket=state.bucket,
        key=key,
        region=state.region,
        # SSE-KMS under the state key, for the state and the `.tflock` objects; without
        # kms_key_id, `encrypt` alone would ask for AES256, which the bucket policy refuses.
        encrypt=True,
        kms_key_id=state.kms_key_alias,
        dynamodb_table=state.lock_table if locking.dynamodb_lock else None,
    )
    if locking.use_lockfile:
        # cdktf 0.21's S3Backend has no `use_lockfile` (Terraform 1.10+): S3-native locking on
        # `<key>.tflock`. With dynamodb_table as well, both locks are taken: the migration path.
        backend.add_override("use_lockfile", True)
    return backend
