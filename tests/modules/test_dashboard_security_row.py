"""Each stage's dashboard ends with a security row: the CIS metrics of the stage's account, read from the
account's home region, where the trail's log group and its metric filters are."""

from __future__ import annotations

import json

from environments import load_stage
from modules.cis_alarms import CIS_CONTROLS, CIS_NAMESPACE


def widgets(stack) -> list[dict]:
    (dashboard,) = stack.resources("aws_cloudwatch_dashboard").values()
    return json.loads(dashboard["dashboard_body"])["widgets"]


def test_the_last_row_shows_every_cis_metric_of_the_stages_account(stage_stack):
    found = widgets(stage_stack)
    security = [w for w in found if w["properties"]["title"].startswith("Security (CIS, account)")]
    assert len(security) == 2 and found[-2:] == security
    home = load_stage(stage_stack.stage).account.home_region
    assert all(w["properties"]["region"] == home for w in security)
    shown = [line[1] for w in security for line in w["properties"]["metrics"]]
    assert sorted(shown) == sorted(c.metric for c in CIS_CONTROLS)
    assert all(line[0] == CIS_NAMESPACE for w in security for line in w["properties"]["metrics"])


def test_the_security_row_is_a_row_of_its_own_below_every_other_widget(stage_stack):
    found = widgets(stage_stack)
    *others, first, second = found
    assert (first["x"], second["x"]) == (0, 12) and first["y"] == second["y"]
    assert first["y"] > max(w["y"] for w in others)
    assert len({(w["x"], w["y"]) for w in found}) == len(found)  # nothing overlaps
