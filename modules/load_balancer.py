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

The targets register themselves (``AppServerFleet.register_with``) and write both sides of the
security-group rule between the ALB and them, so this tier knows nothing of them but their port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
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
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
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

from modules.kit import (
    StageContext,
    Tier,
    deny_insecure_transport,
    encrypt_bucket,
    expire_logs,
    lock_down_bucket,
    log_group,
    policy_document,
    tier_security_group,
)
from modules.network import Network
from modules.settings import RETENTIONS, SectionProblems, check_range, check_retention, setting

#: TLS 1.3 with TLS 1.2 fallback for older clients (FSBP ELB.17 / checkov CKV_AWS_103 accept it).
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
#: AWS managed rule groups, in evaluation order after the rate limit.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesAnonymousIpList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
#: Where ALB access logs land inside their bucket.
ACCESS_LOG_PREFIX = "alb"


def aws_name(base: str, suffix: str, limit: int = 32) -> str:
    """``<base>-<suffix>`` cut to an AWS name limit (ALB and target group names: 32) without a trailing '-'."""
    return base[: limit - len(suffix) - 1].rstrip("-") + "-" + suffix


ACM_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:acm:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:certificate/[0-9a-f-]{36}$")
DOMAIN_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HEALTH_CHECK_PATH = re.compile(r"^/[A-Za-z0-9._~/%!$&'()*+,;=:@?-]{0,1023}$")


