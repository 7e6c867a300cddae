"""The README's capacity table and interface endpoint costs, computed from the stage files.

    python -m tools.sizing        # prints both tables (markdown), as the README has them

tests/tools/test_sizing.py fails while the README's tables differ from what this prints.
"""

from __future__ import annotations

from environments import StageConfig, load_stages
from environments.capacity import BUDGET, capacity_of
from modules.network import INTERFACE_ENDPOINTS

#: AWS PrivateLink pricing (https://aws.amazon.com/privatelink/pricing/): billed "for each hour that your VPC
#: endpoint remains provisioned in each Availability Zone", plus data processed ($0.01/GB for the first PB
#: a month in a region). The hourly rate is eu-west-1's list price per endpoint and AZ at the time of writing.
ENDPOINT_HOURLY_USD = 0.011
DATA_PROCESSED_USD_PER_GB = 0.01
HOURS_PER_MONTH = 730


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def capacity_table(stages: list[StageConfig]) -> str:
    rows = []
    for config in stages:
        c = capacity_of(config)
        rows.append(
            [
                c.stage,
                str(c.max_size),
                f"{c.requests_per_target:,}",
                f"{c.sized_for_requests_per_minute:,}/min (≈ {c.sized_for_requests_per_minute / 60:,.0f}/s)",
                str(c.peak_instances),
                str(c.pool_size),
                str(c.peak_connections),
                f"{c.instance_class} ({c.engine})",
                str(c.max_connections),
                str(c.budget),
            ]
        )
    return _table(
        [
            "stage",
            "max instances",
            "requests per instance per minute (target)",
            "fleet sized for",
            "instances at once, at most",
            "pool per instance",
            "connections at peak",
            "database class",
            "max_connections",
            f"budget ({int(BUDGET * 100)} %)",
        ],
        rows,
    )


def endpoint_cost_table(stages: list[StageConfig]) -> str:
    per_endpoint_az = ENDPOINT_HOURLY_USD * HOURS_PER_MONTH
    endpoints = len(INTERFACE_ENDPOINTS)
    rows = []
    for config in stages:
        azs = len(config.network.azs)
        monthly = endpoints * azs * per_endpoint_az
        rows.append(
            [
                config.name,
                "on" if config.network.interface_endpoints else "off",
                f"{endpoints} × {azs} AZs = {endpoints * azs}",
                f"${monthly:,.2f}" if config.network.interface_endpoints else f"(${monthly:,.2f} if switched on)",
            ]
        )
    return (
        f"One interface endpoint in one AZ: ${ENDPOINT_HOURLY_USD}/hour × {HOURS_PER_MONTH} hours ="
        f" **${per_endpoint_az:,.2f} a month**, plus ${DATA_PROCESSED_USD_PER_GB}/GB processed.\n\n"
        + _table(["stage", "interface_endpoints", "endpoint-AZs", "per month (before data)"], rows)
    )


def main() -> None:
    stages = load_stages()
    print(capacity_table(stages))
    print()
    print(endpoint_cost_table(stages))


if __name__ == "__main__":
    main()
