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
  that distribution decrypt. HTTPS only (HTTP is redirected), TLS 1.2+ with a custom
  certificate, security headers on every response, access logs to the log bucket through
  CloudFront standard logging v2 (CloudWatch log delivery, configured in us-east-1).
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

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrigin,
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
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
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
from constructs import Construct

from modules.kit import (
    Grantee,
    StageContext,
    Statement,
    Tier,
    customer_managed_key,
    deny_insecure_transport,
    encrypt_bucket,
    expire_logs,
    lock_down_bucket,
    policy_document,
    via_service,
)
from modules.settings import SectionProblems, check_range, setting

#: AWS managed cache policy "Managed-CachingOptimized" (the same id in every account).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
#: Where S3 server access logs and CloudFront logs land in the log bucket.
S3_ACCESS_LOG_PREFIX = "s3-access/"
#: CloudFront's region: its certificates, CLOUDFRONT-scope web ACLs and log delivery live there.
EDGE_REGION = "us-east-1"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
ORIGIN_ID = "assets-bucket"


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


def assets_bucket_name(stage_prefix: str, account_id: str) -> str:
    """The assets bucket of a stage (``digital-booking-<stage>``) in an account: its account's trail logs
    its object events in production, so the name is written once, here."""
    return f"{stage_prefix}-assets-{account_id}"


class StaticAssets(Tier[StaticAssetsSettings]):
    """Private, KMS-encrypted, versioned assets bucket with lifecycle, served by CloudFront through OAC."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: StaticAssetsSettings,
        context: StageContext,
        *,
        edge: TerraformProvider,
        protect_from_deletion: bool,
    ) -> None:
        """``edge``: the AWS provider of us-east-1, where CloudFront's log delivery is configured;
        ``protect_from_deletion`` (prod): refuse ``terraform destroy`` of the bucket and its key, the
        listings' media."""
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
        lock_down_bucket(self, "bucket", bucket_id)
        S3BucketLoggingA(
            self,
            "bucket-logging",
            bucket=bucket_id,
            target_bucket=self.log_bucket.id,
            target_prefix=S3_ACCESS_LOG_PREFIX,
        )
        S3BucketLifecycleConfiguration(
            self,
            "bucket-lifecycle",
            bucket=bucket_id,
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

        #: Distribution id and domain (None without CloudFront).
        self.distribution_id: str | None = None
        self.distribution_arn: str | None = None
        self.distribution_domain_name: str | None = None
        if settings.cloudfront_enabled:
            self._distribution()

        key_statements: list[Statement] = []
        if self.distribution_arn is not None:
            # OAC signs the S3 request; with SSE-KMS CloudFront also needs to decrypt, and only this
            # distribution may.
            key_statements.append(
                {
                    "Sid": "AssetsDistributionDecrypts",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "kms:Decrypt",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
                }
            )
        self.kms_key = customer_managed_key(
            self,
            "key",
            context.account,
            f"Encrypts the {name} static assets bucket",
            statements=key_statements,
            alias=f"{name}-assets",
            tags=context.tags,
            lifecycle=protected,
        )
        #: The bucket's KMS key.
        self.kms_key_arn: str = self.kms_key.arn
        encrypt_bucket(self, "bucket", bucket_id, kms_key_arn=self.kms_key.arn)

        statements = [deny_insecure_transport("s3:*", [self.bucket.arn, f"{self.bucket.arn}/*"])]
        if self.distribution_arn is not None:
            statements.append(
                {
                    "Sid": "AssetsDistributionReads",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"{self.bucket.arn}/*",
                    "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}},
                }
            )
        S3BucketPolicy(self, "bucket-policy", bucket=bucket_id, policy=policy_document(*statements))

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

    def _distribution(self) -> None:
        settings, context, name = self.settings, self.context, self.context.name
        oac = CloudfrontOriginAccessControl(
            self,
            "origin-access-control",
            name=f"{name}-assets",
            description=f"{name} assets bucket (SigV4)",
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
        if settings.certificate_arn is not None:
            certificate = CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=settings.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            )
        else:
            # The *.cloudfront.net certificate: CloudFront fixes its policy (TLSv1), no minimum can be set.
            certificate = CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=f"{name} static assets",
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=settings.price_class,
            default_root_object=settings.default_root_object,
            aliases=list(settings.aliases) or None,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ORIGIN_ID,
                    domain_name=self.bucket.bucket_regional_domain_name,
                    origin_access_control_id=oac.id,
                )
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"],
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
        self._access_logs()

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
