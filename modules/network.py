"""Network tier: a VPC with public, private-app and private-data subnets in every AZ.

Traffic design:
- public subnets route 0.0.0.0/0 to the internet gateway; only the ALB and NAT gateways live here;
- private-app subnets route 0.0.0.0/0 to a NAT gateway (their own AZ's when ``nat_per_az``);
- private-data subnets have no route to the internet at all, only the VPC and the gateway endpoints.
No subnet assigns public IPs, the default security group allows nothing, and every flow is logged.

Private paths to AWS APIs (``interface_endpoints``): an interface endpoint in every AZ's app subnet
for SSM (and its agent's messages), Secrets Manager, CloudWatch Logs and metrics, KMS, STS and EC2,
with private DNS, so the instances reach them without a NAT gateway (an AZ's NAT failure no longer
cuts them off from their secrets and logs; FSBP EC2.10). Their own security group admits HTTPS from
the app subnets only; where the service supports endpoint policies, only principals of this account
may use them.

Network ACLs, a second layer under the security groups: the default ACL is managed and admits
nothing (every subnet has its tier's ACL instead). NACLs are stateless, so each rule comes with the
rule for its replies on ephemeral ports:
- public: HTTP/HTTPS from anywhere (the ALB's listeners; HTTPS also carries the NAT's traffic from the
  app tier), replies to anywhere; HTTPS out (the NAT), and its replies back in;
- private-app: what the tiers open with :meth:`Network.open_tier_port` (the app port from the public
  tier), HTTPS out to anywhere (NAT, gateway and interface endpoints) and its replies;
- private-data: the database and cache ports from the app subnets only, and replies to them.
"From anywhere" never covers port 22 or 3389 (FSBP EC2.21, checkov CKV_AWS_231): the ephemeral range
from anywhere is split around 3389. Services' own traffic (DNS, DHCP, instance metadata, time sync)
is not filtered by network ACLs at all.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.default_network_acl import DefaultNetworkAcl
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.network_acl import NetworkAcl
from cdktf_cdktf_provider_aws.network_acl_rule import NetworkAclRule
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.kit import StageContext, Tier, log_group, policy_document, service_role, tier_security_group
from modules.settings import RETENTIONS, SectionProblems, check_retention, parse_cidr, setting

#: An Application Load Balancer needs subnets in at least two AZs.
MIN_AZS = 2


#: An availability zone name (``eu-west-1a``); its region is the name without the last letter.
AZ_PATTERN = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")
SUBNET_TIERS = ("public_subnets", "private_app_subnets", "private_data_subnets")
#: The subnet tiers as :meth:`Network.open_tier_port` names them.
TIERS = ("public", "private-app", "private-data")

#: Interface endpoints, by service, and whether the service takes an endpoint policy. "AWS services
#: that integrate with AWS PrivateLink" marks which do: EC2, CloudWatch, CloudWatch Logs, KMS, Secrets
#: Manager and STS do; Systems Manager (ssm, ssmmessages, ec2messages) does not, and "if a service
#: doesn't support endpoint policies, we allow full access to any endpoint for the service"
#: ("Control access to VPC endpoints using endpoint policies"). ec2 is there for FSBP EC2.10; autoscaling
#: for the lifecycle hooks the instances complete ("Amazon EC2 Auto Scaling and interface VPC endpoints",
#: which also describes its endpoint policy), so a new instance needs no NAT to go in service.
INTERFACE_ENDPOINTS: dict[str, bool] = {
    "ssm": False,
    "ssmmessages": False,
    "ec2messages": False,
    "secretsmanager": True,
    "logs": True,
    "monitoring": True,
    "kms": True,
    "sts": True,
    "ec2": True,
    "autoscaling": True,
}
#: Ephemeral (client) ports, and the same range from anywhere without the remote-desktop port:
#: an ingress rule from 0.0.0.0/0 covering 22 or 3389 fails FSBP EC2.21 / checkov CKV_AWS_231.
EPHEMERAL = (1024, 65535)
EPHEMERAL_FROM_ANYWHERE = ((1024, 3388), (3390, 65535))
ANYWHERE = "0.0.0.0/0"


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
    #: Interface endpoints for the AWS APIs the instances call (SSM, Secrets Manager, logs, metrics, KMS,
    #: STS, EC2, Auto Scaling) in every AZ, instead of reaching them through the NAT gateways.
    interface_endpoints: bool = setting(
        False,
        allowed=(
            "true or false: private paths to SSM, Secrets Manager, CloudWatch Logs and metrics, KMS, STS, EC2"
            " and Auto Scaling (10 endpoints in every AZ, about $8 a month each per AZ; true in production)"
        ),
    )

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
        #: Each tier's subnet ranges (what the network ACLs admit from and to).
        self.tier_cidrs: dict[str, tuple[str, ...]] = {
            "public": settings.public_subnets,
            "private-app": settings.private_app_subnets,
            "private-data": settings.private_data_subnets,
        }
        self._network_acls()

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

        #: The interface endpoints' services (none when the stage keeps API traffic on the NAT).
        self.interface_endpoint_services: tuple[str, ...] = ()
        if settings.interface_endpoints:
            self._interface_endpoints()

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

    # -- network ACLs ------------------------------------------------------------------------------

    def open_tier_port(self, port: int, *, from_tier: str, to_tier: str, what: str) -> None:
        """TCP ``port`` from every subnet of ``from_tier`` to every subnet of ``to_tier``, through both tiers'
        network ACLs, and the replies back on ephemeral ports (the ACLs are stateless)."""
        for tier in (from_tier, to_tier):
            if tier not in TIERS:
                raise ValueError(f"no subnet tier {tier!r}: one of {', '.join(TIERS)}")
        for source in self.tier_cidrs[from_tier]:
            self._acl_rule(to_tier, False, (port, port), source, f"{what} from {source}")
        for destination in self.tier_cidrs[to_tier]:
            self._acl_rule(from_tier, True, (port, port), destination, f"{what} to {destination}")
        if (from_tier, to_tier) not in self._reply_paths:
            self._reply_paths.add((from_tier, to_tier))
            for destination in self.tier_cidrs[to_tier]:
                self._acl_rule(from_tier, False, EPHEMERAL, destination, f"replies from {destination}")
            for source in self.tier_cidrs[from_tier]:
                self._acl_rule(to_tier, True, EPHEMERAL, source, f"replies to {source}")

    def _network_acls(self) -> None:
        context, name = self.context, self.context.name
        # The default ACL admits nothing: a subnet that ever falls back to it (its own ACL deleted) is cut
        # off rather than open. Subnets come back to it only while their tier's ACL is being replaced.
        DefaultNetworkAcl(
            self,
            "default-network-acl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            tags=context.named(f"{name}-default-deny-all"),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["subnet_ids"]),
        )
        subnets = {
            "public": self.public_subnet_ids,
            "private-app": self.private_app_subnet_ids,
            "private-data": self.private_data_subnet_ids,
        }
        self.network_acls: dict[str, NetworkAcl] = {
            tier: NetworkAcl(
                self,
                f"{tier}-network-acl",
                vpc_id=self.vpc.id,
                subnet_ids=subnets[tier],
                tags=context.named(f"{name}-{tier}"),
            )
            for tier in TIERS
        }
        self._rule_numbers: dict[tuple[str, bool], int] = {}
        self._reply_paths: set[tuple[str, str]] = set()
        # Public: the ALB's listeners from anywhere, and its replies.
        for port, what in ((443, "HTTPS"), (80, "HTTP")):
            self._acl_rule("public", False, (port, port), ANYWHERE, f"{what} to the ALB; HTTPS also to the NAT")
        self._acl_rule("public", True, EPHEMERAL, ANYWHERE, "replies to clients of the ALB")
        # The NAT gateways forward the app tier's HTTPS (it arrives on 443 above) and get the replies.
        self._acl_rule("public", True, (443, 443), ANYWHERE, "HTTPS out through the NAT")
        for low, high in EPHEMERAL_FROM_ANYWHERE:
            self._acl_rule("public", False, (low, high), ANYWHERE, "replies to the NAT's connections")
        # App tier: HTTPS out (NAT, the S3/DynamoDB gateway endpoints, the interface endpoints) and replies.
        self._acl_rule("private-app", True, (443, 443), ANYWHERE, "HTTPS to AWS APIs and packages")
        for low, high in EPHEMERAL_FROM_ANYWHERE:
            self._acl_rule("private-app", False, (low, high), ANYWHERE, "replies to the app servers' HTTPS")

    def _acl_rule(self, tier: str, egress: bool, ports: tuple[int, int], cidr: str, what: str) -> None:
        """One allow rule, numbered in the order rules are added (100, 110, ...) per ACL and direction."""
        number = self._rule_numbers.get((tier, egress), 100)
        self._rule_numbers[(tier, egress)] = number + 10
        NetworkAclRule(
            self,
            f"{tier}-{'egress' if egress else 'ingress'}-{number}",
            network_acl_id=self.network_acls[tier].id,
            rule_number=number,
            egress=egress,
            protocol="tcp",
            rule_action="allow",
            cidr_block=cidr,
            from_port=ports[0],
            to_port=ports[1],
        )

    # -- interface endpoints --------------------------------------------------------------------------

    def _interface_endpoints(self) -> None:
        context, name, account = self.context, self.context.name, self.context.account
        security_group = tier_security_group(
            self, context, self.vpc.id, "endpoints", f"Interface endpoints of {name}: HTTPS from the app subnets only"
        )
        for index, cidr in enumerate(self.settings.private_app_subnets):
            VpcSecurityGroupIngressRule(
                self,
                f"endpoints-ingress-{index}",
                security_group_id=security_group.id,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=cidr,
                description=f"HTTPS from the app subnet {cidr}",
                tags=context.resource_tags,
            )
        # Between app subnets (an instance may use another AZ's endpoint address): the app tier's ACL.
        self.open_tier_port(443, from_tier="private-app", to_tier="private-app", what="HTTPS to interface endpoints")
        # Only principals of this account may use the endpoints (an identity perimeter: credentials of
        # another account brought into the VPC cannot reach their own account's APIs through them).
        this_account = policy_document(
            {
                "Sid": "OnlyThisAccountsPrincipals",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account.account_id}},
            }
        )
        for service, takes_policy in INTERFACE_ENDPOINTS.items():
            VpcEndpoint(
                self,
                f"{service}-interface-endpoint",
                vpc_id=self.vpc.id,
                service_name=f"com.amazonaws.{context.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(self.private_app_subnet_ids),
                security_group_ids=[security_group.id],
                policy=this_account if takes_policy else None,
                tags=context.named(f"{name}-{service}"),
            )
        self.interface_endpoint_services = tuple(INTERFACE_ENDPOINTS)

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
