"""The one statement every customer-managed KMS key of the platform starts its policy with."""

from __future__ import annotations


def account_administers_key(account_id: str, partition: str = "aws") -> dict[str, object]:
    """The account administers the key through IAM; without it the key would be unmanageable."""
    return {"Sid": "AccountAdministersKey", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"}
