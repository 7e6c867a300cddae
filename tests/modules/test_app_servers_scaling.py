"""App-server tier, per stage: a fleet ready before the spike. Capacity pools (mixed instances) or a warm
pool, launch before terminate, lifecycle hooks, slow start and draining, predictive and scheduled scaling."""

from __future__ import annotations

import json

import pytest

from environments import load_stage
from modules.app_servers import (
    AGENT_FLUSH_SECONDS,
    APP_STOP_SECONDS,
    DRAIN_CONNECTIONS_SECONDS,
    DRAIN_HOOK_SECONDS,
    AppServerFleet,
    AppServerSettings,
)
from modules.load_balancer import LoadBalancerSettings, PublicLoadBalancer
from tests.constructs import network_for, synth_construct
from tests.tf_json import refers_to


def group(stack) -> dict:
    return stack.only("aws_autoscaling_group")


def instance_types_of(stack) -> list[str]:
    """The instance types the group may launch: the mixed instances policy's, else the launch template's."""
    asg = group(stack)
    if "mixed_instances_policy" in asg:
        return [o["instance_type"] for o in asg["mixed_instances_policy"]["launch_template"]["override"]]
    return [stack.only("aws_launch_template")["instance_type"]]


# -- capacity pools, or a warm pool ---------------------------------------------------------------------


def test_each_stage_launches_the_instance_types_it_lists(stage_stack):
    assert instance_types_of(stage_stack) == list(load_stage(stage_stack.stage).app_servers.instance_types)


def test_several_types_are_a_mixed_instances_policy_all_on_demand_in_the_stage_order(prod):
    """ "Auto Scaling groups with multiple instance types and purchase options": with the "prioritized"
    On-Demand allocation strategy the group launches the override listed first and, when that capacity is
    not available, the next (https://docs.aws.amazon.com/autoscaling/ec2/userguide/
    ec2-auto-scaling-mixed-instances-groups.html). Bookings are not interruptible: no Spot."""
    asg = group(prod)
    assert "launch_template" not in asg  # a group has one or the other
    distribution = asg["mixed_instances_policy"]["instances_distribution"]
    assert distribution == {
        "on_demand_allocation_strategy": "prioritized",
        "on_demand_base_capacity": 0,
        "on_demand_percentage_above_base_capacity": 100,
    }
    template = prod.address_of("aws_launch_template", prod.only("aws_launch_template")).split(".")[1]
    specification = asg["mixed_instances_policy"]["launch_template"]["launch_template_specification"]
    assert refers_to(specification["launch_template_id"], "aws_launch_template", template)


def test_prod_passes_fsbp_autoscaling_6_and_2(prod):
    """Security Hub FSBP AutoScaling.6 "Auto Scaling groups should use multiple instance types in multiple
    Availability Zones" (AWS Config rule autoscaling-multiple-instance-types) and AutoScaling.2 "Amazon EC2
    Auto Scaling group should cover multiple Availability Zones"
    (https://docs.aws.amazon.com/securityhub/latest/userguide/autoscaling-controls.html)."""
    assert len(set(instance_types_of(prod))) >= 2
    subnets = group(prod)["vpc_zone_identifier"]
    azs = {prod.resources("aws_subnet")[ref.split(".")[1]]["availability_zone"] for ref in subnets}
    assert len(azs) >= 2


def test_a_warm_pool_of_stopped_instances_where_the_stage_asks(stage_stack):
    """ "Warm pools for Amazon EC2 Auto Scaling": a Stopped pool state costs only the volumes while warm,
    and reuse on scale in returns instances to the pool instead of terminating them
    (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-warm-pools.html)."""
    config = load_stage(stage_stack.stage).app_servers
    pool = group(stage_stack).get("warm_pool")
    if not config.warm_pool:
        assert pool is None
        return
    assert pool == {
        "pool_state": "Stopped",
        "min_size": config.warm_pool_min_size,
        "instance_reuse_policy": {"reuse_on_scale_in": True},
    }


