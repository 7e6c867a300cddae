"""``make diagram``: the architecture diagram (``docs/architecture.svg``), drawn from the synthesized stacks.

Nothing here is drawn from a hand-kept list: :func:`describe` reads one stage's ``cdk.tf.json``
(which resource types exist, their AZs, subnets, NAT gateways, listeners, instance counts, database
and cache replicas, alarms) and :func:`render` draws only what it found, so a tier removed from the
code disappears from the picture, and ``tests/tools/test_diagram.py`` fails until the checked-in
file is regenerated. The production stage is drawn in full; a table below it compares every stage.

The SVG is written by hand (no graphviz or other system package) and is deterministic: same
stacks, same bytes.

    python -m tools.diagram                 # synthesize every stage, write docs/architecture.svg
    python -m tools.diagram --check         # exit 1 if the checked-in file differs
    python -m tools.diagram --synth-dir cdktf.out   # draw from an existing synth output
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUTPUT = PROJECT_DIR / "docs" / "architecture.svg"
STACK_PREFIX = "digital-booking-"
#: The accounts' security baselines: account-wide, not a stage's platform (no row, nothing drawn).
ACCOUNT_STACKS = f"{STACK_PREFIX}security-"
TIERS = ("public", "private-app", "private-data")


# --------------------------------------------------------------------------------------------
# What a stage contains, read from its synthesized Terraform JSON
# --------------------------------------------------------------------------------------------
def _plain(value: Any) -> str | None:
    """A literal value as text; ``None`` for unknowns (interpolations, missing)."""
    if value is None or (isinstance(value, str) and "${" in value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _path(config: dict[str, Any]) -> str:
    """Construct path inside the stack (``load-balancer/access-log-bucket``)."""
    path = str(config.get("//", {}).get("metadata", {}).get("path", ""))
    return path.split("/", 1)[1] if "/" in path else path


@dataclass(frozen=True)
class Database:
    engine: str
    instance_class: str
    multi_az: bool
    replicas: int
    cluster: bool = False


@dataclass(frozen=True)
class Cache:
    engine: str
    nodes: int
    multi_az: bool
    node_type: str


@dataclass
class StageModel:
    """Everything the diagram draws for one stage."""

    stage: str
    region: str = "?"
    vpc_cidr: str = "?"
    azs: list[str] = field(default_factory=list)
    subnets: dict[str, dict[str, str]] = field(default_factory=dict)  # tier -> az -> cidr
    nat_azs: list[str] = field(default_factory=list)
    internet_gateway: bool = False
    gateway_endpoints: list[str] = field(default_factory=list)
    interface_endpoints: int = 0
    flow_logs: bool = False
    alb: bool = False
    listeners: list[str] = field(default_factory=list)  # "HTTPS 443", "HTTP 80 -> 301"
    waf: bool = False
    dns_record: bool = False
    app: tuple[int, int, int] | None = None  # min, desired, max
    instance_type: str = "?"
    instance_types: list[str] = field(default_factory=list)  # a mixed instances policy's, in order
    warm_pool: bool = False
    databases: list[Database] = field(default_factory=list)
    caches: list[Cache] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    cloudfront: bool = False
    alarms: int = 0
    dashboards: int = 0
    topics: int = 0
    log_groups: int = 0
    kms_keys: int = 0
    secrets: int = 0

    @property
    def has_monitoring(self) -> bool:
        return bool(self.alarms or self.dashboards or self.topics)


def describe(stage: str, tf: dict[str, Any]) -> StageModel:
    """Read one stage's ``cdk.tf.json`` into a :class:`StageModel`."""
    res: dict[str, dict[str, dict[str, Any]]] = tf.get("resource", {})

    def of(rtype: str) -> list[tuple[str, dict[str, Any]]]:
        return sorted(res.get(rtype, {}).items())

    model = StageModel(stage=stage)
    providers = tf.get("provider", {}).get("aws", [{}])
    model.region = _plain(providers[0].get("region")) or "?"
    for _, vpc in of("aws_vpc"):
        model.vpc_cidr = _plain(vpc.get("cidr_block")) or "?"
    subnet_az: dict[str, str] = {}
    for name, subnet in of("aws_subnet"):
        az = _plain(subnet.get("availability_zone")) or "?"
        tier = subnet.get("tags", {}).get("tier") or next((t for t in reversed(TIERS) if t in name), "other")
        model.subnets.setdefault(tier, {})[az] = _plain(subnet.get("cidr_block")) or "?"
        subnet_az[name] = az
    model.azs = sorted({az for cells in model.subnets.values() for az in cells})
    for _, nat in of("aws_nat_gateway"):
        ref = str(nat.get("subnet_id", ""))
        model.nat_azs.append(next((az for name, az in subnet_az.items() if f"aws_subnet.{name}." in ref), "?"))
    model.nat_azs.sort()
    model.internet_gateway = bool(res.get("aws_internet_gateway"))
    for _, endpoint in of("aws_vpc_endpoint"):
        service = _plain(endpoint.get("service_name")) or ""
        if (endpoint.get("vpc_endpoint_type") or "Gateway") == "Gateway":
            model.gateway_endpoints.append(
                {"s3": "S3", "dynamodb": "DynamoDB"}.get(service.rsplit(".", 1)[-1], service.rsplit(".", 1)[-1])
            )
        elif endpoint.get("vpc_endpoint_type") == "Interface":
            model.interface_endpoints += 1
    model.gateway_endpoints.sort()
    model.flow_logs = bool(res.get("aws_flow_log"))

    model.alb = any(_plain(lb.get("load_balancer_type")) in (None, "application") for _, lb in of("aws_lb"))
    for _, listener in of("aws_lb_listener"):
        text = f"{listener.get('protocol', '?')} {listener.get('port', '?')}"
        if any(a.get("type") == "redirect" for a in listener.get("default_action", [])):
            text += " -> 301"
        model.listeners.append(text)
    model.listeners.sort(key=lambda t: (not t.startswith("HTTPS"), t))
    model.waf = bool(res.get("aws_wafv2_web_acl_association"))
    model.dns_record = bool(res.get("aws_route53_record")) and model.alb

    for _, asg in of("aws_autoscaling_group"):
        model.app = (
            int(asg.get("min_size", 0)),
            int(asg.get("desired_capacity", asg.get("min_size", 0))),
            int(asg.get("max_size", 0)),
        )
        overrides = (asg.get("mixed_instances_policy") or {}).get("launch_template", {}).get("override", [])
        model.instance_types = [_plain(o.get("instance_type")) or "?" for o in overrides]
        model.warm_pool = bool(asg.get("warm_pool"))
    for _, template in of("aws_launch_template"):
        model.instance_type = _plain(template.get("instance_type")) or model.instance_type

    instances = of("aws_db_instance")
    primaries = [(n, c) for n, c in instances if not c.get("replicate_source_db")]
    for name, db in primaries:
        replicas = sum(1 for _, c in instances if f"aws_db_instance.{name}." in str(c.get("replicate_source_db", "")))
        engine = " ".join(filter(None, (_plain(db.get("engine")), _plain(db.get("engine_version")))))
        model.databases.append(
            Database(engine or "?", _plain(db.get("instance_class")) or "?", _true(db.get("multi_az")), replicas)
        )
    if not primaries and instances:  # replicas of a database kept elsewhere
        model.databases.append(Database("?", "?", False, len(instances)))
    for name, cluster in of("aws_rds_cluster"):
        members = sum(1 for _, c in of("aws_rds_cluster_instance") if f"aws_rds_cluster.{name}." in str(c))
        model.databases.append(
            Database(_plain(cluster.get("engine")) or "?", "cluster", members > 1, max(members - 1, 0), cluster=True)
        )
    for _, group in of("aws_elasticache_replication_group"):
        nodes = group.get("num_cache_clusters")
        if nodes is None and group.get("num_node_groups") is not None:
            nodes = int(group["num_node_groups"]) * (1 + int(group.get("replicas_per_node_group", 0)))
        engine = " ".join(filter(None, (_plain(group.get("engine")) or "redis", _plain(group.get("engine_version")))))
        model.caches.append(
            Cache(engine, int(nodes or 1), _true(group.get("multi_az_enabled")), _plain(group.get("node_type")) or "?")
        )
    for _, cluster in of("aws_elasticache_cluster"):
        if not cluster.get("replication_group_id"):
            model.caches.append(
                Cache(
                    _plain(cluster.get("engine")) or "?",
                    int(cluster.get("num_cache_nodes", 1)),
                    False,
                    _plain(cluster.get("node_type")) or "?",
                )
            )
    model.buckets = sorted(_path(b) or n for n, b in of("aws_s3_bucket"))
    model.cloudfront = bool(res.get("aws_cloudfront_distribution"))
    model.alarms = len(res.get("aws_cloudwatch_metric_alarm", {})) + len(res.get("aws_cloudwatch_composite_alarm", {}))
    model.dashboards = len(res.get("aws_cloudwatch_dashboard", {}))
    model.topics = len(res.get("aws_sns_topic", {}))
    model.log_groups = len(res.get("aws_cloudwatch_log_group", {}))
    model.kms_keys = len(res.get("aws_kms_key", {}))
    model.secrets = len(res.get("aws_secretsmanager_secret", {}))
    return model


