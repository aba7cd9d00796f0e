"""Issue 3: batch reset passwords, batch rename and batch resize, driven by the official Python SDK.

Contract: ../shared/spec/ECS_API.md sections 2 (incl. the proposed semantics of 2.4), 4 T1.4, T1.5, T1.6,
T1.13, T1.14, T1.16, 5 and 6.

The SDK exception of a refused batch carries only status, code, message and request id; the per-server
`internalError` list is read from the raw body with an SDK-signed `requests` call (`ecsd.raw`).
"""

from __future__ import annotations

import time
import uuid

import pytest

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
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    ListFlavorsRequest,
    ListResizeFlavorsRequest,
    ListServersDetailsRequest,
    ResetServerPasswordOption,
    ResetServerPasswordRequest,
    ResetServerPasswordRequestBody,
    ResizePostPaidServerOption,
    ResizePostPaidServerRequest,
    ResizePostPaidServerRequestBody,
    ResizePrePaidServerOption,
    ResizeServerRequest,
    ResizeServerRequestBody,
    ShowJobRequest,
    ShowResetPasswordFlagRequest,
    ShowServerLimitsRequest,
)

from conftest import expect_client_error, server_ids, two_projects

GOOD_PASSWORD = "Ecsd@2024pass"
RESET_PATH = "/v1/{project_id}/cloudservers/os-reset-passwords"
RENAME_PATH = "/v1/{project_id}/cloudservers/server-name"
RESIZE_PATH = "/v1/{project_id}/cloudservers/batch-resize"


# ------------------------------------------------------------------ helpers


def reset_passwords(ecsd, ids, password=GOOD_PASSWORD, dry_run=None):
    body = BatchResetServersPasswordRequestBody(new_password=password, dry_run=dry_run, servers=server_ids(ids))
    return ecsd.ecs.batch_reset_servers_password(BatchResetServersPasswordRequest(body=body))


def rename(ecsd, ids, name, dry_run=None):
    body = BatchUpdateServersNameRequestBody(name=name, dry_run=dry_run, servers=server_ids(ids))
    return ecsd.ecs.batch_update_servers_name(BatchUpdateServersNameRequest(body=body))


def batch_resize(ecsd, ids, flavor, mode=None):
    body = BatchResizeServersReq(resize=BatchResizeServersOption(flavor_ref=flavor, servers=server_ids(ids), mode=mode))
    return ecsd.ecs.batch_resize_servers(BatchResizeServersRequest(body=body))


def stop_all(ecsd, ids):
    body = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=server_ids(ids), type="SOFT"))
    job = ecsd.wait_job(ecsd.ecs.batch_stop_servers(BatchStopServersRequest(body=body)).job_id)
    assert job.status == "SUCCESS", (job.error_code, job.fail_reason)


def reset_flag(ecsd, sid):
    """The whole os-resetpwd-flag document (ecsd may add fields beyond resetpwd_flag, e.g. a pending reset)."""
    assert ecsd.ecs.show_reset_password_flag(ShowResetPasswordFlagRequest(server_id=sid)).resetpwd_flag in (
        "True", "False",
    )
    r = ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{sid}/os-resetpwd-flag")
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def snapshot(ecsd, ids):
    """Everything a client can observe about the servers: the full show document and the reset flag."""
    return {sid: (ecsd.show_raw(sid), reset_flag(ecsd, sid)) for sid in ids}


def limits(ecsd):
    return ecsd.ecs.show_server_limits(ShowServerLimitsRequest()).absolute


def flavor(ecsd, fid):
    return next(f for f in ecsd.ecs.list_flavors(ListFlavorsRequest()).flavors if f.id == fid)


def resize_targets(ecsd, source):
    return [f.id for f in ecsd.ecs.list_resize_flavors(ListResizeFlavorsRequest(source_flavor_id=source)).flavors]


def pick_target(ecsd, source, prefer=("s6.large.2", "s6.xlarge.2", "c6.large.2")):
    targets = [t for t in resize_targets(ecsd, source) if t != source]
    assert targets, f"ListResizeFlavors offers no target for {source}"
    return next((t for t in prefer if t in targets), targets[0])


