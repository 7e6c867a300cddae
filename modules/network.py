"""Network tier: a VPC with public, private-app and private-data subnets in every AZ.

Traffic design:
- public subnets route 0.0.0.0/0 to the internet gateway; only the ALB and NAT gateways live here;
- private-app subnets route 0.0.0.0/0 to a NAT gateway (their own AZ's when ``nat_per_az``);
- private-data subnets have no route to the internet at all, only the VPC and the gateway endpoints.
No subnet assigns public IPs, the default security group allows nothing, and every flow is logged.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
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

from modules.kit import StageContext, Tier, log_group, policy_document, service_role
from modules.settings import RETENTIONS, SectionProblems, check_retention, parse_cidr, setting

#: An Application Load Balancer needs subnets in at least two AZs.
MIN_AZS = 2


#: An availability zone name (``eu-west-1a``); its region is the name without the last letter.
AZ_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")
SUBNET_TIERS = ("public_subnets", "private_app_subnets", "private_data_subnets")


@dataclass(frozen=True)
class NetworkSettings:
    """[network]: the VPC and its three subnet tiers, one subnet of each tier per AZ."""

    vpc_cidr: str = setting(allowed="an IPv4 CIDR such as '10.10.0.0/16', prefix /16 to /24")
    azs: tuple[str, ...] = setting(allowed="distinct AZ names of the stage's region, e.g. 'eu-west-1a'")
    #: Public subnets (ALB, NAT gateways), one per AZ.
    public_subnets: tuple[str, ...] = setting(allowed="one IPv4 CIDR per AZ inside vpc_cidr")
    #: Private app subnets (app servers), one per AZ; egress through NAT.
    private_app_subnets: tuple[str, ...] = setting(allowed="one IPv4 CIDR per AZ inside vpc_cidr")
    #: Private data subnets (RDS, ElastiCache), one per AZ; no internet route.
    private_data_subnets: tuple[str, ...] = setting(allowed="one IPv4 CIDR per AZ inside vpc_cidr")
    #: One NAT gateway per AZ (survives an AZ loss) or one for the whole VPC.
    nat_gateways: Literal["single", "per_az"] = setting(
        "per_az", allowed="'single' (one NAT for the stage) or 'per_az' (required in prod)"
    )
    flow_log_retention_days: int = setting(90, allowed=f"a CloudWatch retention: {RETENTIONS}")

    @property
    def nat_per_az(self) -> bool:
        return self.nat_gateways == "per_az"

    def check(self, problems: SectionProblems, region: str) -> None:
        if len(self.azs) < MIN_AZS:
            problems.add(
                "azs",
                list(self.azs),
                f"{len(self.azs)} AZ(s) is fewer than this stage needs",
                f"at least {MIN_AZS} distinct AZs (any stage; the ALB needs 2, prod needs 3)",
            )
        if len(set(self.azs)) != len(self.azs):
            problems.add("azs", list(self.azs), "an AZ is listed twice", "distinct AZ names")
        for az in self.azs:
            if not (AZ_PATTERN.match(az) and az[:-1] == region):
                problems.add("azs", az, f"not an AZ of region {region}", f"AZ names of {region} such as '{region}a'")
        check_retention(problems, "flow_log_retention_days", self.flow_log_retention_days)

        vpc = parse_cidr(self.vpc_cidr)
        if vpc is None or not 16 <= vpc.prefixlen <= 24:
            problems.add(
                "vpc_cidr",
                self.vpc_cidr,
                "not a valid VPC CIDR",
                "an IPv4 CIDR with host bits zero, prefix /16 to /24, e.g. '10.10.0.0/16'",
            )
        seen: list[tuple[str, ipaddress.IPv4Network]] = []
        for tier in SUBNET_TIERS:
            cidrs = getattr(self, tier)
            if len(cidrs) != len(self.azs):
                problems.add(
                    tier,
                    list(cidrs),
                    f"{len(cidrs)} subnet(s) for {len(self.azs)} AZ(s)",
                    "exactly one CIDR per AZ, in the order of network.azs",
                )
            for index, text in enumerate(cidrs):
                path = f"{tier}[{index}]"
                net = parse_cidr(text)
                if net is None or not 16 <= net.prefixlen <= 28:
                    problems.add(
                        path,
                        text,
                        "not a valid subnet CIDR",
                        "an IPv4 CIDR with host bits zero, prefix /16 to /28, e.g. '10.10.1.0/24'",
                    )
                    continue
                if vpc is not None and not net.subnet_of(vpc):
                    problems.add(path, text, f"outside the VPC {self.vpc_cidr}", f"a CIDR inside {self.vpc_cidr}")
                for other_path, other in seen:
                    if net.overlaps(other):
                        problems.add(
                            path, text, f"overlaps network.{other_path} ({other})", "non-overlapping subnet CIDRs"
                        )
                seen.append((path, net))


class Network(Tier[NetworkSettings]):
    """VPC, subnets, gateways, routes, endpoints and flow logs. See the module docstring."""

    def __init__(self, scope: Construct, id_: str, settings: NetworkSettings, context: StageContext) -> None:
        super().__init__(scope, id_, settings, context)
        name = context.name

        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=settings.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=context.named(f"{name}-vpc"),
        )
        #: The VPC id and range, for security groups and subnet groups of the other tiers.
        self.vpc_id: str = self.vpc.id
        self.vpc_cidr: str = settings.vpc_cidr
        self.azs: tuple[str, ...] = settings.azs

        # FSBP EC2.2: the default group must allow nothing, so nothing lands in it by accident.
        DefaultSecurityGroup(
            self,
            "default-security-group",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=context.named(f"{name}-default-deny-all"),
        )

        self.public_subnets = self._subnets("public", settings.public_subnets)
        self.private_app_subnets = self._subnets("private-app", settings.private_app_subnets)
        self.private_data_subnets = self._subnets("private-data", settings.private_data_subnets)
        self.public_subnet_ids: list[str] = [s.id for s in self.public_subnets]
        self.private_app_subnet_ids: list[str] = [s.id for s in self.private_app_subnets]
        self.private_data_subnet_ids: list[str] = [s.id for s in self.private_data_subnets]

        igw = InternetGateway(self, "internet-gateway", vpc_id=self.vpc.id, tags=context.named(f"{name}-igw"))
        public_rt = RouteTable(self, "public-route-table", vpc_id=self.vpc.id, tags=context.named(f"{name}-public"))
        Route(
            self,
            "public-internet-route",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
        )
        for az, subnet in zip(settings.azs, self.public_subnets, strict=True):
            RouteTableAssociation(self, f"public-{az}-association", subnet_id=subnet.id, route_table_id=public_rt.id)

        nat_azs = settings.azs if settings.nat_per_az else settings.azs[:1]
        self.nat_gateways: list[NatGateway] = []
        for az, subnet in zip(nat_azs, self.public_subnets, strict=False):  # single NAT: the first AZ only
            eip = Eip(self, f"nat-{az}-eip", domain="vpc", tags=context.named(f"{name}-nat-{az}"))
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{az}",
                    allocation_id=eip.id,
                    subnet_id=subnet.id,
                    tags=context.named(f"{name}-nat-{az}"),
                    depends_on=[igw],
                )
            )
        #: NAT gateway ids, for the monitoring tier's port-allocation alarms (one per gateway).
        self.nat_gateway_ids: list[str] = [nat.id for nat in self.nat_gateways]

        self.private_app_route_tables: list[RouteTable] = []
        self.private_data_route_tables: list[RouteTable] = []
        for index, az in enumerate(settings.azs):
            app_rt = RouteTable(
                self,
                f"private-app-{az}-route-table",
                vpc_id=self.vpc.id,
                tags=context.named(f"{name}-private-app-{az}"),
            )
            nat = self.nat_gateways[index if settings.nat_per_az else 0]
            Route(
                self,
                f"private-app-{az}-nat-route",
                route_table_id=app_rt.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
            )
            RouteTableAssociation(
                self,
                f"private-app-{az}-association",
                subnet_id=self.private_app_subnets[index].id,
                route_table_id=app_rt.id,
            )
            # Data subnets get a table with only the local route (and the gateway endpoints): no egress.
            data_rt = RouteTable(
                self,
                f"private-data-{az}-route-table",
                vpc_id=self.vpc.id,
                tags=context.named(f"{name}-private-data-{az}"),
            )
            RouteTableAssociation(
                self,
                f"private-data-{az}-association",
                subnet_id=self.private_data_subnets[index].id,
                route_table_id=data_rt.id,
            )
            self.private_app_route_tables.append(app_rt)
            self.private_data_route_tables.append(data_rt)

        # S3 and DynamoDB through gateway endpoints: free, and that traffic never crosses a NAT.
        private_route_table_ids = [rt.id for rt in self.private_app_route_tables + self.private_data_route_tables]
        for service in ("s3", "dynamodb"):
            VpcEndpoint(
                self,
                f"{service}-gateway-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{context.region}.{service}",
                vpc_endpoint_type="Gateway",
                route_table_ids=private_route_table_ids,
                tags=context.named(f"{name}-{service}"),
            )

        self.flow_log_group = log_group(
            self, "flow-log-group", context, f"/digital-booking/{name}/vpc-flow-logs", settings.flow_log_retention_days
        )
        #: Flow-log group name, for dashboards and metric filters.
        self.flow_log_group_name: str = self.flow_log_group.name
        flow_log_role = service_role(
            self, "flow-log-role", f"{name}-vpc-flow-logs", "vpc-flow-logs.amazonaws.com", tags=context.tags
        )
        IamRolePolicy(
            self,
            "flow-log-role-policy",
            name="write-flow-logs",
            role=flow_log_role.id,
            policy=policy_document(
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [self.flow_log_group.arn, f"{self.flow_log_group.arn}:*"],
                }
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=flow_log_role.arn,
            max_aggregation_interval=60,
            tags=context.named(f"{name}-flow-log"),
        )

    def _subnets(self, tier: str, cidrs: tuple[str, ...]) -> list[Subnet]:
        # map_public_ip_on_launch is false in every tier (FSBP EC2.15): public IPs come only from EIPs/ALB.
        return [
            Subnet(
                self,
                f"{tier}-{az}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={"Name": f"{self.context.name}-{tier}-{az}", "tier": tier, **self.context.tags},
            )
            for az, cidr in zip(self.settings.azs, cidrs, strict=True)
        ]
