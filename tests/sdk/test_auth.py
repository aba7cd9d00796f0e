"""Issue 4: authentication and tenancy, driven by the official Python SDK (and raw requests where the SDK cannot go).

Contract: ../shared/spec/ECS_API.md sections 1.1-1.3 and 7; docs/behaviour.md "Authentication and tenancy".

Every ecsd of this suite runs with signature verification on (the default: no `--no-auth`).
The SDK (huaweicloudsdkcore 3.1.219) has no token credential type: only BasicCredentials/GlobalCredentials,
and the client builder refuses any other credential class by name. Token auth is therefore driven with raw
`requests` calls carrying `X-Auth-Token`, as a script using tokens would do.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkecs.v2 import (
    BatchResetServersPasswordRequest,
    BatchResetServersPasswordRequestBody,
    BatchResizeServersOption,
    BatchResizeServersReq,
    BatchResizeServersRequest,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    BatchUpdateServersNameRequest,
    BatchUpdateServersNameRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    EcsClient,
    ListServersDetailsRequest,
    ResizePostPaidServerOption,
    ResizePostPaidServerRequest,
    ResizePostPaidServerRequestBody,
    ShowJobRequest,
    ShowResetPasswordFlagRequest,
    ShowServerLimitsRequest,
    ShowServerRequest,
    UpdateServerOption,
    UpdateServerRequest,
    UpdateServerRequestBody,
)

from conftest import (
    TEAM_B_AK,
    TEAM_B_CONFIG,
    TEAM_B_PROJECT,
    TEAM_B_SK,
    ecsd_binary,
    expect_client_error,
    free_port,
    run_ecsd_cli,
    server_ids,
    two_projects,
)

GATEWAY_KEYS = {"error_msg", "error_code", "request_id"}
LIST_PATH = "/v1/{project_id}/cloudservers/detail"
GOOD_PASSWORD = "Ecsd@2024pass"

ALICE_PASSWORD = "Alice-Pa55word!x"
BOB_PASSWORD = "Bob-0ther-Secret#9"
WRONG_PASSWORD = "Alice-Wrong-Guess-77"
USERS_TOML = f"""
[[users]]
name = "alice"
password = "{ALICE_PASSWORD}"
project_id = "{TEAM_B_PROJECT}"

[[users]]
name = "bob"
password = "{BOB_PASSWORD}"
domain = "acme"
project_id = "{TEAM_B_PROJECT}"
"""
USERS_CONFIG = TEAM_B_CONFIG + USERS_TOML


# ------------------------------------------------------------------ helpers


def list_ids(ecsd):
    resp = ecsd.ecs.list_servers_details(ListServersDetailsRequest())
    return sorted(s.id for s in resp.servers or []), resp.count


def assert_gateway_refusal(r: requests.Response, code: str = "APIG.0301"):
    """401 with the API gateway body {"error_msg","error_code","request_id"} (contract 1.3)."""
    assert r.status_code == 401, (r.status_code, r.text)
    body = r.json()
    assert set(body) == GATEWAY_KEYS, body
    assert body["error_code"] == code, body
    assert body["error_msg"], body
    assert body["request_id"], body


def stop(ecsd, ids):
    body = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=server_ids(ids), type="SOFT"))
    return ecsd.ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id


def sdk_date(when: datetime.datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def signed_request(ecsd, method: str, path: str, body: bytes = b"", sdk_date_value=None) -> SdkRequest:
    """An SdkRequest signed by the SDK's own signer (optionally with a fixed X-Sdk-Date)."""
    headers = {"Content-Type": "application/json"}
    if sdk_date_value:
        headers["X-Sdk-Date"] = sdk_date_value
    req = SdkRequest(
        method=method,
        schema="http",
        host=f"127.0.0.1:{ecsd.port}",
        resource_path=path.replace("{project_id}", ecsd.project_id),
        query_params=[],
        header_params=headers,
        body=body or None,
    )
    return ecsd.credentials.sign_request(req)


def token_body(user: str, password: str, project_id: str = TEAM_B_PROJECT, domain: str = "default") -> dict:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "password": password, "domain": {"name": domain}}},
            },
            "scope": {"project": {"id": project_id}},
        }
    }


def get_token(ecsd, user="alice", password=ALICE_PASSWORD, domain="default") -> requests.Response:
    return requests.post(f"{ecsd.endpoint}/v3/auth/tokens", json=token_body(user, password, domain=domain), timeout=10)


