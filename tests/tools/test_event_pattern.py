"""tools/event_pattern.py against the examples of the EventBridge user guide: "Arrays in Amazon EventBridge
event patterns" and "Content filtering in Amazon EventBridge event patterns"
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html)."""

from __future__ import annotations

import pytest

from tools.event_pattern import EventPatternError, matches

EC2_EVENT = {
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "time": "2017-10-02T18:43:48Z",
    "resources": [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025"
        ":autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    ],
    "detail": {"state": "running", "c-count": 3, "d-count": 9, "x-limit": 301.8},
}


def test_an_array_in_the_event_matches_when_the_intersection_is_not_empty():
    """The arrays page: the pattern's first resource is the event's second."""
    pattern = {
        "resources": [
            "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
        ]
    }
    assert matches(pattern, EC2_EVENT)
    assert not matches({"resources": ["arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}, EC2_EVENT)


def test_prefix_matching():
    assert matches({"time": [{"prefix": "2017-10-02"}]}, EC2_EVENT)
    assert not matches({"time": [{"prefix": "2017-10-03"}]}, EC2_EVENT)


@pytest.mark.parametrize(
    "rule, expected",
    [
        ({"anything-but": "initializing"}, True),
        ({"anything-but": "running"}, False),
        ({"anything-but": ["stopped", "overloaded"]}, True),
        ({"anything-but": ["stopped", "running"]}, False),
        ({"anything-but": {"prefix": "init"}}, True),
        ({"anything-but": {"prefix": "run"}}, False),
    ],
)
def test_anything_but_matching(rule, expected):
    assert matches({"detail": {"state": [rule]}}, EC2_EVENT) is expected


def test_numeric_matching_is_true_only_when_every_comparison_is():
    """The page's example: c-count in (0, 5], d-count < 10, x-limit = 3.018e2."""
    pattern = {
        "detail": {
            "c-count": [{"numeric": [">", 0, "<=", 5]}],
            "d-count": [{"numeric": ["<", 10]}],
            "x-limit": [{"numeric": ["=", 3.018e2]}],
        }
    }
    assert matches(pattern, EC2_EVENT)
    assert not matches(pattern, {**EC2_EVENT, "detail": {**EC2_EVENT["detail"], "c-count": 6}})
    assert not matches({"detail": {"state": [{"numeric": [">", 0]}]}}, EC2_EVENT)  # a string is not a number


def test_exists_matching_works_on_leaf_nodes_only():
    """The page: {"c-count": [{"exists": false}]} matches an event without c-count, and one where c-count
    is an object ("because c-count isn't a leaf node")."""
    pattern = {"detail": {"c-count": [{"exists": False}]}}
    assert matches(pattern, {"detail": {"state": ["initializing", "running"]}})
    assert matches(pattern, {"detail": {"state": ["initializing", "running"], "c-count": {"c1": 100}}})
    assert not matches(pattern, EC2_EVENT)
    assert matches({"detail": {"c-count": [{"exists": True}]}}, EC2_EVENT)


def test_every_field_must_match_and_a_missing_field_never_does():
    assert matches({"source": ["aws.ec2"], "detail": {"state": ["running"]}}, EC2_EVENT)
    assert not matches({"source": ["aws.ec2"], "detail": {"state": ["stopped"]}}, EC2_EVENT)
    assert not matches({"detail": {"missing": ["running"]}}, EC2_EVENT)
    assert not matches(
        {"detail": {"state": [{"anything-but": "stopped"}], "missing": [{"anything-but": "x"}]}}, EC2_EVENT
    )


def test_an_object_pattern_looks_into_an_array_of_objects():
    """How the Security Hub findings rule addresses detail.findings, an array with one finding per event."""
    event = {"detail": {"findings": [{"Severity": {"Label": "HIGH"}}]}}
    assert matches({"detail": {"findings": {"Severity": {"Label": ["MEDIUM", "HIGH"]}}}}, event)
    assert not matches({"detail": {"findings": {"Severity": {"Label": ["LOW"]}}}}, event)


@pytest.mark.parametrize(
    "pattern",
    [
        {"detail": {"ip": [{"cidr": "10.0.0.0/24"}]}},
        {"detail": {"name": [{"suffix": ".png"}]}},
        {"detail": {"n": [{"numeric": ["~", 1]}]}},
        {"detail": {"n": [{"numeric": [">", 1, "<"]}]}},
        {"detail": {"state": "running"}},
        {"detail": {"state": []}},
        {},
    ],
)
def test_a_pattern_it_does_not_understand_is_refused(pattern):
    with pytest.raises(EventPatternError):
        matches(pattern, EC2_EVENT)
