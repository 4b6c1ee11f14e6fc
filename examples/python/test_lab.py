"""The XAA lab as a test fixture from Python: start the real `lab` binary on ephemeral ports, mint
an ID token with `lab token`, then walk the flow with requests: token exchange at the IdP (ID token
-> ID-JAG), jwt-bearer at the resource AS (ID-JAG -> access token), the todo API.

Run: `.venv/bin/pytest` (LAB_BIN defaults to ../../target/debug/lab).
"""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

HERE = Path(__file__).resolve().parent
LAB_BIN = Path(os.environ.get("LAB_BIN", HERE / "../../target/debug/lab")).resolve()
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"


class Lab:
    """A running lab: `ready` is its ready file ({idp, authorization_server, todo_api, ..., env})."""

    def __init__(self, ready_file: Path):
        self.ready_file = ready_file
        self.ready = json.loads(ready_file.read_text())
        self.env = self.ready["env"]

    def mint(self, kind: str, *args: str) -> dict:
        """`lab token KIND ...` for this lab's URLs: the JSON the issuing endpoint would return."""
        out = subprocess.run(
            [LAB_BIN, "token", kind, "--ready-file", self.ready_file, *args],
            check=True, capture_output=True, text=True,
        )
        return json.loads(out.stdout)

    def jwt_bearer(self, assertion: str) -> requests.Response:
        return requests.post(
            f"{self.ready['authorization_server']}/token",
            data={
                "grant_type": JWT_BEARER,
                "assertion": assertion,
                "client_id": self.env["RESOURCE_CLIENT_ID"],
                "client_secret": self.env["RESOURCE_CLIENT_SECRET"],
            },
            timeout=10,
        )


@pytest.fixture(scope="session")
def lab():
    with tempfile.TemporaryDirectory(prefix="xaa-lab-python-") as tmp:
        ready_file = Path(tmp) / "ready.json"
        with open(Path(tmp) / "lab.log", "w+") as log:
            process = subprocess.Popen(
                [LAB_BIN, "--ephemeral-ports", "--in-memory", "--ready-file", ready_file],
                cwd=tmp, stdout=subprocess.DEVNULL, stderr=log,
            )
            try:
                deadline = time.monotonic() + 20
                while not ready_file.exists():
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        pytest.fail(f"lab ({LAB_BIN}) did not get ready:\n{log.read()[-4000:]}")
                    time.sleep(0.02)
                yield Lab(ready_file)
            finally:
                process.terminate()  # SIGTERM: the lab stops gracefully
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_id_token_to_id_jag_to_access_token_to_todos(lab):
    id_token = lab.mint("id-token", "--email", "alice@acme.example", "--client", lab.env["CLIENT_ID"])["id_token"]

    exchange = requests.post(
        f"{lab.ready['idp']}/token",
        data={
            "grant_type": TOKEN_EXCHANGE,
            "requested_token_type": ID_JAG,
            "subject_token": id_token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "audience": lab.ready["authorization_server"],
            "resource": lab.ready["todo_api"],
            "scope": "todos.read",
            "client_id": lab.env["CLIENT_ID"],
            "client_secret": lab.env["CLIENT_SECRET"],
        },
        timeout=10,
    )
    assert exchange.status_code == 200, exchange.text
    jag = exchange.json()
    assert jag["issued_token_type"] == ID_JAG
    assert jag["token_type"] == "N_A"

    bearer = lab.jwt_bearer(jag["access_token"])
    assert bearer.status_code == 200, bearer.text
    token = bearer.json()
    assert token["token_type"] == "Bearer"
    assert token["scope"] == "todos.read"

    todos = requests.get(
        f"{lab.ready['todo_api']}/api/todos",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert todos.status_code == 200, todos.text
    assert todos.json()["success"] is True


def test_expired_id_jag_is_refused_with_invalid_grant(lab):
    expired = lab.mint("id-jag", "--client", lab.env["CLIENT_ID"], "--expired")["access_token"]
    response = lab.jwt_bearer(expired)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