def with_token(method: str, url: str, token: str, body=None) -> requests.Response:
    return requests.request(method, url, headers={"X-Auth-Token": token}, json=body, timeout=10)


def files_under(directory: Path):
    return [p for p in sorted(directory.rglob("*")) if p.is_file()]


def assert_nowhere_in_clear(ecsd, secrets: dict):
    """None of `secrets` (label -> text) is in the server's log or in any file of its data dir."""
    places = [("the ecsd log", ecsd.log_path)] + [(str(p), p) for p in files_under(ecsd.data_dir)]
    leaks = []
    for where, path in places:
        content = path.read_bytes()
        for label, secret in secrets.items():
            if secret.encode() in content:
                leaks.append(f"{label} in {where}")
    assert not leaks, leaks


# ------------------------------------------------------------------ AK/SK signatures


def test_the_sdk_with_the_right_keys_works_against_a_default_server_with_verification_on(ecsd):
    ids = ecsd.create_servers(count=2, name="signed")
    assert list_ids(ecsd) == (sorted(ids), 2)
    assert ecsd.show(ids[0]).status == "ACTIVE"
    assert ecsd.wait_job(stop(ecsd, ids)).status == "SUCCESS"
    # Verification is really on in this server: the same request unsigned is refused.
    assert_gateway_refusal(requests.get(ecsd.endpoint + LIST_PATH.format(project_id=ecsd.project_id), timeout=10))