def stage_models(stacks: dict[str, dict[str, Any]]) -> list[StageModel]:
    """Every stage stack (not the state bootstrap), dev/staging/prod first, then by name."""
    order = {"dev": 0, "staging": 1, "prod": 2}
    stages = [
        (name.removeprefix(STACK_PREFIX), tf)
        for name, tf in stacks.items()
        if name.startswith(STACK_PREFIX) and name != f"{STACK_PREFIX}state" and not name.startswith(ACCOUNT_STACKS)
    ]
    return [describe(stage, tf) for stage, tf in sorted(stages, key=lambda s: (order.get(s[0], 9), s[0]))]


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
WIDTH = 1200
COLOURS = {
    "region": "#f7f9fc",
    "vpc": "#ffffff",
    "public": "#e8f5e9",
    "private-app": "#e3f2fd",
    "private-data": "#fff3e0",
    "service": "#fafafa",
    "edge": "#ede7f6",
    "stroke": "#546e7a",
    "flow": "#1e88e5",
    "egress": "#8d6e63",
    "monitor": "#7b1fa2",
    "danger": "#c62828",
}


class Svg:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: str,
        stroke: str = COLOURS["stroke"],
        dash: bool = False,
        rx: int = 6,
        sw: float = 1.2,
    ) -> None:
        extra = ' stroke-dasharray="6 4"' if dash else ""
        self.parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="{rx}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{sw}"{extra}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        value: str,
        size: int = 12,
        weight: str = "normal",
        anchor: str = "start",
        fill: str = "#263238",
    ) -> None:
        self.parts.append(
            f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}" fill="{fill}">{escape(value)}</text>'
        )

    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        title: str,
        lines: list[str],
        fill: str,
        stroke: str = COLOURS["stroke"],
    ) -> None:
        self.rect(x, y, w, h, fill, stroke)
        self.text(x + w / 2, y + 17, title, 13, "bold", "middle")
        for i, line in enumerate(lines):
            self.text(x + w / 2, y + 33 + 14 * i, line, 11, anchor="middle", fill="#37474f")

    def arrow(
        self, points: list[tuple[float, float]], colour: str, label: str = "", dash: bool = False, label_at: int = 0
    ) -> None:
        marker = {COLOURS["flow"]: "flow", COLOURS["egress"]: "egress", COLOURS["monitor"]: "monitor"}[colour]
        d = " ".join(f"{'M' if i == 0 else 'L'}{x:.0f},{y:.0f}" for i, (x, y) in enumerate(points))
        extra = ' stroke-dasharray="5 4"' if dash else ""
        self.parts.append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{extra} marker-end="url(#arrow-{marker})"/>'
        )
        if label:
            (x1, y1), (x2, y2) = points[label_at], points[label_at + 1]
            if y1 == y2:  # horizontal: centred above the line
                self.text((x1 + x2) / 2, y1 - 6, label, 11, "bold", "middle", colour)
            else:
                self.text((x1 + x2) / 2 + 6, (y1 + y2) / 2 + 4, label, 11, "bold", "start", colour)

    def document(self, height: int) -> str:
        markers = "".join(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{COLOURS[name]}"/></marker>'
            for name in ("flow", "egress", "monitor")
        )
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">\n'
            f"<title>Digital Booking platform architecture (generated by tools/diagram.py)</title>\n"
            f'<defs>{markers}</defs>\n<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>\n'
        )
        return head + "\n".join(self.parts) + "\n</svg>\n"


