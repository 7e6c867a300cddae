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
  certificate, security headers on every response, access logs to the log bucket.
- The app servers may write uploads and nothing more: ``s3:PutObject`` under the upload prefix,
  and ``kms:GenerateDataKey`` on the bucket's key through S3 only.

The log bucket uses SSE-S3: S3 server access logging cannot deliver to an SSE-KMS bucket, and
CloudFront standard logging needs ACLs on it (BucketOwnerPreferred), which is why it is separate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionLoggingConfig,
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
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
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

from modules._key_policy import account_administers_key
from modules._private_bucket import encrypt_bucket, lock_down_bucket

#: AWS managed cache policy "Managed-CachingOptimized" (the same id in every account).
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
#: Where S3 server access logs and CloudFront logs land in the log bucket.
S3_ACCESS_LOG_PREFIX = "s3-access/"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
ORIGIN_ID = "assets-bucket"


@dataclass(frozen=True)
class StaticAssetsProps:
    """What the static-assets tier needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region of the bucket, for the writer's ``kms:ViaService`` condition.
    region: str = "eu-west-1"
    #: Serve the bucket through CloudFront with origin access control.
    cloudfront_enabled: bool = True
    #: Days after upload an object moves to Standard-IA (S3 minimum 30).
    transition_to_ia_days: int = 30
    #: Days after upload an object moves to the archive class (>= IA days + 30).
    transition_to_archive_days: int = 180
    #: Archive class: ``GLACIER_IR`` (still servable) or ``GLACIER`` (restore before serving).
    archive_storage_class: str = "GLACIER_IR"
    #: Days an overwritten or deleted version is kept.
    noncurrent_version_expiration_days: int = 90
    #: Days before an unfinished multipart upload is aborted.
    abort_incomplete_multipart_days: int = 7
    #: Days access logs are kept in the log bucket.
    access_log_expiration_days: int = 365
    #: Key prefix the writer role may put objects under.
    upload_prefix: str = "uploads/"
    #: Object served for ``/``.
    default_root_object: str = "index.html"
    #: CloudFront price class (which edge locations serve).
    price_class: str = "PriceClass_100"
    #: ACM certificate (us-east-1) for ``aliases``; None uses the ``*.cloudfront.net`` certificate.
    certificate_arn: str | None = None
    #: Extra DNS names of the distribution, covered by ``certificate_arn``.
    aliases: tuple[str, ...] = ()
    #: Name of the IAM role (the app servers') allowed to write uploads; None: nobody writes.
    writer_role_name: str | None = None
    #: Refuse ``terraform destroy`` of the bucket and its key (prod): the assets are the listings' media.
    protect_from_deletion: bool = False
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


class StaticAssets(Construct):
    """Private, KMS-encrypted, versioned assets bucket with lifecycle, served by CloudFront through OAC."""

    def __init__(self, scope: Construct, id_: str, props: StaticAssetsProps = StaticAssetsProps()) -> None:
        super().__init__(scope, id_)
        self.props = props
        name = props.name
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        protected = TerraformResourceLifecycle(prevent_destroy=True) if props.protect_from_deletion else None

        self.log_bucket = self._log_bucket(account_id)
        #: Log bucket name (S3 access logs under ``s3-access/``, CloudFront logs under ``cloudfront/``).
        self.log_bucket_name: str = self.log_bucket.bucket

        self.bucket = S3Bucket(self, "bucket", bucket=f"{name}-assets-{account_id}", tags=props.tags,
                               lifecycle=protected)
        bucket_id = self.bucket.id
        #: The assets bucket, for the app's configuration.
        self.bucket_name: str = self.bucket.bucket
        self.bucket_arn: str = self.bucket.arn
        lock_down_bucket(self, "bucket", bucket_id)
        S3BucketLoggingA(self, "bucket-logging", bucket=bucket_id, target_bucket=self.log_bucket.id,
                         target_prefix=S3_ACCESS_LOG_PREFIX)
        S3BucketLifecycleConfiguration(self, "bucket-lifecycle", bucket=bucket_id, rule=[
            S3BucketLifecycleConfigurationRule(
                id="tier-down-current-versions", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                transition=[
                    S3BucketLifecycleConfigurationRuleTransition(days=props.transition_to_ia_days,
                                                                 storage_class="STANDARD_IA"),
                    S3BucketLifecycleConfigurationRuleTransition(days=props.transition_to_archive_days,
                                                                 storage_class=props.archive_storage_class)]),
            S3BucketLifecycleConfigurationRule(
                id="expire-noncurrent-versions", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                noncurrent_version_expiration=[S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=props.noncurrent_version_expiration_days)],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(expired_object_delete_marker=True)]),
            S3BucketLifecycleConfigurationRule(
                id="abort-incomplete-multipart-uploads", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                abort_incomplete_multipart_upload=[S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=props.abort_incomplete_multipart_days)]),
        ])

        #: Distribution id and domain (None without CloudFront).
        self.distribution_id: str | None = None
        self.distribution_arn: str | None = None
        self.distribution_domain_name: str | None = None
        if props.cloudfront_enabled:
            self._distribution()

        key_statements = [account_administers_key(account_id, partition)]
        if self.distribution_arn is not None:
            # OAC signs the S3 request; with SSE-KMS CloudFront also needs to decrypt, and only this
            # distribution may.
            key_statements.append({
                "Sid": "AssetsDistributionDecrypts", "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*",
                "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}}})
        self.kms_key = KmsKey(self, "key", description=f"Encrypts the {name} static assets bucket",
                              enable_key_rotation=True, deletion_window_in_days=30, tags=props.tags,
                              policy=json.dumps({"Version": "2012-10-17", "Statement": key_statements}),
                              lifecycle=protected)
        KmsAlias(self, "key-alias", name=f"alias/{name}-assets", target_key_id=self.kms_key.key_id)
        #: The bucket's KMS key.
        self.kms_key_arn: str = self.kms_key.arn
        encrypt_bucket(self, "bucket", bucket_id, kms_key_arn=self.kms_key.arn)

        statements = [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [self.bucket.arn, f"{self.bucket.arn}/*"],
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
        if self.distribution_arn is not None:
            statements.append({"Sid": "AssetsDistributionReads", "Effect": "Allow",
                               "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
                               "Resource": f"{self.bucket.arn}/*",
                               "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution_arn}}})
        S3BucketPolicy(self, "bucket-policy", bucket=bucket_id,
                       policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))

        if props.writer_role_name is not None:
            IamRolePolicy(self, "writer-policy", name=f"{name}-write-asset-uploads", role=props.writer_role_name,
                          policy=json.dumps({"Version": "2012-10-17", "Statement": [
                              {"Sid": "PutUploads", "Effect": "Allow", "Action": "s3:PutObject",
                               "Resource": f"{self.bucket.arn}/{props.upload_prefix}*"},
                              {"Sid": "EncryptUploads", "Effect": "Allow", "Action": "kms:GenerateDataKey",
                               "Resource": self.kms_key.arn,
                               "Condition": {"StringEquals": {"kms:ViaService": f"s3.{props.region}.amazonaws.com"}}},
                          ]}))

    def _log_bucket(self, account_id: str) -> S3Bucket:
        props = self.props
        bucket = S3Bucket(self, "log-bucket", bucket=f"{props.name}-assets-logs-{account_id}", tags=props.tags)
        # CloudFront standard logging writes through an ACL grant, which BucketOwnerEnforced would refuse;
        # BucketOwnerPreferred still makes the bucket owner own every object. Without CloudFront: no ACLs.
        ownership = "BucketOwnerPreferred" if props.cloudfront_enabled else "BucketOwnerEnforced"
        lock_down_bucket(self, "log-bucket", bucket.id, object_ownership=ownership)
        encrypt_bucket(self, "log-bucket", bucket.id)  # SSE-S3: CloudFront standard logging cannot write SSE-KMS
        S3BucketLifecycleConfiguration(self, "log-bucket-lifecycle", bucket=bucket.id, rule=[
            S3BucketLifecycleConfigurationRule(
                id="expire-access-logs", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.access_log_expiration_days)],
                noncurrent_version_expiration=[S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=1)],
                abort_incomplete_multipart_upload=[S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=1)])])
        S3BucketPolicy(self, "log-bucket-policy", bucket=bucket.id, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [bucket.arn, f"{bucket.arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                # S3 server access logging delivers as this service principal, for this account only.
                {"Sid": "S3ServerAccessLogsDelivery", "Effect": "Allow",
                 "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                 "Resource": f"{bucket.arn}/{S3_ACCESS_LOG_PREFIX}*",
                 "Condition": {"StringEquals": {"aws:SourceAccount": account_id}}},
            ],
        }))
        return bucket

    def _distribution(self) -> None:
        props = self.props
        name = props.name
        oac = CloudfrontOriginAccessControl(
            self, "origin-access-control", name=f"{name}-assets", description=f"{name} assets bucket (SigV4)",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4")
        headers = CloudfrontResponseHeadersPolicy(
            self, "security-headers", name=f"{name}-assets-security-headers",
            comment="Security headers on every static asset",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=63072000, include_subdomains=True, preload=True, override=True),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True),
                content_security_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicy(
                    content_security_policy="default-src 'none'; img-src 'self'; media-src 'self'; "
                                            "style-src 'self'; font-src 'self'; frame-ancestors 'none'",
                    override=True)))
        if props.certificate_arn is not None:
            certificate = CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=props.certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021")
        else:
            # The *.cloudfront.net certificate: CloudFront fixes its policy (TLSv1), no minimum can be set.
            certificate = CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
        self.distribution = CloudfrontDistribution(
            self, "distribution", enabled=True, comment=f"{name} static assets", is_ipv6_enabled=True,
            http_version="http2and3", price_class=props.price_class, default_root_object=props.default_root_object,
            aliases=list(props.aliases) or None,
            origin=[CloudfrontDistributionOrigin(
                origin_id=ORIGIN_ID, domain_name=self.bucket.bucket_regional_domain_name,
                origin_access_control_id=oac.id)],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID, viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS"], cached_methods=["GET", "HEAD"], compress=True,
                cache_policy_id=CACHING_OPTIMIZED_POLICY_ID, response_headers_policy_id=headers.id),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")),
            viewer_certificate=certificate,
            logging_config=CloudfrontDistributionLoggingConfig(
                bucket=self.log_bucket.bucket_domain_name, prefix=CLOUDFRONT_LOG_PREFIX, include_cookies=False),
            tags=props.tags)
        self.distribution_id = self.distribution.id
        self.distribution_arn = self.distribution.arn
        self.distribution_domain_name = self.distribution.domain_name
