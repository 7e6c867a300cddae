"""``digital-booking-security-<account>-<region>``: the security baseline of one AWS account in one region.

One stack per account and region of ``environments/_accounts.toml``, whatever number of stages
share the account: nothing of it is created twice. The account's home region (its first) also holds
what exists once per account: the multi-region trail with the CIS alarms, and the S3 account public
access block. Deployed after the state bootstrap and before the account's stages (README); its
state is in the bootstrap's bucket under ``security/<account>/<region>/terraform.tfstate``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from environments import AccountConfig
from environments.schema import StateSection
from modules.audit_trail import AuditLogBucket, AuditTrail
from modules.cis_alarms import CisAlarms
from modules.kit import AwsAccount, StageContext
from modules.security_baseline import BASELINE_NAME, AccountGuards, SecurityAlerting
from modules.state_store import StateStoreSettings
from modules.static_assets import assets_bucket_name
from modules.threat_detection import ThreatDetection
from stacks.stage_stack import s3_backend, stage_stack_name


def security_stack_name(account: str, region: str) -> str:
    """Never a stage's stack name: stage names have at most 16 characters, these more than 20."""
    return f"digital-booking-security-{account}-{region}"


def security_state_key(account: str, region: str) -> str:
    return f"security/{account}/{region}/terraform.tfstate"


class SecurityBaselineStack(TerraformStack):
    """Detection, audit and account guards of one account in one region, alerting its security topic."""

    def __init__(
        self,
        scope: Construct,
        account: AccountConfig,
        region: str,
        state: StateStoreSettings,
        *,
        stages: Sequence[str],
    ) -> None:
        """``stages``: the stages that run in the account (in a production account the trail logs their
        assets buckets' object events, and the state bucket's)."""
        super().__init__(scope, security_stack_name(account.name, region))
        s3_backend(self, state, security_state_key(account.name, region), StateSection())
        # The same wrong-account guard as the stages: this baseline belongs to one account.
        AwsProvider(
            self,
            "aws",
            region=region,
            allowed_account_ids=[account.id],
            default_tags=[
                AwsProviderDefaultTags(
                    tags={
                        "project": "digital-booking",
                        "stage": "account",
                        "account": account.name,
                        "owner": "platform-team",
                        "cost-centre": "security",
                        "managed-by": "cdktf",
                    }
                )
            ],
        )
        aws = AwsAccount(self)
        home = region == account.home_region
        settings = account.baseline

        self.alerting = SecurityAlerting(
            self, "alerting", region=region, account=aws, emails=account.security_emails, encrypt_logs=home
        )
        context = StageContext(
            name=BASELINE_NAME,
            region=region,
            account=aws,
            alarm_topic_arn=self.alerting.topic_arn,
            log_kms_key_arn=self.alerting.log_kms_key_arn,
        )
        self.access_logs = AuditLogBucket(self, "access-logs", settings, context)
        self.trail: AuditTrail | None = None
        if home:
            watched = (
                [state.bucket, *(assets_bucket_name(stage_stack_name(stage), aws.account_id) for stage in stages)]
                if account.production
                else []
            )
            self.trail = AuditTrail(
                self,
                "audit-trail",
                settings,
                context,
                access_logs=self.access_logs,
                data_event_buckets=watched,
                protect_from_deletion=account.production,
            )
            self.cis_alarms = CisAlarms(self, "cis-alarms", settings, context, log_group_name=self.trail.log_group_name)
        self.threat_detection = ThreatDetection(
            self,
            "threat-detection",
            settings,
            context,
            access_logs=self.access_logs,
            record_global_resources=home,
            protect_from_deletion=account.production,
        )
        self.guards = AccountGuards(self, "account-guards", settings, context, account_wide=home)

        TerraformOutput(
            self,
            "security_topic_arn",
            value=self.alerting.topic_arn,
            description="SNS topic of the CIS alarms and of GuardDuty / Security Hub findings",
        )
        if self.trail is not None:
            TerraformOutput(
                self, "trail_arn", value=self.trail.trail_arn, description="The account's multi-region trail"
            )
            TerraformOutput(
                self, "trail_bucket", value=self.trail.bucket_name, description="Bucket of the trail's log files"
            )
        TerraformOutput(
            self, "guardduty_detector_id", value=self.threat_detection.detector.id, description="GuardDuty detector"
        )
