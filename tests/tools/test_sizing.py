"""The README's capacity table and endpoint cost notes are what tools/sizing.py computes from the stage files."""

from __future__ import annotations

from pathlib import Path

from environments import load_stages
from tools import sizing


def readme() -> str:
    return (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_capacity_table_is_current():
    """A stage file's max_size, requests_per_target, db_pool_size or database class changed: run
    `python -m tools.sizing` and paste the table into README "Scaling and capacity"."""
    assert sizing.capacity_table(load_stages()) in readme()


def test_the_readme_endpoint_costs_are_current():
    assert sizing.endpoint_cost_table(load_stages()) in readme()


def test_one_endpoint_in_one_az_costs_its_hourly_price_for_a_month():
    """AWS PrivateLink pricing: "billed for each hour that your VPC endpoint remains provisioned in each
    Availability Zone" (https://aws.amazon.com/privatelink/pricing/)."""
    assert round(sizing.ENDPOINT_HOURLY_USD * sizing.HOURS_PER_MONTH, 2) == 8.03
    assert "| prod | on | 10 × 3 AZs = 30 | $240.90 |" in sizing.endpoint_cost_table(load_stages())