def _db_lines(db: Database) -> list[str]:
    shape = "primary" + (" + Multi-AZ standby" if db.multi_az else " (single-AZ)")
    if db.replicas:
        shape += f" + {db.replicas} read replica{'s' if db.replicas > 1 else ''}"
    return [f"{db.engine} · {db.instance_class}", shape]


def _cache_lines(cache: Cache) -> list[str]:
    return [
        f"{cache.engine} · {cache.node_type}",
        f"{cache.nodes} node{'s' if cache.nodes > 1 else ''}" + (", Multi-AZ failover" if cache.multi_az else ""),
    ]


def _cache_protocol(cache: Cache) -> str:
    """The engine in use, as the arrow to the cache names it: "Valkey (TLS)", "Redis (TLS)"."""
    return {"valkey": "Valkey", "redis": "Redis"}.get(cache.engine.split()[0], cache.engine.split()[0]) + " (TLS)"


def _fleet_types(m: StageModel) -> str:
    return " | ".join(m.instance_types) if m.instance_types else m.instance_type


def _draw_stage(svg: Svg, m: StageModel, top: int) -> int:
    """The detailed picture of one stage; returns the y below it."""
    region_x, region_y, region_w = 190, top, WIDTH - 210
    vpc_x, vpc_y, vpc_w = region_x + 20, top + 40, 700
    lanes = max(len(m.azs), 1)
    lane_x0, lane_gap = vpc_x + 20, 12
    lane_w = (vpc_w - 40 - lane_gap * (lanes - 1)) / lanes
    row_y = {"public": vpc_y + 60, "private-app": vpc_y + 215, "private-data": vpc_y + 355}
    data_rows = max(len(m.databases), len(m.caches))  # databases and caches side by side
    row_h = {"public": 130, "private-app": 115, "private-data": max(120, 40 + 62 * data_rows)}
    vpc_h = row_y["private-data"] + row_h["private-data"] + 45 - vpc_y
    side_x, side_w = vpc_x + vpc_w + 20, region_x + region_w - (vpc_x + vpc_w + 20) - 20

    # regional services beside the VPC, each only if the stage has it
    services: list[tuple[str, list[str], str]] = []
    if m.buckets:  # first: CloudFront reaches it over the top of the region
        services.append(
            (
                "S3",
                [b.split("/")[0] + ": " + b.split("/")[-1] for b in m.buckets[:3]]
                + ([f"+{len(m.buckets) - 3} more"] if len(m.buckets) > 3 else []),
                COLOURS["service"],
            )
        )
    if m.waf:
        services.append(("AWS WAF", ["web ACL on the ALB", "managed rules + rate limit"], COLOURS["edge"]))
    if m.kms_keys or m.secrets:
        parts = [f"{m.kms_keys} KMS key(s)" if m.kms_keys else "", f"{m.secrets} secret(s)" if m.secrets else ""]
        services.append(
            ("KMS / Secrets Manager" if m.secrets else "KMS", [", ".join(filter(None, parts))], COLOURS["service"])
        )
    services.append(
        (
            "CloudWatch",
            [f"{m.log_groups} log group(s)"]
            + ([f"{m.alarms} alarm(s), {m.dashboards} dashboard(s)"] if m.has_monitoring else []),
            COLOURS["service"],
        )
    )
    if m.topics:
        services.append(("SNS", [f"{m.topics} alarm topic(s) -> e-mail"], COLOURS["service"]))
    service_y = [vpc_y]
    for _, lines, _ in services:
        service_y.append(service_y[-1] + 30 + 14 * len(lines) + 18)
    region_h = max(vpc_h, service_y[-1] - vpc_y) + 60

    svg.rect(region_x, region_y, region_w, region_h, COLOURS["region"], dash=True)
    svg.text(region_x + 12, region_y + 22, f"AWS {m.region}: stage {m.stage}", 14, "bold")
    svg.rect(vpc_x, vpc_y, vpc_w, vpc_h, COLOURS["vpc"], sw=1.6)
    svg.text(vpc_x + 12, vpc_y + 20, f"VPC {m.vpc_cidr}", 13, "bold")
    if m.internet_gateway:
        svg.box(vpc_x + vpc_w / 2 - 80, vpc_y - 14, 160, 28, "Internet gateway", [], COLOURS["edge"])

    for i, az in enumerate(m.azs):
        x = lane_x0 + i * (lane_w + lane_gap)
        svg.text(x + lane_w / 2, vpc_y + 50, az, 12, "bold", "middle", "#455a64")
        for tier in TIERS:
            cidr = m.subnets.get(tier, {}).get(az)
            if cidr is None:
                continue
            svg.rect(x, row_y[tier], lane_w, row_h[tier], COLOURS[tier], rx=4)
            svg.text(x + 6, row_y[tier] + 14, f"{tier} {cidr}", 10, fill="#455a64")

    inner_x, inner_w = lane_x0 + 10, vpc_w - 60
    Box = tuple[float, float, float, float]
    alb_box: Box | None = None
    app_box: Box | None = None
    if m.alb:
        alb_box = (inner_x, row_y["public"] + 22, inner_w, 46)
        svg.box(
            *alb_box,
            "Application Load Balancer" + (" + WAF" if m.waf else ""),
            [", ".join(m.listeners) + (" · Route 53 alias" if m.dns_record else "")],
            "#c8e6c9",
        )
    for az in m.nat_azs:
        i = m.azs.index(az) if az in m.azs else 0
        x = lane_x0 + i * (lane_w + lane_gap) + lane_w / 2 - 60
        svg.box(x, row_y["public"] + 80, 120, 40, "NAT gateway", [], "#dcedc8")
    if m.app:
        app_box = (inner_x, row_y["private-app"] + 24, inner_w, 62)
        svg.box(
            *app_box,
            "App servers: Auto Scaling group",
            [
                f"{_fleet_types(m)} · min {m.app[0]} / desired {m.app[1]} / max {m.app[2]}"
                + (" · warm pool" if m.warm_pool else ""),
                "IMDSv2 · encrypted gp3 · SSM, no SSH",
            ],
            "#bbdefb",
        )
    data_boxes: list[tuple[Box, str]] = []  # (box, protocol)
    columns = [
        c
        for c in (
            [
                ("RDS " + ("Aurora cluster" if db.cluster else "database"), _db_lines(db), "SQL (TLS)")
                for db in m.databases
            ],
            [("ElastiCache", _cache_lines(cache), _cache_protocol(cache)) for cache in m.caches],
        )
        if c
    ]
    col_w = (inner_w - 20 * (len(columns) - 1)) / max(len(columns), 1)
    for c, column in enumerate(columns):
        for r, (title, lines, protocol) in enumerate(column):
            data_box: Box = (inner_x + c * (col_w + 20), row_y["private-data"] + 24 + 62 * r, col_w, 52)
            svg.box(*data_box, title, lines, "#ffe0b2")
            if r == 0:
                data_boxes.append((data_box, protocol))
    footer = ["data subnets: no internet route"] if "private-data" in m.subnets else []
    if m.gateway_endpoints:
        footer.append(" + ".join(m.gateway_endpoints) + " gateway endpoints")
    if m.interface_endpoints:
        footer.append(f"{m.interface_endpoints} interface endpoints")
    if m.flow_logs:
        footer.append("flow logs (ALL) -> CloudWatch")
    svg.text(vpc_x + 12, vpc_y + vpc_h - 14, " · ".join(footer), 11, fill="#455a64")

    # services column
    for (title, lines, fill), sy in zip(services, service_y, strict=False):  # more rows than services
        svg.box(side_x, sy, side_w, 30 + 14 * len(lines), title, lines, fill)

    # users and the edge, left of the region
    users = (20, row_y["public"] + 22, 120, 46)
    svg.box(*users, "Users", ["the internet"], COLOURS["edge"])
    if m.cloudfront:
        cdn = (20, vpc_y, 120, 46)
        svg.box(*cdn, "CloudFront", ["static assets, OAC"], COLOURS["edge"])
        svg.arrow([(80, users[1]), (80, cdn[1] + 46)], COLOURS["flow"], "HTTPS")
        if "S3" in [s[0] for s in services]:
            top = region_y - 10
            svg.arrow(
                [
                    (140, cdn[1] + 23),
                    (160, cdn[1] + 23),
                    (160, top),
                    (side_x + side_w / 2, top),
                    (side_x + side_w / 2, service_y[0]),
                ],
                COLOURS["flow"],
                "origin access control",
                label_at=2,
            )
    if alb_box:
        https = any(item.startswith("HTTPS") for item in m.listeners)
        svg.arrow(
            [(140, users[1] + 23), (alb_box[0], users[1] + 23)], COLOURS["flow"], "HTTPS 443" if https else "HTTP 80"
        )
    # vertical flows run through the gaps between AZ lanes, clear of the per-AZ NAT gateways
    gap_x = lane_x0 + lane_w + lane_gap / 2 if lanes > 1 else lane_x0 + lane_w - 20
    if alb_box and app_box:
        svg.arrow([(gap_x, alb_box[1] + alb_box[3]), (gap_x, app_box[1])], COLOURS["flow"], "app port")
    if app_box:
        for box, protocol in data_boxes:
            x = box[0] + box[2] / 2
            svg.arrow([(x, app_box[1] + app_box[3]), (x, box[1])], COLOURS["flow"], protocol)
        for az in sorted(set(m.nat_azs)):  # each AZ's app subnets leave through their NAT
            lane = m.azs.index(az) if az in m.azs else 0
            nat_x = lane_x0 + lane * (lane_w + lane_gap) + lane_w / 2
            svg.arrow(
                [(nat_x, app_box[1]), (nat_x, row_y["public"] + 120)],
                COLOURS["egress"],
                "egress" if lane == 0 else "",
                dash=True,
            )
    # everything reports to CloudWatch; alarms notify SNS
    cw = next(sy for (title, _, _), sy in zip(services, service_y, strict=False) if title == "CloudWatch")
    svg.arrow([(vpc_x + vpc_w, cw + 20), (side_x, cw + 20)], COLOURS["monitor"], "", dash=True)
    if m.topics:
        sns = next(sy for (title, _, _), sy in zip(services, service_y, strict=False) if title == "SNS")
        svg.arrow(
            [(side_x + side_w / 2, cw + 30 + 14 * (2 if m.has_monitoring else 1)), (side_x + side_w / 2, sns)],
            COLOURS["monitor"],
            "alarms",
        )
    if m.waf and alb_box:
        waf = next(sy for (title, _, _), sy in zip(services, service_y, strict=False) if title == "AWS WAF")
        svg.arrow([(side_x, waf + 22), (alb_box[0] + alb_box[2], alb_box[1] + 23)], COLOURS["monitor"], dash=True)
    return region_y + region_h + 20


