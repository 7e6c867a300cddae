"""App-server tier: an Auto Scaling fleet running the booking application behind the ALB.

- Launch template: AMI from the stage, else the latest Amazon Linux 2023 from AWS's public SSM
  parameter (read at plan time, so a new AMI release shows up as a template change and rolls the
  fleet); IMDSv2 only with hop limit 1; encrypted gp3 root volume; detailed monitoring; no
  public IP; no SSH key (shell access is SSM Session Manager).
- Instance role: SSM core (managed policy) and a scoped CloudWatch agent policy (write to the
  app log group only, metrics to the ``CWAgent`` namespace only), read access to exactly the
  application artifact object, completing its own group's lifecycle actions. Other tiers grant
  it more through their ``grant_*`` methods.
- User data installs Java and the CloudWatch agent, fetches the artifact (an executable jar)
  from S3, runs it as the unprivileged ``booking`` systemd service on the app port and ships its
  log to the app log group: the agent runs as ``cwagent``, so the log directory is group-owned
  by ``cwagent`` (setgid, so is every file in it, whoever creates it) and the log is rotated in
  place (``copytruncate``: systemd opened it once for the service). With HTTPS to the targets it
  makes a key and a self-signed certificate for the instance's private DNS name at boot (the ALB
  does not validate target certificates) that only the service user may read. It holds no
  secret: the app reads those at runtime with its role.
- Lifecycle: a launch hook holds a new instance until the app answers on its port (a unit that
  runs at every boot completes it, so an instance leaving the warm pool is held too); a
  terminating hook holds a leaving instance, after the ALB has drained it, until the app has
  stopped gracefully and the agent has shipped its last lines (a unit watching the instance's
  target lifecycle state in the instance metadata completes it).
- A metric filter on the app log group counts its ERROR/FATAL lines (``error_metric_namespace`` /
  ``error_metric_name``, alarmed on by the monitoring tier).
- Auto Scaling group over the private-app subnets, registered with the ALB target group, ELB
  health checks with a grace period; an instance maintenance policy that launches before it
  terminates (healthy 100-110 %), also for the rolling instance refresh that a launch template
  change starts; ``desired_capacity`` is ignored after creation so an apply never undoes what
  scaling did. Capacity: one instance type from the launch template, or several of the same
  architecture and size through a mixed instances policy (more capacity pools: FSBP
  AutoScaling.6); or a warm pool of stopped, initialised instances (one type only: PutWarmPool
  refuses a group with a mixed instances policy). Scaling: target tracking on average CPU and on
  ALB requests per target, predictive scaling on the requests (forecast only, or forecast and
  scale with a buffer covering boot and slow start), and the stage's scheduled actions.

Security groups: :meth:`AppServerFleet.register_with` admits only the ALB's group on the app
(and health-check) port and adds the matching egress rule to it. Its own egress is HTTPS (through
the NAT, or to the VPC's interface endpoints); the data tiers' ``allow_from`` add the egress to them.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import zoneinfo
from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupInitialLifecycleHook,
    AutoscalingGroupInstanceMaintenancePolicy,
    AutoscalingGroupInstanceRefresh,
    AutoscalingGroupInstanceRefreshPreferences,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupMixedInstancesPolicy,
    AutoscalingGroupMixedInstancesPolicyInstancesDistribution,
    AutoscalingGroupMixedInstancesPolicyLaunchTemplate,
    AutoscalingGroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecification,
    AutoscalingGroupMixedInstancesPolicyLaunchTemplateOverride,
    AutoscalingGroupTag,
    AutoscalingGroupWarmPool,
    AutoscalingGroupWarmPoolInstanceReusePolicy,
)
from cdktf_cdktf_provider_aws.autoscaling_policy import (
    AutoscalingPolicy,
    AutoscalingPolicyPredictiveScalingConfiguration,
    AutoscalingPolicyPredictiveScalingConfigurationMetricSpecification,
    AutoscalingPolicyPredictiveScalingConfigurationMetricSpecificationPredefinedMetricPairSpecification,
    AutoscalingPolicyTargetTrackingConfiguration,
    AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.autoscaling_schedule import AutoscalingSchedule
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter,
    CloudwatchLogMetricFilterMetricTransformation,
)
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateNetworkInterfaces,
    LaunchTemplateTagSpecifications,
)
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from modules.kit import (
    Grantee,
    StageContext,
    Tier,
    log_group,
    open_port,
    policy_document,
    service_role,
    tier_security_group,
)
from modules.load_balancer import PublicLoadBalancer
from modules.network import Network
from modules.settings import RETENTIONS, SectionProblems, check_range, check_retention, setting

#: Public SSM parameters holding the latest Amazon Linux 2023 AMI id, per CPU architecture.
AL2023_AMI_PARAMETERS = {
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
}
#: Group metrics the ASG publishes (FSBP AutoScaling; dashboards use them).
GROUP_METRICS = (
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
)
#: The SSM document that forwards a local port through an instance to another host (the database).
PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
#: Where the service writes its log on the instance (the CloudWatch agent tails it), and its directory.
APP_LOG_DIR = "/var/log/booking"
APP_LOG_FILE = f"{APP_LOG_DIR}/app.log"
#: The user the CloudWatch agent runs as (``run_as_user``); the agent's RPM creates it.
AGENT_USER = "cwagent"
#: The app log lines counted as errors (CloudWatch Logs filter pattern): Spring Boot's Logback writes
#: the level as a word (ERROR, also inside JSON logs), Log4j 2 has FATAL above it. A stack trace's
#: lines are events of their own without the level, so one logged error counts once.
APP_ERROR_PATTERN = "?ERROR ?FATAL"
#: The TLS key and self-signed certificate the app serves the ALB with (HTTPS to the targets).
TLS_DIR = "/etc/booking/tls"
TLS_KEY = f"{TLS_DIR}/server.key"
TLS_CERTIFICATE = f"{TLS_DIR}/server.crt"
#: The script the lifecycle units run.
LIFECYCLE_SCRIPT = "/usr/local/libexec/booking-lifecycle"


#: EC2 instance type names ("Amazon EC2 instance type naming conventions", Amazon EC2 Instance Types guide):
#: the series letters, the generation number, then letters for additional capabilities, among them
#: "g" for AWS Graviton processors (arm64); then ".size".
INSTANCE_TYPE = re.compile(r"^(?P<series>[a-z]+)(?P<generation>\d+)(?P<options>[a-z-]*)\.(?P<size>[a-z0-9]+)$")
#: Series whose architecture the name does not tell (Mac instances, high memory), not for this fleet.
UNPLACEABLE_SERIES = ("mac", "u")
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: The instance maintenance policy (and instance refresh): launch a replacement before terminating
#: (never fewer than the desired capacity healthy), at most 10 % above it while replacing.
MIN_HEALTHY_PERCENT = 100
MAX_HEALTHY_PERCENT = 110
#: What the terminating hook waits for at most: the ALB's connections to the app closing (it closes them
#: when the target group's deregistration delay ends), the app's graceful stop, then the agent's last lines.
DRAIN_CONNECTIONS_SECONDS = 70
APP_STOP_SECONDS = 30
AGENT_FLUSH_SECONDS = 10
DRAIN_HOOK_SECONDS = 120
#: A scheduled action's recurrence: five cron fields (minute hour day-of-month month day-of-week).
CRON = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")
SCHEDULE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
PREDICTIVE_MODES = ("ForecastOnly", "ForecastAndScale")


def architecture_of(instance_type: str) -> str | None:
    """``arm64`` or ``x86_64`` as the instance type's name says (None: not a name this fleet can place).
    a1 is the first Graviton generation, named before the "g" capability letter existed."""
    match = INSTANCE_TYPE.match(instance_type)
    if match is None or match["series"] in UNPLACEABLE_SERIES:
        return None
    if match["series"] == "a" and match["generation"] == "1":
        return "arm64"
    return "arm64" if "g" in match["options"] else "x86_64"


def peak_instances(max_size: int) -> int:
    """The most instances the group runs at once: ``max_size`` plus what the maintenance policy may
    launch above it while replacing (10 %, at least one)."""
    return max_size + max(1, math.ceil(max_size * (MAX_HEALTHY_PERCENT - 100) / 100))


@dataclass(frozen=True)
class ScheduledAction:
    """One ``[[app_servers.scheduled_actions]]`` table: the group's bounds from a recurring time on."""

    name: str = setting(allowed="1-63 letters, digits, '_', '.', '-' (unique within the stage)")
    #: Cron, in ``time_zone``: minute hour day-of-month month day-of-week.
    recurrence: str = setting(allowed="five cron fields, e.g. '0 7 * * MON-FRI' (07:00 on weekdays)")
    min_size: int = setting(allowed="0 to the stage's max_size")
    max_size: int = setting(allowed="min_size to the stage's max_size")
    time_zone: str = setting("Etc/UTC", allowed="an IANA time zone, e.g. 'Europe/Madrid' (default 'Etc/UTC')")
    desired_capacity: int | None = setting(None, allowed="between this action's min_size and max_size (optional)")


