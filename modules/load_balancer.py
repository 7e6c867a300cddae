"""Load balancer tier: the public Application Load Balancer in front of the app servers.

- ALB in the public subnet of every AZ, dropping invalid headers, defensive desync mitigation;
  its security group lets in 443 (HTTPS stages) and 80 from the internet and nothing else.
- HTTPS when the stage gives a certificate source: an existing ACM ARN, or a domain in a Route 53
  zone for which a certificate is requested and DNS-validated here (plus the alias record). The
  HTTPS listener uses a TLS 1.3 policy and port 80 only answers a 301 to 443. Without a
  certificate (never in prod: the stage schema refuses it) port 80 forwards plain HTTP.
- Access logs to a private, versioned SSE-S3 bucket (ALB log delivery cannot write SSE-KMS)
  that only the ELB log-delivery principals may write to, over TLS only, expiring old logs.
- Optional WAFv2 web ACL: AWS managed rule groups (common, known bad inputs, IP reputation,
  anonymous IP) and a per-IP rate limit, logging to its own ``aws-waf-logs-`` log group.

The security group's egress to the app servers is created by whoever owns the targets (the
app-server fleet adds it with its own ingress rule), so this tier knows nothing of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
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
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from modules._private_bucket import encrypt_bucket, lock_down_bucket

#: TLS 1.3 with TLS 1.2 fallback for older clients (FSBP ELB.17 / checkov CKV_AWS_103 accept it).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
#: AWS managed rule groups, in evaluation order after the rate limit.
MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesAnonymousIpList",
                       "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesCommonRuleSet")
#: Where ALB access logs land inside their bucket.
ACCESS_LOG_PREFIX = "alb"


def aws_name(base: str, suffix: str, limit: int = 32) -> str:
    """``<base>-<suffix>`` cut to an AWS name limit (ALB and target group names: 32) without a trailing '-'."""
    return (base[: limit - len(suffix) - 1].rstrip("-") + "-" + suffix)


@dataclass(frozen=True)
class LoadBalancerProps:
    """What the load balancer tier needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: VPC of the ALB's security group and the target group.
    vpc_id: str = ""
    #: Public subnets, one per AZ: the ALB has a node in each.
    public_subnet_ids: tuple[str, ...] = ()
    #: Port the app servers listen on (target group port).
    app_port: int = 8080
    #: Path the target group's health check requests; 2xx/3xx is healthy.
    health_check_path: str = "/health"
    #: Port of the health check; None checks the traffic (app) port.
    health_check_port: int | None = None
    #: Existing ACM certificate (same region) for HTTPS; None requests one for ``domain_name`` if set.
    certificate_arn: str | None = None
    #: DNS name the site is served on (alias record to the ALB); None serves on the ALB's own name.
    domain_name: str | None = None
    #: Public Route 53 zone holding ``domain_name`` (DNS validation and alias record).
    hosted_zone_name: str | None = None
    #: Refuse deletion of the ALB (and keep its log bucket on destroy).
    deletion_protection: bool = True
    #: Put a WAFv2 web ACL (managed rules + rate limit) in front of the ALB.
    waf_enabled: bool = True
    #: Requests per client IP in any 5-minute window before the rate rule blocks it.
    waf_rate_limit: int = 2000
    #: Seconds an idle client connection is kept open.
    idle_timeout_seconds: int = 60
    #: Days access-log objects are kept.
    access_log_expiration_days: int = 90
    #: Days the WAF log group keeps its events.
    log_retention_days: int = 90
    #: KMS key for the WAF log group; None uses CloudWatch's own encryption.
    log_kms_key_arn: str | None = None
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


