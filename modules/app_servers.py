"""App-server tier: an Auto Scaling fleet running the booking application behind the ALB.

- Launch template: AMI from the stage, else the latest Amazon Linux 2023 from AWS's public SSM
  parameter (read at plan time, so a new AMI release shows up as a template change and rolls the
  fleet); IMDSv2 only with hop limit 1; encrypted gp3 root volume; detailed monitoring; no
  public IP; no SSH key (shell access is SSM Session Manager).
- Instance role: SSM core (managed policy) and a scoped CloudWatch agent policy (write to the
  app log group only, metrics to the ``CWAgent`` namespace only), read access to exactly the
  application artifact object. Other tiers attach their own policies to ``instance_role_name``.
- User data installs Java and the CloudWatch agent, fetches the artifact (an executable jar)
  from S3, runs it as the unprivileged ``booking`` systemd service on the app port and ships its
  log to the app log group. It holds no secret: the app reads those at runtime with its role.
- Auto Scaling group over the private-app subnets, registered with the ALB target group, ELB
  health checks with a grace period, rolling instance refresh (launch new before terminating old)
  when the launch template changes; ``desired_capacity`` is ignored after creation so an apply
  never undoes what scaling did. Target tracking on average CPU and on ALB requests per target.

Security groups: the app group admits only the ALB's group on the app (and health-check) port;
this tier also adds the matching egress rule to the ALB's group. Its own egress is HTTPS to the
internet through the NAT (packages, S3 artifact, SSM, CloudWatch); the data tier adds its own.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

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
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
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
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

#: Public SSM parameters holding the latest Amazon Linux 2023 AMI id, per CPU architecture.
AL2023_AMI_PARAMETERS = {
    "x86_64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    "arm64": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
}
#: Group metrics the ASG publishes (FSBP AutoScaling; dashboards use them).
GROUP_METRICS = ("GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
                 "GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances")
#: Where the service writes its log on the instance (the CloudWatch agent tails it).
APP_LOG_FILE = "/var/log/booking/app.log"


@dataclass(frozen=True)
class AppServerFleetProps:
    """What the app-server tier needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region (for the AWS CLI and the CloudWatch agent on the instances).
    region: str = "eu-west-1"
    #: VPC of the app security group.
    vpc_id: str = ""
    #: Private app subnets, one per AZ: the fleet spreads over them.
    private_app_subnet_ids: tuple[str, ...] = ()
    #: The ALB's security group: the only source admitted to the app port (None: nothing admitted).
    load_balancer_security_group_id: str | None = None
    #: ALB target group the instances register with.
    target_group_arn: str | None = None
    #: ``<alb arn_suffix>/<target group arn_suffix>``: the request-count scaling metric's resource label.
    request_count_resource_label: str | None = None
    #: Port the application listens on.
    app_port: int = 8080
    #: Port the ALB health check uses, if not the app port (admitted from the ALB as well).
    health_check_port: int | None = None
    #: S3 bucket and key of the application's executable jar; the role may read exactly that object.
    artifact_bucket: str = "digital-booking-artifacts"
    artifact_key: str = "booking-app/booking-app.jar"
    #: EC2 instance type and the CPU architecture of the AMI.
    instance_type: str = "t3.small"
    architecture: str = "x86_64"
    #: Fixed AMI; None takes the latest Amazon Linux 2023 from the public SSM parameter.
    ami_id: str | None = None
    #: Size of the encrypted gp3 root volume.
    root_volume_gb: int = 20
    #: Fleet bounds; ``desired_capacity`` applies at creation, scaling owns it afterwards.
    min_size: int = 2
    max_size: int = 4
    desired_capacity: int = 2
    #: Seconds a new instance has before ELB health checks count (also the instance warm-up).
    health_check_grace_seconds: int = 300
    #: Target-tracking targets: average CPU %, and ALB requests per instance per minute.
    cpu_target_percent: int = 60
    requests_per_target: int = 1000
    #: Days the app log group keeps events.
    log_retention_days: int = 90
    #: KMS key for the app log group; None uses CloudWatch's own encryption.
    log_kms_key_arn: str | None = None
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


