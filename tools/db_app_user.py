"""``make db-app-user STAGE=<stage>``: create the app's database user, once per stage, as an operator.

    python -m tools.db_app_user <stage> [--dry-run]

The app logs in to the database with IAM authentication as its own user (``[database]
app_username``), never as the master user. That user must exist in the database before the app
can connect, and only the master user can create it. This command does that from the operator's
machine, with the operator's own AWS credentials (the stage's ``<stage>-db-operator`` role, MFA):

1. reads where the database is from the stage's SSM parameters and which secret holds the master
   password (``rds describe-db-instances``);
2. opens an SSM Session Manager port-forwarding session through a running app server to the
   database (``AWS-StartPortForwardingSessionToRemoteHost``: the instance relays the client's TLS
   stream and runs nothing);
3. reads the master password (``secretsmanager get-secret-value``) into a 0600 file the local
   database client reads (never a command-line argument, never an environment variable);
4. runs the SQL below with the local ``mysql`` or ``psql`` client over TLS, checking the server's
   certificate against the RDS certificate authorities (so the relaying instance cannot stand in for
   the database), then closes the session and removes the file.

The master password never reaches an instance in the clear, an SSM command or the app's role. Running
it again changes nothing (``IF NOT EXISTS``). Needs the AWS CLI, the Session Manager plugin and the
engine's client on the operator's machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.terraform_cli import PROJECT_DIR

#: The SSM document that forwards a local port to a remote host through an instance.
PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
#: The certificate authorities of every RDS region (RDS User Guide, "Using SSL/TLS to encrypt a connection to
#: a DB instance or cluster", certificate bundles for all AWS Regions); a local file in this variable instead.
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
RDS_CA_BUNDLE_VARIABLE = "DIGITAL_BOOKING_RDS_CA_BUNDLE"


class OperatorError(RuntimeError):
    """Something the operator must fix (credentials, a missing tool, no running app server)."""


@dataclass(frozen=True)
class Database:
    """Where the stage's database is and who the app logs in as (from the stage's SSM parameters)."""

    stage: str
    engine: str
    endpoint: str
    port: int
    name: str
    app_user: str
    master_secret_arn: str


def app_user_sql(engine: str, database: str, user: str) -> str:
    """The SQL that creates the app's IAM-authenticated user and gives it its own database, nothing more.

    MySQL: "Creating a database account using IAM authentication" (RDS User Guide): ``IDENTIFIED WITH
    AWSAuthenticationPlugin AS 'RDS'``, and ``REQUIRE SSL``. PostgreSQL: ``GRANT rds_iam``, plus the
    pgAudit extension the parameter group preloads."""
    if engine == "mysql":
        return (
            f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL;\n"
            f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%';\n"
        )
    if engine == "postgres":
        return (
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{user}') THEN "
            f"CREATE ROLE {user} LOGIN; END IF; END $$;\n"
            f"GRANT rds_iam TO {user};\n"
            f"GRANT ALL PRIVILEGES ON DATABASE {database} TO {user};\n"
            f"GRANT ALL ON SCHEMA public TO {user};\n"
            "CREATE EXTENSION IF NOT EXISTS pgaudit;\n"
        )
    raise ValueError(f"unknown engine {engine!r}")


def aws(*args: str) -> dict[str, Any]:
    """Run the AWS CLI with the operator's credentials; its JSON answer."""
    if shutil.which("aws") is None:
        raise OperatorError("the AWS CLI is not installed (https://docs.aws.amazon.com/cli/)")
    result = subprocess.run(
        ["aws", *args, "--output", "json"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise OperatorError(f"aws {' '.join(args[:2])} failed: {result.stderr.strip()[-600:]}")
    answer: dict[str, Any] = json.loads(result.stdout or "{}")
    return answer


def find_database(stage: str, engine: str) -> Database:
    prefix = f"/digital-booking/digital-booking-{stage}/database"
    found = aws("ssm", "get-parameters-by-path", "--path", prefix, "--with-decryption")
    parameters = {p["Name"].rsplit("/", 1)[1]: p["Value"] for p in found.get("Parameters", [])}
    missing = {"endpoint", "port", "name", "user"} - set(parameters)
    if missing:
        raise OperatorError(f"stage {stage!r} has no database parameters {sorted(missing)} under {prefix}: deployed?")
    instances = aws("rds", "describe-db-instances", "--db-instance-identifier", f"digital-booking-{stage}-db")
    [instance] = instances["DBInstances"]
    return Database(
        stage=stage,
        engine=engine,
        endpoint=parameters["endpoint"],
        port=int(parameters["port"]),
        name=parameters["name"],
        app_user=parameters["user"],
        master_secret_arn=instance["MasterUserSecret"]["SecretArn"],
    )


def find_app_server(stage: str) -> str:
    found = aws(
        "ec2",
        "describe-instances",
        "--filters",
        f"Name=tag:Name,Values=digital-booking-{stage}-app",
        "Name=instance-state-name,Values=running",
    )
    instances = [str(i["InstanceId"]) for r in found.get("Reservations", []) for i in r.get("Instances", [])]
    if not instances:
        raise OperatorError(f"no running app server in stage {stage!r} to forward the database port through")
    return sorted(instances)[0]


def free_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def port_forwarding(instance_id: str, host: str, port: int, timeout: float = 60) -> Iterator[int]:
    """An SSM port-forwarding session to ``host:port`` through ``instance_id``; the local port."""
    local = free_local_port()
    session = subprocess.Popen(
        [
            "aws",
            "ssm",
            "start-session",
            "--target",
            instance_id,
            "--document-name",
            PORT_FORWARDING_DOCUMENT,
            "--parameters",
            json.dumps({"host": [host], "portNumber": [str(port)], "localPortNumber": [str(local)]}),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if session.poll() is not None:
                error = session.stderr.read().decode(errors="replace") if session.stderr else ""
                raise OperatorError(f"the port-forwarding session ended: {error.strip()[-600:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", local), timeout=1):
                break
            if time.monotonic() > deadline:
                raise OperatorError(f"the port-forwarding session did not open 127.0.0.1:{local} in {timeout:.0f} s")
            time.sleep(0.3)
        yield local
    finally:
        session.terminate()
        try:
            session.wait(timeout=10)
        except subprocess.TimeoutExpired:
            session.kill()


def rds_ca_bundle(directory: Path) -> Path:
    """The RDS certificate authorities, as a PEM file the client checks the server's certificate with. The
    relay is an app server: with encryption alone (REQUIRED / require) it could end TLS itself and read the
    master login; it cannot show a certificate these authorities signed."""
    if os.environ.get(RDS_CA_BUNDLE_VARIABLE):
        return Path(os.environ[RDS_CA_BUNDLE_VARIABLE])
    import urllib.request

    bundle = directory / "rds-ca-bundle.pem"
    try:
        with urllib.request.urlopen(RDS_CA_BUNDLE_URL, timeout=30) as answer:
            bundle.write_bytes(answer.read())
    except OSError as error:
        raise OperatorError(
            f"cannot download the RDS certificate bundle from {RDS_CA_BUNDLE_URL} ({error}); "
            f"download it yourself and set {RDS_CA_BUNDLE_VARIABLE} to its path"
        ) from error
    if b"BEGIN CERTIFICATE" not in bundle.read_bytes():
        raise OperatorError(f"{RDS_CA_BUNDLE_URL} did not answer with PEM certificates")
    return bundle


def run_sql(database: Database, local_port: int, master: dict, sql: str) -> None:
    """Run ``sql`` as the master user with the local client, over TLS, the password in a 0600 file."""
    client = "mysql" if database.engine == "mysql" else "psql"
    if shutil.which(client) is None:
        raise OperatorError(f"the {client} client is not installed")
    with tempfile.TemporaryDirectory(prefix="db-app-user-") as scratch:
        secrets = Path(scratch) / ("client.cnf" if client == "mysql" else "pgpass")
        secrets.touch(mode=0o600)
        env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_PWD", "PGPASSWORD")}
        # The server's certificate is checked against the RDS authorities, not its name: the client
        # connects to 127.0.0.1 (the forwarded port), which no RDS certificate names.
        authorities = rds_ca_bundle(Path(scratch))
        if client == "mysql":
            secrets.write_text(f"[client]\nuser={master['username']}\npassword={master['password']}\n")
            command = [
                "mysql",
                f"--defaults-extra-file={secrets}",
                "--host=127.0.0.1",
                f"--port={local_port}",
                "--ssl-mode=VERIFY_CA",
                f"--ssl-ca={authorities}",
                database.name,
            ]
        else:
            secrets.write_text(f"127.0.0.1:{local_port}:{database.name}:{master['username']}:{master['password']}\n")
            env["PGPASSFILE"] = str(secrets)
            command = [
                "psql",
                f"host=127.0.0.1 port={local_port} dbname={database.name} user={master['username']}"
                f" sslmode=verify-ca sslrootcert={authorities}",
                "--no-psqlrc",
                "--set=ON_ERROR_STOP=1",
            ]
        result = subprocess.run(command, input=sql, text=True, capture_output=True, env=env)
        if result.returncode != 0:
            raise OperatorError(f"{client} failed: {result.stderr.strip()[-600:]}")


def create_app_user(stage: str, dry_run: bool = False, log: Callable[[str], None] = print) -> None:
    from environments import load_stage  # the stage file says the engine and the user's name

    settings = load_stage(stage).database
    sql = app_user_sql(settings.engine, settings.database_name, settings.app_username)
    if dry_run:
        log(sql)
        return
    database = find_database(stage, settings.engine)
    instance = find_app_server(stage)
    log(f"==> {database.engine} at {database.endpoint}:{database.port}, through {instance} (SSM port forwarding)")
    master = json.loads(
        aws("secretsmanager", "get-secret-value", "--secret-id", database.master_secret_arn)["SecretString"]
    )
    with port_forwarding(instance, database.endpoint, database.port) as local_port:
        run_sql(database, local_port, master, sql)
    log(f"==> user {database.app_user!r} exists in {database.name!r}: IAM authentication over TLS, no password")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="create the app's IAM-authenticated database user of a stage")
    parser.add_argument("stage")
    parser.add_argument("--dry-run", action="store_true", help="print the SQL only")
    args = parser.parse_args(argv)
    os.chdir(PROJECT_DIR)
    from environments import StageConfigError

    try:
        create_app_user(args.stage, args.dry_run)
    except (OperatorError, StageConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
