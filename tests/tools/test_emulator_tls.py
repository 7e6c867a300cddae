"""tools/emulator_tls.py: certificates for the emulator, and bucket-policy conditions evaluated as AWS does.

The policy tests run the bootstrap's own state-bucket policy (from the synthesized stack, its
references filled in) through moto in this process (``moto.mock_aws``, offline) with the fix
installed; the endpoint's scheme decides ``aws:SecureTransport``, exactly as in the server.
"""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from environments import load_state_backend
from tools import emulator, emulator_tls

REGION = "eu-west-1"
BUCKET = "digital-booking-terraform-state"


def test_certificates_chain_to_their_ca_and_name_the_loopback_address(tmp_path: Path) -> None:
    from cryptography import x509

    files = emulator_tls.write_certificates(tmp_path)
    server = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert files.key.stat().st_mode & 0o077 == 0  # the private key is readable by its owner only


@pytest.mark.parametrize(
    "operator, expected, actual, holds",
    [
        ("Bool", "false", "false", True),
        ("Bool", "false", "true", False),
        ("StringEquals", "aws:kms", "aws:kms", True),
        ("StringEquals", "aws:kms", None, False),
        ("StringNotEquals", "aws:kms", "AES256", True),
        ("StringNotEquals", "aws:kms", None, True),  # a negated operator holds for a missing key
        ("StringNotEqualsIfExists", "aws:kms", None, True),
        ("StringNotEqualsIfExists", "aws:kms", "aws:kms", False),
        ("StringNotEqualsIfExists", ["k1", "k2"], "k2", False),
        ("StringEqualsIfExists", "aws:kms", None, True),
        ("Null", "true", None, True),
        ("Null", "false", None, False),
    ],
)
def test_conditions_are_evaluated_the_way_iam_does(operator, expected, actual, holds) -> None:
    """IAM User Guide, "IAM JSON policy elements: Condition operators": a key missing from the
    request context makes a condition false, except for negated operators (``StringNotEquals``...)
    and the ``...IfExists`` forms, which hold; ``Null`` tests whether the key is present."""
    context = {emulator_tls.SSE: actual, emulator_tls.SECURE_TRANSPORT: actual}
    key = "aws:SecureTransport" if operator == "Bool" else "s3:x-amz-server-side-encryption"
    assert emulator_tls.condition_holds(operator, key, expected, context) is holds


def test_other_keys_and_operators_are_left_to_moto() -> None:
    context = emulator_tls.request_context("https://x", {})
    assert emulator_tls.condition_holds("StringEquals", "aws:SourceVpce", "vpce-1", context) is None
    assert emulator_tls.condition_holds("StringLike", "s3:x-amz-server-side-encryption", "aws:*", context) is None


def state_bucket_policy(stacks, key_arn: str) -> str:
    """The bootstrap's bucket policy as deployed: its references resolved the way terraform would."""
    policy = stacks["digital-booking-state"].only("aws_s3_bucket_policy")["policy"]
    alias = load_state_backend().kms_key_alias
    policy = re.sub(r"\$\{aws_s3_bucket\.[^}]+\.arn\}", f"arn:aws:s3:::{BUCKET}", policy)
    policy = re.sub(r"\$\{aws_kms_key\.[^}]+\.arn\}", key_arn, policy)
    policy = re.sub(r"\$\{data\.aws_partition\.[^}]+\.partition\}", "aws", policy)
    policy = re.sub(r"\$\{data\.aws_caller_identity\.[^}]+\.account_id\}", emulator.ACCOUNT_ID, policy)
    assert "${" not in policy and alias in policy
    return policy