@dataclass(frozen=True)
class LoadBalancerSettings:
    """[load_balancer]: the public ALB, its certificate (HTTPS), access logs and WAF."""

    #: Existing ACM certificate (same region) for HTTPS; None requests one for ``domain_name`` if set.
    certificate_arn: str | None = setting(
        None,
        allowed=(
            "an ACM certificate ARN such as 'arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>', in the stage's"
            " region (or leave unset and give domain_name + hosted_zone_name)"
        ),
    )
    #: DNS name the site is served on (alias record to the ALB); None serves on the ALB's own name.
    domain_name: str | None = setting(
        None,
        allowed=(
            "a lowercase DNS name such as 'booking.example.com' inside hosted_zone_name (the stack requests and"
            " DNS-validates its certificate unless certificate_arn is set, and adds the alias record)"
        ),
    )
    #: Public Route 53 zone holding ``domain_name`` (DNS validation and alias record).
    hosted_zone_name: str | None = setting(
        None, allowed=("the public Route 53 hosted zone that holds domain_name, e.g. 'example.com'")
    )
    #: Path the target group's health check requests; 2xx/3xx is healthy.
    health_check_path: str = setting(
        "/health", allowed=("an HTTP path starting with '/', e.g. '/health' (the app must answer it with 2xx/3xx)")
    )
    #: Port of the health check; None checks the traffic (app) port.
    health_check_port: int | None = setting(
        None, allowed=("a TCP port 1024-65535 the app answers health checks on (unset: the app port)")
    )
    #: Refuse deletion of the ALB (and keep its log bucket on destroy).
    deletion_protection: bool = setting(True, allowed="true or false (must be true in a production stage)")
    #: Put a WAFv2 web ACL (managed rules + rate limit) in front of the ALB.
    waf_enabled: bool = setting(
        True,
        allowed=("true or false: a WAFv2 web ACL with AWS managed rules and a rate limit (must be true in production)"),
    )
    #: Requests per client IP in any 5-minute window before the rate rule blocks it.
    waf_rate_limit: int = setting(
        2000, allowed=("requests per client IP in any 5 minutes before WAF blocks it, 100 to 2000000000")
    )
    #: Days the WAF log group keeps its events.
    waf_log_retention_days: int = setting(90, allowed=f"a CloudWatch retention: {RETENTIONS}")
    #: Days access-log objects are kept.
    access_log_expiration_days: int = setting(90, allowed="days ALB access logs are kept in their bucket, 1 to 3650")
    #: Seconds an idle client connection is kept open.
    idle_timeout_seconds: int = setting(60, allowed="1 to 4000 seconds")
    #: Seconds a new target's share of requests ramps up from nothing to full (JIT and pools warming).
    slow_start_seconds: int = setting(
        120, allowed="0 (off) or 30 to 900 seconds a new target takes to reach its full share of requests"
    )
    #: Seconds a leaving target keeps its in-flight requests: the longest booking request (checkout,
    #: with the payment provider's timeout) must fit.
    deregistration_delay_seconds: int = setting(
        60, allowed="0 to 3600 seconds, at least the longest booking request (checkout with payment)"
    )

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None or self.domain_name is not None

    def check(self, problems: SectionProblems, region: str) -> None:
        if self.certificate_arn is not None:
            if not ACM_ARN.match(self.certificate_arn):
                problems.add(
                    "certificate_arn",
                    self.certificate_arn,
                    "not an ACM certificate ARN",
                    "arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>",
                )
            elif self.certificate_arn.split(":")[3] != region:
                problems.add(
                    "certificate_arn",
                    self.certificate_arn,
                    f"an ALB can only use a certificate of its own region ({region})",
                    f"an ACM certificate ARN in {region}",
                )
        if self.domain_name is not None and not DOMAIN_NAME.match(self.domain_name):
            problems.add(
                "domain_name", self.domain_name, "not a DNS name", "a lowercase DNS name such as 'booking.example.com'"
            )
        if self.hosted_zone_name is not None and not DOMAIN_NAME.match(self.hosted_zone_name.rstrip(".")):
            problems.add(
                "hosted_zone_name",
                self.hosted_zone_name,
                "not a DNS zone name",
                "a lowercase zone name such as 'example.com'",
            )
        if (self.domain_name is None) != (self.hosted_zone_name is None):
            problems.add(
                "hosted_zone_name",
                self.hosted_zone_name,
                "domain_name and hosted_zone_name go together",
                "both set (alias record, DNS validation) or both unset",
            )
        elif self.domain_name is not None and self.hosted_zone_name is not None:
            zone = self.hosted_zone_name.rstrip(".")
            if not (self.domain_name == zone or self.domain_name.endswith("." + zone)):
                problems.add(
                    "domain_name",
                    self.domain_name,
                    f"not inside the zone {zone!r}",
                    f"'{zone}' or a name ending in '.{zone}'",
                )
        if not HEALTH_CHECK_PATH.match(self.health_check_path):
            problems.add(
                "health_check_path",
                self.health_check_path,
                "not an HTTP path" + ("" if self.health_check_path.startswith("/") else " (no leading '/')"),
                "a path starting with '/', at most 1024 characters, e.g. '/health'",
            )
        if self.health_check_port is not None:
            check_range(problems, "health_check_port", self.health_check_port, 1024, 65535)
        check_range(problems, "waf_rate_limit", self.waf_rate_limit, 100, 2_000_000_000)
        check_retention(problems, "waf_log_retention_days", self.waf_log_retention_days)
        check_range(problems, "access_log_expiration_days", self.access_log_expiration_days, 1, 3650)
        check_range(problems, "idle_timeout_seconds", self.idle_timeout_seconds, 1, 4000)
        # Target group attributes: slow_start.duration_seconds "30-900 seconds (0 to disable)",
        # deregistration_delay.timeout_seconds "0-3600 seconds" (Elastic Load Balancing API Reference,
        # TargetGroupAttribute).
        if self.slow_start_seconds != 0:
            check_range(problems, "slow_start_seconds", self.slow_start_seconds, 30, 900)
        check_range(problems, "deregistration_delay_seconds", self.deregistration_delay_seconds, 0, 3600)


