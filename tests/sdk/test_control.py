"""Issue 7: test control (fault rules, reset, snapshots, time, fixtures), driven by the official Python SDK.

Docs: docs/testing.md (the control API and its worked example), docs/behaviour.md "Test control".

The control API lives under /_ecsd/ and is signed like ECS requests: these tests call it with `ecsd.raw` (the SDK's
own signer), and the worked example drives it through the `ecsd ctl` subcommand as a user following the docs would.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkecs.v2 import (
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    BatchResetServersPasswordRequest,
    BatchResetServersPasswordRequestBody,
    BatchStartServersOption,
    BatchStartServersRequest,
    BatchStartServersRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    BatchUpdateServersNameRequest,
    BatchUpdateServersNameRequestBody,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListServersDetailsRequest,
    ServerId,
    ShowJobRequest,
    ShowServerLimitsRequest,
    UpdateServerOption,
    UpdateServerRequest,
    UpdateServerRequestBody,
)

from conftest import expect_client_error, run_ecsd_cli, server_ids, two_projects

GOOD_PASSWORD = "Ecsd@2024pass"
LIST_PATH = "/v1/{project_id}/cloudservers/detail"


# ------------------------------------------------------------------ helpers


def control(ecsd, method, path, body=None, expect=None):
    """A signed control-API call; with `expect`, assert its status. Returns the response."""
    r = ecsd.raw(method, path, body)
    if expect is not None:
        assert r.status_code == expect, (method, path, r.status_code, r.text)
    return r


def add_fault(ecsd, rule: dict) -> dict:
    r = control(ecsd, "POST", "/_ecsd/faults", rule, expect=201)
    stored = r.json()
    effect = {k: v for k, v in stored["effect"].items() if v is not None}
    assert stored["id"] and stored["operation"] == rule["operation"] and effect == rule["effect"], stored
    return stored


def fault(ecsd, rule_id: str) -> dict:
    rules = control(ecsd, "GET", "/_ecsd/faults", expect=200).json()["faults"]
    return next(r for r in rules if r["id"] == rule_id)


def stop(ecsd, ids, kind="SOFT"):
    body = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=server_ids(ids), type=kind))
    return ecsd.ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id


def start(ecsd, ids):
    body = BatchStartServersRequestBody(os_start=BatchStartServersOption(servers=server_ids(ids)))
    return ecsd.ecs.batch_start_servers(BatchStartServersRequest(body=body)).job_id


def reboot(ecsd, ids):
    body = BatchRebootServersRequestBody(reboot=BatchRebootSeversOption(servers=server_ids(ids), type="SOFT"))
    return ecsd.ecs.batch_reboot_servers(BatchRebootServersRequest(body=body)).job_id


def delete(ecsd, ids):
    body = DeleteServersRequestBody(servers=server_ids(ids), delete_volume=True)
    return ecsd.ecs.delete_servers(DeleteServersRequest(body=body)).job_id


def reset_passwords(ecsd, ids):
    body = BatchResetServersPasswordRequestBody(new_password=GOOD_PASSWORD, servers=server_ids(ids))
    return ecsd.ecs.batch_reset_servers_password(BatchResetServersPasswordRequest(body=body))


def rename(ecsd, ids, name):
    body = BatchUpdateServersNameRequestBody(name=name, servers=server_ids(ids))
    return ecsd.ecs.batch_update_servers_name(BatchUpdateServersNameRequest(body=body))


def sub_jobs_by_server(job) -> dict:
    return {s.entities.server_id: s for s in job.entities.sub_jobs}


def status_of(ecsd, ids) -> list:
    return [ecsd.show(i).status for i in ids]


def list_count(ecsd) -> int:
    return ecsd.ecs.list_servers_details(ListServersDetailsRequest()).count


def ctl(ecsd, *args, check=True):
    """`ecsd ctl --endpoint ... ARGS` with the credential in the environment, as docs/testing.md describes."""
    env = {"ECSD_ACCESS_KEY": ecsd.ak, "ECSD_SECRET_KEY": ecsd.sk, "ECSD_PROJECT_ID": ecsd.project_id}
    return run_ecsd_cli("ctl", "--endpoint", ecsd.endpoint, *args, env=env, check=check)


def load_fixtures(ecsd, servers: list) -> list:
    r = control(ecsd, "POST", "/_ecsd/fixtures", {"servers": servers}, expect=201)
    return r.json()["servers"]


def observed(ecsd, ids, job_ids=()) -> dict:
    """Every raw body a client can read about these servers and jobs: list pages, show, limits, flags, jobs."""
    seen = {}
    for label, query in [("list", []), ("page2", [("limit", "2"), ("offset", "2")]), ("by-tag", [("tags", "tier=db")])]:
        r = ecsd.raw("GET", LIST_PATH, query=query)
        assert r.status_code == 200, r.text
        seen[label] = r.content
    for sid in ids:
        for suffix in ("", "/os-resetpwd-flag"):
            r = ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{sid}{suffix}")
            seen[f"show {sid}{suffix}"] = (r.status_code, r.content)
    r = ecsd.raw("GET", "/v1/{project_id}/cloudservers/limits")
    seen["limits"] = r.content
    for jid in job_ids:
        r = ecsd.raw("GET", f"/v1/{{project_id}}/jobs/{jid}")
        seen[f"job {jid}"] = (r.status_code, r.content)
    return seen


# ------------------------------------------------------------------ fault rules, one kind at a time


def test_a_sub_job_fault_fails_one_server_of_a_batch_stop_with_the_injected_code_while_the_others_stop(ecsd):
    ids = ecsd.create_servers(count=3, name="web")
    victim = ids[1]
    rule = add_fault(
        ecsd,
        {"operation": "stop", "server_id": victim, "count": 1,
         "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "injected stop failure"}},
    )
    assert (rule["fired"], rule["count"]) == (0, 1)

    job = ecsd.wait_job(stop(ecsd, ids))
    assert (job.status, job.error_code) == ("FAIL", "Ecs.0226"), (job.status, job.error_code, job.fail_reason)
    subs = sub_jobs_by_server(job)
    assert set(subs) == set(ids)
    assert (subs[victim].status, subs[victim].error_code, subs[victim].fail_reason) == (
        "FAIL", "Ecs.0226", "injected stop failure",
    )
    assert all(subs[i].status == "SUCCESS" and subs[i].error_code is None for i in ids if i != victim)
    assert status_of(ecsd, ids) == ["SHUTOFF", "ACTIVE", "SHUTOFF"]
    back = ecsd.show(victim)
    assert (back.os_ext_st_svm_state, back.os_ext_st_stask_state) == ("active", None)
    # The raw sub-job carries the message in entities.errorcode_message too.
    raw_job = control(ecsd, "GET", f"/v1/{{project_id}}/jobs/{job.job_id}", expect=200).json()
    raw_sub = next(s for s in raw_job["entities"]["sub_jobs"] if s["entities"]["server_id"] == victim)
    assert raw_sub["entities"].get("errorcode_message") == "injected stop failure", raw_sub
    assert fault(ecsd, rule["id"])["fired"] == 1

    # count 1: the retry of the victim succeeds and the rule does not fire again.
    assert ecsd.wait_job(stop(ecsd, [victim])).status == "SUCCESS"
    assert status_of(ecsd, ids) == ["SHUTOFF"] * 3
    assert fault(ecsd, rule["id"])["fired"] == 1


def test_a_precheck_fault_on_a_batch_password_reset_is_ecs_0611_listing_that_server_with_the_injected_code(ecsd):
    ids = ecsd.create_servers(count=3, name="pw")
    rule = add_fault(
        ecsd,
        {"operation": "reset-password", "server_id": ids[2],
         "effect": {"kind": "precheck_fail", "code": "Ecs.0613", "message": "plug-in not installed"}},
    )
    err = expect_client_error(reset_passwords, ecsd, ids)
    assert (err.status_code, err.error_code) == (400, "Ecs.0611"), str(err)

    r = control(ecsd, "PUT", "/v1/{project_id}/cloudservers/os-reset-passwords",
                {"new_password": GOOD_PASSWORD, "servers": [{"id": i} for i in ids]})
    assert r.status_code == 400, r.text
    assert r.json() == {
        "error": {"code": "Ecs.0611", "message": "batch operate fail."},
        "internalError": [{"id": ids[2], "error_code": "Ecs.0613", "error_message": "plug-in not installed"}],
    }
    for sid in ids:  # all or nothing: no server got the new password
        flag = control(ecsd, "GET", f"/v1/{{project_id}}/cloudservers/{sid}/os-resetpwd-flag", expect=200).json()
        assert flag.get("password_reset_pending") is False, flag
    assert fault(ecsd, rule["id"])["fired"] == 2  # no count: it fires every time
    # The other servers alone pass.
    assert [s.id for s in reset_passwords(ecsd, ids[:2]).response] == ids[:2]


def test_a_precheck_fault_on_a_job_batch_fails_the_matching_servers_sub_jobs_at_once(ecsd):
    """Filters by name pattern and by tag; on start/stop/reboot/delete the sub-job has already failed."""
    ids = ecsd.create_servers(count=3, name="app", tags={"tier": "web"})
    (db,) = ecsd.create_servers(count=1, name="db", tags={"tier": "db"})
    add_fault(ecsd, {"operation": "reboot", "name_pattern": "app-0002",
                     "effect": {"kind": "precheck_fail", "code": "Ecs.0227", "message": "reboot refused"}})
    add_fault(ecsd, {"operation": "rename", "tag": "tier=db",
                     "effect": {"kind": "precheck_fail", "code": "Ecs.0605", "message": "db is locked by ops"}})
    job = ecsd.wait_job(reboot(ecsd, ids + [db]))
    subs = sub_jobs_by_server(job)
    assert (job.status, job.error_code) == ("FAIL", "Ecs.0227")
    assert [subs[i].status for i in ids + [db]] == ["SUCCESS", "SUCCESS", "FAIL", "SUCCESS"]
    assert (subs[ids[2]].error_code, subs[ids[2]].fail_reason) == ("Ecs.0227", "reboot refused")

    r = control(ecsd, "PUT", "/v1/{project_id}/cloudservers/server-name",
                {"name": "renamed", "servers": [{"id": i} for i in [ids[0], db]]})
    assert r.status_code == 400 and r.json()["internalError"] == [
        {"id": db, "error_code": "Ecs.0605", "error_message": "db is locked by ops"}
    ], r.text
    assert ecsd.show(ids[0]).name == "app-0000"


def test_an_http_error_fault_on_start_makes_the_sdk_raise_a_server_error_with_that_code(ecsd):
    ids = ecsd.create_servers(count=2)
    assert ecsd.wait_job(stop(ecsd, ids)).status == "SUCCESS"
    rule = add_fault(ecsd, {"operation": "start", "count": 2,
                            "effect": {"kind": "http_error", "status": 503, "code": "Common.1503",
                                       "message": "service unavailable (injected)"}})
    with pytest.raises(ServerResponseException) as info:
        start(ecsd, ids)
    err = info.value
    assert not isinstance(err, ClientRequestException)
    assert (err.status_code, err.error_code, err.error_msg) == (503, "Common.1503", "service unavailable (injected)")
    assert err.request_id
    r = control(ecsd, "POST", "/v1/{project_id}/cloudservers/action", {"os-start": {"servers": [{"id": ids[0]}]}})
    assert r.status_code == 503
    assert r.json() == {"error": {"code": "Common.1503", "message": "service unavailable (injected)"}}
    time.sleep(0.1)
    assert status_of(ecsd, ids) == ["SHUTOFF", "SHUTOFF"], "a failed request must start nothing"
    # Other operations are not affected; after `count` failures start works again.
    assert list_count(ecsd) == 2
    assert fault(ecsd, rule["id"])["fired"] == 2
    assert ecsd.wait_job(start(ecsd, ids)).status == "SUCCESS"
    assert status_of(ecsd, ids) == ["ACTIVE", "ACTIVE"]


def test_a_delay_fault_makes_the_call_take_at_least_that_long_and_only_that_operation(ecsd):
    ids = ecsd.create_servers(count=1)
    rule = add_fault(ecsd, {"operation": "stop", "effect": {"kind": "delay", "ms": 500}})
    began = time.monotonic()
    job_id = stop(ecsd, ids)
    assert time.monotonic() - began >= 0.5
    assert ecsd.wait_job(job_id).status == "SUCCESS"
    began = time.monotonic()
    list_count(ecsd)
    assert time.monotonic() - began < 0.5, "a list is not a stop: no delay"
    assert fault(ecsd, rule["id"])["fired"] == 1


def test_a_hang_fault_holds_the_job_running_until_released_then_it_succeeds(ecsd):
    ids = ecsd.create_servers(count=2)
    held = ids[0]
    rule = add_fault(ecsd, {"operation": "stop", "server_id": held, "effect": {"kind": "hang"}})
    job_id = stop(ecsd, ids)
    time.sleep(0.3)
    control(ecsd, "POST", "/_ecsd/clock/settle", expect=200)  # settle does not finish held sub-jobs
    job = ecsd.ecs.show_job(ShowJobRequest(job_id=job_id))
    subs = sub_jobs_by_server(job)
    assert (job.status, subs[held].status, subs[ids[1]].status) == ("RUNNING", "RUNNING", "SUCCESS")
    s = ecsd.show(held)
    assert (s.status, s.os_ext_st_stask_state) == ("ACTIVE", "powering-off")

    r = control(ecsd, "POST", f"/_ecsd/faults/{rule['id']}/release", expect=200)
    assert r.json() == {"released": 1}
    job = ecsd.wait_job(job_id)
    assert job.status == "SUCCESS"
    assert status_of(ecsd, ids) == ["SHUTOFF", "SHUTOFF"]
    assert fault(ecsd, rule["id"])["fired"] == 1

    # Deleting a hang rule also lets what it holds go on.
    rule = add_fault(ecsd, {"operation": "start", "effect": {"kind": "hang"}})
    job_id = start(ecsd, ids)
    time.sleep(0.3)
    assert ecsd.ecs.show_job(ShowJobRequest(job_id=job_id)).status == "RUNNING"
    control(ecsd, "DELETE", f"/_ecsd/faults/{rule['id']}", expect=204)
    assert ecsd.wait_job(job_id).status == "SUCCESS"
    assert status_of(ecsd, ids) == ["ACTIVE", "ACTIVE"]


def test_a_failed_create_through_the_sdk_is_rolled_back(ecsd):
    effect = {"kind": "sub_job_fail", "code": "Ecs.0219", "message": "no capacity (injected)"}
    rule = add_fault(ecsd, {"operation": "create", "effect": effect})
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec("doomed", count=2)))
    )
    job = ecsd.wait_job(resp.job_id)
    assert (job.status, job.error_code) == ("FAIL", "Ecs.0219")
    assert [s.error_code for s in job.entities.sub_jobs] == ["Ecs.0219", "Ecs.0219"]
    assert list_count(ecsd) == 0
    assert ecsd.ecs.show_server_limits(ShowServerLimitsRequest()).absolute.total_instances_used == 0
    assert fault(ecsd, rule["id"])["fired"] == 2
    control(ecsd, "DELETE", f"/_ecsd/faults/{rule['id']}", expect=204)
    assert len(ecsd.create_servers(count=2, name="fine")) == 2


def test_a_probability_rule_with_a_seed_fires_identically_in_two_fresh_servers(ecsd_factory):
    patterns = []
    for _ in range(2):
        server = ecsd_factory()
        ids = load_fixtures(server, [{"name": "fleet", "count": 24}])
        rule = add_fault(server, {"operation": "stop", "probability": 0.5, "seed": 20240917,
                                  "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "flaky"}})
        job = server.wait_job(stop(server, ids))
        subs = sub_jobs_by_server(job)
        pattern = [subs[i].status == "FAIL" for i in ids]
        assert any(pattern) and not all(pattern), pattern
        assert all(subs[i].error_code == "Ecs.0226" for i, failed in zip(ids, pattern) if failed)
        listed = fault(server, rule["id"])
        assert (listed["fired"], listed["evaluations"]) == (sum(pattern), 24), listed
        patterns.append(pattern)
        server.stop()
    assert patterns[0] == patterns[1]


def test_fault_rules_are_listed_with_fired_counts_deleted_and_bad_ones_refused(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    a = add_fault(ecsd, {"operation": "any", "effect": {"kind": "delay", "ms": 1}})
    b = add_fault(ecsd, {"operation": "reboot", "server_id": sid, "count": 3,
                         "effect": {"kind": "sub_job_fail", "code": "Ecs.0227"}})
    listed = control(ecsd, "GET", "/_ecsd/faults", expect=200).json()["faults"]
    assert [r["id"] for r in listed] == [a["id"], b["id"]]
    assert all(r["fired"] == 0 for r in listed)
    assert ecsd.wait_job(reboot(ecsd, [sid])).status == "FAIL"
    assert (fault(ecsd, a["id"])["fired"], fault(ecsd, b["id"])["fired"]) == (1, 1)
    control(ecsd, "DELETE", f"/_ecsd/faults/{b['id']}", expect=204)
    assert ecsd.wait_job(reboot(ecsd, [sid])).status == "SUCCESS"
    assert [r["id"] for r in control(ecsd, "GET", "/_ecsd/faults").json()["faults"]] == [a["id"]]
    r = control(ecsd, "DELETE", f"/_ecsd/faults/{b['id']}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "Ecs.1000"), r.text
    for bad in [
        {"operation": "stop", "effect": {"kind": "explode"}},
        {"operation": "teleport", "effect": {"kind": "hang"}},
        {"operation": "stop", "probability": 1.5, "effect": {"kind": "hang"}},
        {"operation": "stop", "effect": {"kind": "http_error", "status": 302, "code": "Common.0302"}},
    ]:
        r = control(ecsd, "POST", "/_ecsd/faults", bad)
        assert (r.status_code, r.json()["error"]["code"]) == (400, "Ecs.0005"), (bad, r.text)


def test_the_control_api_refuses_unsigned_and_wrongly_signed_calls(ecsd):
    for method, path in [("GET", "/_ecsd/faults"), ("POST", "/_ecsd/reset"), ("POST", "/_ecsd/clock/settle")]:
        r = requests.request(method, ecsd.endpoint + path, timeout=10)
        assert r.status_code == 401 and r.json()["error_code"] == "APIG.0301", (path, r.text)
    wrong = ecsd.as_credential(ecsd.ak, ecsd.sk[::-1], ecsd.project_id)
    assert control(wrong, "POST", "/_ecsd/reset").status_code == 401
    done = ctl(wrong, "faults", "list", check=False)
    assert done.returncode != 0 and "401" in done.stdout + done.stderr, (done.stdout, done.stderr)


# ------------------------------------------------------------------ snapshots and reset


def test_a_snapshot_restore_gives_back_list_show_limits_and_jobs_byte_for_byte(ecsd):
    ids = ecsd.create_servers(count=3, name="base", tags={"tier": "web"})
    ids += load_fixtures(ecsd, [{"name": "db", "flavor": "m6.large.8", "status": "SHUTOFF", "tags": ["tier=db"]}])
    stop_job = stop(ecsd, [ids[0]])
    assert ecsd.wait_job(stop_job).status == "SUCCESS"
    control(ecsd, "POST", "/_ecsd/snapshots", {"name": "base"}, expect=201)
    before = observed(ecsd, ids, [stop_job])

    # Change everything a test might change.
    assert ecsd.wait_job(stop(ecsd, ids[1:3])).status == "SUCCESS"
    assert ecsd.wait_job(delete(ecsd, [ids[3]])).status == "SUCCESS"
    reset_passwords(ecsd, ids[:3])
    ecsd.ecs.update_server(UpdateServerRequest(server_id=ids[0],
                                               body=UpdateServerRequestBody(server=UpdateServerOption(name="renamed"))))
    extra = ecsd.create_servers(count=2, name="extra")
    assert observed(ecsd, ids, [stop_job]) != before

    assert [s["name"] for s in control(ecsd, "GET", "/_ecsd/snapshots", expect=200).json()["snapshots"]] == ["base"]
    control(ecsd, "POST", "/_ecsd/snapshots/base/restore", expect=204)
    after = observed(ecsd, ids, [stop_job])
    for key in before:
        assert after[key] == before[key], f"{key} differs after restore"
    for sid in extra:
        r = control(ecsd, "GET", f"/v1/{{project_id}}/cloudservers/{sid}")
        assert r.status_code == 404, "a server created after the snapshot is gone"

    # The restored state is live: operations work, new servers get addresses that do not collide.
    assert ecsd.wait_job(stop(ecsd, [ids[1]])).status == "SUCCESS"
    (fresh,) = ecsd.create_servers(count=1, name="fresh")
    ips = [a["addr"] for sid in ids + [fresh] for net in ecsd.show_raw(sid)["addresses"].values() for a in net]
    assert len(ips) == len(set(ips)), ips
    r = control(ecsd, "POST", "/_ecsd/snapshots/nope/restore")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "Ecs.1000"), r.text
    control(ecsd, "DELETE", "/_ecsd/snapshots/base", expect=204)
    assert control(ecsd, "GET", "/_ecsd/snapshots", expect=200).json()["snapshots"] == []


def test_reset_of_a_project_empties_it_and_leaves_the_others_and_a_full_reset_empties_everything(ecsd_with_config):
    first, second = two_projects(ecsd_with_config)
    first_ids = first.create_servers(count=2)
    their = second.create_servers(count=1)
    job_id = stop(first, first_ids)
    assert first.wait_job(job_id).status == "SUCCESS"
    rule = add_fault(first, {"operation": "stop", "effect": {"kind": "delay", "ms": 1}})

    control(first, "POST", "/_ecsd/reset", {"project_id": first.project_id}, expect=204)
    assert list_count(first) == 0
    assert first.ecs.show_server_limits(ShowServerLimitsRequest()).absolute.total_instances_used == 0
    err = expect_client_error(first.ecs.show_job, ShowJobRequest(job_id=job_id))
    assert (err.status_code, err.error_code) == (400, "Common.0011")
    assert [s.id for s in second.ecs.list_servers_details(ListServersDetailsRequest()).servers] == their
    assert fault(first, rule["id"])["id"] == rule["id"], "a project reset keeps the fault rules"
    # The seeded catalogue is still there: a new fleet can be created at once.
    assert len(first.create_servers(count=1)) == 1

    control(first, "POST", "/_ecsd/reset", expect=204)
    assert (list_count(first), list_count(second)) == (0, 0)
    assert control(first, "GET", "/_ecsd/faults", expect=200).json() == {"faults": []}


# ------------------------------------------------------------------ time control


def test_with_realistic_timings_settle_finishes_a_create_at_once_and_advance_moves_a_stop_on(ecsd_realistic):
    ecsd = ecsd_realistic
    began = time.monotonic()
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec("slow", count=2)))
    )
    ids = list(resp.server_ids)
    assert status_of(ecsd, ids) == ["BUILD", "BUILD"]
    assert ecsd.ecs.show_job(ShowJobRequest(job_id=resp.job_id)).status in ("INIT", "RUNNING")
    control(ecsd, "POST", "/_ecsd/clock/settle", expect=200)
    job = ecsd.ecs.show_job(ShowJobRequest(job_id=resp.job_id))  # no polling, no sleeping
    assert job.status == "SUCCESS", (job.status, job.error_code)
    assert status_of(ecsd, ids) == ["ACTIVE", "ACTIVE"]

    stop_job = stop(ecsd, ids)
    assert ecsd.show(ids[0]).status == "ACTIVE" and ecsd.show(ids[0]).os_ext_st_stask_state in (None, "powering-off")
    r = control(ecsd, "POST", "/_ecsd/clock/advance", {"seconds": 30}, expect=200)
    assert r.json()["now"]
    assert ecsd.ecs.show_job(ShowJobRequest(job_id=stop_job)).status == "SUCCESS"
    assert status_of(ecsd, ids) == ["SHUTOFF", "SHUTOFF"]
    assert time.monotonic() - began < 4.0, "time control must not wait for the realistic durations"


def test_a_two_second_advance_moves_a_realistic_create_partway(ecsd_realistic):
    ecsd = ecsd_realistic
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec("step")))
    )
    (sid,) = resp.server_ids
    control(ecsd, "POST", "/_ecsd/clock/advance", {"seconds": 2}, expect=200)
    s = ecsd.show(sid)
    assert s.status == "BUILD" and s.os_ext_st_stask_state != "scheduling", s.os_ext_st_stask_state
    control(ecsd, "POST", "/_ecsd/clock/advance", {"seconds": 30}, expect=200)
    assert ecsd.show(sid).status == "ACTIVE"


def test_signed_requests_still_work_after_the_simulated_clock_is_advanced_past_15_minutes(ecsd):
    """The SDK signs with the real time; moving simulated time (allowed up to a year) must not lock users out."""
    (sid,) = ecsd.create_servers(count=1)
    control(ecsd, "POST", "/_ecsd/clock/advance", {"seconds": 16 * 60}, expect=200)
    assert list_count(ecsd) == 1
    assert ecsd.wait_job(stop(ecsd, [sid])).status == "SUCCESS"


def test_simulated_time_does_not_move_back_when_the_server_restarts(ecsd):
    control(ecsd, "POST", "/_ecsd/clock/advance", {"seconds": 600}, expect=200)  # under the 15-minute skew limit
    (before,) = ecsd.create_servers(count=1, name="before-restart")
    ecsd.kill()
    ecsd.start()
    (after,) = ecsd.create_servers(count=1, name="after-restart")
    assert ecsd.show_raw(after)["created"] >= ecsd.show_raw(before)["created"]
    names = [s.name for s in ecsd.ecs.list_servers_details(ListServersDetailsRequest()).servers]
    assert names == ["after-restart", "before-restart"], "newest first"


# ------------------------------------------------------------------ fixtures


def test_fixtures_loaded_through_the_api_appear_in_their_statuses_to_the_sdk(ecsd):
    ids = load_fixtures(ecsd, [
        {"name": "db", "flavor": "m6.large.8", "status": "SHUTOFF", "tags": ["role=db"], "metadata": {"owner": "ops"}},
        {"name": "web", "count": 2, "locked": True},
    ])
    assert len(ids) == 3
    db, web0, web1 = (ecsd.show(i) for i in ids)
    assert (db.name, db.status, db.flavor.id, db.tags, db.metadata.get("owner")) == (
        "db", "SHUTOFF", "m6.large.8", ["role=db"], "ops",
    )
    assert (web0.name, web1.name, web0.status, web0.flavor.id) == ("web-0000", "web-0001", "ACTIVE", "s6.small.1")
    assert (db.locked, web0.locked, web1.locked) == (False, True, True)
    assert db.os_ext_st_stask_state is None and web0.os_ext_st_stask_state is None
    assert list_count(ecsd) == 3
    assert ecsd.ecs.show_server_limits(ShowServerLimitsRequest()).absolute.total_instances_used == 3
    assert [s.id for s in ecsd.ecs.list_servers_details(ListServersDetailsRequest(tags="role=db")).servers] == [ids[0]]
    # They behave like any server: the locked ones refuse per server, the stopped one starts.
    job = ecsd.wait_job(stop(ecsd, ids[1:]))
    assert [s.error_code for s in job.entities.sub_jobs] == ["Ecs.0605", "Ecs.0605"]
    assert ecsd.wait_job(start(ecsd, [ids[0]])).status == "SUCCESS"
    r = control(ecsd, "POST", "/_ecsd/fixtures", {"servers": [{"name": "bad", "status": "BUILD"}]})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "Ecs.0005"), r.text
    r = control(ecsd, "POST", "/_ecsd/fixtures", {"servers": [{"name": "bad", "flavor": "no.such.flavor"}]})
    assert r.status_code == 400, r.text
    assert list_count(ecsd) == 3


def test_ecsd_serve_fixtures_loads_a_toml_fleet_into_a_fresh_data_dir_once(ecsd_factory, tmp_path):
    fleet = tmp_path / "fleet.toml"
    fleet.write_text(
        '[[servers]]\nname = "web"\ncount = 3\ntags = ["role=web"]\n\n'
        '[[servers]]\nname = "db"\nflavor = "m6.large.8"\nstatus = "SHUTOFF"\n'
    )
    server = ecsd_factory(extra_args=["--fixtures", fleet])
    listed = server.ecs.list_servers_details(ListServersDetailsRequest()).servers
    assert sorted((s.name, s.status, s.flavor.id) for s in listed) == [
        ("db", "SHUTOFF", "m6.large.8"),
        ("web-0000", "ACTIVE", "s6.small.1"),
        ("web-0001", "ACTIVE", "s6.small.1"),
        ("web-0002", "ACTIVE", "s6.small.1"),
    ]
    assert all(s.tags == ["role=web"] for s in listed if s.name.startswith("web"))
    # A restart on the same data dir does not load the fleet a second time.
    server.kill()
    server.start()
    assert list_count(server) == 4


# ------------------------------------------------------------------ the worked example of docs/testing.md


def test_retry_logic_sees_one_failed_server_of_a_batch_stop_and_the_next_test_starts_from_the_snapshot(
    ecsd_realistic, tmp_path
):
    """docs/testing.md, "Worked example", step by step, with `ecsd ctl` for every control action."""
    ecs = ecsd_realistic.ecs
    fleet = tmp_path / "fleet.json"
    fleet.write_text(json.dumps({"servers": [{"name": "web", "count": 3}]}))
    ctl(ecsd_realistic, "fixtures", str(fleet))
    ctl(ecsd_realistic, "snapshot", "save", "base")
    base_list = ecsd_realistic.raw("GET", LIST_PATH).content

    servers = ecs.list_servers_details(ListServersDetailsRequest()).servers
    assert len(servers) == 3 and all(s.status == "ACTIVE" for s in servers)
    victim = servers[1].id
    rule = {"operation": "stop", "server_id": victim, "count": 1,
            "effect": {"kind": "sub_job_fail", "code": "Ecs.0226", "message": "stop failed"}}
    added = json.loads(ctl(ecsd_realistic, "faults", "add", json.dumps(rule)).stdout)
    assert added["id"] and added["fired"] == 0

    job_id = ecs.batch_stop_servers(BatchStopServersRequest(body=BatchStopServersRequestBody(
        os_stop=BatchStopServersOption(servers=[ServerId(id=s.id) for s in servers])))).job_id
    ctl(ecsd_realistic, "clock", "settle")  # no need to wait for realistic timings
    job = ecs.show_job(ShowJobRequest(job_id=job_id))
    assert job.status == "FAIL" and job.error_code == "Ecs.0226"
    failed = [s for s in job.entities.sub_jobs if s.status == "FAIL"]
    assert [s.entities.server_id for s in failed] == [victim]
    assert {ecsd_realistic.show(s.id).status for s in servers if s.id != victim} == {"SHUTOFF"}
    assert ecsd_realistic.show(victim).status == "ACTIVE"

    # The retry logic stops the victim again: count 1 means it now succeeds.
    retry = ecs.batch_stop_servers(BatchStopServersRequest(body=BatchStopServersRequestBody(
        os_stop=BatchStopServersOption(servers=[ServerId(id=victim)])))).job_id
    ctl(ecsd_realistic, "clock", "settle")
    assert ecs.show_job(ShowJobRequest(job_id=retry)).status == "SUCCESS"
    assert ecsd_realistic.show(victim).status == "SHUTOFF"
    listed = json.loads(ctl(ecsd_realistic, "faults", "list").stdout)
    assert [(r["id"], r["fired"]) for r in listed["faults"]] == [(added["id"], 1)]

    ctl(ecsd_realistic, "snapshot", "restore", "base")  # the next test starts from the same three servers
    again = ecs.list_servers_details(ListServersDetailsRequest()).servers
    assert [(s.id, s.status) for s in again] == [(s.id, "ACTIVE") for s in servers]
    assert ecsd_realistic.raw("GET", LIST_PATH).content == base_list
