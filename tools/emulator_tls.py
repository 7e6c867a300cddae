"""The emulator over TLS, with S3 bucket policies evaluated on the transport and the SSE headers.

What the real S3 backend needs from the emulator that stock moto 5.2.5 does not give:

1. **TLS.** The state bucket's policy denies every request not made over TLS
   (``aws:SecureTransport``), so the backend has to speak HTTPS. moto's server serves HTTPS with
   a certificate and key given by ``-c``/``-k``; :func:`write_certificates` makes a throwaway CA
   and a server certificate for ``127.0.0.1`` per run (nothing committed, nothing secret: the
   files live in a temp dir and expire in two days). Terraform's S3 backend and the AWS provider
   trust the CA through ``custom_ca_bundle``; boto3 through ``verify=``.
2. **Conditions.** moto checks a bucket policy only for object requests (Get/Put/Head/Delete
   Object, and DeleteObjects per key) and passes no request context to its evaluator: that knows
   only ``StringEquals`` and treats every other operator (``Bool``, ``StringNotEquals``, ``Null``)
   as satisfied, and it answers DENIED for any statement whose condition fails, even an Allow.
   So a ``Deny`` with ``"Principal": "*"`` on ``bucket/*`` denies every object request whatever
   its Condition says, over HTTP or HTTPS alike: the deny-insecure-transport statement refuses
   the state's own reads and writes, and a "deny PutObject without aws:kms" statement refuses
   every PutObject. :func:`install` fixes that for the condition keys below, the way AWS
   evaluates them: before moto looks at the policy of the request's bucket, a statement whose
   conditions can all be evaluated is dropped when one does not hold and kept without its
   Condition when all hold; a statement with anything else in its Condition goes to moto as
   before. Only S3 bucket policies are touched.

3. **Aliases.** S3 encrypts an object with the key an alias in
   ``x-amz-server-side-encryption-aws-kms-key-id`` names and reports the key's ARN; moto keeps
   the alias as sent. The stage backends name the state key by its alias, so the fix resolves
   it (HeadObject then shows the key ARN, as on AWS).

Evaluated keys: ``aws:SecureTransport`` (from the request URL's scheme),
``s3:x-amz-server-side-encryption`` and ``s3:x-amz-server-side-encryption-aws-kms-key-id`` (from
the request headers); operators ``Bool``, ``StringEquals``, ``StringNotEquals``, ``Null`` and
their ``...IfExists`` forms. A key missing from the request fails a positive operator and
satisfies a negated one, as in IAM.

``python -m tools.emulator_tls <moto.server arguments>`` is moto's server with the fix
installed; :class:`tools.emulator.MotoServer` with ``tls=True`` starts it with fresh
certificates.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Condition keys the emulator evaluates from the request, lower case (IAM compares keys case-insensitively).
SECURE_TRANSPORT = "aws:securetransport"
SSE = "s3:x-amz-server-side-encryption"
SSE_KMS_KEY_ID = "s3:x-amz-server-side-encryption-aws-kms-key-id"


@dataclass(frozen=True)
class TlsFiles:
    """The CA certificate clients trust, and the server's certificate and private key (PEM)."""

    ca: Path
    certificate: Path
    key: Path


def write_certificates(directory: Path, days: int = 2) -> TlsFiles:
    """A fresh CA and a server certificate for 127.0.0.1/localhost, signed by it, in ``directory``.

    EC P-256 keys; the server certificate carries the IP address as a subjectAltName (Go's TLS,
    which terraform and the provider use, matches SANs only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    valid_from, valid_to = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "digital-booking emulator test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key.touch(mode=0o600)
    files.key.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


# -- bucket-policy conditions -------------------------------------------------------------------
def request_context(url: str, headers: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str | None]:
    """The condition keys of one S3 request: transport from the URL, SSE from the headers."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lowered = {str(name).lower(): value for name, value in items}
    return {
        SECURE_TRANSPORT: "true" if url.lower().startswith("https://") else "false",
        SSE: lowered.get("x-amz-server-side-encryption"),
        SSE_KMS_KEY_ID: lowered.get("x-amz-server-side-encryption-aws-kms-key-id"),
    }


def condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str | None]) -> bool | None:
    """Whether one condition holds for the request; None when it is not one this module evaluates."""
    key = key.lower()
    if key not in context:
        return None
    actual = context[key]
    values = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
    if operator == "Null":
        return (actual is None) == (values[0].lower() == "true")
    base = operator.removesuffix("IfExists")
    if base not in ("Bool", "StringEquals", "StringNotEquals"):
        return None
    if actual is None:
        # A key the request does not carry: ...IfExists and negated operators hold, the others do not.
        return base != operator or base == "StringNotEquals"
    if base == "Bool":
        return actual.lower() in {v.lower() for v in values}
    if base == "StringEquals":
        return actual in values
    return actual not in values


def resolve_conditions(policy: Mapping[str, Any], context: Mapping[str, str | None]) -> dict[str, Any]:
    """The policy as it applies to one request: statements whose conditions all hold lose their
    Condition, statements with a condition that does not hold are dropped, the rest are kept."""
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    kept = []
    for statement in statements:
        condition = statement.get("Condition")
        if not condition:
            kept.append(statement)
            continue
        results = [
            condition_holds(operator, key, expected, context)
            for operator, pairs in condition.items()
            for key, expected in pairs.items()
        ]
        if any(result is False for result in results):
            continue
        if all(result is True for result in results):
            kept.append({name: value for name, value in statement.items() if name != "Condition"})
        else:
            kept.append(statement)
    return {**policy, "Statement": kept}


def _with_key_arn(headers: Any, account: str, region: str) -> Any:
    """The request headers with a KMS alias in the SSE key header replaced by the key's ARN.

    S3 encrypts with the key an alias names, resolved in the requester's account, and reports
    the key's ARN (HeadObject ``SSEKMSKeyId``); moto would store and report the alias as sent.
    The bucket policy sees the header as sent (the context is taken before this)."""
    name = "x-amz-server-side-encryption-aws-kms-key-id"
    value = headers.get(name)
    if not value or not (value.startswith("alias/") or ":alias/" in value):
        return headers
    from moto.kms.models import kms_backends
    from werkzeug.datastructures import Headers

    try:
        arn = kms_backends[account][region].describe_key(value).arn
    except Exception:  # noqa: BLE001 - an unknown alias: left as sent, as moto would
        return headers
    resolved = Headers(list(headers.items()))
    resolved[name] = arn
    return resolved


_REQUEST: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar("s3_request", default=None)
_INSTALLED = False


def install() -> None:
    """Patch moto (in this process) so S3 bucket policies see the request's transport and SSE headers."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.iam.access_control import IAMPolicy
    from moto.s3 import models, responses

    original_get_permission = models.FakeBucket.get_permission
    original_key_response = responses.S3Response._key_response
    original_delete_keys = responses.S3Response._bucket_response_delete_keys

    def get_permission(self: Any, action: str, resource: str) -> Any:
        context = _REQUEST.get()
        if self.policy is None or context is None:
            return original_get_permission(self, action, resource)
        policy = resolve_conditions(json.loads(self.policy.decode()), context)
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    def key_response(self: Any, request: Any, full_url: str) -> Any:
        token = _REQUEST.set(request_context(full_url, self.headers.items()))
        try:
            self.headers = _with_key_arn(self.headers, self.current_account, self.region)
            return original_key_response(self, request, full_url)
        finally:
            _REQUEST.reset(token)

    def delete_keys(self: Any, bucket_name: str, authenticated: bool = True) -> Any:  # DeleteObjects
        token = _REQUEST.set(request_context(self.uri, self.headers.items()))
        try:
            return original_delete_keys(self, bucket_name, authenticated)
        finally:
            _REQUEST.reset(token)

    setattr(models.FakeBucket, "get_permission", get_permission)  # noqa: B010 (patching a class)
    setattr(responses.S3Response, "_key_response", key_response)  # noqa: B010
    setattr(responses.S3Response, "_bucket_response_delete_keys", delete_keys)  # noqa: B010
    _INSTALLED = True


if __name__ == "__main__":  # moto's own server and arguments, with the conditions evaluated
    install()
    from moto.server import main

    main()