class PublicLoadBalancer(Tier[LoadBalancerSettings]):
    """Internet-facing ALB, listeners, target group, access logs, certificate and WAF. See the module docstring."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        settings: LoadBalancerSettings,
        context: StageContext,
        *,
        network: Network,
        target_port: int,
        target_protocol: str = "HTTPS",
    ) -> None:
        super().__init__(scope, id_, settings, context)
        name = context.name
        if target_protocol not in ("HTTPS", "HTTP"):
            raise ValueError(f"target_protocol {target_protocol!r}: the ALB talks HTTPS or HTTP to its targets")
        self.https_enabled: bool = settings.https
        #: Port and protocol the targets serve on, and the port the health check uses (None: the same).
        self.target_port: int = target_port
        self.target_protocol: str = target_protocol
        self.health_check_port: int | None = settings.health_check_port
        #: How long a new target ramps up, and how long a leaving one drains (the fleet sizes its hooks
        #: and its forecast buffer by them).
        self.slow_start_seconds: int = settings.slow_start_seconds
        self.deregistration_delay_seconds: int = settings.deregistration_delay_seconds

        self.security_group = tier_security_group(
            self,
            context,
            network.vpc_id,
            "alb",
            f"Public ALB of {name}: HTTP(S) in from the internet, app port out to the app servers",
        )
        #: The ALB's security group (its targets add the rules between it and them).
        self.security_group_id: str = self.security_group.id
        listener_ports = (443, 80) if self.https_enabled else (80,)
        for port in listener_ports:
            what = "HTTPS" if port == 443 else ("HTTP, redirected to HTTPS" if self.https_enabled else "HTTP")
            VpcSecurityGroupIngressRule(
                self,
                f"ingress-{port}",
                security_group_id=self.security_group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4="0.0.0.0/0",
                description=f"{what} from the internet to the ALB listener",
                tags=context.resource_tags,
            )

        log_bucket = self._access_log_bucket()
        self.alb = Lb(
            self,
            "alb",
            name=aws_name(name, "alb"),
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=list(network.public_subnet_ids),
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=settings.deletion_protection,
            idle_timeout=settings.idle_timeout_seconds,
            enable_http2=True,
            access_logs=LbAccessLogs(bucket=log_bucket.id, prefix=ACCESS_LOG_PREFIX, enabled=True),
            tags=context.named(f"{name}-alb"),
            depends_on=[self._log_bucket_policy],
        )
        #: ALB attributes for DNS, alarms (``alb_arn_suffix`` is the CloudWatch dimension) and WAF.
        self.alb_arn: str = self.alb.arn
        self.alb_arn_suffix: str = self.alb.arn_suffix
        self.dns_name: str = self.alb.dns_name
        self.zone_id: str = self.alb.zone_id

        self.target_group = LbTargetGroup(
            self,
            "target-group",
            name=aws_name(name, "app"),
            port=target_port,
            # HTTPS: TLS to the targets with the certificate each makes at boot (FSBP ELB.22, ELB.21 below).
            protocol=target_protocol,
            target_type="instance",
            vpc_id=network.vpc_id,
            deregistration_delay=str(settings.deregistration_delay_seconds),
            slow_start=settings.slow_start_seconds,
            # Slow start works with round robin only (not least outstanding requests, nor weighted random
            # with anomaly mitigation): said here, not left to the default.
            load_balancing_algorithm_type="round_robin",
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=settings.health_check_path,
                protocol=target_protocol,
                matcher="200-399",
                port=str(settings.health_check_port) if settings.health_check_port else "traffic-port",
                interval=15,
                timeout=5,
                healthy_threshold=3,
                unhealthy_threshold=3,
            ),
            tags=context.named(f"{name}-app"),
        )
        #: Target group the app servers' Auto Scaling group registers with (suffix: CloudWatch dimension).
        self.target_group_arn: str = self.target_group.arn
        self.target_group_arn_suffix: str = self.target_group.arn_suffix
        #: The target group as a CloudWatch / Auto Scaling resource label (``ALBRequestCountPerTarget``).
        self.target_group_resource_label: str = f"{self.alb.arn_suffix}/{self.target_group.arn_suffix}"

        forward = [LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)]
        zone = (
            DataAwsRoute53Zone(self, "hosted-zone", name=settings.hosted_zone_name, private_zone=False)
            if settings.hosted_zone_name
            else None
        )
        if self.https_enabled:
            certificate_arn = settings.certificate_arn or self._requested_certificate(zone)
            self.https_listener = LbListener(
                self,
                "https-listener",
                load_balancer_arn=self.alb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=certificate_arn,
                default_action=forward,
                tags=context.resource_tags,
            )
            self.http_listener = LbListener(
                self,
                "http-listener",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_action=[
                    LbListenerDefaultAction(
                        type="redirect",
                        redirect=LbListenerDefaultActionRedirect(protocol="HTTPS", port="443", status_code="HTTP_301"),
                    )
                ],
                tags=context.resource_tags,
            )
        else:
            # Only a non-production stage without a certificate gets here (the stage schema enforces it).
            self.http_listener = LbListener(
                self,
                "http-listener",
                load_balancer_arn=self.alb.arn,
                port=80,
                protocol="HTTP",
                default_action=forward,
                tags=context.resource_tags,
            )

        #: Public URL of the site when it has its own domain, else None (use ``dns_name``).
        self.site_url: str | None = None
        if settings.domain_name and zone is not None:
            Route53Record(
                self,
                "alias-record",
                zone_id=zone.zone_id,
                name=settings.domain_name,
                type="A",
                alias=Route53RecordAlias(name=self.alb.dns_name, zone_id=self.alb.zone_id, evaluate_target_health=True),
            )
            self.site_url = f"https://{settings.domain_name}"

        #: WAF web ACL name, its CloudWatch metric name (the ``WebACL`` dimension WAF publishes, which
        #: matches the name only when both are the same) and its log group; None without the WAF.
        self.web_acl_name: str | None = None
        self.web_acl_metric_name: str | None = None
        self.waf_log_group_name: str | None = None
        if settings.waf_enabled:
            self._web_acl()

    # -----------------------------------------------------------------------------------------
    def _access_log_bucket(self) -> S3Bucket:
        settings, context, name = self.settings, self.context, self.context.name
        account_id = context.account.account_id
        # Regional ELB account (regions before August 2022) and the log-delivery service
        # principal (newer regions, and AWS's current guidance): one of them writes the logs.
        elb_account = DataAwsElbServiceAccount(self, "elb-service-account")
        bucket = S3Bucket(
            self,
            "access-log-bucket",
            bucket=f"{name}-alb-logs-{account_id}",
            force_destroy=not settings.deletion_protection,
            tags=context.named(f"{name}-alb-logs"),
        )
        #: Access-log bucket name, for Athena queries and the monitoring tier.
        self.access_log_bucket_name: str = bucket.bucket
        lock_down_bucket(self, "access-log-bucket", bucket.id)
        encrypt_bucket(self, "access-log-bucket", bucket.id)  # SSE-S3: the only encryption ALB log delivery can write
        expire_logs(self, "access-log-bucket-lifecycle", bucket.id, settings.access_log_expiration_days, 7)
        log_objects = f"{bucket.arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{account_id}/*"
        self._log_bucket_policy = S3BucketPolicy(
            self,
            "access-log-bucket-policy",
            bucket=bucket.id,
            policy=policy_document(
                {
                    "Sid": "ElbAccountWritesAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"AWS": elb_account.arn},
                    "Action": "s3:PutObject",
                    "Resource": log_objects,
                },
                {
                    "Sid": "ElbLogDeliveryWritesAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": log_objects,
                },
                deny_insecure_transport("s3:*", [bucket.arn, f"{bucket.arn}/*"]),
            ),
        )
        return bucket

    def _requested_certificate(self, zone: DataAwsRoute53Zone | None) -> str:
        """Request an ACM certificate for the domain, validate it through Route 53; return its ARN once valid."""
        domain = self.settings.domain_name
        assert domain and zone is not None, "a requested certificate needs domain_name and hosted_zone_name"
        certificate = AcmCertificate(
            self,
            "certificate",
            domain_name=domain,
            validation_method="DNS",
            tags=self.context.named(domain),
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # domain_validation_options is a set: it cannot be indexed, so one record per element is
        # made with for_each keyed by domain name (terraform knows the keys at plan time).
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
            certificate_arn=certificate.arn,
            validation_record_fqdns=Token.as_list(TerraformIterator.from_resources(records).pluck_property("fqdn")),
        )
        return validation.certificate_arn

    def _web_acl(self) -> None:
        settings, context, name = self.settings, self.context, self.context.name
        metric = re.sub(r"[^A-Za-z0-9]", "", name.title())

        def visibility(metric_name: str) -> Wafv2WebAclRuleVisibilityConfig:
            return Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=f"{metric}-{metric_name}"
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
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
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
            name=f"{name}-alb",
            scope="REGIONAL",
            description=f"Protects the public ALB of {name}",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, sampled_requests_enabled=True, metric_name=f"{metric}-alb"
            ),
            tags=context.resource_tags,
        )
        Wafv2WebAclAssociation(self, "web-acl-association", resource_arn=self.alb.arn, web_acl_arn=web_acl.arn)
        # WAF can only log to a group whose name starts with "aws-waf-logs-".
        waf_logs = log_group(self, "waf-log-group", context, f"aws-waf-logs-{name}", settings.waf_log_retention_days)
        Wafv2WebAclLoggingConfiguration(
            self,
            "web-acl-logging",
            resource_arn=web_acl.arn,
            log_destination_configs=[waf_logs.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in ("authorization", "cookie")
            ],
        )
        self.web_acl_name = web_acl.name
        self.web_acl_metric_name = web_acl.visibility_config.metric_name
        self.web_acl_arn: str = web_acl.arn
        self.waf_log_group_name = waf_logs.name
