"""``.github/workflows/platform.yml``: parses, triggers, permissions, the plan matrix, the comment, the deploys."""

from __future__ import annotations

import re

import pytest
import yaml

from environments import stage_names
from tools import plan_summary
from tools.terraform_cli import PROJECT_DIR

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "platform.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def jobs(workflow) -> dict:
    return workflow["jobs"]


def triggers(workflow) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as True


def step_using(job: dict, action: str) -> dict:
    found = [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in job["steps"])


def test_parses_as_a_mapping_with_jobs(workflow):
    assert isinstance(workflow, dict) and workflow["name"] == "platform"
    assert set(workflow["jobs"]) == {"checks", "emulator", "plan", "deploy-staging", "deploy-prod"}


def test_triggers_on_pull_requests_and_pushes_to_main(workflow):
    on = triggers(workflow)
    assert set(on) == {"pull_request", "push"}
    assert on["push"]["branches"] == ["main"]


def test_default_token_is_read_only(workflow):
    assert workflow["permissions"] == {"contents": "read"}


PINNED_USES = re.compile(r"(- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40}) # (?P<version>v\d+\.\d+\.\d+)")


def uses_lines() -> list[str]:
    """Every ``uses:`` line of the raw file (the version comments are lost to the YAML parser)."""
    return [line.strip() for line in WORKFLOW.read_text().splitlines() if re.match(r"\s*(- )?uses:", line)]


def test_every_action_is_pinned_to_a_commit_with_its_release_as_a_comment(jobs):
    lines = uses_lines()
    assert len(lines) == sum("uses" in step for job in jobs.values() for step in job["steps"])
    pins: dict[str, set[tuple[str, str]]] = {}
    for line in lines:
        match = PINNED_USES.fullmatch(line)
        assert match, line
        pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
    assert all(len(pinned) == 1 for pinned in pins.values()), pins  # one release of each action throughout


def test_every_checkout_leaves_no_token_in_the_git_config(jobs):
    # The token would otherwise sit in .git/config for every later step (and in any artifact of the tree).
    checkouts = [
        step
        for job in jobs.values()
        for step in job["steps"]
        if step.get("uses", "").split("@")[0] == "actions/checkout"
    ]
    assert len(checkouts) == len(jobs)
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, step


def test_no_expression_is_expanded_inside_a_script(jobs):
    # ${{ }} is pasted into the script before the shell parses it; values reach scripts through env instead.
    scripts = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    assert scripts
    for script in scripts:
        assert "${{" not in script, script


def test_checks_job_installs_runs_the_fast_half_and_synthesizes(jobs):
    commands = runs(jobs["checks"])
    assert commands.index("make install") < commands.index("make test-pr") < commands.index("make synth")
    assert step_using(jobs["checks"], "hashicorp/setup-terraform")["with"]["terraform_wrapper"] is False


def test_checks_job_runs_the_tests_as_root(jobs):
    """GitHub's hosted runners run steps as the user ``runner``, with passwordless sudo ("About GitHub-hosted
    runners", Administrative privileges); the boot script test needs root for chroot and refuses otherwise."""
    (step,) = [s for s in jobs["checks"]["steps"] if "make test-pr" in s.get("run", "")]
    assert step["run"].startswith('sudo --preserve-env env "PATH=$PATH" make test-pr')


def test_emulator_job_runs_the_other_half_beside_the_checks(jobs):
    emulator = jobs["emulator"]
    assert "needs" not in emulator  # in parallel with `checks`, from the start
    commands = runs(emulator)
    assert commands.index("make install node-install") < commands.index("make test-emulator")
    assert step_using(emulator, "hashicorp/setup-terraform")["with"]["terraform_wrapper"] is False


def test_the_two_halves_are_the_whole_suite():
    """`make test-pr` (with lint) and `make test-emulator` select complementary markers: together
    they are `make test` (which installs what both need), nothing run twice, nothing left out."""
    from tests.test_style import make_recipe

    pr_prerequisites, pr = make_recipe("test-pr")
    emulator_prerequisites, emulator = make_recipe("test-emulator")
    full_prerequisites, full = make_recipe("test")
    assert "lint" in pr_prerequisites.split()
    # Whatever either half installs first, the whole suite does too (the cdktf CLI for the npx tests).
    assert set(pr_prerequisites.split()) | set(emulator_prerequisites.split()) <= set(full_prerequisites.split())
    assert '-m "not emulator"' in pr and "-m emulator" in emulator
    assert full.split() == ["$(PYTHON)", "-m", "pytest"]  # the whole suite