def test_no_group_has_a_warm_pool_and_a_mixed_instances_policy(stage_stack):
    """PutWarmPool "cannot be called on an Auto Scaling group that has a mixed instances policy" (Auto Scaling
    API Reference, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html)."""
    asg = group(stage_stack)
    assert not ("warm_pool" in asg and "mixed_instances_policy" in asg)


def test_the_stage_switches_show_in_staging_and_dev(stacks):
    """The warm pool is exercised where it is switched on: staging and dev (single type), not prod."""
    assert "warm_pool" in group(stacks["digital-booking-staging"])
    assert "warm_pool" in group(stacks["digital-booking-dev"])
    assert "warm_pool" not in group(stacks["digital-booking-prod"])


# -- replacing instances: launch before terminate ------------------------------------------------------------


def test_replacements_launch_before_they_terminate(stage_stack):
    """InstanceMaintenancePolicy (Auto Scaling API Reference): MinHealthyPercentage "Value range is 0 to
    100", MaxHealthyPercentage "Value range is 100 to 200. Both ... must be specified, and the difference
    between them cannot be greater than 100". 100/110: never below the desired capacity, one at a time in
    small groups. The instance refresh says the same, so nothing (no provider default) overrides the policy
    ("Set an instance maintenance policy on your Auto Scaling group": with a policy you "no longer have to
    specify values for minimum and maximum healthy percentage parameters for the instance refresh feature
    unless you want to override the instance maintenance policy")."""
    asg = group(stage_stack)
    policy = asg["instance_maintenance_policy"]
    assert policy == {"min_healthy_percentage": 100, "max_healthy_percentage": 110}
    assert 0 <= policy["min_healthy_percentage"] <= 100 <= policy["max_healthy_percentage"] <= 200
    assert policy["max_healthy_percentage"] - policy["min_healthy_percentage"] <= 100
    preferences = asg["instance_refresh"]["preferences"]
    assert (preferences["min_healthy_percentage"], preferences["max_healthy_percentage"]) == (100, 110)


# -- lifecycle hooks and draining ------------------------------------------------------------------------------


def hooks(stack) -> dict[str, dict]:
    return {h["lifecycle_transition"]: h for h in group(stack)["initial_lifecycle_hook"]}


def test_a_launch_hook_holds_new_instances_and_abandons_those_that_never_answer(stage_stack):
    """LifecycleHook (Auto Scaling API Reference): DefaultResult "The valid values are CONTINUE and ABANDON";
    HeartbeatTimeout 30 to 7200 seconds. An instance whose app never answered within the stage's
    boot_timeout_seconds is abandoned (terminated and replaced)."""
    launch = hooks(stage_stack)["autoscaling:EC2_INSTANCE_LAUNCHING"]
    assert launch["default_result"] == "ABANDON"
    assert launch["heartbeat_timeout"] == load_stage(stage_stack.stage).app_servers.boot_timeout_seconds
    assert 30 <= launch["heartbeat_timeout"] <= 7200


def test_a_terminating_hook_gives_the_app_its_graceful_stop_and_the_agent_its_last_lines(stage_stack):
    """ "How lifecycle hooks work": the ALB drains a terminating instance first (deregistration delay), then the
    hook holds it in Terminating:Wait (https://docs.aws.amazon.com/autoscaling/ec2/userguide/
    lifecycle-hooks-overview.html). The hook's heartbeat covers what the drain unit does after the state
    changes: one poll (5 s), the wait for the ALB's connections to close, the app's graceful stop, the
    agent's flush."""
    drain = hooks(stage_stack)["autoscaling:EC2_INSTANCE_TERMINATING"]
    assert drain["default_result"] == "CONTINUE"
    budget = 5 + DRAIN_CONNECTIONS_SECONDS + APP_STOP_SECONDS + AGENT_FLUSH_SECONDS
    assert drain["heartbeat_timeout"] == DRAIN_HOOK_SECONDS >= budget
    assert 30 <= drain["heartbeat_timeout"] <= 7200


