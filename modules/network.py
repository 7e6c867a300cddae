"""Network tier: a VPC with public, private-app and private-data subnets in every AZ.

Traffic design:
- public subnets route 0.0.0.0/0 to the internet gateway; only the ALB and NAT gateways live here;
- private-app subnets route 0.0.0.0/0 to a NAT gateway (their own AZ's when ``nat_per_az``);
- private-data subnets have no route to the internet at all, only the VPC and the gateway endpoints.
No subnet assigns public IPs, the default security group allows nothing, and every flow is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct


@dataclass(frozen=True)
class NetworkProps:
    """What the network tier needs. Every field has a default; a stage overrides what it must."""

    #: Prefix of every resource name, e.g. ``digital-booking-dev``.
    name: str = "digital-booking"
    #: Region, for the gateway endpoints' service names.
    region: str = "eu-west-1"
    #: IPv4 range of the VPC.
    vpc_cidr: str = "10.0.0.0/16"
    #: AZs to spread over; one subnet of each tier per AZ, in this order.
    azs: tuple[str, ...] = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    #: Public subnets (ALB, NAT gateways), one per AZ.
    public_subnet_cidrs: tuple[str, ...] = ("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24")
    #: Private app subnets (app servers), one per AZ; egress through NAT.
    private_app_subnet_cidrs: tuple[str, ...] = ("10.0.10.0/24", "10.0.11.0/24", "10.0.12.0/24")
    #: Private data subnets (RDS, ElastiCache), one per AZ; no internet route.
    private_data_subnet_cidrs: tuple[str, ...] = ("10.0.20.0/24", "10.0.21.0/24", "10.0.22.0/24")
    #: One NAT gateway per AZ (survives an AZ loss) rather than one for the whole VPC.
    nat_per_az: bool = True
    #: Days the VPC flow logs are kept.
    flow_log_retention_days: int = 90
    #: KMS key for the flow-log group; None uses CloudWatch's own encryption.
    log_kms_key_arn: str | None = None
    #: Tags for resources of this tier (the provider adds the stage's default tags).
    tags: dict[str, str] = field(default_factory=dict)


class Network(Construct):
    """VPC, subnets, gateways, routes, endpoints and flow logs. See the module docstring."""

    def __init__(self, scope: Construct, id_: str, props: NetworkProps = NetworkProps()) -> None:
        super().__init__(scope, id_)
        self.props = props
        name = props.name

        self.vpc = Vpc(self, "vpc", cidr_block=props.vpc_cidr, enable_dns_hostnames=True,
                       enable_dns_support=True, tags={"Name": f"{name}-vpc", **props.tags})
        #: The VPC id and range, for security groups and subnet groups of the other tiers.
        self.vpc_id: str = self.vpc.id
        self.vpc_cidr: str = props.vpc_cidr
        self.azs: tuple[str, ...] = props.azs

        # FSBP EC2.2: the default group must allow nothing, so nothing lands in it by accident.
        DefaultSecurityGroup(self, "default-security-group", vpc_id=self.vpc.id, ingress=[], egress=[],
                             tags={"Name": f"{name}-default-deny-all", **props.tags})

        self.public_subnets = self._subnets("public", props.public_subnet_cidrs)
        self.private_app_subnets = self._subnets("private-app", props.private_app_subnet_cidrs)
        self.private_data_subnets = self._subnets("private-data", props.private_data_subnet_cidrs)
        self.public_subnet_ids: list[str] = [s.id for s in self.public_subnets]
        self.private_app_subnet_ids: list[str] = [s.id for s in self.private_app_subnets]
        self.private_data_subnet_ids: list[str] = [s.id for s in self.private_data_subnets]

        igw = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw", **props.tags})
        public_rt = RouteTable(self, "public-route-table", vpc_id=self.vpc.id,
                               tags={"Name": f"{name}-public", **props.tags})
        Route(self, "public-internet-route", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
              gateway_id=igw.id)
        for az, subnet in zip(props.azs, self.public_subnets):
            RouteTableAssociation(self, f"public-{az}-association", subnet_id=subnet.id, route_table_id=public_rt.id)

        nat_azs = props.azs if props.nat_per_az else props.azs[:1]
        self.nat_gateways: list[NatGateway] = []
        for az, subnet in zip(nat_azs, self.public_subnets):
            eip = Eip(self, f"nat-{az}-eip", domain="vpc", tags={"Name": f"{name}-nat-{az}", **props.tags})
            self.nat_gateways.append(NatGateway(self, f"nat-{az}", allocation_id=eip.id, subnet_id=subnet.id,
                                                tags={"Name": f"{name}-nat-{az}", **props.tags}, depends_on=[igw]))
        #: NAT gateway ids, for the monitoring tier's port-allocation alarms (one per gateway).
        self.nat_gateway_ids: list[str] = [nat.id for nat in self.nat_gateways]

        self.private_app_route_tables: list[RouteTable] = []
        self.private_data_route_tables: list[RouteTable] = []
        for index, az in enumerate(props.azs):
            app_rt = RouteTable(self, f"private-app-{az}-route-table", vpc_id=self.vpc.id,
                                tags={"Name": f"{name}-private-app-{az}", **props.tags})
            nat = self.nat_gateways[index if props.nat_per_az else 0]
            Route(self, f"private-app-{az}-nat-route", route_table_id=app_rt.id, destination_cidr_block="0.0.0.0/0",
                  nat_gateway_id=nat.id)
            RouteTableAssociation(self, f"private-app-{az}-association", subnet_id=self.private_app_subnets[index].id,
                                  route_table_id=app_rt.id)
            # Data subnets get a table with only the local route (and the gateway endpoints): no egress.
            data_rt = RouteTable(self, f"private-data-{az}-route-table", vpc_id=self.vpc.id,
                                 tags={"Name": f"{name}-private-data-{az}", **props.tags})
            RouteTableAssociation(self, f"private-data-{az}-association", subnet_id=self.private_data_subnets[index].id,
                                  route_table_id=data_rt.id)
            self.private_app_route_tables.append(app_rt)
            self.private_data_route_tables.append(data_rt)

        # S3 and DynamoDB through gateway endpoints: free, and that traffic never crosses a NAT.
        private_route_table_ids = [rt.id for rt in self.private_app_route_tables + self.private_data_route_tables]
        for service in ("s3", "dynamodb"):
            VpcEndpoint(self, f"{service}-gateway-endpoint", vpc_id=self.vpc.id,
                        service_name=f"com.amazonaws.{props.region}.{service}", vpc_endpoint_type="Gateway",
                        route_table_ids=private_route_table_ids, tags={"Name": f"{name}-{service}", **props.tags})

        self.flow_log_group = CloudwatchLogGroup(
            self, "flow-log-group", name=f"/digital-booking/{name}/vpc-flow-logs",
            retention_in_days=props.flow_log_retention_days, kms_key_id=props.log_kms_key_arn, tags=props.tags)
        #: Flow-log group name, for dashboards and metric filters.
        self.flow_log_group_name: str = self.flow_log_group.name
        flow_log_role = IamRole(
            self, "flow-log-role", name=f"{name}-vpc-flow-logs",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}}],
            }), tags=props.tags)
        IamRolePolicy(
            self, "flow-log-role-policy", name="write-flow-logs", role=flow_log_role.id,
            policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow",
                               "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                               "Resource": [self.flow_log_group.arn, f"{self.flow_log_group.arn}:*"]}],
            }))
        FlowLog(self, "flow-log", vpc_id=self.vpc.id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
                log_destination=self.flow_log_group.arn, iam_role_arn=flow_log_role.arn,
                max_aggregation_interval=60, tags={"Name": f"{name}-flow-log", **props.tags})

    def _subnets(self, tier: str, cidrs: tuple[str, ...]) -> list[Subnet]:
        # map_public_ip_on_launch is false in every tier (FSBP EC2.15): public IPs come only from EIPs/ALB.
        return [Subnet(self, f"{tier}-{az}", vpc_id=self.vpc.id, cidr_block=cidr, availability_zone=az,
                       map_public_ip_on_launch=False,
                       tags={"Name": f"{self.props.name}-{tier}-{az}", "tier": tier, **self.props.tags})
                for az, cidr in zip(self.props.azs, cidrs)]
