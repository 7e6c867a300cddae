"""``docs/architecture.svg`` is what ``tools/diagram.py`` draws from the stacks the code synthesizes now."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET

import pytest

from tools import diagram

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def tf(stacks) -> dict[str, dict]:
    """Every synthesized stack's JSON (deep-copied: tests below break copies, never the session's)."""
    return {name: copy.deepcopy(stack.json) for name, stack in stacks.items()}


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


def test_checked_in_diagram_matches_the_code(tf):
    expected = diagram.render(tf)
    assert diagram.OUTPUT.exists(), "docs/architecture.svg is missing: run `make diagram` and commit it"
    checked_in = diagram.OUTPUT.read_text()
    if checked_in != expected:
        gone = sorted(set(texts(checked_in)) - set(texts(expected)))
        new = sorted(set(texts(expected)) - set(texts(checked_in)))
        pytest.fail(
            "docs/architecture.svg no longer matches the synthesized stacks: run `make diagram` and "
            f"commit it.\n  only in the checked-in file: {gone}\n  only in the code's: {new}"
        )


def test_rendering_is_deterministic(tf):
    assert diagram.render(tf) == diagram.render(copy.deepcopy(tf))


def test_is_well_formed_svg(tf):
    root = ET.fromstring(diagram.render(tf))
    assert root.tag == f"{SVG}svg" and int(root.get("height")) > 400


def test_one_lane_per_availability_zone_of_the_detailed_stage(tf, prod):
    azs = sorted({s["availability_zone"] for s in prod.resources("aws_subnet").values()})
    labels = texts(diagram.render(tf))
    assert [t for t in labels if t in azs] == azs


def test_one_nat_gateway_box_per_nat_gateway(tf, prod):
    assert texts(diagram.render(tf)).count("NAT gateway") == len(prod.resources("aws_nat_gateway"))


def test_stage_table_has_a_row_per_stage_with_its_counts(tf, stacks):
    models = {m.stage: m for m in diagram.stage_models(tf)}
    stage_stacks = [name for name in stacks if not name.startswith(diagram.ACCOUNT_STACKS)]
    assert set(models) == {name.removeprefix("digital-booking-") for name in stage_stacks} - {"state"}
    for stage, model in models.items():
        stack = stacks[f"digital-booking-{stage}"]
        assert len(model.nat_azs) == len(stack.resources("aws_nat_gateway"))
        assert len(model.azs) == len({s["availability_zone"] for s in stack.resources("aws_subnet").values()})


def test_a_removed_tier_disappears(tf):
    """Drop the load balancer and app fleet from prod's JSON: their boxes and flows go."""
    before = texts(diagram.render(tf))
    assert any(t.startswith("Application Load Balancer") for t in before)
    broken = copy.deepcopy(tf)
    resources = broken["digital-booking-prod"]["resource"]
    for rtype in [t for t in resources if t.startswith(("aws_lb", "aws_autoscaling", "aws_wafv2"))]:
        del resources[rtype]
    after = texts(diagram.render(broken))
    assert not any(t.startswith("Application Load Balancer") for t in after)
    assert "App servers: Auto Scaling group" not in after and "app port" not in after
    assert diagram.render(broken) != diagram.OUTPUT.read_text()  # so the check above would fail


def test_a_database_and_cache_are_drawn_when_a_stage_has_them(tf):
    """Tiers are drawn from resource types: a primary with one replica and a 3-node cache."""
    extended = copy.deepcopy(tf)
    resources = extended["digital-booking-prod"]["resource"]
    resources["aws_db_instance"] = {
        "db": {"engine": "postgres", "engine_version": "16", "instance_class": "db.r6g.large", "multi_az": True},
        "replica": {"replicate_source_db": "${aws_db_instance.db.identifier}", "instance_class": "db.r6g.large"},
    }
    resources["aws_elasticache_replication_group"] = {
        "cache": {"engine": "redis", "num_cache_clusters": 3, "multi_az_enabled": True, "node_type": "cache.t4g.small"}
    }
    labels = texts(diagram.render(extended))
    assert "primary + Multi-AZ standby + 1 read replica" in labels
    assert "3 nodes, Multi-AZ failover" in labels
    assert {"SQL (TLS)", "Redis (TLS)"} <= set(labels)


def test_the_diagram_names_the_cache_engine_the_fleet_types_and_the_endpoints(tf):
    labels = texts(diagram.render(tf))
    assert "Valkey (TLS)" in labels and "Redis (TLS)" not in labels
    assert any("m7i.large | m6i.large | m7a.large" in t for t in labels)
    assert any("10 interface endpoints" in t for t in labels)


def test_check_mode_reports_an_outdated_file(tmp_path, synth_dir, capsys):
    out = tmp_path / "architecture.svg"
    out.write_text("<svg/>")
    assert diagram.main(["--synth-dir", str(synth_dir), "--output", str(out), "--check"]) == 1
    assert "run `make diagram`" in capsys.readouterr().err
    assert diagram.main(["--synth-dir", str(synth_dir), "--output", str(out)]) == 0
    assert diagram.main(["--synth-dir", str(synth_dir), "--output", str(out), "--check"]) == 0