def abnormal(r):
    """Check the batch abnormal body shape of contract 2.3 and return (error.code, internalError or None)."""
    assert r.status_code == 400, (r.status_code, r.text)
    body = r.json()
    assert set(body) <= {"error", "internalError"}, f"unexpected keys {sorted(body)}"
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]["code"], body.get("internalError")


def assert_internal_errors(internal, expected):
    """`expected` is a list of (id, allowed codes); order must follow the request."""
    assert internal is not None, "a per-server rejection must list the servers in internalError"
    assert [e["id"] for e in internal] == [i for i, _ in expected], internal
    for entry, (_, codes) in zip(internal, expected):
        assert set(entry) == {"id", "error_code", "error_message"}, entry
        assert entry["error_code"] in codes, entry
        assert entry["error_message"], entry


# ------------------------------------------------------------------ batch reset passwords (T1.4)


def test_a_batch_password_reset_on_three_servers_returns_the_three_ids_in_request_order(ecsd):
    ids = ecsd.create_servers(count=3)
    stop_all(ecsd, ids[1:2])  # allowed for ACTIVE and SHUTOFF servers alike
    order = [ids[2], ids[0], ids[1]]
    flags_before = {sid: reset_flag(ecsd, sid) for sid in ids}
    resp = reset_passwords(ecsd, order)
    assert resp.status_code == 200
    assert [s.id for s in resp.response] == order
    raw = ecsd.raw("PUT", RESET_PATH, {"new_password": GOOD_PASSWORD, "servers": [{"id": i} for i in order]})
    assert raw.status_code == 200 and raw.json() == {"response": [{"id": i} for i in order]}
    for sid in ids:  # issue 3: os-resetpwd-flag lets a client see that a reset is pending
        assert reset_flag(ecsd, sid) != flags_before[sid], f"{sid}: os-resetpwd-flag shows no pending reset"
    assert GOOD_PASSWORD not in ecsd.log(), "the password must never be logged"
    for sid in ids:
        assert GOOD_PASSWORD not in str(ecsd.show_raw(sid))


def test_a_batch_password_reset_collapses_duplicate_ids(ecsd):
    a, b = ecsd.create_servers(count=2)
    resp = reset_passwords(ecsd, [a, b, a])
    assert [s.id for s in resp.response] == [a, b]


def test_a_dry_run_password_reset_answers_the_normal_response_and_changes_nothing(ecsd):
    ids = ecsd.create_servers(count=3)
    before = snapshot(ecsd, ids)
    resp = reset_passwords(ecsd, ids, dry_run=True)
    assert resp.status_code == 200
    assert [s.id for s in resp.response] == ids
    assert snapshot(ecsd, ids) == before


@pytest.mark.parametrize(
    "password",
    [
        "Ab1@xyz",  # 7 characters: too short
        "Abcdefgh1@Abcdefgh1@Abcdefg",  # 27 characters: too long
        "abcdefgh12",  # two character classes only
        "Abcd#12345",  # '#' is not an allowed special character for reset
        "Pass word1@",  # space is forbidden
        "Ab1@密码密码xy",  # Chinese characters are forbidden
        "MyRoot@2024",  # contains the user name root (case-insensitive)
        "Xy1@toorzz",  # contains root reversed
        "Xy1@AdministratorZ",  # contains Administrator
        "Xy1@minqqqq",  # three consecutive characters of administrator
    ],
)
def test_a_weak_password_refuses_the_whole_batch_with_ecs_0011(ecsd, password):
    ids = ecsd.create_servers(count=2)
    before = snapshot(ecsd, ids)
    err = expect_client_error(reset_passwords, ecsd, ids, password)
    assert (err.status_code, err.error_code) == (400, "Ecs.0011"), err.error_msg
    r = ecsd.raw("PUT", RESET_PATH, {"new_password": password, "servers": [{"id": i} for i in ids]})
    code, internal = abnormal(r)
    assert code == "Ecs.0011" and internal is None, r.text
    assert password not in r.text, "the refused password must not be echoed"
    assert snapshot(ecsd, ids) == before