def test_plan_comments_wait_for_the_checks_only(jobs):
    assert jobs["plan"]["needs"] == "checks"
    assert jobs["checks"]["timeout-minutes"] <= 20


def test_deploys_wait_for_the_full_suite(jobs):
    assert sorted(jobs["deploy-staging"]["needs"]) == ["checks", "emulator"]
    assert jobs["deploy-prod"]["needs"] == "deploy-staging"
    header = WORKFLOW.read_text().split("\njobs:")[0]
    assert 'required status checks: "checks" and "emulator"' in header  # merges wait for both


def test_plan_runs_per_stage_file_on_pull_requests_only(jobs):
    plan = jobs["plan"]
    assert "github.event_name == 'pull_request'" in plan["if"]
    assert sorted(plan["strategy"]["matrix"]["stage"]) == stage_names()
    assert plan["strategy"]["fail-fast"] is False
    assert 'make plan STAGE="$STAGE"' in runs(plan)
    for step in plan["steps"]:
        if "$STAGE" in step.get("run", ""):  # the job has no STAGE of its own: each step gets the matrix's
            assert step.get("env", {}).get("STAGE") == "${{ matrix.stage }}", step["name"]


def test_plan_job_may_get_an_oidc_token_and_write_comments_only(jobs):
    assert jobs["plan"]["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}


@pytest.mark.parametrize(
    "job, role",
    [("plan", "AWS_PLAN_ROLE_ARN"), ("deploy-staging", "AWS_DEPLOY_ROLE_ARN"), ("deploy-prod", "AWS_DEPLOY_ROLE_ARN")],
)
def test_credentials_come_from_an_oidc_role_in_repository_settings(jobs, job, role):
    step = step_using(jobs[job], "aws-actions/configure-aws-credentials")
    assert step["with"]["role-to-assume"] == f"${{{{ vars.{role} || secrets.{role} }}}}"
    assert "aws-access-key-id" not in step["with"]  # no long-lived keys
    assert jobs[job]["permissions"]["id-token"] == "write"
    assert role in WORKFLOW.read_text().split("\njobs:")[0]  # documented in the header


def test_plan_comment_is_made_by_the_summary_tool(jobs):
    assert "python -m tools.plan_summary" in runs(jobs["plan"])


def test_plan_comment_updates_the_previous_one_by_its_marker(jobs):
    script = step_using(jobs["plan"], "actions/github-script")["with"]["script"]
    marker = re.search(r"const marker = `(.*)`;", script).group(1)
    assert marker.replace("${process.env.STAGE}", "{stage}") == plan_summary.MARKER
    assert "updateComment" in script and "createComment" in script
    assert script.index("updateComment") < script.index("createComment")


def test_a_failed_plan_replaces_the_stale_comment(jobs):
    steps = {s.get("name"): s for s in jobs["plan"]["steps"]}
    assert steps["plan failed comment"]["if"] == "failure()"
    assert "--plan-failed" in steps["plan failed comment"]["run"]
    comment = steps["comment on the pull request"]
    assert comment["if"].startswith("always()")
    assert comment["env"]["COMMENT_PATH"] == "${{ steps.summary.outputs.path || steps.failed.outputs.path }}"


def test_comment_rendering_starts_with_the_marker_the_workflow_looks_for(jobs):
    comment = plan_summary.summarize({"format_version": "1.2", "resource_changes": []}, "staging").render()
    assert comment.startswith("<!-- digital-booking-plan:staging -->")


def test_staging_deploys_on_push_to_main(jobs):
    job = jobs["deploy-staging"]
    assert "github.event_name == 'push'" in job["if"] and "refs/heads/main" in job["if"]
    assert job["environment"] == "staging" and job["env"]["STAGE"] == "staging"
    assert "apply -input=false -auto-approve tfplan" in runs(job)


def test_prod_deploys_only_after_staging_through_the_approved_environment(jobs):
    job = jobs["deploy-prod"]
    assert job["needs"] == "deploy-staging"
    assert job["environment"] == "production"
    assert job["env"]["STAGE"] == "prod"
    assert "required reviewers" in WORKFLOW.read_text()


def test_deploys_never_cancel_a_running_apply(jobs):
    for name in ("deploy-staging", "deploy-prod"):
        assert jobs[name]["concurrency"]["cancel-in-progress"] is False
