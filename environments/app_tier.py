"""Stage-file sections of the application tier: ``[load_balancer]`` and ``[app_servers]``.

Data and value rules only (no AWS logic): what a stage may say about its ALB, its certificate,
its WAF and its Auto Scaling fleet, and what it must say when it is production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from environments.schema import LOG_RETENTION_DAYS, Problems, StageSection, allowed, check_range, check_retention

ACM_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:acm:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:certificate/[0-9a-f-]{36}$")
DOMAIN_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HEALTH_CHECK_PATH = re.compile(r"^/[A-Za-z0-9._~/%!$&'()*+,;=:@?-]{0,1023}$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
RETENTIONS = ", ".join(map(str, LOG_RETENTION_DAYS))


@dataclass(frozen=True)
class LoadBalancerSection:
    """[load_balancer]: the public ALB, its certificate (HTTPS), access logs and WAF."""

    certificate_arn: str | None = field(default=None, metadata=allowed(
        "an ACM certificate ARN such as 'arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>', in the stage's"
        " region (or leave unset and give domain_name + hosted_zone_name)"))
    domain_name: str | None = field(default=None, metadata=allowed(
        "a lowercase DNS name such as 'booking.example.com' inside hosted_zone_name (the stack requests and"
        " DNS-validates its certificate unless certificate_arn is set, and adds the alias record)"))
    hosted_zone_name: str | None = field(default=None, metadata=allowed(
        "the public Route 53 hosted zone that holds domain_name, e.g. 'example.com'"))
    health_check_path: str = field(default="/health", metadata=allowed(
        "an HTTP path starting with '/', e.g. '/health' (the app must answer it with 2xx/3xx)"))
    health_check_port: int | None = field(default=None, metadata=allowed(
        "a TCP port 1024-65535 the app answers health checks on (unset: the app port)"))
    deletion_protection: bool = field(default=True, metadata=allowed(
        "true or false (must be true in a production stage)"))
    waf_enabled: bool = field(default=True, metadata=allowed(
        "true or false: a WAFv2 web ACL with AWS managed rules and a rate limit (must be true in production)"))
    waf_rate_limit: int = field(default=2000, metadata=allowed(
        "requests per client IP in any 5 minutes before WAF blocks it, 100 to 2000000000"))
    waf_log_retention_days: int = field(default=90, metadata=allowed("a CloudWatch retention: " + RETENTIONS))
    access_log_expiration_days: int = field(default=90, metadata=allowed(
        "days ALB access logs are kept in their bucket, 1 to 3650"))
    idle_timeout_seconds: int = field(default=60, metadata=allowed("1 to 4000 seconds"))

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None or self.domain_name is not None

    def check(self, problems: Problems, stage: StageSection) -> None:
        if self.certificate_arn is not None:
            if not ACM_ARN.match(self.certificate_arn):
                problems.add("load_balancer.certificate_arn", self.certificate_arn, "not an ACM certificate ARN",
                             "arn:aws:acm:<region>:<12-digit account>:certificate/<uuid>")
            elif self.certificate_arn.split(":")[3] != stage.region:
                problems.add("load_balancer.certificate_arn", self.certificate_arn,
                             f"an ALB can only use a certificate of its own region ({stage.region})",
                             f"an ACM certificate ARN in {stage.region}")
        if self.domain_name is not None and not DOMAIN_NAME.match(self.domain_name):
            problems.add("load_balancer.domain_name", self.domain_name, "not a DNS name",
                         "a lowercase DNS name such as 'booking.example.com'")
        if self.hosted_zone_name is not None and not DOMAIN_NAME.match(self.hosted_zone_name.rstrip(".")):
            problems.add("load_balancer.hosted_zone_name", self.hosted_zone_name, "not a DNS zone name",
                         "a lowercase zone name such as 'example.com'")
        if (self.domain_name is None) != (self.hosted_zone_name is None):
            problems.add("load_balancer.hosted_zone_name", self.hosted_zone_name,
                         "domain_name and hosted_zone_name go together",
                         "both set (alias record, DNS validation) or both unset")
        elif self.domain_name is not None and self.hosted_zone_name is not None:
            zone = self.hosted_zone_name.rstrip(".")
            if not (self.domain_name == zone or self.domain_name.endswith("." + zone)):
                problems.add("load_balancer.domain_name", self.domain_name, f"not inside the zone {zone!r}",
                             f"'{zone}' or a name ending in '.{zone}'")
        if stage.production and not self.https:
            problems.add("load_balancer.certificate_arn", self.certificate_arn,
                         "a production stage must serve HTTPS and has no certificate source",
                         "certificate_arn (an ACM ARN) or domain_name + hosted_zone_name in a production stage")
        if stage.production and not self.deletion_protection:
            problems.add("load_balancer.deletion_protection", False, "a production ALB must not be deletable",
                         "true in a production stage")
        if stage.production and not self.waf_enabled:
            problems.add("load_balancer.waf_enabled", False, "a production ALB must sit behind the WAF",
                         "true in a production stage")
        if self.health_check_path is not None and not HEALTH_CHECK_PATH.match(self.health_check_path):
            problems.add("load_balancer.health_check_path", self.health_check_path,
                         "not an HTTP path" + ("" if self.health_check_path.startswith("/") else " (no leading '/')"),
                         "a path starting with '/', at most 1024 characters, e.g. '/health'")
        if self.health_check_port is not None:
            check_range(problems, "load_balancer.health_check_port", self.health_check_port, 1024, 65535)
        check_range(problems, "load_balancer.waf_rate_limit", self.waf_rate_limit, 100, 2_000_000_000)
        check_retention(problems, "load_balancer.waf_log_retention_days", self.waf_log_retention_days)
        check_range(problems, "load_balancer.access_log_expiration_days", self.access_log_expiration_days, 1, 3650)
        check_range(problems, "load_balancer.idle_timeout_seconds", self.idle_timeout_seconds, 1, 4000)


@dataclass(frozen=True)
class AppServersSection:
    """[app_servers]: the launch template and Auto Scaling group running the booking application."""

    artifact_bucket: str = field(metadata=allowed(
        "the S3 bucket name holding the application artifact (3-63 lowercase letters, digits, '.', '-')"))
    artifact_key: str = field(default="booking-app/booking-app.jar", metadata=allowed(
        "the S3 key of the application's executable jar, e.g. 'booking-app/1.4.2/booking-app.jar'"))
    instance_type: str = field(default="t3.small", metadata=allowed(
        "an EC2 instance type of the form family.size, e.g. 't3.small' or 'm7i.large'"))
    architecture: Literal["x86_64", "arm64"] = field(default="x86_64", metadata=allowed(
        "'x86_64' or 'arm64' (picks the Amazon Linux 2023 AMI; must match instance_type)"))
    ami_id: str | None = field(default=None, metadata=allowed(
        "an AMI id such as 'ami-0123456789abcdef0' (unset: latest Amazon Linux 2023 from the public SSM parameter)"))
    app_port: int = field(default=8080, metadata=allowed(
        "a TCP port 1024-65535 (the app runs as an unprivileged service)"))
    min_size: int = field(default=2, metadata=allowed("0 to 100 instances (at least 2 in a production stage)"))
    max_size: int = field(default=4, metadata=allowed("1 to 100 instances, at least min_size"))
    desired_capacity: int = field(default=2, metadata=allowed("between min_size and max_size"))
    health_check_grace_seconds: int = field(default=300, metadata=allowed("0 to 7200 seconds"))
    cpu_target_percent: int = field(default=60, metadata=allowed(
        "average CPU % the fleet scales to hold, 10 to 90"))
    requests_per_target: int = field(default=1000, metadata=allowed(
        "ALB requests per instance per minute the fleet scales to hold, 1 to 100000"))
    root_volume_gb: int = field(default=20, metadata=allowed("8 to 1024 GiB (gp3, encrypted)"))
    log_retention_days: int = field(default=90, metadata=allowed("a CloudWatch retention: " + RETENTIONS))

    def check(self, problems: Problems, stage: StageSection) -> None:
        if not BUCKET_NAME.match(self.artifact_bucket) or ".." in self.artifact_bucket:
            problems.add("app_servers.artifact_bucket", self.artifact_bucket, "not an S3 bucket name",
                         "3-63 lowercase letters, digits, '.' and '-'")
        if not self.artifact_key or self.artifact_key.startswith("/") or len(self.artifact_key) > 1024:
            problems.add("app_servers.artifact_key", self.artifact_key, "not an S3 object key",
                         "1-1024 characters, not starting with '/'")
        if not INSTANCE_TYPE.match(self.instance_type):
            problems.add("app_servers.instance_type", self.instance_type, "not an EC2 instance type",
                         "family.size, e.g. 't3.small' or 'm7i.large'")
        if self.ami_id is not None and not AMI_ID.match(self.ami_id):
            problems.add("app_servers.ami_id", self.ami_id, "not an AMI id",
                         "'ami-' and 8 or 17 hex digits, or unset for Amazon Linux 2023")
        check_range(problems, "app_servers.app_port", self.app_port, 1024, 65535)
        check_range(problems, "app_servers.min_size", self.min_size, 0, 100)
        check_range(problems, "app_servers.max_size", self.max_size, 1, 100)
        if self.min_size > self.max_size:
            problems.add("app_servers.min_size", self.min_size, f"greater than max_size ({self.max_size})",
                         f"at most max_size ({self.max_size})")
        elif not self.min_size <= self.desired_capacity <= self.max_size:
            problems.add("app_servers.desired_capacity", self.desired_capacity,
                         f"outside min_size..max_size ({self.min_size}..{self.max_size})",
                         f"{self.min_size} to {self.max_size}")
        if stage.production and self.min_size < 2:
            problems.add("app_servers.min_size", self.min_size, "a production fleet must survive one instance's loss",
                         "at least 2 in a production stage")
        check_range(problems, "app_servers.health_check_grace_seconds", self.health_check_grace_seconds, 0, 7200)
        check_range(problems, "app_servers.cpu_target_percent", self.cpu_target_percent, 10, 90)
        check_range(problems, "app_servers.requests_per_target", self.requests_per_target, 1, 100_000)
        check_range(problems, "app_servers.root_volume_gb", self.root_volume_gb, 8, 1024)
        check_retention(problems, "app_servers.log_retention_days", self.log_retention_days)