def test_a_password_reset_naming_one_unknown_server_fails_with_ecs_0611_lists_that_id_and_changes_nothing(ecsd):
    ids = ecsd.create_servers(count=3)
    unknown = str(uuid.uuid4())
    request_ids = [ids[0], unknown, ids[1], ids[2]]
    before = snapshot(ecsd, ids)

    err = expect_client_error(reset_passwords, ecsd, request_ids)
    assert (err.status_code, err.error_code) == (400, "Ecs.0611"), err.error_msg
    assert err.request_id

    r = ecsd.raw("PUT", RESET_PATH, {"new_password": GOOD_PASSWORD, "servers": [{"id": i} for i in request_ids]})
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(unknown, {"Ecs.0114"})])
    assert snapshot(ecsd, ids) == before, "a refused batch must leave every server untouched"

    # The same batch without the unknown id goes through.
    assert [s.id for s in reset_passwords(ecsd, ids).response] == ids


def test_a_dry_run_password_reset_with_an_unknown_server_answers_the_same_abnormal_body(ecsd):
    ids = ecsd.create_servers(count=2)
    unknown = str(uuid.uuid4())
    body = {"new_password": GOOD_PASSWORD, "servers": [{"id": unknown}, {"id": ids[0]}, {"id": ids[1]}]}
    real = ecsd.raw("PUT", RESET_PATH, body)
    dry = ecsd.raw("PUT", RESET_PATH, {**body, "dry_run": True})
    assert abnormal(dry) == abnormal(real)
    assert_internal_errors(abnormal(dry)[1], [(unknown, {"Ecs.0114"})])


def test_a_password_reset_with_an_empty_server_list_is_a_whole_request_error(ecsd):
    r = ecsd.raw("PUT", RESET_PATH, {"new_password": GOOD_PASSWORD, "servers": []})
    code, internal = abnormal(r)
    assert code == "Ecs.0005" and internal is None, r.text


def test_the_single_server_password_reset_answers_204_and_checks_complexity_on_request(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    ok = ecsd.ecs.reset_server_password(
        ResetServerPasswordRequest(
            server_id=sid,
            body=ResetServerPasswordRequestBody(
                reset_password=ResetServerPasswordOption(new_password=GOOD_PASSWORD, is_check_password=True)
            ),
        )
    )
    assert ok.status_code == 204
    err = expect_client_error(
        ecsd.ecs.reset_server_password,
        ResetServerPasswordRequest(
            server_id=sid,
            body=ResetServerPasswordRequestBody(
                reset_password=ResetServerPasswordOption(new_password="abc", is_check_password=True)
            ),
        ),
    )
    assert (err.status_code, err.error_code) == (400, "Ecs.0011")
    err = expect_client_error(
        ecsd.ecs.reset_server_password,
        ResetServerPasswordRequest(
            server_id=str(uuid.uuid4()),
            body=ResetServerPasswordRequestBody(reset_password=ResetServerPasswordOption(new_password=GOOD_PASSWORD)),
        ),
    )
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")


def test_the_reset_password_flag_answers_for_each_server_and_404_for_an_unknown_one(ecsd):
    (sid,) = ecsd.create_servers(count=1)
    assert reset_flag(ecsd, sid)["resetpwd_flag"] in ("True", "False")
    err = expect_client_error(ecsd.ecs.show_reset_password_flag, ShowResetPasswordFlagRequest(server_id=str(uuid.uuid4())))
    assert (err.status_code, err.error_code) == (404, "Ecs.0114")


# ------------------------------------------------------------------ batch rename (T1.6)


def test_a_batch_rename_gives_every_server_the_same_name_without_suffix(ecsd):
    ids = ecsd.create_servers(count=3, name="web")
    resp = rename(ecsd, ids, "develop")
    assert resp.status_code == 200
    assert [s.id for s in resp.response] == ids
    for sid in ids:
        assert ecsd.show(sid).name == "develop"
    listed = ecsd.ecs.list_servers_details(ListServersDetailsRequest(name="develop"))
    assert listed.count == 3 and {s.id for s in listed.servers} == set(ids)

    resp = rename(ecsd, ids[:1], "app_v1.2-" + "x" * 119)  # 128 characters of [A-Za-z0-9_.-]
    assert ecsd.show(ids[0]).name == "app_v1.2-" + "x" * 119


def test_a_dry_run_rename_answers_the_normal_response_and_changes_nothing(ecsd):
    ids = ecsd.create_servers(count=2, name="web")
    before = snapshot(ecsd, ids)
    resp = rename(ecsd, ids, "develop", dry_run=True)
    assert [s.id for s in resp.response] == ids
    assert snapshot(ecsd, ids) == before


@pytest.mark.parametrize(
    "name, code",
    [
        ("x" * 129, "Ecs.0914"),  # too long
        ("bad name!", "Ecs.0915"),  # invalid characters
        ("semi;colon", "Ecs.0915"),
    ],
)
def test_an_invalid_name_refuses_the_whole_rename_batch(ecsd, name, code):
    ids = ecsd.create_servers(count=2, name="web")
    before = snapshot(ecsd, ids)
    err = expect_client_error(rename, ecsd, ids, name)
    assert (err.status_code, err.error_code) == (400, code)
    r = ecsd.raw("PUT", RENAME_PATH, {"name": name, "servers": [{"id": i} for i in ids]})
    assert abnormal(r) == (code, None)
    assert snapshot(ecsd, ids) == before


def test_a_rename_naming_an_unknown_server_fails_with_ecs_0611_and_renames_nobody(ecsd):
    ids = ecsd.create_servers(count=2, name="web")
    unknown = str(uuid.uuid4())
    before = snapshot(ecsd, ids)
    err = expect_client_error(rename, ecsd, [ids[0], ids[1], unknown], "develop")
    assert (err.status_code, err.error_code) == (400, "Ecs.0611")
    r = ecsd.raw("PUT", RENAME_PATH, {"name": "develop", "servers": [{"id": ids[0]}, {"id": ids[1]}, {"id": unknown}]})
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(unknown, {"Ecs.0114"})])
    assert snapshot(ecsd, ids) == before


