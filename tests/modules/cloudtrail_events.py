"""CloudTrail records as the trail's log group receives them: one record per log event.

Field structure from the CloudTrail user guide, "CloudTrail record contents"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html),
"AWS Management Console sign-in events"
(https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html)
and "CloudTrail log file examples" (error code and message example). ``eventType`` is one of
AwsApiCall, AwsServiceEvent, AwsConsoleAction, AwsConsoleSignIn; ``userIdentity.invokedBy`` is set
when an AWS service made the call on the principal's behalf.
"""

from __future__ import annotations

import copy
from typing import Any

ACCOUNT = "111122223333"

IAM_USER: dict[str, Any] = {
    "type": "IAMUser",
    "principalId": "AIDACKCEVSQ6C2EXAMPLE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/anaya",
    "accountId": ACCOUNT,
    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "userName": "anaya",
}
DEPLOY_ROLE: dict[str, Any] = {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLEID:GitHubActions",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/digital-booking-deploy/GitHubActions",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLEKEY",
    "sessionContext": {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEID",
            "arn": f"arn:aws:iam::{ACCOUNT}:role/digital-booking-deploy",
            "accountId": ACCOUNT,
            "userName": "digital-booking-deploy",
        },
        "webIdFederationData": {
            "federatedProvider": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
        },
        "attributes": {"creationDate": "2026-11-20T10:00:00Z", "mfaAuthenticated": "false"},
    },
}
ROOT: dict[str, Any] = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": "",
}


def api_call(
    event_source: str,
    event_name: str,
    *,
    identity: dict[str, Any] | None = None,
    read_only: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """A management event record (``eventType`` AwsApiCall), by default an IAM user's write call."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": copy.deepcopy(identity if identity is not None else IAM_USER),
        "eventTime": "2026-11-20T10:15:32Z",
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.24",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5 exe/x86_64",
        "requestParameters": None,
        "responseElements": None,
        "requestID": "5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3",
        "eventID": "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f",
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(fields)
    return record


def console_sign_in(*, identity: dict[str, Any] | None = None, mfa: bool, success: bool = True) -> dict[str, Any]:
    """A ConsoleLogin record (``eventType`` AwsConsoleSignIn), as the sign-in events page shows them:
    a failure has ``errorMessage`` "Failed authentication" and ``responseElements.ConsoleLogin`` "Failure"."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": copy.deepcopy(identity if identity is not None else IAM_USER),
        "eventTime": "2026-11-20T09:58:02Z",
        "eventSource": "signin.amazonaws.com",
        "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.24",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
        "requestParameters": None,
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": {
            "LoginTo": "https://console.aws.amazon.com/console/home",
            "MobileVersion": "No",
            "MFAUsed": "Yes" if mfa else "No",
        },
        "eventID": "3fcfb182-98f8-4744-bd45-10a395ab61cb",
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if mfa:
        record["additionalEventData"]["MFAIdentifier"] = f"arn:aws:iam::{ACCOUNT}:u2f/user/anaya/default-AAAAEXAMPLE"
    if not success:
        record["errorMessage"] = "Failed authentication"
    return record


def denied(event_source: str, event_name: str, error_code: str) -> dict[str, Any]:
    """A refused call: ``errorCode`` and ``errorMessage`` as in the guide's error code example."""
    return api_call(
        event_source,
        event_name,
        read_only=True,
        errorCode=error_code,
        errorMessage=f"User: arn:aws:iam::{ACCOUNT}:user/anaya is not authorized to perform: {event_name}",
    )