def test_the_hooks_are_on_the_group_before_its_first_instance(stage_stack):
    """CreateAutoScalingGroup LifecycleHookSpecificationList: hooks created with the group, so the first
    instances wait too (a warm pool's first instances would otherwise be stopped mid-boot: "Amazon EC2 Auto
    Scaling does not wait for user data to finish running", warm-pool-instance-lifecycle.html)."""
    assert set(hooks(stage_stack)) == {"autoscaling:EC2_INSTANCE_LAUNCHING", "autoscaling:EC2_INSTANCE_TERMINATING"}
    assert not stage_stack.resources("aws_autoscaling_lifecycle_hook")


def test_the_instances_may_complete_lifecycle_actions_of_their_own_group_only(stage_stack):
    name = group(stage_stack)["name"]
    statements = [
        s
        for p in stage_stack.resources("aws_iam_role_policy").values()
        for s in json.loads(p["policy"])["Statement"]
        if "autoscaling:CompleteLifecycleAction" in s["Action"]
    ]
    (statement,) = statements
    assert statement["Resource"].endswith(f":autoScalingGroup:*:autoScalingGroupName/{name}")
    assert set(statement["Action"]) == {
        "autoscaling:CompleteLifecycleAction",
        "autoscaling:RecordLifecycleActionHeartbeat",
    }


def test_new_targets_start_slowly_and_leaving_ones_drain_for_a_booking(stage_stack):
    """ "Edit target group attributes for your Application Load Balancer": slow start "linearly increases the
    number of requests" over 30 to 900 seconds, and is not available with the least outstanding requests
    algorithm (or weighted random with anomaly mitigation), so the algorithm is round robin; deregistration
    waits up to the delay for in-flight requests
    (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html)."""
    config = load_stage(stage_stack.stage).load_balancer
    target_group = stage_stack.only("aws_lb_target_group")
    assert target_group["slow_start"] == config.slow_start_seconds and 30 <= target_group["slow_start"] <= 900
    assert target_group["load_balancing_algorithm_type"] == "round_robin"
    assert "load_balancing_anomaly_mitigation" not in target_group
    assert target_group["deregistration_delay"] == str(config.deregistration_delay_seconds)


@pytest.mark.parametrize(("setting", "value"), [("slow_start_seconds", 10), ("slow_start_seconds", 901)])
def test_a_slow_start_outside_its_range_is_refused(setting, value):
    from tests.environments.stage_edits import rejection

    message = rejection("prod", "load_balancer", **{setting: value})
    assert f"load_balancer.{setting} = {value}: out of range; allowed: 30 to 900" in message


# -- HTTPS to the targets -----------------------------------------------------------------------------------


def test_prod_passes_fsbp_elb_21_and_22(prod):
    """Security Hub ELB.21 "Application and Network Load Balancer target groups should use encrypted health
    check protocols" and ELB.22 "ELB target groups should use encrypted transit protocols"
    (https://docs.aws.amazon.com/securityhub/latest/userguide/elb-controls.html)."""
    target_group = prod.only("aws_lb_target_group")
    assert target_group["protocol"] == "HTTPS" and target_group["health_check"]["protocol"] == "HTTPS"


def test_plain_http_to_the_targets_stays_possible_outside_production(dev):
    target_group = dev.only("aws_lb_target_group")
    assert target_group["protocol"] == "HTTP" and target_group["health_check"]["protocol"] == "HTTP"