# ------------------------------------------------------------------ batch resize (T1.5)


def test_a_batch_resize_of_stopped_servers_runs_a_job_and_show_and_limits_report_the_new_flavor(ecsd):
    ids = ecsd.create_servers(count=3, flavor="s6.medium.2")
    stop_all(ecsd, ids)
    target = pick_target(ecsd, "s6.medium.2")
    new = flavor(ecsd, target)

    resp = batch_resize(ecsd, ids, target)
    assert resp.status_code == 200
    assert resp.job_id and resp.order_id is None
    job = ecsd.wait_job(resp.job_id)
    assert job.status == "SUCCESS", (job.error_code, job.fail_reason)
    assert job.job_type == "resizeServer"
    assert job.entities.sub_jobs_total == 3
    assert {s.entities.server_id for s in job.entities.sub_jobs} == set(ids)
    assert all(s.job_type == "resizeSingleServer" and s.status == "SUCCESS" for s in job.entities.sub_jobs)

    for sid in ids:
        s = ecsd.show(sid)
        assert (s.status, s.os_ext_st_stask_state) == ("SHUTOFF", None)
        assert (s.flavor.id, s.flavor.vcpus, s.flavor.ram) == (target, str(new.vcpus), str(new.ram))
    usage = limits(ecsd)
    assert usage.total_instances_used == 3
    assert usage.total_cores_used == 3 * int(new.vcpus)
    assert usage.total_ram_used == 3 * new.ram
    listed = ecsd.ecs.list_servers_details(ListServersDetailsRequest(flavor=target))
    assert listed.count == 3


def test_a_batch_resize_with_stop_mode_resizes_running_servers_and_starts_them_again(ecsd):
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")
    target = pick_target(ecsd, "s6.medium.2")
    job = ecsd.wait_job(batch_resize(ecsd, ids, target, mode="withStopServer").job_id)
    assert job.status == "SUCCESS", (job.error_code, job.fail_reason)
    for sid in ids:
        s = ecsd.show(sid)
        assert (s.status, s.os_ext_st_stask_state, s.flavor.id) == ("ACTIVE", None, target)


def test_a_batch_resize_of_a_running_server_without_stop_mode_lists_it_with_ecs_0100_and_resizes_nobody(ecsd):
    stopped, running = ecsd.create_servers(count=2, flavor="s6.medium.2")
    stop_all(ecsd, [stopped])
    target = pick_target(ecsd, "s6.medium.2")
    before = snapshot(ecsd, [stopped, running])

    err = expect_client_error(batch_resize, ecsd, [stopped, running], target)
    assert (err.status_code, err.error_code) == (400, "Ecs.0611")
    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": target, "servers": [{"id": stopped}, {"id": running}]}})
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(running, {"Ecs.0100"})])
    time.sleep(0.2)  # a job, had one been started, would have finished by now with instant timings
    assert snapshot(ecsd, [stopped, running]) == before


