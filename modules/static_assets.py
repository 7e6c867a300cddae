"""Static assets tier: the listings' images and media, in a private bucket behind CloudFront.

- The assets bucket is private (all four public-access-block flags, BucketOwnerEnforced, so no
  ACL can ever grant anything), versioned, encrypted with its own KMS key (with an S3 bucket
  key, so KMS is called per bucket-key period, not per object), refuses non-TLS requests, and
  logs every access to a separate log bucket.
- Lifecycle: Standard -> Standard-IA -> archive class (Glacier Instant Retrieval by default, so
  old listings stay viewable) after per-stage days; overwritten or deleted versions expire;
  unfinished multipart uploads are aborted. Every rule has an explicit ``filter`` (provider 5.86+).
- Browsers read through a CloudFront distribution (switchable per stage) with origin access
  control: the bucket policy lets only that distribution read, and the KMS key policy lets only
  that distribution decrypt. HTTPS only (HTTP is redirected), security headers on every response,
  access logs to the log bucket through CloudFront standard logging v2 (CloudWatch log delivery,
  configured in us-east-1).
- The edge holds: on the stage's own domain (``domain_name`` in ``hosted_zone_name``) the
  certificate is requested in us-east-1 (the only region CloudFront takes certificates from),
  DNS-validated in the zone, and served with SNI and TLSv1.2_2021; A and AAAA alias records point
  the domain at the distribution. An existing us-east-1 certificate (``certificate_arn`` +
  ``aliases``) works the same way. Without a domain (staging) the ``*.cloudfront.net`` certificate
  is used, whose TLS policy CloudFront fixes; production requires a domain. A CLOUDFRONT-scope WAF
  web ACL (us-east-1: AWS managed rules and a per-IP rate limit, logs in an ``aws-waf-logs-`` group
  there) sits in front of the distribution.
- With a disaster-recovery region: a replica bucket there, hardened like the source (private, ACLs
  off, versioned, the same lifecycle, TLS only, SSE-KMS with a key in that region, access-logged to
  a log bucket there), filled by S3 replication (every version and delete marker, within 15 minutes
  with Replication Time Control) through a least-privilege role; the distribution reads both
  through an origin group and fails over to the replica when the primary answers a server error
  or cannot be reached.
- :meth:`StaticAssets.grant_uploads` lets a role write uploads and nothing more: ``s3:PutObject``
  (and multipart) under the upload prefix, and the KMS actions an SSE-KMS upload needs on the
  bucket's key, through S3 only.

The log bucket uses SSE-S3 (S3 server access logging cannot deliver to an SSE-KMS bucket) and,
like every bucket here, BucketOwnerEnforced: no ACLs, both log deliveries write through its policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformIterator, TerraformProvider, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginGroup,
    CloudfrontDistributionOriginGroupFailoverCriteria,
    CloudfrontDistributionOriginGroupMember,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery import CloudwatchLogDelivery
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_destination import (
    CloudwatchLogDeliveryDestination,
    CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_source import CloudwatchLogDeliverySource
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from modules.kit import (
    Grantee,
    SecondRegion,
    StageContext,
    Statement,
    Tier,
    customer_managed_key,
    deny_insecure_transport,
    encrypt_bucket,
    expire_logs,
    lock_down_bucket,
    policy_document,
    service_role,
    via_service,
)
from modules.settings import RETENTIONS, SectionProblems, check_range, check_retention, setting

#: AWS managed cache policy "Managed-CachingOptimized" (the same id in every account).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
#: Where S3 server access logs and CloudFront logs land in the log bucket.
S3_ACCESS_LOG_PREFIX = "s3-access/"
#: CloudFront's region: its certificates, CLOUDFRONT-scope web ACLs and log delivery live there.
EDGE_REGION = "us-east-1"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
ORIGIN_ID = "assets-bucket"
REPLICA_ORIGIN_ID = "assets-replica"
ORIGIN_GROUP_ID = "assets-with-failover"
#: What the primary bucket answers that sends the same request to the replica (CloudFront also fails
#: over when it cannot connect or the origin times out).
FAILOVER_STATUS_CODES = (500, 502, 503, 504)
#: A behaviour whose target is an origin group may only allow these (CloudFront fails over only on them).
READ_METHODS = ("GET", "HEAD", "OPTIONS")
#: The viewer TLS policy with a custom certificate: TLS 1.2+ with the 2021 ciphers (the newest provider
#: 5.100 knows; FSBP CloudFront.15 and checkov CKV_AWS_174 accept it).
VIEWER_TLS_POLICY = "TLSv1.2_2021"
#: AWS managed rule groups of the assets web ACL (known bad inputs and anonymous IPs: checkov CKV2_AWS_47).
EDGE_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)


CLOUDFRONT_ACM_ARN = re.compile(r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$")
DOMAIN_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ROOT_OBJECT = re.compile(r"^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}$")
PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}/$")
# S3 lifecycle minimums: STANDARD_IA needs >= 30 days in Standard first, and an object must then
# stay 30 days in Standard-IA (its minimum storage duration) before the archive transition.
S3_IA_MINIMUM_DAYS = 30
S3_IA_MINIMUM_STAY_DAYS = 30


@dataclass(frozen=True)
class StaticAssetsSettings:
    """[static_assets]: the private listing-media bucket, its lifecycle and its CloudFront front."""

    #: Serve the bucket through CloudFront with origin access control.
    cloudfront_enabled: bool = setting(
        True,
        allowed=(
            "true or false: serve the bucket through CloudFront with origin access control (must be true in"
            " production; without it nobody outside the account can read the assets)"
        ),
    )
    transition_to_ia_days: int = setting(
        30, allowed=("days after upload an object moves to Standard-IA, 30 (the S3 minimum) to 3650")
    )
    transition_to_archive_days: int = setting(
        180,
        allowed=(
            "days after upload an object moves to the archive class, at least transition_to_ia_days + 30"
            " (Standard-IA's minimum stay), up to 3650"
        ),
    )
    archive_storage_class: Literal["GLACIER_IR", "GLACIER"] = setting(
        "GLACIER_IR",
        allowed=(
            "'GLACIER_IR' (Glacier Instant Retrieval: still served by CloudFront) or 'GLACIER' (Flexible Retrieval:"
            " objects must be restored before they can be served)"
        ),
    )
    noncurrent_version_expiration_days: int = setting(
        90, allowed=("days an overwritten or deleted version is kept before it expires, 1 to 3650")
    )
    abort_incomplete_multipart_days: int = setting(
        7, allowed=("days before an unfinished multipart upload is aborted, 1 to 365")
    )
    access_log_expiration_days: int = setting(365, allowed="days S3 and CloudFront access logs are kept, 1 to 3650")
    #: Key prefix the writer role may put objects under.
    upload_prefix: str = setting(
        "uploads/",
        allowed=(
            "the key prefix the app servers may write to: lowercase letters, digits, '.', '_', '-', ending in '/'"
        ),
    )
    default_root_object: str = setting("index.html", allowed="an object key such as 'index.html' (served for '/')")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = setting(
        "PriceClass_100", allowed="'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'"
    )
    #: ACM certificate (us-east-1) for ``aliases``; None uses the ``*.cloudfront.net`` certificate.
    certificate_arn: str | None = setting(
        None,
        allowed=(
            "an ACM certificate ARN in us-east-1 (CloudFront only uses certificates from there), with aliases;"
            " unset: the *.cloudfront.net certificate"
        ),
    )
    aliases: tuple[str, ...] = setting(
        (),
        allowed=("lowercase DNS names such as 'assets.example.com' covered by certificate_arn (needs certificate_arn)"),
    )
    #: The stage's own assets domain: a certificate is requested in us-east-1 and DNS-validated in the zone.
    domain_name: str | None = setting(
        None,
        allowed=(
            "a lowercase DNS name such as 'assets.example.com' inside hosted_zone_name: the stack requests and"
            " DNS-validates its certificate in us-east-1 and adds the alias records (instead of certificate_arn;"
            " a custom certificate is required in production)"
        ),
    )
    hosted_zone_name: str | None = setting(
        None, allowed="the public Route 53 hosted zone that holds domain_name, e.g. 'example.com'"
    )
    #: A CLOUDFRONT-scope WAF web ACL (us-east-1) in front of the distribution.
    waf_enabled: bool = setting(
        True,
        allowed=(
            "true or false: a WAF web ACL (AWS managed rules and a per-IP rate limit) in front of the distribution"
            " (true in production)"
        ),
    )
    #: Requests per client IP per 5 minutes; a listing page loads dozens of images, so above the site's.
    waf_rate_limit: int = setting(
        5000, allowed="requests per client IP per 5 minutes before the WAF blocks it, 100 to 2000000000"
    )
    waf_log_retention_days: int = setting(90, allowed=f"a CloudWatch retention for the WAF's logs: {RETENTIONS}")

    @property
    def custom_certificate(self) -> bool:
        """Whether the distribution serves on the stage's own domain (its own certificate, TLSv1.2_2021)."""
        return self.certificate_arn is not None or self.domain_name is not None

    def check(self, problems: SectionProblems, region: str) -> None:
        if self.transition_to_ia_days < S3_IA_MINIMUM_DAYS:
            problems.add(
                "transition_to_ia_days",
                self.transition_to_ia_days,
                "S3 refuses a Standard-IA transition before 30 days",
                "30 to 3650",
            )
        elif self.transition_to_ia_days > 3650:
            problems.add("transition_to_ia_days", self.transition_to_ia_days, "out of range", "30 to 3650")
        earliest_archive = self.transition_to_ia_days + S3_IA_MINIMUM_STAY_DAYS
        if self.transition_to_archive_days < earliest_archive:
            problems.add(
                "transition_to_archive_days",
                self.transition_to_archive_days,
                f"out of order: objects reach Standard-IA on day {self.transition_to_ia_days} and must"
                " stay there 30 days before the archive class",
                f"{earliest_archive} to 3650 (transition_to_ia_days + 30 or more)",
            )
        elif self.transition_to_archive_days > 3650:
            problems.add(
                "transition_to_archive_days",
                self.transition_to_archive_days,
                "out of range",
                f"{earliest_archive} to 3650",
            )
        check_range(problems, "noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1, 3650)
        check_range(problems, "abort_incomplete_multipart_days", self.abort_incomplete_multipart_days, 1, 365)
        check_range(problems, "access_log_expiration_days", self.access_log_expiration_days, 1, 3650)
        if not PREFIX.match(self.upload_prefix):
            problems.add(
                "upload_prefix",
                self.upload_prefix,
                "not a key prefix",
                "lowercase letters, digits, '.', '_', '-', ending in '/', e.g. 'uploads/'",
            )
        if not ROOT_OBJECT.match(self.default_root_object) or self.default_root_object.endswith("/"):
            problems.add(
                "default_root_object",
                self.default_root_object,
                "not an object key",
                "an object key such as 'index.html'",
            )
        if self.certificate_arn is not None and not CLOUDFRONT_ACM_ARN.match(self.certificate_arn):
            problems.add(
                "certificate_arn",
                self.certificate_arn,
                "not an ACM certificate ARN in us-east-1",
                "'arn:aws:acm:us-east-1:<account>:certificate/<uuid>' (CloudFront needs us-east-1)",
            )
        for index, alias in enumerate(self.aliases):
            if not DOMAIN_NAME.match(alias):
                problems.add(
                    f"aliases[{index}]", alias, "not a DNS name", "a lowercase DNS name such as 'assets.example.com'"
                )
        if bool(self.aliases) != (self.certificate_arn is not None):
            problems.add(
                "aliases",
                list(self.aliases),
                "aliases and certificate_arn go together (CloudFront serves an alias only with its certificate)",
                "both set, or neither",
            )
        if self.domain_name is not None and self.certificate_arn is not None:
            problems.add(
                "domain_name",
                self.domain_name,
                "two certificate sources: certificate_arn is given too",
                "domain_name + hosted_zone_name, or certificate_arn + aliases",
            )
        for name in ("domain_name", "hosted_zone_name"):
            value = getattr(self, name)
            if value is not None and not DOMAIN_NAME.match(value.rstrip(".")):
                problems.add(name, value, "not a DNS name", "a lowercase DNS name such as 'assets.example.com'")
        if (self.domain_name is None) != (self.hosted_zone_name is None):
            problems.add(
                "hosted_zone_name",
                self.hosted_zone_name,
                "domain_name and hosted_zone_name go together",
                "both set (the certificate is validated and the alias added in that zone), or neither",
            )
        elif self.domain_name is not None and self.hosted_zone_name is not None:
            zone = self.hosted_zone_name.rstrip(".")
            if not self.domain_name.endswith("." + zone):
                problems.add(
                    "domain_name", self.domain_name, f"not inside the zone {zone!r}", f"a name ending '.{zone}'"
                )
        check_range(problems, "waf_rate_limit", self.waf_rate_limit, 100, 2_000_000_000)
        check_retention(problems, "waf_log_retention_days", self.waf_log_retention_days)


def assets_bucket_name(stage_prefix: str, account_id: str) -> str:
    """The assets bucket of a stage (``digital-booking-<stage>``) in an account: its account's trail logs
    its object events in production, so the name is written once, here."""
    return f"{stage_prefix}-assets-{account_id}"


class StaticAssets(Tier[StaticAssetsSettings]):
    """Private, KMS-encrypted, versioned assets bucket with lifecycle, served by CloudFront through OAC;
    replicated to the DR region, where CloudFront fails over to the replica."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: StaticAssetsSettings,
        context: StageContext,
        *,
        edge: TerraformProvider,
        dr: SecondRegion | None,
        protect_from_deletion: bool,
    ) -> None:
        """``edge``: the AWS provider of us-east-1, where CloudFront's certificate, web ACL and log delivery
        are configured; ``dr``: the disaster-recovery region (None: no replica); ``protect_from_deletion``
        (prod): refuse ``terraform destroy`` of the buckets and their keys, the listings' media."""
        self.edge = edge
        super().__init__(scope, id_, settings, context)
        name = context.name
        account_id = context.account.account_id
        protected = TerraformResourceLifecycle(prevent_destroy=True) if protect_from_deletion else None

        self.log_bucket = self._log_bucket(account_id)
        #: Log bucket name (S3 access logs under ``s3-access/``, CloudFront logs under ``cloudfront/``).
        self.log_bucket_name: str = self.log_bucket.bucket

        self.bucket = S3Bucket(
            self, "bucket", bucket=assets_bucket_name(name, account_id), tags=context.resource_tags, lifecycle=protected
        )
        bucket_id = self.bucket.id
        #: The assets bucket, for the app's configuration.
        self.bucket_name: str = self.bucket.bucket
        self.bucket_arn: str = self.bucket.arn
        versioning = lock_down_bucket(self, "bucket", bucket_id)
        S3BucketLoggingA(
            self,
            "bucket-logging",
            bucket=bucket_id,
            target_bucket=self.log_bucket.id,
            target_prefix=S3_ACCESS_LOG_PREFIX,
        )
        self._lifecycle("bucket-lifecycle", bucket_id, None)

        #: The replica in the DR region (None without one): the same protections, its own key there.
        self.replica_bucket: S3Bucket | None = None
        self.replica_bucket_name: str | None = None
        replica_versioning = None
        if dr is not None:
            replica_versioning = self._replica(dr, protected)

        #: Distribution id and domain (None without CloudFront).
        self.distribution_id: str | None = None
        self.distribution_arn: str | None = None
        self.distribution_domain_name: str | None = None
        #: The assets' own URL (None: no custom domain).
        self.assets_url: str | None = None
        #: The CLOUDFRONT-scope web ACL (None without one).
        self.web_acl_arn: str | None = None
        if settings.cloudfront_enabled:
            self._distribution()

        self.kms_key = customer_managed_key(
            self,
            "key",
            context.account,
            f"Encrypts the {name} static assets bucket",
            statements=self._distribution_decrypts(),
            alias=f"{name}-assets",
            tags=context.tags,
            lifecycle=protected,
        )
        #: The bucket's KMS key.
        self.kms_key_arn: str = self.kms_key.arn
        encrypt_bucket(self, "bucket", bucket_id, kms_key_arn=self.kms_key.arn)
        S3BucketPolicy(self, "bucket-policy", bucket=bucket_id, policy=self._bucket_policy(self.bucket.arn))

        if dr is not None and self.replica_bucket is not None and replica_versioning is not None:
            replica_key = customer_managed_key(
                self,
                "replica-key",
                context.account,
                f"Encrypts the {name} static assets replica in {dr.name}",
                statements=self._distribution_decrypts(),
                alias=f"{name}-assets-replica",
                tags=context.tags,
                lifecycle=protected,
                provider=dr.provider,
            )
            #: The replica's KMS key (in the DR region).
            self.replica_kms_key_arn: str = replica_key.arn
            encrypt_bucket(self, "replica-bucket", self.replica_bucket.id, replica_key.arn, provider=dr.provider)
            S3BucketPolicy(
                self,
                "replica-bucket-policy",
                bucket=self.replica_bucket.id,
                policy=self._bucket_policy(self.replica_bucket.arn),
                provider=dr.provider,
            )
            self._replication(dr, replica_key.arn, depends_on=[versioning, replica_versioning])

    def grant_uploads(self, role: Grantee) -> None:
        """Let ``role`` write objects under the upload prefix, and nothing else. An SSE-KMS write needs the
        bucket key's ``kms:GenerateDataKey``, and a multipart upload (what SDKs use for large files)
        ``kms:Decrypt`` too; both only through S3, for this bucket."""
        bucket_arn, prefix, region = self.bucket.arn, self.settings.upload_prefix, self.context.region
        IamRolePolicy(
            self,
            "writer-policy",
            name=f"{self.context.name}-write-asset-uploads",
            role=role.name,
            policy=policy_document(
                {
                    "Sid": "PutUploads",
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                    "Resource": f"{bucket_arn}/{prefix}*",
                },
                {
                    "Sid": "EncryptUploads",
                    "Effect": "Allow",
                    "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": self.kms_key.arn,
                    "Condition": {
                        **via_service("s3", region),
                        # The S3 Bucket Key's encryption context is the bucket; an object's own is the object.
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/{prefix}*"]},
                    },
                },
            ),
        )

    # -- the buckets ------------------------------------------------------------------------------
    def _lifecycle(self, id_: str, bucket_id: str, provider: TerraformProvider | None) -> None:
        """Standard -> Standard-IA -> archive; overwritten or deleted versions expire; unfinished uploads
        are aborted. The replica gets the same rules."""
        settings = self.settings
        S3BucketLifecycleConfiguration(
            self,
            id_,
            bucket=bucket_id,
            provider=provider,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="tier-down-current-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=settings.transition_to_ia_days, storage_class="STANDARD_IA"
                        ),
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=settings.transition_to_archive_days, storage_class=settings.archive_storage_class
                        ),
                    ],
                ),
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=settings.noncurrent_version_expiration_days
                        )
                    ],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)],
                ),
                S3BucketLifecycleConfigurationRule(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=settings.abort_incomplete_multipart_days
                        )
                    ],
                ),
            ],
        )

    def _bucket_policy(self, bucket_arn: str) -> str:
        """TLS only; reads by this stage's distribution only (origin access control)."""
        statements = [deny_insecure_transport("s3:*", [bucket_arn, f"{bucket_arn}/*"])]
        if self.distribution_arn is not None:
            statements.append(
                {
                    "Sid": "AssetsDistributionReads",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket_arn}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
                }
            )
        return policy_document(*statements)

    def _distribution_decrypts(self) -> list[Statement]:
        """OAC signs the S3 request; with SSE-KMS CloudFront also needs to decrypt, and only this
        distribution may."""
        if self.distribution_arn is None:
            return []
        return [
            {
                "Sid": "AssetsDistributionDecrypts",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
            }
        ]

    def _replica(self, dr: SecondRegion, protected: TerraformResourceLifecycle | None) -> S3BucketVersioningA:
        """The replica bucket in the DR region, hardened like the source: private, ACLs off, versioned, the
        same lifecycle, access-logged to a log bucket there (encryption and policy follow, once the
        distribution exists). Returns its versioning (replication needs it on both sides)."""
        context, account_id, provider = self.context, self.context.account.account_id, dr.provider
        replica = S3Bucket(
            self,
            "replica-bucket",
            bucket=f"{context.name}-assets-replica-{account_id}",
            tags=context.resource_tags,
            lifecycle=protected,
            provider=provider,
        )
        versioning = lock_down_bucket(self, "replica-bucket", replica.id, provider=provider)
        self._lifecycle("replica-bucket-lifecycle", replica.id, provider)
        log_bucket = S3Bucket(
            self,
            "replica-log-bucket",
            bucket=f"{context.name}-assets-replica-logs-{account_id}",
            tags=context.resource_tags,
            provider=provider,
        )
        lock_down_bucket(self, "replica-log-bucket", log_bucket.id, provider=provider)
        encrypt_bucket(self, "replica-log-bucket", log_bucket.id, provider=provider)  # SSE-S3, as at the source
        expire_logs(
            self,
            "replica-log-bucket-lifecycle",
            log_bucket.id,
            self.settings.access_log_expiration_days,
            1,
            provider=provider,
        )
        S3BucketPolicy(
            self,
            "replica-log-bucket-policy",
            bucket=log_bucket.id,
            provider=provider,
            policy=policy_document(
                deny_insecure_transport("s3:*", [log_bucket.arn, f"{log_bucket.arn}/*"]),
                {
                    "Sid": "S3ServerAccessLogsDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{log_bucket.arn}/{S3_ACCESS_LOG_PREFIX}*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ),
        )
        S3BucketLoggingA(
            self,
            "replica-bucket-logging",
            bucket=replica.id,
            target_bucket=log_bucket.id,
            target_prefix=S3_ACCESS_LOG_PREFIX,
            provider=provider,
        )
        self.replica_bucket = replica
        self.replica_bucket_name = replica.bucket
        self.replica_bucket_arn: str = replica.arn
        return versioning

    def _replication(self, dr: SecondRegion, replica_key_arn: str, depends_on: list[S3BucketVersioningA]) -> None:
        """Every object version (and delete marker) replicated to the replica, re-encrypted with the replica's
        key there, within 15 minutes (S3 Replication Time Control, with its metrics). The role may read this
        bucket's versions for replication and write replicas into that bucket, and use each key only
        through S3 in its own region, for its own bucket; nothing else."""
        context, region = self.context, self.context.region
        assert self.replica_bucket is not None
        source, replica = self.bucket.arn, self.replica_bucket.arn
        role = service_role(
            self,
            "replication-role",
            f"{context.name}-assets-replication",
            "s3.amazonaws.com",
            description=f"S3 replication of the {context.name} assets to {dr.name}",
            tags=context.tags,
        )
        IamRolePolicy(
            self,
            "replication-policy",
            name=f"{context.name}-replicate-assets",
            role=role.id,
            policy=policy_document(
                {
                    "Sid": "ReadReplicationConfiguration",
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": source,
                },
                {
                    "Sid": "ReadVersionsToReplicate",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    "Resource": f"{source}/*",
                },
                {
                    "Sid": "WriteReplicas",
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": f"{replica}/*",
                },
                {
                    "Sid": "DecryptSourceObjects",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": self.kms_key.arn,
                    "Condition": {
                        **via_service("s3", region),
                        # With S3 Bucket Keys the encryption context is the bucket, else the object.
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [source, f"{source}/*"]},
                    },
                },
                {
                    "Sid": "EncryptReplicas",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": replica_key_arn,
                    "Condition": {
                        **via_service("s3", dr.name),
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [replica, f"{replica}/*"]},
                    },
                },
            ),
        )
        fifteen_minutes = 15
        S3BucketReplicationConfigurationA(
            self,
            "replication",
            bucket=self.bucket.id,
            role=role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id="everything-to-the-dr-region",
                    status="Enabled",
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Enabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=(
                            S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                                status="Enabled"
                            )
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=replica,
                        storage_class="STANDARD",
                        encryption_configuration=(
                            S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                                replica_kms_key_id=replica_key_arn
                            )
                        ),
                        replication_time=S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                            status="Enabled",
                            time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(
                                minutes=fifteen_minutes
                            ),
                        ),
                        metrics=S3BucketReplicationConfigurationRuleDestinationMetrics(
                            status="Enabled",
                            event_threshold=S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(
                                minutes=fifteen_minutes
                            ),
                        ),
                    ),
                )
            ],
            # S3 refuses a replication configuration until versioning is on, at both ends.
            depends_on=list(depends_on),
        )

    def _log_bucket(self, account_id: str) -> S3Bucket:
        settings, context = self.settings, self.context
        bucket = S3Bucket(
            self, "log-bucket", bucket=f"{context.name}-assets-logs-{account_id}", tags=context.resource_tags
        )
        # No ACLs: S3 server access logging and CloudFront standard logging (v2, CloudWatch log delivery)
        # both write through the bucket policy below.
        lock_down_bucket(self, "log-bucket", bucket.id)
        encrypt_bucket(self, "log-bucket", bucket.id)  # SSE-S3: all that S3 server access logging can write
        expire_logs(self, "log-bucket-lifecycle", bucket.id, settings.access_log_expiration_days, 1)
        delivered_by_this_account = {
            "StringEquals": {"aws:SourceAccount": account_id},
            # The distribution's delivery source lives in us-east-1, where CloudFront's logs are configured.
            "ArnLike": {"aws:SourceArn": context.account.arn("logs", "delivery-source:*", EDGE_REGION)},
        }
        self.log_bucket_policy = S3BucketPolicy(
            self,
            "log-bucket-policy",
            bucket=bucket.id,
            policy=policy_document(
                deny_insecure_transport("s3:*", [bucket.arn, f"{bucket.arn}/*"]),
                # S3 server access logging delivers as this service principal, for this account only.
                {
                    "Sid": "S3ServerAccessLogsDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket.arn}/{S3_ACCESS_LOG_PREFIX}*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
                {
                    "Sid": "CloudFrontLogDeliveryAclCheck",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": "s3:GetBucketAcl",
                    "Resource": bucket.arn,
                    "Condition": delivered_by_this_account,
                },
                {
                    "Sid": "CloudFrontLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{bucket.arn}/{CLOUDFRONT_LOG_PREFIX}*",
                    "Condition": {
                        **delivered_by_this_account,
                        "StringEquals": {
                            **delivered_by_this_account["StringEquals"],
                            "s3:x-amz-acl": "bucket-owner-full-control",
                        },
                    },
                },
            ),
        )
        return bucket

    # -- the edge -----------------------------------------------------------------------------------
    def _distribution(self) -> None:
        settings, context, name = self.settings, self.context, self.context.name
        oac = CloudfrontOriginAccessControl(
            self,
            "origin-access-control",
            name=f"{name}-assets",
            description=f"{name} assets buckets (SigV4)",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
        )
        headers = CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=f"{name}-assets-security-headers",
            comment="Security headers on every static asset",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=63072000, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy="default-src 'none'; img-src 'self'; media-src 'self'; "
                    "style-src 'self'; font-src 'self'; frame-ancestors 'none'",
                    override=True,
                ),
            ),
        )
        zone = (
            DataAwsRoute53Zone(self, "hosted-zone", name=settings.hosted_zone_name, private_zone=False)
            if settings.hosted_zone_name is not None
            else None
        )
        aliases = list(settings.aliases)
        if settings.certificate_arn is not None:
            certificate_arn: str | None = settings.certificate_arn
        elif settings.domain_name is not None and zone is not None:
            certificate_arn = self._requested_certificate(settings.domain_name, zone)
            aliases = [settings.domain_name]
        else:
            certificate_arn = None
        if certificate_arn is not None:
            # Only a certificate of our own lets the minimum TLS version be chosen (FSBP CloudFront.7, .15).
            certificate = CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS_POLICY,
            )
        else:
            # No domain of the stage's own (staging): the *.cloudfront.net certificate, whose policy
            # CloudFront fixes (TLSv1); no minimum can be set. Production refuses this.
            certificate = CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
        if settings.waf_enabled:
            self.web_acl_arn = self._web_acl()

        origins = [
            CloudfrontDistributionOrigin(
                origin_id=ORIGIN_ID,
                domain_name=self.bucket.bucket_regional_domain_name,
                origin_access_control_id=oac.id,
            )
        ]
        origin_groups = None
        target = ORIGIN_ID
        if self.replica_bucket is not None:
            origins.append(
                CloudfrontDistributionOrigin(
                    origin_id=REPLICA_ORIGIN_ID,
                    domain_name=self.replica_bucket.bucket_regional_domain_name,
                    origin_access_control_id=oac.id,
                )
            )
            # The same GET goes to the replica when the primary region's bucket answers a server error
            # or cannot be reached (CloudFront fails over only for GET, HEAD and OPTIONS).
            origin_groups = [
                CloudfrontDistributionOriginGroup(
                    origin_id=ORIGIN_GROUP_ID,
                    failover_criteria=CloudfrontDistributionOriginGroupFailoverCriteria(
                        status_codes=list(FAILOVER_STATUS_CODES)
                    ),
                    member=[
                        CloudfrontDistributionOriginGroupMember(origin_id=ORIGIN_ID),
                        CloudfrontDistributionOriginGroupMember(origin_id=REPLICA_ORIGIN_ID),
                    ],
                )
            ]
            target = ORIGIN_GROUP_ID
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{name} static assets",
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=settings.price_class,
            default_root_object=settings.default_root_object,
            aliases=aliases or None,
            web_acl_id=self.web_acl_arn,
            origin=origins,
            origin_group=origin_groups,
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=target,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=list(READ_METHODS),
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID,
                response_headers_policy_id=headers.id,
            ),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=certificate,
            tags=context.resource_tags,
        )
        self.distribution_id = self.distribution.id
        self.distribution_arn = self.distribution.arn
        self.distribution_domain_name = self.distribution.domain_name
        if settings.domain_name is not None and zone is not None:
            for record_type in ("A", "AAAA"):
                Route53Record(
                    self,
                    f"alias-record-{record_type.lower()}",
                    zone_id=zone.zone_id,
                    name=settings.domain_name,
                    type=record_type,
                    alias=Route53RecordAlias(
                        name=self.distribution.domain_name,
                        zone_id=self.distribution.hosted_zone_id,
                        evaluate_target_health=False,
                    ),
                )
            self.assets_url = f"https://{settings.domain_name}"
        self._access_logs()

    def _requested_certificate(self, domain: str, zone: DataAwsRoute53Zone) -> str:
        """An ACM certificate for ``domain`` in us-east-1 (the only region CloudFront takes certificates
        from), DNS-validated through the zone (Route 53 is global); its ARN once it is issued."""
        certificate = AcmCertificate(
            self,
            "certificate",
            provider=self.edge,
            domain_name=domain,
            validation_method="DNS",
            tags=self.context.named(domain),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # domain_validation_options is a set: one record per element, keyed by domain name.
        options = TerraformIterator.from_complex_list(certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self,
            "certificate-validation-record",
            for_each=options,
            zone_id=zone.zone_id,
            allow_overwrite=True,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
        )
        validation = AcmCertificateValidation(
            self,
            "certificate-validation",
            provider=self.edge,
            certificate_arn=certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn")),
        )
        return validation.certificate_arn

    def _web_acl(self) -> str:
        """A CLOUDFRONT-scope web ACL, which AWS WAF only accepts in us-east-1: a per-IP rate limit, then AWS
        managed rule groups; its logs go to an ``aws-waf-logs-`` log group there. Returns its ARN (what a
        distribution's ``web_acl_id`` takes for WAFv2)."""
        settings, context, name = self.settings, self.context, self.context.name
        metric = re.sub(r"[^A-Za-z0-9]", "", name.title())

        def visibility(metric_name: str) -> Wafv2WebAclRuleVisibilityConfig:
            return Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True,
                sampled_requests_enabled=True,
                metric_name=f"{metric}-cdn-{metric_name}",
            )

        rules = [
            Wafv2WebAclRule(
                name="rate-limit-per-ip",
                priority=0,
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "rate_based_statement": {
                        "limit": settings.waf_rate_limit,
                        "aggregate_key_type": "IP",
                        "evaluation_window_sec": 300,
                    }
                },
                visibility_config=visibility("rate-limit-per-ip"),
            )
        ]
        for priority, group in enumerate(EDGE_MANAGED_RULE_GROUPS, start=1):
            rules.append(
                Wafv2WebAclRule(
                    name=group,
                    priority=priority,
                    override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                    statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                    visibility_config=visibility(group),
                )
            )
        web_acl = Wafv2WebAcl(
            self,
            "web-acl",
            provider=self.edge,
            name=f"{name}-assets-cdn",
            scope="CLOUDFRONT",
            description=f"Protects the {name} assets distribution",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=f"{metric}-cdn"
            ),
            tags=context.resource_tags,
        )
        # A log group is regional: this one lives in us-east-1 with the web ACL, so where the stage encrypts
        # its logs with a key (prod) it needs a key of its own there.
        log_key_arn = None
        if context.log_kms_key_arn is not None:
            log_groups = context.account.arn("logs", "log-group:*", EDGE_REGION)
            log_key_arn = customer_managed_key(
                self,
                "edge-log-key",
                context.account,
                f"Encrypts the {name} assets WAF logs in {EDGE_REGION}",
                alias=f"{name}-edge-logs",
                tags=context.tags,
                provider=self.edge,
                statements=[
                    {
                        "Sid": "CloudWatchLogsUseKey",
                        "Effect": "Allow",
                        "Principal": {"Service": f"logs.{EDGE_REGION}.amazonaws.com"},
                        "Action": [
                            "kms:Encrypt*",
                            "kms:Decrypt*",
                            "kms:ReEncrypt*",
                            "kms:GenerateDataKey*",
                            "kms:Describe*",
                        ],
                        "Resource": "*",
                        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                    }
                ],
            ).arn
        waf_logs = CloudwatchLogGroup(
            self,
            "waf-log-group",
            provider=self.edge,
            name=f"aws-waf-logs-{name}-assets-cdn",
            retention_in_days=settings.waf_log_retention_days,
            kms_key_id=log_key_arn,
            tags=context.resource_tags,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "web-acl-logging",
            provider=self.edge,
            resource_arn=web_acl.arn,
            log_destination_configs=[waf_logs.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in ("authorization", "cookie")
            ],
        )
        #: The web ACL's metric name and log group (us-east-1).
        self.web_acl_metric_name: str = web_acl.visibility_config.metric_name
        self.waf_log_group_name: str = waf_logs.name
        return web_acl.arn

    def _access_logs(self) -> None:
        """CloudFront standard logging (v2): CloudWatch Logs delivers the access logs to the log bucket
        through its policy, so no bucket needs ACLs (legacy logging refuses a bucket with ACLs disabled)
        and nothing has to be ordered after the bucket's ownership controls. The delivery is configured
        in us-east-1, CloudFront's home."""
        name, edge = self.context.name, self.edge
        source = CloudwatchLogDeliverySource(
            self,
            "access-log-source",
            provider=edge,
            name=f"{name}-assets-cdn",
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
            tags=self.context.resource_tags,
        )
        destination = CloudwatchLogDeliveryDestination(
            self,
            "access-log-destination",
            provider=edge,
            name=f"{name}-assets-cdn-logs",
            output_format="w3c",
            delivery_destination_configuration=[
                CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(
                    destination_resource_arn=f"{self.log_bucket.arn}/{CLOUDFRONT_LOG_PREFIX.rstrip('/')}"
                )
            ],
            tags=self.context.resource_tags,
        )
        CloudwatchLogDelivery(
            self,
            "access-log-delivery",
            provider=edge,
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            tags=self.context.resource_tags,
            depends_on=[self.log_bucket_policy],
        )