class PublicLoadBalancer(Construct):
    """Internet-facing ALB, listeners, target group, access logs, certificate and WAF. See the module docstring."""

    def __init__(self, scope: Construct, id_: str, props: LoadBalancerProps = LoadBalancerProps()) -> None:
        super().__init__(scope, id_)
        self.props = props
        name = props.name
        self.https_enabled: bool = props.certificate_arn is not None or props.domain_name is not None

        self.security_group = SecurityGroup(
            self, "security-group", name_prefix=f"{name}-alb-", vpc_id=props.vpc_id,
            description=f"Public ALB of {name}: HTTP(S) in from the internet, app port out to the app servers",
            tags={"Name": f"{name}-alb", **props.tags}, lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        #: The ALB's security group, for the app servers' ingress rule.
        self.security_group_id: str = self.security_group.id
        listener_ports = (443, 80) if self.https_enabled else (80,)
        for port in listener_ports:
            what = "HTTPS" if port == 443 else ("HTTP, redirected to HTTPS" if self.https_enabled else "HTTP")
            VpcSecurityGroupIngressRule(
                self, f"ingress-{port}", security_group_id=self.security_group.id, ip_protocol="tcp",
                from_port=port, to_port=port, cidr_ipv4="0.0.0.0/0",
                description=f"{what} from the internet to the ALB listener", tags=props.tags)

        log_bucket = self._access_log_bucket()
        self.alb = Lb(
            self, "alb", name=aws_name(name, "alb"), load_balancer_type="application", internal=False,
            security_groups=[self.security_group.id], subnets=list(props.public_subnet_ids),
            drop_invalid_header_fields=True, desync_mitigation_mode="defensive",
            enable_deletion_protection=props.deletion_protection, idle_timeout=props.idle_timeout_seconds,
            enable_http2=True,
            access_logs=LbAccessLogs(bucket=log_bucket.id, prefix=ACCESS_LOG_PREFIX, enabled=True),
            tags={"Name": f"{name}-alb", **props.tags}, depends_on=[self._log_bucket_policy])
        #: ALB attributes for DNS, alarms (``alb_arn_suffix`` is the CloudWatch dimension) and WAF.
        self.alb_arn: str = self.alb.arn
        self.alb_arn_suffix: str = self.alb.arn_suffix
        self.dns_name: str = self.alb.dns_name
        self.zone_id: str = self.alb.zone_id

        self.target_group = LbTargetGroup(
            self, "target-group", name=aws_name(name, "app"), port=props.app_port, protocol="HTTP",
            target_type="instance", vpc_id=props.vpc_id, deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=props.health_check_path, protocol="HTTP", matcher="200-399",
                port=str(props.health_check_port) if props.health_check_port else "traffic-port",
                interval=15, timeout=5, healthy_threshold=3, unhealthy_threshold=3),
            tags={"Name": f"{name}-app", **props.tags})
        #: Target group the app servers' Auto Scaling group registers with (suffix: CloudWatch dimension).
        self.target_group_arn: str = self.target_group.arn
        self.target_group_arn_suffix: str = self.target_group.arn_suffix

        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)]
        zone = (DataAwsRoute53Zone(self, "hosted-zone", name=props.hosted_zone_name, private_zone=False)
                if props.hosted_zone_name else None)
        if self.https_enabled:
            certificate_arn = props.certificate_arn or self._requested_certificate(zone)
            self.https_listener = LbListener(
                self, "https-listener", load_balancer_arn=self.alb.arn, port=443, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=certificate_arn, default_action=forward, tags=props.tags)
            self.http_listener = LbListener(
                self, "http-listener", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP",
                default_action=[LbListenerDefaultAction(type="redirect", redirect=LbListenerDefaultActionRedirect(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))], tags=props.tags)
        else:
            # Only a non-production stage without a certificate gets here (the stage schema enforces it).
            self.http_listener = LbListener(
                self, "http-listener", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP",
                default_action=forward, tags=props.tags)

        #: Public URL of the site when it has its own domain, else None (use ``dns_name``).
        self.site_url: str | None = None
        if props.domain_name and zone is not None:
            Route53Record(self, "alias-record", zone_id=zone.zone_id, name=props.domain_name, type="A",
                          alias=Route53RecordAlias(name=self.alb.dns_name, zone_id=self.alb.zone_id,
                                                   evaluate_target_health=True))
            self.site_url = f"https://{props.domain_name}"

        #: WAF web ACL name and its log group (None when the stage turns the WAF off).
        self.web_acl_name: str | None = None
        self.waf_log_group_name: str | None = None
        if props.waf_enabled:
            self._web_acl()

    # -----------------------------------------------------------------------------------------
    def _access_log_bucket(self) -> S3Bucket:
        props, name = self.props, self.props.name
        account_id = DataAwsCallerIdentity(self, "account").account_id
        # Regional ELB account (regions before August 2022) and the log-delivery service
        # principal (newer regions, and AWS's current guidance): one of them writes the logs.
        elb_account = DataAwsElbServiceAccount(self, "elb-service-account")
        bucket = S3Bucket(self, "access-log-bucket", bucket=f"{name}-alb-logs-{account_id}",
                          force_destroy=not props.deletion_protection, tags={"Name": f"{name}-alb-logs", **props.tags})
        #: Access-log bucket name, for Athena queries and the monitoring tier.
        self.access_log_bucket_name: str = bucket.bucket
        lock_down_bucket(self, "access-log-bucket", bucket.id)
        encrypt_bucket(self, "access-log-bucket", bucket.id)  # SSE-S3: the only encryption ALB log delivery can write
        S3BucketLifecycleConfiguration(
            self, "access-log-bucket-lifecycle", bucket=bucket.id,
            rule=[S3BucketLifecycleConfigurationRule(
                id="expire-access-logs", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.access_log_expiration_days)],
                noncurrent_version_expiration=[S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=7)],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=7)])])
        log_objects = f"{bucket.arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"
        self._log_bucket_policy = S3BucketPolicy(self, "access-log-bucket-policy", bucket=bucket.id, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ElbAccountWritesAccessLogs", "Effect": "Allow", "Principal": {"AWS": elb_account.arn},
                 "Action": "s3:PutObject", "Resource": log_objects},
                {"Sid": "ElbLogDeliveryWritesAccessLogs", "Effect": "Allow",
                 "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": log_objects},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [bucket.arn, f"{bucket.arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            ],
        }))
        return bucket

    def _requested_certificate(self, zone: DataAwsRoute53Zone | None) -> str:
        """Request an ACM certificate for the domain, validate it through Route 53; return its ARN once valid."""
        props = self.props
        assert props.domain_name and zone is not None, "a requested certificate needs domain_name and hosted_zone_name"
        certificate = AcmCertificate(self, "certificate", domain_name=props.domain_name, validation_method="DNS",
                                     tags={"Name": props.domain_name, **props.tags},
                                     lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        # domain_validation_options is a set: it cannot be indexed, so one record per element is
        # made with for_each keyed by domain name (terraform knows the keys at plan time).
        options = TerraformIterator.from_complex_list(certificate.domain_validation_options, "domain_name")
        records = Route53Record(
            self, "certificate-validation-record", for_each=options, zone_id=zone.zone_id, allow_overwrite=True,
            name=options.get_string("resource_record_name"), type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")], ttl=60)
        validation = AcmCertificateValidation(
            self, "certificate-validation", certificate_arn=certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn")))
        return validation.certificate_arn

    def _web_acl(self) -> None:
        props, name = self.props, self.props.name
        metric = re.sub(r"[^A-Za-z0-9]", "", name.title())

        def visibility(metric_name: str) -> Wafv2WebAclRuleVisibilityConfig:
            return Wafv2WebAclRuleVisibilityConfig(cloudwatch_metrics_enabled=True, sampled_requests_enabled=True,
                                                   metric_name=f"{metric}-{metric_name}")

        rules = [Wafv2WebAclRule(
            name="rate-limit-per-ip", priority=0, action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
            statement={"rate_based_statement": {"limit": props.waf_rate_limit, "aggregate_key_type": "IP",
                                                "evaluation_window_sec": 300}},
            visibility_config=visibility("rate-limit-per-ip"))]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            rules.append(Wafv2WebAclRule(
                name=group, priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                visibility_config=visibility(group)))
        web_acl = Wafv2WebAcl(
            self, "web-acl", name=f"{name}-alb", scope="REGIONAL", description=f"Protects the public ALB of {name}",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()), rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(cloudwatch_metrics_enabled=True,
                                                          sampled_requests_enabled=True, metric_name=f"{metric}-alb"),
            tags=props.tags)
        Wafv2WebAclAssociation(self, "web-acl-association", resource_arn=self.alb.arn, web_acl_arn=web_acl.arn)
        # WAF can only log to a group whose name starts with "aws-waf-logs-".
        log_group = CloudwatchLogGroup(self, "waf-log-group", name=f"aws-waf-logs-{name}",
                                       retention_in_days=props.log_retention_days, kms_key_id=props.log_kms_key_arn,
                                       tags=props.tags)
        Wafv2WebAclLoggingConfiguration(
            self, "web-acl-logging", resource_arn=web_acl.arn, log_destination_configs=[log_group.arn],
            redacted_fields=[Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header))
                for header in ("authorization", "cookie")])
        self.web_acl = web_acl
        self.web_acl_name = web_acl.name
        self.web_acl_arn: str = web_acl.arn
        self.waf_log_group_name = log_group.name