def test_a_batch_resize_naming_an_unknown_server_lists_it_with_ecs_0114_and_resizes_nobody(ecsd):
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")
    stop_all(ecsd, ids)
    target = pick_target(ecsd, "s6.medium.2")
    unknown = str(uuid.uuid4())
    before = snapshot(ecsd, ids)
    r = ecsd.raw(
        "POST", RESIZE_PATH,
        {"resize": {"flavorRef": target, "servers": [{"id": ids[0]}, {"id": unknown}, {"id": ids[1]}]}},
    )
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(unknown, {"Ecs.0114"})])
    time.sleep(0.2)
    assert snapshot(ecsd, ids) == before


def test_a_batch_resize_to_an_unknown_flavor_is_refused_with_ecs_0029(ecsd):
    # Contract T1.5 lists both Ecs.0029 (6.3: "flavor does not exist") and Ecs.0804 (6.4: "target flavor not
    # allowed for this ECS"). A flavor id that exists nowhere is not a property of any one server: it makes the
    # whole request invalid, so per the proposed semantics of 2.4 it is a whole-request 400 with Ecs.0029 and
    # no internalError. Ecs.0804 is for a real flavor missing from a server's resize list (test below).
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")
    stop_all(ecsd, ids)
    before = snapshot(ecsd, ids)
    err = expect_client_error(batch_resize, ecsd, ids, "s6.gigantic.99")
    assert (err.status_code, err.error_code) == (400, "Ecs.0029"), err.error_msg
    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": "s6.gigantic.99", "servers": [{"id": i} for i in ids]}})
    assert abnormal(r) == ("Ecs.0029", None)
    assert snapshot(ecsd, ids) == before


def test_a_batch_resize_to_a_flavor_outside_the_resize_list_is_refused_with_ecs_0804(ecsd):
    all_flavors = {f.id for f in ecsd.ecs.list_flavors(ListFlavorsRequest()).flavors}
    outside = sorted(all_flavors - set(resize_targets(ecsd, "s6.medium.2")) - {"s6.medium.2"})
    if not outside:
        pytest.skip("every seeded flavor is a resize target of s6.medium.2")
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")
    stop_all(ecsd, ids)
    before = snapshot(ecsd, ids)
    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": outside[0], "servers": [{"id": i} for i in ids]}})
    code, internal = abnormal(r)
    # The resize list is per server (T1.13), so this is a per-server rejection.
    assert code == "Ecs.0611", r.text
    assert_internal_errors(internal, [(i, {"Ecs.0804"}) for i in ids])
    assert snapshot(ecsd, ids) == before


def test_a_batch_resize_to_the_current_flavor_is_refused_with_the_same_flavor_code(ecsd):
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")
    stop_all(ecsd, ids)
    before = snapshot(ecsd, ids)
    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": "s6.medium.2", "servers": [{"id": i} for i in ids]}})
    code, internal = abnormal(r)
    same_flavor = {"Ecs.0009", "Ecs.0810"}  # 6.4: both mean "target flavor equals current flavor"
    if code == "Ecs.0611":
        assert_internal_errors(internal, [(i, same_flavor) for i in ids])
    else:
        assert code in same_flavor and internal is None, r.text
    assert snapshot(ecsd, ids) == before


def test_a_batch_resize_of_more_than_50_servers_is_refused_with_ecs_0118(ecsd):
    ids = [str(uuid.uuid4()) for _ in range(51)]
    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": "s6.large.2", "servers": [{"id": i} for i in ids]}})
    assert abnormal(r) == ("Ecs.0118", None)


def test_a_dry_run_batch_resize_answers_202_and_changes_nothing(ecsd):
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")
    stop_all(ecsd, ids)
    target = pick_target(ecsd, "s6.medium.2")
    before = snapshot(ecsd, ids)
    r = ecsd.raw(
        "POST", RESIZE_PATH, {"resize": {"flavorRef": target, "servers": [{"id": i} for i in ids]}, "dry_run": True}
    )
    assert r.status_code == 202, (r.status_code, r.text)
    time.sleep(0.2)
    assert snapshot(ecsd, ids) == before