def test_the_fleet_refuses_a_load_balancer_of_another_protocol():
    settings = AppServerSettings(artifact_bucket="digital-booking-artifacts-test", target_protocol="HTTP")

    def build(scope, stage):
        network = network_for(scope, stage)
        fleet = AppServerFleet(scope, "app-servers", settings, stage, network=network)
        lb = PublicLoadBalancer(
            scope, "load-balancer", LoadBalancerSettings(), stage, network=network, target_port=8080
        )  # HTTPS to its targets by default
        fleet.register_with(lb)

    with pytest.raises(ValueError, match="talks HTTPS to its targets, the app servers serve HTTP"):
        synth_construct(build)


# -- predictive and scheduled scaling -------------------------------------------------------------------------


def predictive(stack) -> dict | None:
    found = [p for p in stack.resources("aws_autoscaling_policy").values() if p["policy_type"] == "PredictiveScaling"]
    assert len(found) <= 1
    return found[0]["predictive_scaling_configuration"] if found else None


def test_predictive_scaling_per_stage(stacks):
    """Forecast and scale in prod, forecast only in staging and dev (the forecast is reviewed there)."""
    assert predictive(stacks["digital-booking-prod"])["mode"] == "ForecastAndScale"
    assert predictive(stacks["digital-booking-staging"])["mode"] == "ForecastOnly"
    assert predictive(stacks["digital-booking-dev"])["mode"] == "ForecastOnly"


def test_the_forecast_is_of_the_requests_the_fleet_tracks_with_a_buffer_covering_boot_and_slow_start(stage_stack):
    """PredictiveScalingPredefinedMetricPair: "ALBRequestCount" with a ResourceLabel of the target group
    attached to the group (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/
    API_PredictiveScalingPredefinedMetricPair.html); SchedulingBufferTime 0 to 3600 seconds launches that
    much ahead of the forecast (API_PredictiveScalingConfiguration.html): a boot and a slow start. The
    forecast never raises the group above max_size (the database is sized for max_size)."""
    stage = load_stage(stage_stack.stage)
    configuration = predictive(stage_stack)
    if stage.app_servers.predictive_scaling == "off":
        assert configuration is None
        return
    pair = configuration["metric_specification"]["predefined_metric_pair_specification"]
    assert pair["predefined_metric_type"] == "ALBRequestCount"
    requests = next(
        p["target_tracking_configuration"]
        for p in stage_stack.resources("aws_autoscaling_policy").values()
        if p["policy_type"] == "TargetTrackingScaling"
        and p["target_tracking_configuration"]["predefined_metric_specification"]["predefined_metric_type"]
        == "ALBRequestCountPerTarget"
    )
    assert pair["resource_label"] == requests["predefined_metric_specification"]["resource_label"]
    assert configuration["metric_specification"]["target_value"] == stage.app_servers.requests_per_target
    buffer = int(configuration["scheduling_buffer_time"])
    assert buffer == stage.app_servers.health_check_grace_seconds + stage.load_balancer.slow_start_seconds <= 3600
    assert configuration["max_capacity_breach_behavior"] == "HonorMaxCapacity"


def test_the_stage_scheduled_actions_are_on_the_group(stage_stack):
    """aws_autoscaling_schedule (provider docs): desired_capacity "Default 0. Set to -1 if you don't want to
    change the desired capacity at the scheduled time." An action without one must say -1, or it would drop
    the group's desired capacity to its minimum."""
    actions = load_stage(stage_stack.stage).app_servers.scheduled_actions
    schedules = {s["scheduled_action_name"]: s for s in stage_stack.resources("aws_autoscaling_schedule").values()}
    assert len(schedules) == len(actions)
    for action in actions:
        schedule = schedules[f"{group(stage_stack)['name']}-{action.name}"]
        assert (schedule["recurrence"], schedule["time_zone"]) == (action.recurrence, action.time_zone)
        assert (schedule["min_size"], schedule["max_size"]) == (action.min_size, action.max_size)
        assert schedule["desired_capacity"] == (action.desired_capacity if action.desired_capacity is not None else -1)


def test_staging_shows_scheduled_actions(stacks):
    assert stacks["digital-booking-staging"].resources("aws_autoscaling_schedule")