def test_stock_moto_denies_every_object_request_under_the_policy(stacks) -> None:
    """Why the fix exists: moto passes no request context, so the deny-insecure-transport
    statement (``Bool aws:SecureTransport false``) applies to TLS requests too."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    policy = state_bucket_policy(stacks, f"arn:aws:kms:{REGION}:{emulator.ACCOUNT_ID}:key/k")
    verdict = IAMPolicy(policy).is_action_permitted("s3:GetObject", f"arn:aws:s3:::{BUCKET}/stages/dev/x")
    assert verdict == PermissionResult.DENIED


@pytest.fixture
def state_bucket(stacks) -> Iterator[dict[str, Any]]:
    """moto (in process, with the fix) holding the state bucket: default SSE-KMS, the real policy."""
    emulator_tls.install()
    with mock_aws():

        def client(service: str, scheme: str = "https") -> Any:
            endpoint = f"{scheme}://{service}.{REGION}.amazonaws.com"
            return boto3.client(
                service,
                region_name=REGION,
                endpoint_url=endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

        kms = client("kms")
        key = kms.create_key(Description="state")["KeyMetadata"]
        kms.create_alias(AliasName=load_state_backend().kms_key_alias, TargetKeyId=key["KeyId"])
        other = kms.create_key(Description="another")["KeyMetadata"]
        s3 = client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}
                ]
            },
        )
        s3.put_bucket_policy(Bucket=BUCKET, Policy=state_bucket_policy(stacks, key["Arn"]))
        yield {"s3": s3, "http": client("s3", "http"), "key": key["Arn"], "other": other["Arn"]}


def refused(call) -> bool:
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def test_a_request_without_tls_is_denied_and_one_with_tls_allowed(state_bucket) -> None:
    """AWS global condition keys, ``aws:SecureTransport``: whether the request was sent over TLS;
    the state bucket denies ``s3:*`` when it is false."""
    s3, http = state_bucket["s3"], state_bucket["http"]
    s3.put_object(Bucket=BUCKET, Key="stages/dev/terraform.tfstate", Body=b"{}", ServerSideEncryption="aws:kms")
    assert s3.get_object(Bucket=BUCKET, Key="stages/dev/terraform.tfstate")["Body"].read() == b"{}"
    assert refused(lambda: http.get_object(Bucket=BUCKET, Key="stages/dev/terraform.tfstate"))
    assert refused(lambda: http.put_object(Bucket=BUCKET, Key="x.tfstate", Body=b"{}", ServerSideEncryption="aws:kms"))
    errors = http.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "stages/dev/terraform.tfstate"}]})
    assert [e["Code"] for e in errors["Errors"]] == ["AccessDenied"]
    done = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "stages/dev/terraform.tfstate"}]})
    assert [d["Key"] for d in done["Deleted"]] == ["stages/dev/terraform.tfstate"]


def test_a_write_without_kms_or_with_another_key_is_denied(state_bucket) -> None:
    """S3 user guide, "Protecting data with server-side encryption using AWS KMS keys (SSE-KMS)",
    "Requiring server-side encryption": the policy refuses a PutObject whose
    ``x-amz-server-side-encryption`` is not ``aws:kms`` (AES256 is what Terraform's ``encrypt``
    sends without ``kms_key_id``) or whose key id is not the state key."""
    s3, key, other = state_bucket["s3"], state_bucket["key"], state_bucket["other"]
    put = {"Bucket": BUCKET, "Key": "stages/dev/terraform.tfstate", "Body": b"{}"}
    assert refused(lambda: s3.put_object(**put, ServerSideEncryption="AES256"))
    assert refused(lambda: s3.put_object(**put, ServerSideEncryption="aws:kms", SSEKMSKeyId=other))
    for allowed in (key, load_state_backend().kms_key_alias):
        s3.put_object(**put, ServerSideEncryption="aws:kms", SSEKMSKeyId=allowed)
        head = s3.head_object(Bucket=BUCKET, Key=put["Key"])
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)  # the alias resolved
    s3.put_object(**put)  # no SSE headers (an UploadPart has none): the bucket's default, the same key
    head = s3.head_object(Bucket=BUCKET, Key=put["Key"])
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)


@pytest.mark.slow
@pytest.mark.emulator
def test_tls_server_is_trusted_through_its_ca_only_and_cleans_up() -> None:
    with emulator.MotoServer(tls=True) as moto:
        assert moto.url.startswith("https://127.0.0.1:") and moto.ca_bundle is not None
        context = ssl.create_default_context(cafile=str(moto.ca_bundle))
        with urllib.request.urlopen(f"{moto.url}/moto-api/data.json", timeout=5, context=context) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            urllib.request.urlopen(f"{moto.url}/moto-api/data.json", timeout=5)  # the system CAs do not know it
        provider = emulator.provider_settings(moto.url, ca_bundle=moto.ca_bundle)
        assert provider["custom_ca_bundle"] == str(moto.ca_bundle)
        assert json.dumps(moto.client("s3").list_buckets()["Buckets"]) == "[]"
        ca_dir = moto.ca_bundle.parent
    assert not ca_dir.exists()