# ------------------------------------------------------------------ single-server resize (T1.16)


def test_single_server_resize_works_through_both_the_v1_and_the_v1_1_api(ecsd):
    (sid,) = ecsd.create_servers(count=1, flavor="s6.medium.2")
    stop_all(ecsd, [sid])
    first = pick_target(ecsd, "s6.medium.2")

    resp = ecsd.ecs.resize_post_paid_server(
        ResizePostPaidServerRequest(
            server_id=sid, body=ResizePostPaidServerRequestBody(resize=ResizePostPaidServerOption(flavor_ref=first))
        )
    )
    job = ecsd.wait_job(resp.job_id)
    assert job.status == "SUCCESS" and job.job_type == "resizeServer"
    assert ecsd.show(sid).flavor.id == first

    second = pick_target(ecsd, first, prefer=("s6.medium.2", "s6.xlarge.2", "s6.large.2"))
    resp = ecsd.ecs.resize_server(
        ResizeServerRequest(server_id=sid, body=ResizeServerRequestBody(resize=ResizePrePaidServerOption(flavor_ref=second)))
    )
    assert resp.order_id is None
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    s = ecsd.show(sid)
    assert (s.flavor.id, s.status) == (second, "SHUTOFF")


def test_single_server_resize_of_a_running_server_is_refused_with_ecs_0100_and_dry_run_answers_202(ecsd):
    (sid,) = ecsd.create_servers(count=1, flavor="s6.medium.2")
    target = pick_target(ecsd, "s6.medium.2")
    err = expect_client_error(
        ecsd.ecs.resize_post_paid_server,
        ResizePostPaidServerRequest(
            server_id=sid, body=ResizePostPaidServerRequestBody(resize=ResizePostPaidServerOption(flavor_ref=target))
        ),
    )
    assert (err.status_code, err.error_code) == (400, "Ecs.0100")

    stop_all(ecsd, [sid])
    dry = ecsd.ecs.resize_post_paid_server(
        ResizePostPaidServerRequest(
            server_id=sid,
            body=ResizePostPaidServerRequestBody(resize=ResizePostPaidServerOption(flavor_ref=target), dry_run=True),
        )
    )
    assert dry.status_code == 202
    time.sleep(0.2)
    assert ecsd.show(sid).flavor.id == "s6.medium.2"


# ------------------------------------------------------------------ one operation per server at a time