def _stage_rows(models: list[StageModel]) -> tuple[list[str], list[list[str]]]:
    headers = ["stage", "AZs", "NAT gateways", "app (min/desired/max)", "load balancer", "database", "cache", "alarms"]
    rows = []
    for m in models:
        db = (
            "; ".join(
                f"{d.engine} {d.instance_class}{' Multi-AZ' if d.multi_az else ''}"
                f"{f' +{d.replicas} replica' + ('s' if d.replicas > 1 else '') if d.replicas else ''}"
                for d in m.databases
            )
            or "-"
        )
        cache = "; ".join(f"{c.engine} {c.node_type} x{c.nodes}" for c in m.caches) or "-"
        app = (
            f"{_fleet_types(m)} {m.app[0]}/{m.app[1]}/{m.app[2]}" + (" + warm pool" if m.warm_pool else "")
            if m.app
            else "-"
        )
        lb = (", ".join(m.listeners) + (" + WAF" if m.waf else "")) if m.alb else "-"
        rows.append([m.stage, str(len(m.azs)), str(len(m.nat_azs)), app, lb, db, cache, str(m.alarms)])
    return headers, rows


def _draw_table(svg: Svg, models: list[StageModel], top: int) -> int:
    headers, rows = _stage_rows(models)
    widths = [70, 40, 95, 175, 215, 300, 210, 55]
    x0 = 20
    svg.text(x0, top + 4, "Every stage (read from its synthesized stack)", 14, "bold")
    y = top + 16
    for r, row in enumerate([headers, *rows]):
        x = x0
        for text, w in zip(row, widths, strict=True):
            svg.rect(x, y, w, 24, "#eceff1" if r == 0 else "#ffffff", rx=0, sw=0.8)
            svg.text(x + 5, y + 16, text, 11, "bold" if r == 0 else "normal")
            x += w
        y += 24
    return y + 10