class AppServerFleet(Construct):
    """Security group, instance role, launch template, Auto Scaling group and scaling policies."""

    def __init__(self, scope: Construct, id_: str, props: AppServerFleetProps = AppServerFleetProps()) -> None:
        super().__init__(scope, id_)
        self.props = props
        name = props.name
        partition = DataAwsPartition(self, "partition").partition

        self.security_group = SecurityGroup(
            self, "security-group", name_prefix=f"{name}-app-", vpc_id=props.vpc_id,
            description=f"App servers of {name}: app port from the ALB only, HTTPS out through the NAT",
            tags={"Name": f"{name}-app", **props.tags}, lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        #: The app servers' security group, for the data tier's ingress rules (and its own egress here).
        self.security_group_id: str = self.security_group.id
        self._connect_load_balancer()
        VpcSecurityGroupEgressRule(
            self, "egress-https", security_group_id=self.security_group.id, ip_protocol="tcp", from_port=443,
            to_port=443, cidr_ipv4="0.0.0.0/0", tags=props.tags,
            description="HTTPS out via the NAT: OS packages, the S3 artifact, SSM and CloudWatch endpoints")

        self.log_group = CloudwatchLogGroup(
            self, "log-group", name=f"/digital-booking/{name}/app", retention_in_days=props.log_retention_days,
            kms_key_id=props.log_kms_key_arn, tags=props.tags)
        #: The application's log group (the CloudWatch agent ships the service log here).
        self.log_group_name: str = f"/digital-booking/{name}/app"

        self.role = IamRole(
            self, "instance-role", name=f"{name}-app-instance", description=f"App servers of {name}",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "ec2.amazonaws.com"}}],
            }), tags=props.tags)
        #: The instance role: other tiers attach their own least-privilege ``aws_iam_role_policy`` to it.
        self.instance_role_name: str = self.role.name
        self.instance_role_arn: str = self.role.arn
        IamRolePolicyAttachment(self, "ssm-core", role=self.role.name,
                                policy_arn=f"arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")
        IamRolePolicy(self, "cloudwatch-agent-policy", name="cloudwatch-agent", role=self.role.id, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ShipAppLogs", "Effect": "Allow",
                 "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                 "Resource": [self.log_group.arn, f"{self.log_group.arn}:*"]},
                {"Sid": "PublishAgentMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData",
                 "Resource": "*", "Condition": {"StringEquals": {"cloudwatch:namespace": "CWAgent"}}},
                # DescribeTags has no resource-level permissions; the agent reads the ASG name with it.
                {"Sid": "ReadOwnTags", "Effect": "Allow", "Action": "ec2:DescribeTags", "Resource": "*"},
            ],
        }))
        IamRolePolicy(self, "artifact-read-policy", name="read-app-artifact", role=self.role.id, policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "ReadAppArtifact", "Effect": "Allow", "Action": "s3:GetObject",
                           "Resource": f"arn:{partition}:s3:::{props.artifact_bucket}/{props.artifact_key}"}],
        }))
        profile = IamInstanceProfile(self, "instance-profile", name=f"{name}-app-instance", role=self.role.name,
                                     tags=props.tags)

        if props.ami_id:
            image_id = props.ami_id
        else:
            # insecure_value: the public AMI id is no secret; `value` would hide it in every plan.
            image_id = DataAwsSsmParameter(self, "al2023-ami", name=AL2023_AMI_PARAMETERS[props.architecture]
                                           ).insecure_value
        instance_tags = {"Name": f"{name}-app", **props.tags}
        self.launch_template = LaunchTemplate(
            self, "launch-template", name=f"{name}-app", description=f"App servers of {name}",
            image_id=image_id, instance_type=props.instance_type, update_default_version=True,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=profile.arn),
            metadata_options=LaunchTemplateMetadataOptions(http_endpoint="enabled", http_tokens="required",
                                                           http_put_response_hop_limit=1),
            monitoring=LaunchTemplateMonitoring(enabled=True), ebs_optimized="true",
            block_device_mappings=[LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvda", ebs=LaunchTemplateBlockDeviceMappingsEbs(
                    volume_type="gp3", volume_size=props.root_volume_gb, encrypted="true",
                    delete_on_termination="true"))],
            network_interfaces=[LaunchTemplateNetworkInterfaces(
                device_index=0, associate_public_ip_address="false", delete_on_termination="true",
                security_groups=[self.security_group.id])],
            tag_specifications=[LaunchTemplateTagSpecifications(resource_type=kind, tags=instance_tags)
                                for kind in ("instance", "volume", "network-interface")],
            user_data=base64.b64encode(self.user_data().encode()).decode(), tags=props.tags)

        self.autoscaling_group = AutoscalingGroup(
            self, "autoscaling-group", name=f"{name}-app", vpc_zone_identifier=list(props.private_app_subnet_ids),
            min_size=props.min_size, max_size=props.max_size, desired_capacity=props.desired_capacity,
            health_check_type="ELB", health_check_grace_period=props.health_check_grace_seconds,
            default_instance_warmup=props.health_check_grace_seconds,
            target_group_arns=[props.target_group_arn] if props.target_group_arn else None,
            # The template's version number (not "$Latest"): a new version is a change of this group,
            # which is what starts the rolling instance refresh.
            launch_template=AutoscalingGroupLaunchTemplate(id=self.launch_template.id,
                                                           version=Token.as_string(self.launch_template.latest_version)),
            instance_refresh=AutoscalingGroupInstanceRefresh(
                strategy="Rolling", preferences=AutoscalingGroupInstanceRefreshPreferences(
                    min_healthy_percentage=100, max_healthy_percentage=200, auto_rollback=True,
                    instance_warmup=str(props.health_check_grace_seconds))),
            enabled_metrics=list(GROUP_METRICS), metrics_granularity="1Minute",
            # Provider default_tags do not reach ASG-launched instances; the launch template tags them,
            # these tags mark the group itself (and are propagated too, for tools that read them there).
            tag=[AutoscalingGroupTag(key=key, value=value, propagate_at_launch=True)
                 for key, value in {"Name": f"{name}-app", **props.tags}.items()],
            # Scaling owns the desired capacity once the group exists: an apply must not reset it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]))
        #: The Auto Scaling group's name, for alarms and dashboards.
        self.autoscaling_group_name: str = self.autoscaling_group.name

        self._target_tracking("cpu", "ASGAverageCPUUtilization", props.cpu_target_percent)
        if props.request_count_resource_label:
            self._target_tracking("requests", "ALBRequestCountPerTarget", props.requests_per_target,
                                  props.request_count_resource_label)

    # -----------------------------------------------------------------------------------------
    def _app_ports(self) -> list[int]:
        ports = [self.props.app_port]
        if self.props.health_check_port and self.props.health_check_port != self.props.app_port:
            ports.append(self.props.health_check_port)
        return ports

    def _connect_load_balancer(self) -> None:
        """ALB -> app on the app (and health-check) port: ingress here, egress on the ALB's group."""
        alb_sg = self.props.load_balancer_security_group_id
        if alb_sg is None:
            return
        for port in self._app_ports():
            what = "app port" if port == self.props.app_port else "health-check port"
            VpcSecurityGroupIngressRule(
                self, f"ingress-from-alb-{port}", security_group_id=self.security_group.id, ip_protocol="tcp",
                from_port=port, to_port=port, referenced_security_group_id=alb_sg,
                description=f"{what} {port} from the ALB only", tags=self.props.tags)
            VpcSecurityGroupEgressRule(
                self, f"alb-egress-to-app-{port}", security_group_id=alb_sg, ip_protocol="tcp",
                from_port=port, to_port=port, referenced_security_group_id=self.security_group.id,
                description=f"ALB to the app servers' {what} {port}", tags=self.props.tags)

    def _target_tracking(self, id_: str, metric: str, target: int, resource_label: str | None = None) -> None:
        AutoscalingPolicy(
            self, f"scale-on-{id_}", name=f"{self.props.name}-app-{id_}", policy_type="TargetTrackingScaling",
            autoscaling_group_name=self.autoscaling_group.name,
            estimated_instance_warmup=self.props.health_check_grace_seconds,
            target_tracking_configuration=AutoscalingPolicyTargetTrackingConfiguration(
                target_value=target,
                predefined_metric_specification=AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=metric, resource_label=resource_label)))

    def user_data(self) -> str:
        """The boot script: install, fetch the artifact, run it as a service, ship its log. No secrets."""
        p = self.props
        agent_config = json.dumps({
            "agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent"},
            "logs": {"logs_collected": {"files": {"collect_list": [
                {"file_path": APP_LOG_FILE, "log_group_name": self.log_group_name, "log_stream_name": "{instance_id}",
                 "retention_in_days": -1}]}}},
            "metrics": {"namespace": "CWAgent",
                        "append_dimensions": {"AutoScalingGroupName": "${aws:AutoScalingGroupName}",
                                              "InstanceId": "${aws:InstanceId}"},
                        "aggregation_dimensions": [["AutoScalingGroupName"]],
                        "metrics_collected": {"mem": {"measurement": ["mem_used_percent"]},
                                              "disk": {"measurement": ["used_percent"], "resources": ["/"]}}},
        }, indent=1)
        return f"""#!/bin/bash
# Boot script of the {p.name} app servers (rendered by modules/app_servers.py). No secrets here:
# the application reads its credentials at runtime through the instance role.
set -euo pipefail
dnf install -y java-21-amazon-corretto-headless amazon-cloudwatch-agent

useradd --system --home-dir /opt/booking --shell /sbin/nologin booking || true
install -d -o booking -g booking -m 0750 /opt/booking /var/log/booking
aws s3 cp --region {p.region} "s3://{p.artifact_bucket}/{p.artifact_key}" /opt/booking/booking-app.jar
chown booking:booking /opt/booking/booking-app.jar

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
Environment=SERVER_PORT={p.app_port} AWS_REGION={p.region} BOOKING_STAGE={p.name}
ExecStart=/usr/bin/java -jar /opt/booking/booking-app.jar --server.port={p.app_port}
StandardOutput=append:{APP_LOG_FILE}
StandardError=append:{APP_LOG_FILE}
Restart=always
RestartSec=5
NoNewPrivileges=true
ProtectSystem=strict
ReadWritePaths=/opt/booking /var/log/booking
PrivateTmp=true

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now booking-app
"""
