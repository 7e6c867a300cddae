"""``make db-app-user``: the operator's one command, run end to end with the AWS CLI and the MySQL
client stubbed (each stub records how it was called): the master password reaches only the local
client's 0600 file, through the operator's own credentials, and crosses the app server only inside
an SSM port-forwarding session."""

from __future__ import annotations

import json
import os
import stat
import sys
import textwrap
from pathlib import Path

import pytest

from tools import db_app_user

PASSWORD = "m4ster-Pa55word-never-seen"
ENDPOINT = "digital-booking-dev-db.abc123.eu-west-1.rds.amazonaws.com"

AWS_STUB = """
import json, os, socket, sys
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps({"tool": "aws", "argv": args, "env": dict(os.environ)}) + "\\n")
service, action = args[0], args[1]
if (service, action) == ("ssm", "get-parameters-by-path"):
    prefix = args[args.index("--path") + 1]
    values = {"endpoint": "ENDPOINT", "port": "3306", "name": "booking", "user": "booking_app",
              "authentication": "iam", "reader-endpoints": "none"}
    print(json.dumps({"Parameters": [{"Name": f"{prefix}/{k}", "Value": v} for k, v in values.items()]}))
elif (service, action) == ("rds", "describe-db-instances"):
    secret = {"SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1"}
    print(json.dumps({"DBInstances": [{"MasterUserSecret": secret}]}))
elif (service, action) == ("ec2", "describe-instances"):
    instances = [] if os.environ.get("STUB_NO_INSTANCES") else [{"InstanceId": "i-0123456789abcdef0"}]
    print(json.dumps({"Reservations": [{"Instances": instances}]}))
elif (service, action) == ("secretsmanager", "get-secret-value"):
    print(json.dumps({"SecretString": json.dumps({"username": "booking_admin", "password": "PASSWORD"})}))
elif (service, action) == ("ssm", "start-session"):
    parameters = json.loads(args[args.index("--parameters") + 1])
    server = socket.socket()
    server.bind(("127.0.0.1", int(parameters["localPortNumber"][0])))
    server.listen()
    while True:  # a relay stand-in: accept and close, until terminated
        connection, _ = server.accept()
        connection.close()
else:
    sys.exit(f"unexpected aws call {args}")
""".replace("ENDPOINT", ENDPOINT).replace("PASSWORD", PASSWORD)

MYSQL_STUB = """
import json, os, stat, sys
args = sys.argv[1:]
defaults = args[0].split("=", 1)[1]
record = {"tool": "mysql", "argv": args, "env": dict(os.environ), "stdin": sys.stdin.read(),
          "defaults": open(defaults).read(), "defaults_mode": stat.S_IMODE(os.stat(defaults).st_mode),
          "defaults_path": defaults}
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps(record) + "\\n")
"""


@pytest.fixture
def stubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("aws", AWS_STUB), ("mysql", MYSQL_STUB)):
        path = bin_dir / name
        path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
        path.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_LOG", str(log))
    bundle = tmp_path / "rds-ca-bundle.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n(the RDS authorities)\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv(db_app_user.RDS_CA_BUNDLE_VARIABLE, str(bundle))
    return log


def calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_master_password_reaches_only_the_local_clients_private_file(stubbed: Path) -> None:
    assert db_app_user.main(["dev"]) == 0
    recorded = calls(stubbed)
    for call in recorded:
        assert PASSWORD not in " ".join(call["argv"]), call["tool"]
        assert PASSWORD not in json.dumps(call["env"]), call["tool"]
    [client] = [c for c in recorded if c["tool"] == "mysql"]
    assert PASSWORD in client["defaults"] and client["defaults_mode"] == stat.S_IRUSR | stat.S_IWUSR
    assert not Path(client["defaults_path"]).exists()  # removed once the SQL ran


def test_the_database_is_reached_through_a_port_forwarding_session_only(stubbed: Path) -> None:
    """Session Manager "Port forwarding using AWS-StartPortForwardingSessionToRemoteHost": the instance
    relays a TCP stream to the remote host; no command runs on it (no ssm send-command at all), and the
    local client speaks TLS to RDS through that stream, checking the server's certificate against the RDS
    certificate authorities (MySQL Reference Manual, --ssl-mode: REQUIRED "does not verify the server
    certificate"; VERIFY_CA does; RDS User Guide, "Using SSL/TLS to encrypt a connection to a DB
    instance or cluster", for the bundle): the relaying instance cannot end TLS in the middle."""
    assert db_app_user.main(["dev"]) == 0
    recorded = calls(stubbed)
    aws_calls = [c["argv"][:2] for c in recorded if c["tool"] == "aws"]
    assert ["ssm", "send-command"] not in aws_calls
    [session] = [c["argv"] for c in recorded if c["argv"][:2] == ["ssm", "start-session"]]
    assert session[session.index("--document-name") + 1] == "AWS-StartPortForwardingSessionToRemoteHost"
    assert session[session.index("--target") + 1] == "i-0123456789abcdef0"
    parameters = json.loads(session[session.index("--parameters") + 1])
    assert parameters["host"] == [ENDPOINT] and parameters["portNumber"] == ["3306"]
    [client] = [c for c in recorded if c["tool"] == "mysql"]
    assert "--host=127.0.0.1" in client["argv"] and f"--port={parameters['localPortNumber'][0]}" in client["argv"]
    assert "--ssl-mode=VERIFY_CA" in client["argv"]
    assert f"--ssl-ca={os.environ[db_app_user.RDS_CA_BUNDLE_VARIABLE]}" in client["argv"]


def test_the_sql_creates_an_iam_authenticated_user_limited_to_its_database(stubbed: Path) -> None:
    """ "Creating a database account using IAM authentication" (RDS User Guide): MySQL's
    ``IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'``; the user gets its own database and TLS only."""
    assert db_app_user.main(["dev"]) == 0
    [client] = [c for c in calls(stubbed) if c["tool"] == "mysql"]
    assert client["stdin"] == db_app_user.app_user_sql("mysql", "booking", "booking_app")
    assert "IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL" in client["stdin"]
    assert "ON `booking`.* TO 'booking_app'@'%'" in client["stdin"] and "*.*" not in client["stdin"]
    assert "GRANT OPTION" not in client["stdin"]


def test_postgres_users_get_the_rds_iam_role() -> None:
    sql = db_app_user.app_user_sql("postgres", "booking", "booking_app")
    assert "GRANT rds_iam TO booking_app;" in sql and "CREATE EXTENSION IF NOT EXISTS pgaudit;" in sql


def test_without_a_running_app_server_it_says_so(stubbed: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("STUB_NO_INSTANCES", "1")
    assert db_app_user.main(["dev"]) == 1
    assert "no running app server in stage 'dev'" in capsys.readouterr().err
    assert not [c for c in calls(stubbed) if c["argv"][:2] == ["secretsmanager", "get-secret-value"]]