def test_a_client_with_a_wrong_secret_key_gets_401_apig_0301_and_changes_nothing(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    wrong = ecsd.as_credential(ecsd.ak, ecsd.sk[:-4] + "XXXX", ecsd.project_id)

    err = expect_client_error(wrong.ecs.list_servers_details, ListServersDetailsRequest())
    assert (err.status_code, err.error_code) == (401, "APIG.0301")
    assert err.error_msg and err.request_id, str(err)
    err = expect_client_error(stop, wrong, [sid])
    assert (err.status_code, err.error_code) == (401, "APIG.0301")
    assert ecsd.show(sid).status == "ACTIVE"

    # What the SDK hides: the raw body is the gateway's, and its request_id is the X-Request-Id header.
    r = wrong.raw("GET", LIST_PATH)
    assert_gateway_refusal(r)
    assert r.json()["request_id"] == r.headers.get("X-Request-Id"), (r.json(), dict(r.headers))
    assert ecsd.sk not in r.text and wrong.sk not in r.text


def test_an_unknown_access_key_is_refused_with_401_without_echoing_it(ecsd):
    stranger = ecsd.as_credential("AKUNKNOWN00000000042", ecsd.sk, ecsd.project_id)
    err = expect_client_error(stranger.ecs.list_servers_details, ListServersDetailsRequest())
    assert (err.status_code, err.error_code) == (401, "APIG.0301")
    r = stranger.raw("GET", LIST_PATH)
    assert_gateway_refusal(r)
    assert "AKUNKNOWN00000000042" not in r.text


def test_unsigned_requests_are_refused_with_401_and_only_the_versions_document_is_public(ecsd):
    pid = ecsd.project_id
    assert_gateway_refusal(requests.get(f"{ecsd.endpoint}/v1/{pid}/cloudservers/detail", timeout=10))
    assert_gateway_refusal(
        requests.post(
            f"{ecsd.endpoint}/v1/{pid}/cloudservers/action",
            json={"os-stop": {"servers": [{"id": str(uuid.uuid4())}]}},
            timeout=10,
        )
    )
    assert_gateway_refusal(requests.get(f"{ecsd.endpoint}/_ecsd/faults", timeout=10))
    # A malformed Authorization header is refused the same way.
    assert_gateway_refusal(
        requests.get(
            f"{ecsd.endpoint}/v1/{pid}/cloudservers/detail",
            headers={"Authorization": "SDK-HMAC-SHA256 garbage"},
            timeout=10,
        )
    )
    assert requests.get(ecsd.endpoint + "/", timeout=10).status_code == 200


def test_a_request_signed_16_minutes_ago_is_refused_and_one_signed_14_minutes_ago_is_accepted(ecsd):
    now = datetime.datetime.now(datetime.timezone.utc)
    old = ecsd.raw("GET", LIST_PATH, headers={"X-Sdk-Date": sdk_date(now - datetime.timedelta(minutes=16))})
    assert_gateway_refusal(old)
    future = ecsd.raw("GET", LIST_PATH, headers={"X-Sdk-Date": sdk_date(now + datetime.timedelta(minutes=16))})
    assert_gateway_refusal(future)
    recent = ecsd.raw("GET", LIST_PATH, headers={"X-Sdk-Date": sdk_date(now - datetime.timedelta(minutes=14))})
    assert recent.status_code == 200, recent.text


def test_a_replayed_request_older_than_15_minutes_is_refused_though_it_was_valid_when_signed(ecsd):
    """A request captured with its signature and replayed later: the same bytes, only older."""
    (sid,) = ecsd.create_servers(count=1)
    body = json.dumps({"os-stop": {"servers": [{"id": sid}], "type": "SOFT"}}).encode()
    signed_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    req = signed_request(ecsd, "POST", "/v1/{project_id}/cloudservers/action", body, sdk_date(signed_at))
    r = requests.post(f"{ecsd.endpoint}{req.uri}", headers=req.header_params, data=req.body, timeout=10)
    assert_gateway_refusal(r)
    assert ecsd.show(sid).status == "ACTIVE"


def test_a_body_changed_after_signing_is_refused(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    signed_body = json.dumps({"os-stop": {"servers": [{"id": sid}], "type": "SOFT"}}).encode()
    req = signed_request(ecsd, "POST", "/v1/{project_id}/cloudservers/action", signed_body)
    tampered = signed_body.replace(b"SOFT", b"HARD")
    r = requests.post(f"{ecsd.endpoint}{req.uri}", headers=req.header_params, data=tampered, timeout=10)
    assert_gateway_refusal(r)
    assert ecsd.show(sid).status == "ACTIVE"
    ok = requests.post(f"{ecsd.endpoint}{req.uri}", headers=req.header_params, data=signed_body, timeout=10)
    assert ok.status_code == 200, ok.text


def test_a_bare_ecsd_serve_prints_generated_credentials_that_the_sdk_can_use(tmp_path):
    """Done when: the SDK works against a default `ecsd serve` with the printed credentials (no ECSD_* set)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECSD_")}
    env["NO_COLOR"] = "1"
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "data"
    out_path = tmp_path / "stdout.txt"

    def serve():
        with open(out_path, "wb") as out:
            proc = subprocess.Popen(
                [str(ecsd_binary()), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir),
                 "--timings", "instant"],
                env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert proc.poll() is None, out_path.read_text()
            try:
                if requests.get(endpoint + "/", timeout=1).status_code == 200 and "secret key:" in out_path.read_text():
                    return proc, out_path.read_text()
            except requests.RequestException:
                pass
            time.sleep(0.05)
        proc.kill()
        pytest.fail("bare ecsd serve did not start:\n" + out_path.read_text())

    def printed(text, label):
        match = re.search(rf"{label}:\s*(\S+)", text)
        assert match, f"no '{label}:' in the start banner:\n{text}"
        return match.group(1)

    proc, banner = serve()
    try:
        ak, sk, pid = printed(banner, "access key"), printed(banner, "secret key"), printed(banner, "project id")
        assert re.fullmatch(r"[0-9a-f]{32}", pid), pid
        client = EcsClient.new_builder().with_credentials(BasicCredentials(ak, sk, pid)).with_endpoint(endpoint).build()
        assert client.list_servers_details(ListServersDetailsRequest()).count == 0
        wrong_sk = sk[::-1] if sk[::-1] != sk else sk + "x"
        wrong = EcsClient.new_builder().with_credentials(BasicCredentials(ak, wrong_sk, pid)).with_endpoint(endpoint)
        err = expect_client_error(wrong.build().list_servers_details, ListServersDetailsRequest())
        assert (err.status_code, err.error_code) == (401, "APIG.0301")
        assert_gateway_refusal(requests.get(f"{endpoint}/v1/{pid}/cloudservers/detail", timeout=10))
        # `ecsd ctl` finds the same credential in the data dir when none is in the environment.
        unset = {"ECSD_ACCESS_KEY": "", "ECSD_SECRET_KEY": "", "ECSD_PROJECT_ID": ""}  # empty counts as unset
        done = run_ecsd_cli("ctl", "--endpoint", endpoint, "--data-dir", str(data_dir), "faults", "list", env=unset)
        assert json.loads(done.stdout) == {"faults": []}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    # Restarted on the same data dir, the same credential works and the secret key is not printed again.
    proc, banner = serve()
    try:
        assert printed(banner.split("ecsd listening on")[-1], "access key") == ak
        assert sk not in banner.split("ecsd listening on")[-1]
        client = EcsClient.new_builder().with_credentials(BasicCredentials(ak, sk, pid)).with_endpoint(endpoint).build()
        assert client.list_servers_details(ListServersDetailsRequest()).count == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_signatures_verify_for_query_strings_and_bodies_with_reserved_and_non_ascii_characters(ecsd):
    """The canonical query (sorted, percent-encoded) and the body hash, as the SDK computes them."""
    (sid,) = ecsd.create_servers(count=1, name="web-测试", metadata={"note": "ünïcödé ✓ a+b=c&d"})
    for query in [
        {"name": "测试"},
        {"name": "web 01"},
        {"name": "a+b=c&d/e%f~*'()!"},
        {"name": "web-", "status": "ACTIVE", "flavor": "s6.medium.2", "limit": 5, "offset": 1},
        {"tags": "env=prod", "ip": "192.168."},
    ]:
        ecsd.ecs.list_servers_details(ListServersDetailsRequest(**query))  # refused signatures raise
    assert ecsd.ecs.list_servers_details(ListServersDetailsRequest(name="测试")).count == 1
    ecsd.ecs.update_server(
        UpdateServerRequest(server_id=sid, body=UpdateServerRequestBody(server=UpdateServerOption(name="重命名")))
    )
    assert ecsd.show(sid).name == "重命名"
    assert ecsd.show(sid).metadata["note"] == "ünïcödé ✓ a+b=c&d"


# ------------------------------------------------------------------ tenancy


def test_a_second_project_sees_none_of_the_first_projects_servers_and_cannot_act_on_them(ecsd_with_config):
    first, second = two_projects(ecsd_with_config)
    mine = first.create_servers(count=2, name="first")
    (theirs,) = second.create_servers(count=1, name="second")
    first_job = stop(first, [mine[1]])
    assert first.wait_job(first_job).status == "SUCCESS"
    victim = mine[0]  # ACTIVE; mine[1] is SHUTOFF
    before = {sid: first.show_raw(sid) for sid in mine}

    assert list_ids(second) == ([theirs], 1)
    assert list_ids(first) == (sorted(mine), 2)
    # Listing by server_id: a foreign id answers like an unknown one (only id and fault).
    r = second.raw("GET", LIST_PATH, query=[("server_id", victim)])
    assert r.status_code == 200, r.text
    (entry,) = r.json()["servers"]
    assert set(entry) == {"id", "fault"} and entry["fault"]["code"] == 404, entry
    assert second.ecs.show_server_limits(ShowServerLimitsRequest()).absolute.total_instances_used == 1

    def not_found(fn, *args):
        err = expect_client_error(fn, *args)
        assert (err.status_code, err.error_code) == (404, "Ecs.0114"), str(err)

    not_found(second.ecs.show_server, ShowServerRequest(server_id=victim))
    not_found(second.ecs.show_reset_password_flag, ShowResetPasswordFlagRequest(server_id=victim))
    not_found(stop, second, [victim])
    not_found(
        second.ecs.delete_servers,
        DeleteServersRequest(body=DeleteServersRequestBody(servers=server_ids(mine), delete_volume=True)),
    )
    not_found(
        second.ecs.update_server,
        UpdateServerRequest(server_id=victim, body=UpdateServerRequestBody(server=UpdateServerOption(name="stolen"))),
    )
    # A single resize of a foreign ACTIVE server must not reveal its status (Ecs.0100): it does not exist.
    not_found(
        second.ecs.resize_post_paid_server,
        ResizePostPaidServerRequest(
            server_id=victim,
            body=ResizePostPaidServerRequestBody(resize=ResizePostPaidServerOption(flavor_ref="s6.large.2")),
        ),
    )
    # The first project's job is unknown to the second project (an unknown job id: 400 Common.0011).
    err = expect_client_error(second.ecs.show_job, ShowJobRequest(job_id=first_job))
    assert (err.status_code, err.error_code) == (400, "Common.0011"), str(err)

    # Batch-format operations: 400 Ecs.0611, the foreign server listed as Ecs.0114, nothing applied.
    batch_calls = [
        (
            second.ecs.batch_reset_servers_password,
            BatchResetServersPasswordRequest(
                body=BatchResetServersPasswordRequestBody(new_password=GOOD_PASSWORD, servers=server_ids(mine))
            ),
            ("PUT", "/v1/{project_id}/cloudservers/os-reset-passwords",
             {"new_password": GOOD_PASSWORD, "servers": [{"id": i} for i in mine]}),
        ),
        (
            second.ecs.batch_update_servers_name,
            BatchUpdateServersNameRequest(
                body=BatchUpdateServersNameRequestBody(name="stolen", servers=server_ids(mine))
            ),
            ("PUT", "/v1/{project_id}/cloudservers/server-name",
             {"name": "stolen", "servers": [{"id": i} for i in mine]}),
        ),
        (
            second.ecs.batch_resize_servers,
            BatchResizeServersRequest(
                body=BatchResizeServersReq(
                    resize=BatchResizeServersOption(
                        flavor_ref="s6.large.2", servers=server_ids(mine), mode="withStopServer"
                    )
                )
            ),
            ("POST", "/v1/{project_id}/cloudservers/batch-resize",
             {"resize": {"flavorRef": "s6.large.2", "servers": [{"id": i} for i in mine], "mode": "withStopServer"}}),
        ),
    ]
    for fn, sdk_request, (method, path, raw_body) in batch_calls:
        err = expect_client_error(fn, sdk_request)
        assert (err.status_code, err.error_code) == (400, "Ecs.0611"), (path, str(err))
        r = second.raw(method, path, raw_body)
        assert r.status_code == 400, (path, r.text)
        internal = r.json().get("internalError")
        assert [(e["id"], e["error_code"]) for e in internal or []] == [(i, "Ecs.0114") for i in mine], (path, r.text)

    assert {sid: first.show_raw(sid) for sid in mine} == before, "the second project changed the first's servers"
    assert list_ids(first) == (sorted(mine), 2)


def test_the_first_projects_url_with_the_second_projects_key_is_403_ecs_0003(ecsd_with_config):
    first, _ = two_projects(ecsd_with_config)
    (sid,) = first.create_servers(count=1)
    # The second project's key, pointed at the first project (the SDK puts it in the URL and signs X-Project-Id).
    intruder = first.as_credential(TEAM_B_AK, TEAM_B_SK, first.project_id)
    err = expect_client_error(intruder.ecs.list_servers_details, ListServersDetailsRequest())
    assert (err.status_code, err.error_code) == (403, "Ecs.0003"), str(err)
    err = expect_client_error(intruder.ecs.show_server, ShowServerRequest(server_id=sid))
    assert (err.status_code, err.error_code) == (403, "Ecs.0003"), str(err)
    err = expect_client_error(stop, intruder, [sid])
    assert (err.status_code, err.error_code) == (403, "Ecs.0003"), str(err)
    # Exactly like a project that does not exist.
    nowhere = first.as_credential(TEAM_B_AK, TEAM_B_SK, uuid.uuid4().hex)
    err = expect_client_error(nowhere.ecs.list_servers_details, ListServersDetailsRequest())
    assert (err.status_code, err.error_code) == (403, "Ecs.0003"), str(err)
    assert first.show(sid).status == "ACTIVE"


# ------------------------------------------------------------------ tokens


def test_a_password_user_gets_a_project_scoped_token_that_works_on_api_paths(ecsd_with_config):
    first, team_b = two_projects(ecsd_with_config, extra=USERS_TOML)
    (their_id,) = team_b.create_servers(count=1, name="tokened")
    first.create_servers(count=1, name="invisible")

    r = get_token(first)
    assert r.status_code == 201, r.text
    token = r.headers.get("X-Subject-Token")
    assert token, dict(r.headers)
    body = r.json()["token"]
    assert body["project"]["id"] == TEAM_B_PROJECT
    assert "password" in body["methods"]
    assert body["user"]["name"] == "alice"
    issued = datetime.datetime.fromisoformat(body["issued_at"].replace("Z", "+00:00"))
    expires = datetime.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires - issued == datetime.timedelta(hours=24), (body["issued_at"], body["expires_at"])
    ecs_url = next(e["url"] for c in body["catalog"] if c["type"] == "ecs" for e in c["endpoints"])
    assert ecs_url == f"{first.endpoint}/v1/{TEAM_B_PROJECT}"
    assert token not in r.text, "the token belongs in X-Subject-Token, not in the body"

    # Raw requests with X-Auth-Token: list, act, poll, and the control API.
    listed = with_token("GET", f"{ecs_url}/cloudservers/detail", token)
    assert listed.status_code == 200, listed.text
    assert [s["id"] for s in listed.json()["servers"]] == [their_id]
    acted = with_token("POST", f"{ecs_url}/cloudservers/action", token, {"os-stop": {"servers": [{"id": their_id}]}})
    assert acted.status_code == 200, acted.text
    job_id = acted.json()["job_id"]
    assert team_b.wait_job(job_id).status == "SUCCESS"
    job = with_token("GET", f"{ecs_url}/jobs/{job_id}", token)
    assert (job.status_code, job.json()["status"]) == (200, "SUCCESS"), job.text
    assert with_token("GET", f"{first.endpoint}/_ecsd/faults", token).status_code == 200

    # The token is scoped to its project: the bootstrap project's URL is forbidden.
    foreign = with_token("GET", f"{first.endpoint}/v1/{first.project_id}/cloudservers/detail", token)
    assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "Ecs.0003", foreign.text

    # A user of another domain names it; refusals: wrong password, unknown user, wrong domain, bogus token.
    assert get_token(first, "bob", BOB_PASSWORD, domain="acme").status_code == 201
    for user, password, domain in [
        ("alice", WRONG_PASSWORD, "default"),
        ("mallory", ALICE_PASSWORD, "default"),
        ("bob", BOB_PASSWORD, "default"),
    ]:
        refused = get_token(first, user, password, domain)
        assert refused.status_code == 401, (user, domain, refused.status_code, refused.text)
        assert not refused.headers.get("X-Subject-Token")
    assert_gateway_refusal(with_token("GET", f"{ecs_url}/cloudservers/detail", "MII" + "0" * 64), "APIG.0307")
    assert_gateway_refusal(with_token("GET", f"{ecs_url}/cloudservers/detail", token[:-2]), "APIG.0307")


def test_a_token_is_refused_once_24_hours_have_passed_on_the_simulated_clock(ecsd_with_config):
    first = ecsd_with_config(USERS_CONFIG)
    token = get_token(first).headers["X-Subject-Token"]
    list_url = f"{first.endpoint}/v1/{TEAM_B_PROJECT}/cloudservers/detail"
    assert with_token("GET", list_url, token).status_code == 200
    # A user's token is a project credential: simulated time is every project's, so moving it
    # needs an admin credential (the bootstrap key; signatures are checked against real time).
    refused = with_token("POST", f"{first.endpoint}/_ecsd/clock/advance", token, {"seconds": 23 * 3600})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Ecs.0003", refused.text
    advanced = first.raw("POST", "/_ecsd/clock/advance", {"seconds": 23 * 3600})
    assert advanced.status_code == 200, advanced.text
    assert with_token("GET", list_url, token).status_code == 200
    assert first.raw("POST", "/_ecsd/clock/advance", {"seconds": 3600 + 60}).status_code == 200
    assert_gateway_refusal(with_token("GET", list_url, token), "APIG.0307")


# ------------------------------------------------------------------ access keys managed while the server runs


def test_ecsd_keys_create_gives_a_key_that_works_at_once_and_revoke_refuses_it_at_once(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    data_dir = ["--data-dir", str(ecsd.data_dir)]
    created = run_ecsd_cli("keys", "create", "--project-id", ecsd.project_id, "--description", "ci-bot", *data_dir)
    ak = re.search(r"access key:\s*(\S+)", created.stdout).group(1)
    sk = re.search(r"secret key:\s*(\S+)", created.stdout).group(1)
    assert re.search(r"project id:\s*" + ecsd.project_id, created.stdout), created.stdout

    bot = ecsd.as_credential(ak, sk, ecsd.project_id)
    assert list_ids(bot) == ([sid], 1)
    assert bot.wait_job(stop(bot, [sid])).status == "SUCCESS"

    listed = run_ecsd_cli("keys", "list", *data_dir).stdout
    line = next(l for l in listed.splitlines() if ak in l)
    assert "active" in line and "ci-bot" in line, listed
    assert sk not in listed, "keys list must never show a secret key"
    assert ecsd.sk not in listed

    revoked = run_ecsd_cli("keys", "revoke", ak, *data_dir)
    assert sk not in revoked.stdout + revoked.stderr
    err = expect_client_error(bot.ecs.list_servers_details, ListServersDetailsRequest())
    assert (err.status_code, err.error_code) == (401, "APIG.0301")
    assert_gateway_refusal(bot.raw("GET", LIST_PATH))
    line = next(l for l in run_ecsd_cli("keys", "list", *data_dir).stdout.splitlines() if ak in l)
    assert "revoked" in line
    # The bootstrap key is untouched; revoking an unknown key fails.
    assert list_ids(ecsd) == ([sid], 1)
    assert run_ecsd_cli("keys", "revoke", "AKNOSUCHKEY000000000", *data_dir, check=False).returncode != 0
    # Secret keys are not logged by the server.
    assert sk not in ecsd.log() and ecsd.sk not in ecsd.log()


def test_ecsd_keys_create_without_a_project_makes_a_new_empty_project(ecsd):
    ecsd.create_servers(count=1)
    out = run_ecsd_cli("keys", "create", "--data-dir", str(ecsd.data_dir)).stdout
    ak = re.search(r"access key:\s*(\S+)", out).group(1)
    sk = re.search(r"secret key:\s*(\S+)", out).group(1)
    project = re.search(r"project id:\s*(\S+)", out).group(1)
    assert re.fullmatch(r"[0-9a-f]{32}", project) and project != ecsd.project_id
    newcomer = ecsd.as_credential(ak, sk, project)
    assert list_ids(newcomer) == ([], 0)
    (own,) = newcomer.create_servers(count=1, name="newcomer")
    assert own not in list_ids(ecsd)[0]


# ------------------------------------------------------------------ no secret in clear


def test_no_token_nor_password_appears_in_the_log_or_the_data_dir(ecsd_with_config):
    server = ecsd_with_config(USERS_CONFIG)
    team_b = server.as_credential(TEAM_B_AK, TEAM_B_SK, TEAM_B_PROJECT)
    team_b.create_servers(count=1)
    r = get_token(server)
    assert r.status_code == 201, r.text
    token = r.headers["X-Subject-Token"]
    assert get_token(server, "bob", BOB_PASSWORD, domain="acme").status_code == 201
    bob_token = get_token(server, "bob", BOB_PASSWORD, domain="acme").headers["X-Subject-Token"]
    assert get_token(server, "alice", WRONG_PASSWORD).status_code == 401
    list_url = f"{server.endpoint}/v1/{TEAM_B_PROJECT}/cloudservers/detail"
    assert with_token("GET", list_url, token).status_code == 200
    assert with_token("GET", list_url, token + "x").status_code == 401
    expect_client_error(server.as_credential(TEAM_B_AK, "wrong" + TEAM_B_SK, TEAM_B_PROJECT).ecs.list_servers_details,
                        ListServersDetailsRequest())

    secrets = {
        "alice's token": token,
        "bob's token": bob_token,
        "alice's password": ALICE_PASSWORD,
        "bob's password": BOB_PASSWORD,
        "a wrong password tried": WRONG_PASSWORD,
    }
    assert files_under(server.data_dir), "the data dir is empty"
    assert_nowhere_in_clear(server, secrets)  # while running (SQLite WAL included)
    server.stop()
    assert_nowhere_in_clear(server, secrets)  # and once the store is closed
    # The server never logs a secret key either (the bootstrap file deliberately holds its own).
    log = server.log()
    assert server.sk not in log and TEAM_B_SK not in log


# ------------------------------------------------------------------ the escape hatch


def test_no_auth_accepts_unsigned_requests_and_warns_at_start(ecsd_factory):
    server = ecsd_factory(extra_args=["--no-auth"])
    r = requests.get(f"{server.endpoint}/v1/{server.project_id}/cloudservers/detail", timeout=10)
    assert r.status_code == 200, r.text
    assert "warn" in server.log().lower() and "auth" in server.log().lower(), server.log()
    # The SDK's signed requests keep working, and unknown projects are still refused.
    server.create_servers(count=1)
    r = requests.get(f"{server.endpoint}/v1/{uuid.uuid4().hex}/cloudservers/detail", timeout=10)
    assert r.status_code == 403, r.text