def test_a_server_busy_with_a_resize_is_refused_per_server_and_the_resize_passes_through_resize_status(
    ecsd_realistic,
):
    ecsd = ecsd_realistic
    resp = ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=ecsd.server_spec(count=2)))
    )
    busy, idle = resp.server_ids
    # A server still being built is busy too, but wait for ACTIVE so that the resize is the only operation.
    assert ecsd.wait_job(resp.job_id, timeout=30).status == "SUCCESS"
    target = pick_target(ecsd, "s6.medium.2")

    # withStopServer on a running server: stop, resize, start again (contract 5.5).
    job_id = batch_resize(ecsd, [busy], target, mode="withStopServer").job_id
    s = ecsd.show(busy)
    assert s.os_ext_st_stask_state is not None, "the server is busy as soon as the job is accepted"
    busy_codes = {"Ecs.0603", "Ecs.0100"}  # 5.5: busy is Ecs.0603 (501 in the docs) or ecsd's documented Ecs.0100

    r = ecsd.raw("PUT", RESET_PATH, {"new_password": GOOD_PASSWORD, "servers": [{"id": idle}, {"id": busy}]})
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(busy, busy_codes)])

    r = ecsd.raw("PUT", RENAME_PATH, {"name": "renamed", "servers": [{"id": busy}, {"id": idle}]})
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(busy, busy_codes)])
    assert ecsd.show(idle).name != "renamed"

    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": target, "servers": [{"id": busy}], "mode": "withStopServer"}})
    code, internal = abnormal(r)
    assert code == "Ecs.0611"
    assert_internal_errors(internal, [(busy, busy_codes)])

    # A job-based batch is accepted, but the busy server's sub-job fails while the idle one proceeds (2.5).
    stop_job = ecsd.ecs.batch_stop_servers(
        BatchStopServersRequest(
            body=BatchStopServersRequestBody(
                os_stop=BatchStopServersOption(servers=server_ids([busy, idle]), type="HARD")
            )
        )
    ).job_id

    seen = []
    deadline = time.monotonic() + 30
    while ecsd.ecs.show_job(ShowJobRequest(job_id=job_id)).status not in ("SUCCESS", "FAIL"):
        s = ecsd.show(busy)
        key = (s.status, s.os_ext_st_svm_state, s.os_ext_st_stask_state)
        if not seen or seen[-1] != key:
            seen.append(key)
        assert time.monotonic() < deadline, seen
        time.sleep(0.05)
    assert ecsd.ecs.show_job(ShowJobRequest(job_id=job_id)).status == "SUCCESS", seen
    resize_tasks = ("resize_prep", "resize_migrating", "resize_migrated", "resize_finish")
    allowed = {("ACTIVE", "active", "powering-off"), ("SHUTOFF", "stopped", None), ("SHUTOFF", "stopped", "powering-on")}
    allowed |= {("RESIZE", "stopped", t) for t in resize_tasks}
    allowed |= {("VERIFY_RESIZE", "resized", None)}
    # The job may finish between reading it and reading the server: the last state seen can be the end state.
    intermediate = seen[:-1] if seen and seen[-1] == ("ACTIVE", "active", None) else seen
    assert set(intermediate) <= allowed, f"undocumented intermediate states: {seen}"
    assert any(st == "RESIZE" for st, _, _ in seen), f"RESIZE never observed: {seen}"
    s = ecsd.show(busy)
    assert (s.status, s.os_ext_st_stask_state, s.flavor.id) == ("ACTIVE", None, target), "stopped twice?"

    stopped = ecsd.wait_job(stop_job, timeout=15)
    assert stopped.status == "FAIL"
    subs = {x.entities.server_id: x for x in stopped.entities.sub_jobs}
    assert subs[busy].status == "FAIL" and subs[busy].error_code in busy_codes, subs[busy]
    assert subs[idle].status == "SUCCESS"
    assert ecsd.show(idle).status == "SHUTOFF"


# ------------------------------------------------------------------ quota and tenancy (--config)


def test_a_batch_resize_whose_core_or_ram_increase_exceeds_the_quota_is_refused_with_ecs_0001(ecsd_with_config):
    # T1.5 lists no quota code; Ecs.0001 (6.1: "ECS quota exceeded (instances, cores or RAM)") is the one that fits,
    # and a quota breach is a property of the whole batch, so no internalError.
    ecsd = ecsd_with_config("[quota]\nmax_instances = 10\nmax_cores = 6\nmax_ram_mib = 65536\n")
    ids = ecsd.create_servers(count=2, flavor="s6.medium.2")  # 2 cores in use
    stop_all(ecsd, ids)
    before = snapshot(ecsd, ids)
    targets = resize_targets(ecsd, "s6.medium.2")
    assert "s6.xlarge.2" in targets and "s6.large.2" in targets, targets

    r = ecsd.raw("POST", RESIZE_PATH, {"resize": {"flavorRef": "s6.xlarge.2", "servers": [{"id": i} for i in ids]}})
    assert abnormal(r) == ("Ecs.0001", None)  # 2 x 4 cores > 6
    assert snapshot(ecsd, ids) == before

    job = ecsd.wait_job(batch_resize(ecsd, ids, "s6.large.2").job_id)  # 2 x 2 cores = 4 <= 6
    assert job.status == "SUCCESS"
    assert limits(ecsd).total_cores_used == 4


def test_a_batch_naming_a_server_of_another_project_lists_it_as_not_found(ecsd_with_config):

    mine, theirs = two_projects(ecsd_with_config)
    my_ids = mine.create_servers(count=2)
    (their_id,) = theirs.create_servers(count=1, name="theirs")
    before = snapshot(theirs, [their_id])

    for path, body in [
        (RESET_PATH, {"new_password": GOOD_PASSWORD}),
        (RENAME_PATH, {"name": "hijacked"}),
    ]:
        r = mine.raw("PUT", path, {**body, "servers": [{"id": my_ids[0]}, {"id": their_id}, {"id": my_ids[1]}]})
        code, internal = abnormal(r)
        assert code == "Ecs.0611"
        assert_internal_errors(internal, [(their_id, {"Ecs.0114"})])
    assert snapshot(theirs, [their_id]) == before