@dataclass(frozen=True)
class AppServerSettings:
    """[app_servers]: the launch template and Auto Scaling group running the booking application."""

    #: S3 bucket and key of the application's executable jar; the role may read exactly that object.
    artifact_bucket: str = setting(
        allowed=("the S3 bucket name holding the application artifact (3-63 lowercase letters, digits, '.', '-')")
    )
    artifact_key: str = setting(
        "booking-app/booking-app.jar",
        allowed=("the S3 key of the application's executable jar, e.g. 'booking-app/1.4.2/booking-app.jar'"),
    )
    #: EC2 instance types, the preferred first; more than one: a mixed instances policy over them.
    instance_types: tuple[str, ...] = setting(
        ("t3.small",),
        allowed=(
            "1 to 10 EC2 instance types of the same architecture and size, the preferred first, e.g."
            " ['m7i.large', 'm6i.large', 'm7a.large'] (more than one: a mixed instances policy, no warm pool)"
        ),
    )
    architecture: Literal["x86_64", "arm64"] = setting(
        "x86_64", allowed=("'x86_64' or 'arm64' (picks the Amazon Linux 2023 AMI; every instance type must match)")
    )
    #: Fixed AMI; None takes the latest Amazon Linux 2023 from the public SSM parameter.
    ami_id: str | None = setting(
        None,
        allowed=(
            "an AMI id such as 'ami-0123456789abcdef0' (unset: latest Amazon Linux 2023 from the public SSM parameter)"
        ),
    )
    #: Port the application listens on.
    app_port: int = setting(8080, allowed="a TCP port 1024-65535 (the app runs as an unprivileged service)")
    #: How the ALB talks to the app: HTTPS with a certificate made at boot, or plain HTTP.
    target_protocol: Literal["HTTPS", "HTTP"] = setting(
        "HTTPS",
        allowed="'HTTPS' (a self-signed certificate made at boot; required in production) or 'HTTP'",
    )
    #: Fleet bounds; ``desired_capacity`` applies at creation, scaling owns it afterwards.
    min_size: int = setting(2, allowed="0 to 100 instances (at least 2 in a production stage)")
    max_size: int = setting(4, allowed="1 to 100 instances, at least min_size")
    desired_capacity: int = setting(2, allowed="between min_size and max_size")
    #: Seconds a new instance has before ELB health checks count (also the instance warm-up).
    health_check_grace_seconds: int = setting(300, allowed="0 to 7200 seconds")
    #: Seconds the launch hook holds a booting instance for the app to answer before it is abandoned.
    boot_timeout_seconds: int = setting(
        900, allowed="30 to 7200 seconds, at least health_check_grace_seconds (the launch hook's heartbeat)"
    )
    #: Target-tracking targets: average CPU %, and ALB requests per instance per minute.
    cpu_target_percent: int = setting(60, allowed="average CPU % the fleet scales to hold, 10 to 90")
    requests_per_target: int = setting(
        1000, allowed=("ALB requests per instance per minute the fleet scales to hold, 1 to 100000")
    )
    #: Predictive scaling on the ALB's requests: off, forecast only (to review), or forecast and scale.
    predictive_scaling: Literal["off", "ForecastOnly", "ForecastAndScale"] = setting(
        "off",
        allowed=(
            "'off', 'ForecastOnly' (forecasts to compare with the load) or 'ForecastAndScale' (launches ahead"
            " of the forecast; required in production)"
        ),
    )
    #: A warm pool of stopped, initialised instances the group draws on before launching new ones.
    warm_pool: bool = setting(
        False,
        allowed=(
            "true or false (true needs a single instance type: AWS refuses a warm pool on a group with a"
            " mixed instances policy)"
        ),
    )
    warm_pool_min_size: int = setting(1, allowed="0 to max_size stopped instances kept in the warm pool at least")
    #: Recurring changes of the group's bounds (known peaks the forecast cannot see yet).
    scheduled_actions: tuple[ScheduledAction, ...] = setting(
        (),
        allowed=(
            "[[app_servers.scheduled_actions]] tables: name, recurrence (cron), time_zone, min_size, max_size and"
            " optionally desired_capacity"
        ),
    )
    #: Database connections each instance's pool opens (the app receives it at boot).
    db_pool_size: int = setting(
        10,
        allowed=(
            "1 to 200 connections per instance; with peak instances it must stay under 80 % of the database's"
            " max_connections"
        ),
    )
    #: Size of the encrypted gp3 root volume.
    root_volume_gb: int = setting(20, allowed="8 to 1024 GiB (gp3, encrypted)")
    #: Days the app log group keeps events.
    log_retention_days: int = setting(90, allowed=f"a CloudWatch retention: {RETENTIONS}")

    @property
    def instance_type(self) -> str:
        """The preferred instance type (the launch template's)."""
        return self.instance_types[0]

    @property
    def mixed_instances(self) -> bool:
        return len(self.instance_types) > 1

    @property
    def https(self) -> bool:
        return self.target_protocol == "HTTPS"

    def check(self, problems: SectionProblems, region: str) -> None:
        if not BUCKET_NAME.match(self.artifact_bucket) or ".." in self.artifact_bucket:
            problems.add(
                "artifact_bucket",
                self.artifact_bucket,
                "not an S3 bucket name",
                "3-63 lowercase letters, digits, '.' and '-'",
            )
        if not self.artifact_key or self.artifact_key.startswith("/") or len(self.artifact_key) > 1024:
            problems.add(
                "artifact_key", self.artifact_key, "not an S3 object key", "1-1024 characters, not starting with '/'"
            )
        self._check_instance_types(problems)
        if self.ami_id is not None and not AMI_ID.match(self.ami_id):
            problems.add(
                "ami_id", self.ami_id, "not an AMI id", "'ami-' and 8 or 17 hex digits, or unset for Amazon Linux 2023"
            )
        check_range(problems, "app_port", self.app_port, 1024, 65535)
        check_range(problems, "min_size", self.min_size, 0, 100)
        check_range(problems, "max_size", self.max_size, 1, 100)
        if self.min_size > self.max_size:
            problems.add(
                "min_size",
                self.min_size,
                f"greater than max_size ({self.max_size})",
                f"at most max_size ({self.max_size})",
            )
        elif not self.min_size <= self.desired_capacity <= self.max_size:
            problems.add(
                "desired_capacity",
                self.desired_capacity,
                f"outside min_size..max_size ({self.min_size}..{self.max_size})",
                f"{self.min_size} to {self.max_size}",
            )
        check_range(problems, "health_check_grace_seconds", self.health_check_grace_seconds, 0, 7200)
        # LifecycleHook HeartbeatTimeout: "from 30 to 7200 seconds" (Auto Scaling API Reference, PutLifecycleHook).
        check_range(problems, "boot_timeout_seconds", self.boot_timeout_seconds, 30, 7200)
        if self.boot_timeout_seconds < self.health_check_grace_seconds:
            problems.add(
                "boot_timeout_seconds",
                self.boot_timeout_seconds,
                f"shorter than health_check_grace_seconds ({self.health_check_grace_seconds}): the launch hook"
                " would abandon instances that are still within their grace period",
                f"{self.health_check_grace_seconds} to 7200 seconds",
            )
        check_range(problems, "cpu_target_percent", self.cpu_target_percent, 10, 90)
        check_range(problems, "requests_per_target", self.requests_per_target, 1, 100_000)
        if self.warm_pool:
            if self.mixed_instances:
                # Auto Scaling API Reference, PutWarmPool: "This operation cannot be called on an Auto Scaling
                # group that has a mixed instances policy".
                problems.add(
                    "warm_pool",
                    self.warm_pool,
                    f"a warm pool and {len(self.instance_types)} instance types: AWS refuses a warm pool on a"
                    " group with a mixed instances policy (Auto Scaling API Reference, PutWarmPool)",
                    "false with several instance_types, or a single instance type with warm_pool = true",
                )
            check_range(problems, "warm_pool_min_size", self.warm_pool_min_size, 0, self.max_size)
        self._check_scheduled_actions(problems)
        check_range(problems, "db_pool_size", self.db_pool_size, 1, 200)
        check_range(problems, "root_volume_gb", self.root_volume_gb, 8, 1024)
        check_retention(problems, "log_retention_days", self.log_retention_days)

    def _check_instance_types(self, problems: SectionProblems) -> None:
        types = list(self.instance_types)
        if not 1 <= len(types) <= 10:
            # MixedInstancesPolicy LaunchTemplate Overrides: "Maximum number of 40 items"; a fleet needs far fewer.
            problems.add("instance_types", types, f"{len(types)} instance types", "1 to 10 instance types")
        if len(set(types)) != len(types):
            problems.add("instance_types", types, "an instance type is listed twice", "distinct instance types")
        sizes = set()
        for instance_type in types:
            match = INSTANCE_TYPE.match(instance_type)
            architecture = architecture_of(instance_type)
            if match is None or architecture is None:
                problems.add(
                    "instance_types",
                    instance_type,
                    "not an EC2 instance type",
                    "series, generation and capabilities, then the size, e.g. 't3.small' or 'm7i.large'",
                )
                continue
            sizes.add(match["size"])
            if architecture != self.architecture:
                hint = (
                    " (names with 'g' after the generation, e.g. 'm7g.large')" if self.architecture == "arm64" else ""
                )
                problems.add(
                    "instance_types",
                    instance_type,
                    f"an {architecture} instance type, the fleet's AMI is {self.architecture}",
                    f"{self.architecture} instance types{hint}, or architecture = {architecture!r}",
                )
        if len(sizes) > 1:
            problems.add(
                "instance_types",
                types,
                f"sizes {', '.join(sorted(sizes))}: every instance must take the same share of requests",
                "instance types of one size, e.g. all '.large'",
            )

    def _check_scheduled_actions(self, problems: SectionProblems) -> None:
        names: set[str] = set()
        for index, action in enumerate(self.scheduled_actions):
            field = f"scheduled_actions[{index}]"
            if not SCHEDULE_NAME.match(action.name):
                problems.add(f"{field}.name", action.name, "not a scheduled action name", "1-63 letters, digits, '_.-'")
            elif action.name in names:
                problems.add(f"{field}.name", action.name, "used by another scheduled action", "a unique name")
            names.add(action.name)
            if not CRON.match(action.recurrence):
                problems.add(
                    f"{field}.recurrence",
                    action.recurrence,
                    "not a cron expression",
                    "five fields: minute hour day-of-month month day-of-week, e.g. '0 7 * * MON-FRI'",
                )
            if action.time_zone not in _time_zones():
                problems.add(f"{field}.time_zone", action.time_zone, "not an IANA time zone", "e.g. 'Europe/Madrid'")
            if not 0 <= action.min_size <= action.max_size <= self.max_size:
                problems.add(
                    f"{field}.min_size",
                    [action.min_size, action.max_size],
                    f"min_size/max_size outside 0..max_size ({self.max_size}) or min above max",
                    f"0 <= min_size <= max_size <= {self.max_size} ([app_servers] max_size bounds every schedule)",
                )
            elif action.desired_capacity is not None and not (
                action.min_size <= action.desired_capacity <= action.max_size
            ):
                problems.add(
                    f"{field}.desired_capacity",
                    action.desired_capacity,
                    f"outside this action's min_size..max_size ({action.min_size}..{action.max_size})",
                    f"{action.min_size} to {action.max_size}",
                )


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class AppServerFleet(Tier[AppServerSettings]):
    """Security group, instance role, launch template, Auto Scaling group and scaling policies."""

    #: How the other tiers' security-group rule descriptions name this fleet, and where it runs.
    connection_label = "app servers"
    subnet_tier = "private-app"

    def __init__(
        self, scope: Construct, id_: str, settings: AppServerSettings, context: StageContext, *, network: Network
    ) -> None:
        super().__init__(scope, id_, settings, context)
        name = context.name
        self.network = network
        group_name = f"{name}-app"
        #: The lifecycle hooks' names (the boot script's units complete them).
        self.launch_hook_name: str = f"{group_name}-launching"
        self.drain_hook_name: str = f"{group_name}-terminating"

        self.security_group = tier_security_group(
            self,
            context,
            network.vpc_id,
            "app",
            f"App servers of {name}: app port from the ALB only, HTTPS out through the NAT",
        )
        #: The app servers' security group (the data tiers' ``allow_from`` admit it).
        self.security_group_id: str = self.security_group.id
        VpcSecurityGroupEgressRule(
            self,
            "egress-https",
            security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            tags=context.resource_tags,
            description="HTTPS out via the NAT: OS packages, the S3 artifact, SSM and CloudWatch endpoints",
        )

        #: The application's log group (the CloudWatch agent ships the service log here).
        self.log_group_name: str = f"/digital-booking/{name}/app"
        self.log_group = log_group(self, "log-group", context, self.log_group_name, settings.log_retention_days)
        #: The metric counting the app's error log lines (the monitoring tier alarms on it).
        self.error_metric_namespace: str = f"{name}/app"
        self.error_metric_name: str = "ErrorLogEvents"
        CloudwatchLogMetricFilter(
            self,
            "error-metric-filter",
            name=f"{name}-app-errors",
            log_group_name=self.log_group.name,
            pattern=APP_ERROR_PATTERN,
            metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                namespace=self.error_metric_namespace,
                name=self.error_metric_name,
                value="1",
                default_value="0",
                unit="Count",
            ),
        )

        self.role = service_role(
            self,
            "instance-role",
            f"{name}-app-instance",
            "ec2.amazonaws.com",
            description=f"App servers of {name}",
            tags=context.tags,
        )
        #: The instance role, for the other tiers' ``grant_*`` methods.
        self.instance_role_name: str = self.role.name
        self.instance_role_arn: str = self.role.arn
        IamRolePolicyAttachment(
            self,
            "ssm-core",
            role=self.role.name,
            policy_arn=context.account.managed_policy_arn("AmazonSSMManagedInstanceCore"),
        )
        IamRolePolicy(
            self,
            "cloudwatch-agent-policy",
            name="cloudwatch-agent",
            role=self.role.id,
            policy=policy_document(
                {
                    "Sid": "ShipAppLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [self.log_group.arn, f"{self.log_group.arn}:*"],
                },
                {
                    "Sid": "PublishAgentMetrics",
                    "Effect": "Allow",
                    "Action": "cloudwatch:PutMetricData",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"cloudwatch:namespace": "CWAgent"}},
                },
                # DescribeTags has no resource-level permissions; the agent reads the ASG name with it.
                {"Sid": "ReadOwnTags", "Effect": "Allow", "Action": "ec2:DescribeTags", "Resource": "*"},
            ),
        )
        IamRolePolicy(
            self,
            "artifact-read-policy",
            name="read-app-artifact",
            role=self.role.id,
            policy=policy_document(
                {
                    "Sid": "ReadAppArtifact",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": context.account.s3_arn(settings.artifact_bucket, settings.artifact_key),
                }
            ),
        )
        # The boot and drain units complete this group's lifecycle actions for their own instance.
        IamRolePolicy(
            self,
            "lifecycle-policy",
            name="complete-own-lifecycle-actions",
            role=self.role.id,
            policy=policy_document(
                {
                    "Sid": "CompleteOwnGroupsLifecycleActions",
                    "Effect": "Allow",
                    "Action": ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
                    "Resource": context.account.arn(
                        "autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{name}-app", context.region
                    ),
                }
            ),
        )
        profile = IamInstanceProfile(
            self, "instance-profile", name=f"{name}-app-instance", role=self.role.name, tags=context.resource_tags
        )

        if settings.ami_id:
            image_id = settings.ami_id
        else:
            # insecure_value: the public AMI id is no secret; `value` would hide it in every plan.
            image_id = DataAwsSsmParameter(
                self, "al2023-ami", name=AL2023_AMI_PARAMETERS[settings.architecture]
            ).insecure_value
        instance_tags = context.named(f"{name}-app")
        #: Tags every app server's volumes carry (what a backup selection finds them by).
        self.volume_tags: dict[str, str] = instance_tags
        self.launch_template = LaunchTemplate(
            self,
            "launch-template",
            name=f"{name}-app",
            description=f"App servers of {name}",
            image_id=image_id,
            instance_type=settings.instance_type,
            update_default_version=True,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=profile.arn),
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            monitoring=LaunchTemplateMonitoring(enabled=True),
            ebs_optimized="true",
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        volume_type="gp3",
                        volume_size=settings.root_volume_gb,
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            network_interfaces=[
                LaunchTemplateNetworkInterfaces(
                    device_index=0,
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[self.security_group.id],
                )
            ],
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            user_data=base64.b64encode(self.user_data().encode()).decode(),
            tags=context.resource_tags,
        )

        # The template's version number (not "$Latest"): a new version is a change of this group,
        # which is what starts the rolling instance refresh.
        template_version = Token.as_string(self.launch_template.latest_version)
        self.autoscaling_group = AutoscalingGroup(
            self,
            "autoscaling-group",
            name=group_name,
            vpc_zone_identifier=list(network.private_app_subnet_ids),
            min_size=settings.min_size,
            max_size=settings.max_size,
            desired_capacity=settings.desired_capacity,
            health_check_type="ELB",
            health_check_grace_period=settings.health_check_grace_seconds,
            default_instance_warmup=settings.health_check_grace_seconds,
            launch_template=None
            if settings.mixed_instances
            else AutoscalingGroupLaunchTemplate(id=self.launch_template.id, version=template_version),
            mixed_instances_policy=self._mixed_instances_policy(template_version) if settings.mixed_instances else None,
            warm_pool=AutoscalingGroupWarmPool(
                pool_state="Stopped",
                min_size=settings.warm_pool_min_size,
                instance_reuse_policy=AutoscalingGroupWarmPoolInstanceReusePolicy(reuse_on_scale_in=True),
            )
            if settings.warm_pool
            else None,
            # Launch before terminating, for health replacements and instance refreshes alike.
            instance_maintenance_policy=AutoscalingGroupInstanceMaintenancePolicy(
                min_healthy_percentage=MIN_HEALTHY_PERCENT, max_healthy_percentage=MAX_HEALTHY_PERCENT
            ),
            instance_refresh=AutoscalingGroupInstanceRefresh(
                strategy="Rolling",
                preferences=AutoscalingGroupInstanceRefreshPreferences(
                    min_healthy_percentage=MIN_HEALTHY_PERCENT,
                    max_healthy_percentage=MAX_HEALTHY_PERCENT,
                    auto_rollback=True,
                    instance_warmup=str(settings.health_check_grace_seconds),
                ),
            ),
            # Hooks given at creation hold the very first instances too (a hook added later misses
            # the instances launched before it; the provider applies these at creation only).
            initial_lifecycle_hook=[
                AutoscalingGroupInitialLifecycleHook(
                    name=self.launch_hook_name,
                    lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                    heartbeat_timeout=settings.boot_timeout_seconds,
                    # An instance whose app never answered is terminated and replaced.
                    default_result="ABANDON",
                ),
                AutoscalingGroupInitialLifecycleHook(
                    name=self.drain_hook_name,
                    lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
                    heartbeat_timeout=DRAIN_HOOK_SECONDS,
                    # Terminating continues either way; CONTINUE also lets other hooks run.
                    default_result="CONTINUE",
                ),
            ],
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            # Provider default_tags do not reach ASG-launched instances; the launch template tags them,
            # these tags mark the group itself (and are propagated too, for tools that read them there).
            tag=[
                AutoscalingGroupTag(key=key, value=value, propagate_at_launch=True)
                for key, value in context.named(group_name).items()
            ],
            # Scaling owns the desired capacity once the group exists: an apply must not reset it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]),
        )
        #: The Auto Scaling group's name, for alarms and dashboards.
        self.autoscaling_group_name: str = self.autoscaling_group.name
        #: The fleet's floor: fewer healthy targets than this is an outage in the making.
        self.min_size: int = settings.min_size

        self._target_tracking("cpu", "ASGAverageCPUUtilization", settings.cpu_target_percent)
        for action in settings.scheduled_actions:
            AutoscalingSchedule(
                self,
                f"schedule-{action.name}",
                autoscaling_group_name=self.autoscaling_group.name,
                scheduled_action_name=f"{group_name}-{action.name}",
                recurrence=action.recurrence,
                time_zone=action.time_zone,
                min_size=action.min_size,
                max_size=action.max_size,
                # -1 leaves the desired capacity to scaling (the provider's "unset").
                desired_capacity=action.desired_capacity if action.desired_capacity is not None else -1,
            )

    def _mixed_instances_policy(self, template_version: str) -> AutoscalingGroupMixedInstancesPolicy:
        """Every listed type is a capacity pool of its own; all On-Demand (bookings are not interruptible),
        the stage's first type preferred, the next when a type's capacity runs out."""
        return AutoscalingGroupMixedInstancesPolicy(
            launch_template=AutoscalingGroupMixedInstancesPolicyLaunchTemplate(
                launch_template_specification=AutoscalingGroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecification(
                    launch_template_id=self.launch_template.id, version=template_version
                ),
                override=[
                    AutoscalingGroupMixedInstancesPolicyLaunchTemplateOverride(instance_type=instance_type)
                    for instance_type in self.settings.instance_types
                ],
            ),
            instances_distribution=AutoscalingGroupMixedInstancesPolicyInstancesDistribution(
                on_demand_allocation_strategy="prioritized",
                on_demand_base_capacity=0,
                on_demand_percentage_above_base_capacity=100,
            ),
        )

    def grant_port_forwarding(self, role: Grantee) -> None:
        """Let ``role`` open an SSM Session Manager port-forwarding session through one of these
        instances to a host in the VPC (the database), and nothing else: no shell, no commands. What
        crosses the instance is the client's TLS stream, never a password in the clear."""
        context, account = self.context, self.context.account
        IamRolePolicy(
            self,
            "port-forwarding-policy",
            name=f"{context.name}-port-forward-through-app-servers",
            role=role.name,
            policy=policy_document(
                {
                    "Sid": "ForwardPortsThroughAppServers",
                    "Effect": "Allow",
                    "Action": "ssm:StartSession",
                    "Resource": account.arn("ec2", "instance/*", context.region),
                    "Condition": {"StringEquals": {"ssm:resourceTag/Name": f"{context.name}-app"}},
                },
                {
                    "Sid": "OnlyTheRemoteHostPortForwardingDocument",
                    "Effect": "Allow",
                    "Action": "ssm:StartSession",
                    "Resource": f"arn:{account.partition}:ssm:{context.region}::document/{PORT_FORWARDING_DOCUMENT}",
                },
                {
                    "Sid": "EndOwnSessions",
                    "Effect": "Allow",
                    "Action": ["ssm:TerminateSession", "ssm:ResumeSession"],
                    # "$${": a literal IAM policy variable, not a Terraform interpolation.
                    "Resource": account.arn("ssm", "session/$${aws:userid}-*", context.region),
                },
                # DescribeInstances has no resource-level permissions: the operator finds an instance with it.
                {"Sid": "FindAnAppServer", "Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
            ),
        )

    def register_with(self, load_balancer: PublicLoadBalancer) -> None:
        """Serve behind ``load_balancer``: the group registers with its target group, the ALB may reach
        the app (and health-check) port and nothing else (both sides of the rule), and the fleet also
        scales on the ALB's requests per target, and forecasts them when the stage asks for it."""
        if load_balancer.target_port != self.settings.app_port:
            raise ValueError(
                f"the load balancer forwards to port {load_balancer.target_port}, "
                f"the app servers listen on {self.settings.app_port}"
            )
        if load_balancer.target_protocol != self.settings.target_protocol:
            raise ValueError(
                f"the load balancer talks {load_balancer.target_protocol} to its targets, "
                f"the app servers serve {self.settings.target_protocol}"
            )
        ports = [self.settings.app_port]
        health_port = load_balancer.health_check_port
        if health_port and health_port != self.settings.app_port:
            ports.append(health_port)
        for port in ports:
            what = "app port" if port == self.settings.app_port else "health-check port"
            open_port(
                self,
                port,
                to_group=self.security_group.id,
                from_group=load_balancer.security_group_id,
                ingress=(f"ingress-from-alb-{port}", f"{what} {port} from the ALB only"),
                egress=(f"alb-egress-to-app-{port}", f"ALB to the app servers' {what} {port}"),
                tags=self.context.tags,
            )
            self.network.open_tier_port(port, from_tier="public", to_tier=self.subnet_tier, what=f"ALB to the {what}")
        self.autoscaling_group.target_group_arns = [load_balancer.target_group_arn]
        self._target_tracking(
            "requests",
            "ALBRequestCountPerTarget",
            self.settings.requests_per_target,
            load_balancer.target_group_resource_label,
        )
        if self.settings.predictive_scaling != "off":
            self._predictive_scaling(load_balancer)

    def _predictive_scaling(self, load_balancer: PublicLoadBalancer) -> None:
        """Forecast the ALB's requests from their daily and weekly history; with ForecastAndScale, launch
        ahead of the forecast by a boot and a slow start, so new instances take full traffic on time."""
        settings = self.settings
        # SchedulingBufferTime: 0 to 3600 seconds (Auto Scaling API Reference, PredictiveScalingConfiguration).
        buffer = min(settings.health_check_grace_seconds + load_balancer.slow_start_seconds, 3600)
        AutoscalingPolicy(
            self,
            "predictive-scaling",
            name=f"{self.context.name}-app-predictive",
            policy_type="PredictiveScaling",
            autoscaling_group_name=self.autoscaling_group.name,
            predictive_scaling_configuration=AutoscalingPolicyPredictiveScalingConfiguration(
                mode=settings.predictive_scaling,
                scheduling_buffer_time=str(buffer),
                # The forecast never raises the group above its max_size (the database is sized for it).
                max_capacity_breach_behavior="HonorMaxCapacity",
                metric_specification=AutoscalingPolicyPredictiveScalingConfigurationMetricSpecification(
                    target_value=settings.requests_per_target,
                    predefined_metric_pair_specification=AutoscalingPolicyPredictiveScalingConfigurationMetricSpecificationPredefinedMetricPairSpecification(
                        predefined_metric_type="ALBRequestCount",
                        resource_label=load_balancer.target_group_resource_label,
                    ),
                ),
            ),
        )

    # -----------------------------------------------------------------------------------------
    def _target_tracking(self, id_: str, metric: str, target: int, resource_label: str | None = None) -> None:
        AutoscalingPolicy(
            self,
            f"scale-on-{id_}",
            name=f"{self.context.name}-app-{id_}",
            policy_type="TargetTrackingScaling",
            autoscaling_group_name=self.autoscaling_group.name,
            estimated_instance_warmup=self.settings.health_check_grace_seconds,
            target_tracking_configuration=AutoscalingPolicyTargetTrackingConfiguration(
                target_value=target,
                predefined_metric_specification=AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=metric, resource_label=resource_label
                ),
            ),
        )

    def user_data(self) -> str:
        """The boot script: install, fetch the artifact, make the TLS key and certificate (HTTPS), run the
        app as a service, ship its log, and the lifecycle units. No secrets."""
        settings, name, region = self.settings, self.context.name, self.context.region
        agent_config = json.dumps(
            {
                "agent": {"metrics_collection_interval": 60, "run_as_user": AGENT_USER},
                "logs": {
                    "logs_collected": {
                        "files": {
                            "collect_list": [
                                {
                                    "file_path": APP_LOG_FILE,
                                    "log_group_name": self.log_group_name,
                                    "log_stream_name": "{instance_id}",
                                    "retention_in_days": -1,
                                }
                            ]
                        }
                    }
                },
                "metrics": {
                    "namespace": "CWAgent",
                    "append_dimensions": {
                        "AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                        "InstanceId": "${aws:InstanceId}",
                    },
                    "aggregation_dimensions": [["AutoScalingGroupName"]],
                    "metrics_collected": {
                        "mem": {"measurement": ["mem_used_percent"]},
                        "disk": {"measurement": ["used_percent"], "resources": ["/"]},
                    },
                },
            },
            indent=1,
        )
        scheme = "https" if settings.https else "http"
        app_arguments = [
            f"--server.port={settings.app_port}",
            "--server.shutdown=graceful",
            f"--spring.lifecycle.timeout-per-shutdown-phase={APP_STOP_SECONDS - 10}s",
            f"--spring.datasource.hikari.maximum-pool-size={settings.db_pool_size}",
        ]
        tls = ""
        if settings.https:
            app_arguments += [
                "--server.ssl.enabled=true",
                f"--server.ssl.certificate=file:{TLS_CERTIFICATE}",
                f"--server.ssl.certificate-private-key=file:{TLS_KEY}",
            ]
            tls = f"""
# TLS between the ALB and this instance: a key and a self-signed certificate for the instance's
# private DNS name, made here (the ALB does not validate target certificates, so no CA is needed
# and no key ever leaves the instance). Only the service user may read the key.
install -d -o root -g booking -m 0750 {TLS_DIR}
if [[ ! -s {TLS_KEY} ]]; then
  private_dns=$(imds local-hostname)
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \\
    -subj "/CN=$private_dns" -addext "subjectAltName=DNS:$private_dns" \\
    -keyout {TLS_KEY} -out {TLS_CERTIFICATE})
fi
chown booking:booking {TLS_KEY} && chmod 0400 {TLS_KEY}
chown root:booking {TLS_CERTIFICATE} && chmod 0444 {TLS_CERTIFICATE}
"""
        return f"""#!/bin/bash
# Boot script of the {name} app servers (rendered by modules/app_servers.py). No secrets here:
# the application reads its credentials at runtime through the instance role.
set -euo pipefail
dnf install -y java-21-amazon-corretto-headless amazon-cloudwatch-agent logrotate openssl

# Instance metadata, IMDSv2 only (the launch template requires a session token).
imds() {{
  local token
  token=$(curl -sSf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token)
  curl -sSf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}}

id booking >/dev/null 2>&1 || useradd --system --user-group --home-dir /opt/booking --shell /sbin/nologin booking
install -d -o booking -g booking -m 0750 /opt/booking
# The log directory: the service writes, the CloudWatch agent ({AGENT_USER}, its run_as_user) may enter
# and read, nobody else. setgid: whoever creates a file in it (systemd opens append: files as root),
# the file belongs to group {AGENT_USER}; the unit's UMask gives that group read.
install -d -o booking -g {AGENT_USER} -m 2750 {APP_LOG_DIR}
aws s3 cp --region {region} "s3://{settings.artifact_bucket}/{settings.artifact_key}" /opt/booking/booking-app.jar
chown booking:booking /opt/booking/booking-app.jar
{tls}
# systemd opened the log once for the service, which cannot reopen it: rotate by copying, then
# truncating in place (same file, same owner, group and mode, still readable by the agent).
cat > /etc/logrotate.d/booking-app <<'ROTATE'
{APP_LOG_FILE} {{
    daily
    rotate 7
    compress
    delaycompress
    missingok
    notifempty
    copytruncate
}}
ROTATE

cat > /opt/aws/amazon-cloudwatch-agent/etc/booking.json <<'AGENT'
{agent_config}
AGENT
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \\
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/booking.json

cat > /etc/systemd/system/booking-app.service <<'UNIT'
[Unit]
Description=Digital Booking application
After=network-online.target
Wants=network-online.target

[Service]
User=booking
Group=booking
WorkingDirectory=/opt/booking
Environment=SERVER_PORT={settings.app_port} AWS_REGION={region} BOOKING_STAGE={name}
ExecStart=/usr/bin/java -jar /opt/booking/booking-app.jar {" ".join(app_arguments)}
UMask=0027
StandardOutput=append:{APP_LOG_FILE}
StandardError=append:{APP_LOG_FILE}
Restart=always
RestartSec=5
TimeoutStopSec={APP_STOP_SECONDS}
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=/opt/booking {APP_LOG_DIR}
PrivateTmp=true

[Install]
WantedBy=multi-user.target
UNIT
{self._lifecycle_units(scheme)}
systemctl daemon-reload
systemctl enable --now booking-app
systemctl enable --now booking-drain
systemctl enable --now booking-ready
"""

    def _lifecycle_units(self, scheme: str) -> str:
        """The script and units that complete this group's lifecycle actions: ``ready`` at every boot once
        the app answers (the launch hook, also when the instance leaves the warm pool), ``drain`` when the
        instance's target lifecycle state leaves InService (wait for the ALB's connections to the app to
        close, stop the app gracefully, let the agent ship the last lines, then let the instance go)."""
        settings, region = self.settings, self.context.region
        return f"""
install -d -m 0755 {LIFECYCLE_SCRIPT.rsplit("/", 1)[0]}
cat > {LIFECYCLE_SCRIPT} <<'LIFECYCLE'
#!/bin/bash
# booking-lifecycle ready|drain: completes the {self.context.name}-app group's lifecycle actions for this instance.
set -uo pipefail
imds() {{
  local token
  token=$(curl -sSf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 300" http://169.254.169.254/latest/api/token) &&
    curl -sSf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}}
complete() {{
  local instance
  instance=$(imds instance-id) || {{ echo "no instance id from the instance metadata"; return 1; }}
  aws autoscaling complete-lifecycle-action --region {region} --auto-scaling-group-name {self.context.name}-app \\
    --lifecycle-hook-name "$1" --instance-id "$instance" --lifecycle-action-result "$2" ||
    echo "no $1 action pending for $instance (a reboot, or the group has no such hook yet)"
}}
case "${{1:-}}" in
  ready)
    # Any HTTP answer on the app port: the app is up (the ALB health check judges the rest).
    deadline=$((SECONDS + {settings.boot_timeout_seconds}))
    until [[ $(curl -sk -o /dev/null -w '%{{http_code}}' {scheme}://127.0.0.1:{settings.app_port}/) != 000 ]]; do
      ((SECONDS < deadline)) || {{ echo "the app did not answer within {settings.boot_timeout_seconds}s"; exit 1; }}
      sleep 5
    done
    complete {self.launch_hook_name} CONTINUE
    ;;
  drain)
    # Wait for this instance to have served, then for Auto Scaling to move it out of service.
    served=no
    while true; do
      state=$(imds autoscaling/target-lifecycle-state || true)
      if [[ $state == InService ]]; then served=yes; elif [[ $served == yes && -n $state ]]; then break; fi
      sleep 5
    done
    # The state may change as soon as Auto Scaling starts taking the instance out, while the ALB still lets
    # its in-flight requests finish: the app stops once the ALB's connections to it are closed.
    echo "target lifecycle state $state: waiting for the load balancer's connections to close"
    deadline=$((SECONDS + {DRAIN_CONNECTIONS_SECONDS}))
    while ss -Htn state established "( sport = :{settings.app_port} )" | grep -q . && ((SECONDS < deadline)); do
      sleep 2
    done
    echo "stopping the app, then letting the instance go"
    systemctl stop booking-app
    sleep {AGENT_FLUSH_SECONDS}
    complete {self.drain_hook_name} CONTINUE
    ;;
  *) echo "usage: $0 ready|drain" >&2; exit 2 ;;
esac
LIFECYCLE
chmod 0755 {LIFECYCLE_SCRIPT}

cat > /etc/systemd/system/booking-ready.service <<'UNIT'
[Unit]
Description=Tell Auto Scaling this app server is ready (launch lifecycle hook)
After=booking-app.service

[Service]
Type=oneshot
ExecStart={LIFECYCLE_SCRIPT} ready
TimeoutStartSec={settings.boot_timeout_seconds + 60}

[Install]
WantedBy=multi-user.target
UNIT

cat > /etc/systemd/system/booking-drain.service <<'UNIT'
[Unit]
Description=Drain this app server before Auto Scaling stops or terminates it (terminating lifecycle hook)
After=booking-app.service

[Service]
Type=simple
ExecStart={LIFECYCLE_SCRIPT} drain

[Install]
WantedBy=multi-user.target
UNIT
"""