def _draw_legend(svg: Svg, top: int) -> int:
    items = [
        (COLOURS["flow"], False, "request flow"),
        (COLOURS["egress"], True, "outbound via NAT"),
        (COLOURS["monitor"], True, "logs, metrics, alarms"),
    ]
    x = 20
    for colour, dash, label in items:
        svg.arrow([(x, top), (x + 40, top)], colour, dash=dash)
        svg.text(x + 48, top + 4, label, 11)
        x += 200
    return top + 16


def render(stacks: dict[str, dict[str, Any]]) -> str:
    """The whole SVG for a set of synthesized stacks (name -> ``cdk.tf.json`` content)."""
    models = stage_models(stacks)
    if not models:
        raise ValueError("no stage stacks to draw (expected digital-booking-<stage> stacks)")
    detailed = next((m for m in models if m.stage == "prod"), models[-1])
    svg = Svg()
    svg.text(
        20, 28, f"Digital Booking platform: stage {detailed.stage} in full, every stage in the table below", 17, "bold"
    )
    svg.text(
        20,
        46,
        "Generated from the synthesized Terraform by `make diagram` (tools/diagram.py); do not edit.",
        11,
        fill="#607d8b",
    )
    y = _draw_stage(svg, detailed, 76)
    y = _draw_legend(svg, y + 10)
    y = _draw_table(svg, models, y + 24)
    return svg.document(int(y + 10))


def synthesized_stacks(synth_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Stacks from an existing ``cdktf.out``, or from a fresh synth of every stage into a temp dir."""
    if synth_dir is None:
        import os

        os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
        from stacks.app import build_app

        with tempfile.TemporaryDirectory() as outdir:
            build_app(outdir=outdir).synth()
            return synthesized_stacks(Path(outdir))
    return {
        d.name: json.loads((d / "cdk.tf.json").read_text())
        for d in sorted((synth_dir / "stacks").iterdir())
        if (d / "cdk.tf.json").is_file()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw docs/architecture.svg from the synthesized stacks")
    parser.add_argument("--synth-dir", type=Path, help="an existing cdktf.out (default: synthesize every stage)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file differs instead of writing it")
    args = parser.parse_args(argv)
    text = render(synthesized_stacks(args.synth_dir))
    if args.check:
        if not args.output.exists() or args.output.read_text() != text:
            print(f"{args.output} is out of date: run `make diagram` and commit it", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
