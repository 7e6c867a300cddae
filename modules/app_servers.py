"""App-server tier: an Auto Scaling fleet running the booking application behind the ALB.

- Launch template: AMI from the stage, else the latest Amazon Linux 2023 from AWS's public SSM
  parameter (read at plan time, so a new AMI release shows up as a template change and rolls the
  fleet); IMDSv2 only with hop limit 1; encrypted gp3 root volume; detailed monitoring; no
  public IP; no SSH key (shell access is SSM Session Manager).
- Instance role: SSM core (managed policy) and a scoped CloudWatch agent policy (write to the
  app log group only, metrics to the ``CWAgent`` namespace only), read access to exactly the
  application artifact object. Other tiers grant it more through their ``grant_*`` methods.
- User data installs Java and the CloudWatch agent, fetches the artifact (an executable jar)
  from S3, runs it as the unprivileged ``booking`` systemd service on the app port and ships its
  log to the app log group: the agent runs as ``cwagent``, so the log directory is group-owned
  by ``cwagent`` (setgid, so is every file in it, whoever creates it) and the log is rotated in
  place (``copytruncate``: systemd opened it once for the service). It holds no secret: the app
  reads those at runtime with its role.
- A metric filter on the app log group counts its ERROR/FATAL lines (``error_metric_namespace`` /
  ``error_metric_name``, alarmed on by the monitoring tier).
- Auto Scaling group over the private-app subnets, registered with the ALB target group, ELB
  health checks with a grace period, rolling instance refresh (launch new before terminating old)
  when the launch template changes; ``desired_capacity`` is ignored after creation so an apply
  never undoes what scaling did. Target tracking on average CPU and on ALB requests per target.

Security groups: :meth:`AppServerFleet.register_with` admits only the ALB's group on the app
(and health-check) port and adds the matching egress rule to it. Its own egress is HTTPS to the
internet through the NAT (packages, S3 artifact, SSM, CloudWatch); the data tiers' ``allow_from``
add the egress to them.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupInstanceRefresh,
    AutoscalingGroupInstanceRefreshPreferences,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
)
from cdktf_cdktf_provider_aws.autoscaling_policy import (
    AutoscalingPolicy,
    AutoscalingPolicyTargetTrackingConfiguration,
    AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification,
)
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


INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
AMI_ID = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


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
    #: EC2 instance type and the CPU architecture of the AMI.
    instance_type: str = setting(
        "t3.small", allowed=("an EC2 instance type of the form family.size, e.g. 't3.small' or 'm7i.large'")
    )
    architecture: Literal["x86_64", "arm64"] = setting(
        "x86_64", allowed=("'x86_64' or 'arm64' (picks the Amazon Linux 2023 AMI; must match instance_type)")
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
    #: Fleet bounds; ``desired_capacity`` applies at creation, scaling owns it afterwards.
    min_size: int = setting(2, allowed="0 to 100 instances (at least 2 in a production stage)")
    max_size: int = setting(4, allowed="1 to 100 instances, at least min_size")
    desired_capacity: int = setting(2, allowed="between min_size and max_size")
    #: Seconds a new instance has before ELB health checks count (also the instance warm-up).
    health_check_grace_seconds: int = setting(300, allowed="0 to 7200 seconds")
    #: Target-tracking targets: average CPU %, and ALB requests per instance per minute.
    cpu_target_percent: int = setting(60, allowed="average CPU % the fleet scales to hold, 10 to 90")
    requests_per_target: int = setting(
        1000, allowed=("ALB requests per instance per minute the fleet scales to hold, 1 to 100000")
    )
    #: Size of the encrypted gp3 root volume.
    root_volume_gb: int = setting(20, allowed="8 to 1024 GiB (gp3, encrypted)")
    #: Days the app log group keeps events.
    log_retention_days: int = setting(90, allowed=f"a CloudWatch retention: {RETENTIONS}")

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
        if not INSTANCE_TYPE.match(self.instance_type):
            problems.add(
                "instance_type",
                self.instance_type,
                "not an EC2 instance type",
                "family.size, e.g. 't3.small' or 'm7i.large'",
            )
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
        check_range(problems, "cpu_target_percent", self.cpu_target_percent, 10, 90)
        check_range(problems, "requests_per_target", self.requests_per_target, 1, 100_000)
        check_range(problems, "root_volume_gb", self.root_volume_gb, 8, 1024)
        check_retention(problems, "log_retention_days", self.log_retention_days)


class AppServerFleet(Tier[AppServerSettings]):
    """Security group, instance role, launch template, Auto Scaling group and scaling policies."""

    #: How the other tiers' security-group rule descriptions name this fleet.
    connection_label = "app servers"

    def __init__(
        self, scope: Construct, id_: str, settings: AppServerSettings, context: StageContext, *, network: Network
    ) -> None:
        super().__init__(scope, id_, settings, context)
        name = context.name

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

        self.autoscaling_group = AutoscalingGroup(
            self,
            "autoscaling-group",
            name=f"{name}-app",
            vpc_zone_identifier=list(network.private_app_subnet_ids),
            min_size=settings.min_size,
            max_size=settings.max_size,
            desired_capacity=settings.desired_capacity,
            health_check_type="ELB",
            health_check_grace_period=settings.health_check_grace_seconds,
            default_instance_warmup=settings.health_check_grace_seconds,
            # The template's version number (not "$Latest"): a new version is a change of this group,
            # which is what starts the rolling instance refresh.
            launch_template=AutoscalingGroupLaunchTemplate(
                id=self.launch_template.id, version=Token.as_string(self.launch_template.latest_version)
            ),
            instance_refresh=AutoscalingGroupInstanceRefresh(
                strategy="Rolling",
                preferences=AutoscalingGroupInstanceRefreshPreferences(
                    min_healthy_percentage=100,
                    max_healthy_percentage=200,
                    auto_rollback=True,
                    instance_warmup=str(settings.health_check_grace_seconds),
                ),
            ),
            enabled_metrics=list(GROUP_METRICS),
            metrics_granularity="1Minute",
            # Provider default_tags do not reach ASG-launched instances; the launch template tags them,
            # these tags mark the group itself (and are propagated too, for tools that read them there).
            tag=[
                AutoscalingGroupTag(key=key, value=value, propagate_at_launch=True)
                for key, value in context.named(f"{name}-app").items()
            ],
            # Scaling owns the desired capacity once the group exists: an apply must not reset it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]),
        )
        #: The Auto Scaling group's name, for alarms and dashboards.
        self.autoscaling_group_name: str = self.autoscaling_group.name
        #: The fleet's floor: fewer healthy targets than this is an outage in the making.
        self.min_size: int = settings.min_size

        self._target_tracking("cpu", "ASGAverageCPUUtilization", settings.cpu_target_percent)

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
        scales on the ALB's requests per target."""
        if load_balancer.target_port != self.settings.app_port:
            raise ValueError(
                f"the load balancer forwards to port {load_balancer.target_port}, "
                f"the app servers listen on {self.settings.app_port}"
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
        self.autoscaling_group.target_group_arns = [load_balancer.target_group_arn]
        self._target_tracking(
            "requests",
            "ALBRequestCountPerTarget",
            self.settings.requests_per_target,
            load_balancer.target_group_resource_label,
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
        """The boot script: install, fetch the artifact, run it as a service, ship its log. No secrets."""
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
        return f"""#!/bin/bash
# Boot script of the {name} app servers (rendered by modules/app_servers.py). No secrets here:
# the application reads its credentials at runtime through the instance role.
set -euo pipefail
dnf install -y java-21-amazon-corretto-headless amazon-cloudwatch-agent logrotate

id booking >/dev/null 2>&1 || useradd --system --user-group --home-dir /opt/booking --shell /sbin/nologin booking
install -d -o booking -g booking -m 0750 /opt/booking
# The log directory: the service writes, the CloudWatch agent ({AGENT_USER}, its run_as_user) may enter
# and read, nobody else. setgid: whoever creates a file in it (systemd opens append: files as root),
# the file belongs to group {AGENT_USER}; the unit's UMask gives that group read.
install -d -o booking -g {AGENT_USER} -m 2750 {APP_LOG_DIR}
aws s3 cp --region {region} "s3://{settings.artifact_bucket}/{settings.artifact_key}" /opt/booking/booking-app.jar
chown booking:booking /opt/booking/booking-app.jar

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
ExecStart=/usr/bin/java -jar /opt/booking/booking-app.jar --server.port={settings.app_port}
UMask=0027
StandardOutput=append:{APP_LOG_FILE}
StandardError=append:{APP_LOG_FILE}
Restart=always
RestartSec=5
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=/opt/booking {APP_LOG_DIR}
PrivateTmp=true

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now booking-app
"""
