"""Issue 11: ECS groups and placement on simulated hosts, driven by the official Python SDK
(CreateServerGroup, ShowServerGroup, ListServerGroups, DeleteServerGroup, AddServerGroupMember,
DeleteServerGroupMember, BatchAddServerGroupMember, BatchDeleteServerGroupMember, and creates with
`os:scheduler_hints.group`). An anti-affinity group of 3 spreads over 3 hosts; a 4th is refused."""

from __future__ import annotations

import pytest

from huaweicloudsdkecs.v2 import (
    AddServerGroupMemberRequest,
    AddServerGroupMemberRequestBody,
    BatchAddServerGroupMemberReq,
    BatchAddServerGroupMemberRequest,
    BatchDeleteServerGroupMemberReq,
    BatchDeleteServerGroupMemberRequest,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    CreateServerGroupOption,
    CreateServerGroupRequest,
    CreateServerGroupRequestBody,
    DeleteServerGroupMemberRequest,
    DeleteServerGroupMemberRequestBody,
    DeleteServerGroupRequest,
    ListServerGroupsRequest,
    PostPaidServerSchedulerHints,
    ServerGroupMember,
    ShowServerGroupRequest,
    ShowServerLimitsRequest,
)

from conftest import expect_client_error
from model_check import assert_fits_model

THREE_HOSTS = """
[placement]
hosts_per_zone = 3
host_vcpus = 8
host_ram_mib = 16384
"""


def create_group(ecsd, name="aa"):
    body = CreateServerGroupRequestBody(server_group=CreateServerGroupOption(name=name, policies=["anti-affinity"]))
    return ecsd.ecs.create_server_group(CreateServerGroupRequest(body=body)).server_group


def create_in_group(ecsd, group_id, name, count=1):
    spec = ecsd.server_spec(name=name, flavor="s6.small.1", count=count)
    spec.availability_zone = "eu-de-01"
    spec.osscheduler_hints = PostPaidServerSchedulerHints(group=group_id)
    return ecsd.ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec))
    )


def host(ecsd, server_id):
    return ecsd.show(server_id).os_ext_srv_att_rhost


def test_an_anti_affinity_group_of_3_spreads_over_3_hosts_and_a_4th_is_refused(ecsd_with_config):
    ecsd = ecsd_with_config(THREE_HOSTS)
    group = create_group(ecsd)
    assert (group.name, group.policies, group.members, group.metadata) == ("aa", ["anti-affinity"], [], {})
    members = []
    for i in range(3):
        created = create_in_group(ecsd, group.id, f"m{i}")
        assert ecsd.wait_job(created.job_id).status == "SUCCESS"
        members += created.server_ids
    hosts = {host(ecsd, m) for m in members}
    assert len(hosts) == 3, hosts
    detail = ecsd.show(members[0])
    assert detail.osscheduler_hints.group == [group.id]
    assert detail.host_id and detail.os_ext_srv_att_rhypervisor_hostname.endswith(detail.os_ext_srv_att_rhost)
    shown = ecsd.ecs.show_server_group(ShowServerGroupRequest(server_group_id=group.id)).server_group
    assert set(shown.members) == set(members)

    fourth = create_in_group(ecsd, group.id, "m3")
    job = ecsd.wait_job(fourth.job_id)
    assert (job.status, job.error_code) == ("FAIL", "Ecs.0319")
    sub = job.entities.sub_jobs[0]
    assert sub.status == "FAIL" and "No valid host" in sub.fail_reason
    e = expect_client_error(ecsd.show, fourth.server_ids[0])
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    assert len(ecsd.ecs.show_server_group(ShowServerGroupRequest(server_group_id=group.id)).server_group.members) == 3


def test_members_added_later_move_apart_and_a_4th_is_refused_on_3_hosts(ecsd_with_config):
    ecsd = ecsd_with_config(THREE_HOSTS)
    servers = ecsd.create_servers(4, name="loose", flavor="s6.small.1")
    group = create_group(ecsd, "later")
    for server in servers[:3]:
        body = AddServerGroupMemberRequestBody(add_member=ServerGroupMember(instance_uuid=server))
        ecsd.ecs.add_server_group_member(AddServerGroupMemberRequest(server_group_id=group.id, body=body))
    assert len({host(ecsd, s) for s in servers[:3]}) == 3
    body = AddServerGroupMemberRequestBody(add_member=ServerGroupMember(instance_uuid=servers[3]))
    e = expect_client_error(ecsd.ecs.add_server_group_member, AddServerGroupMemberRequest(server_group_id=group.id, body=body))
    assert (e.status_code, e.error_code) == (400, "Ecs.0319")
    body = DeleteServerGroupMemberRequestBody(remove_member=ServerGroupMember(instance_uuid=servers[0]))
    ecsd.ecs.delete_server_group_member(DeleteServerGroupMemberRequest(server_group_id=group.id, body=body))
    added = ecsd.ecs.batch_add_server_group_member(
        BatchAddServerGroupMemberRequest(server_group_id=group.id, body=BatchAddServerGroupMemberReq(server_ids=[servers[3]]))
    )
    assert added.status == "success" and [(s.server_id, s.status) for s in added.servers] == [(servers[3], "success")]
    members = ecsd.ecs.show_server_group(ShowServerGroupRequest(server_group_id=group.id)).server_group.members
    assert set(members) == set(servers[1:])
    assert len({host(ecsd, s) for s in members}) == 3
    removed = ecsd.ecs.batch_delete_server_group_member(
        BatchDeleteServerGroupMemberRequest(server_group_id=group.id, body=BatchDeleteServerGroupMemberReq(server_ids=servers[1:]))
    )
    assert removed.status == "success"
    r = ecsd.raw("POST", f"/v1/{{project_id}}/cloudservers/os-server-groups/{group.id}/add_members",
                 {"server_ids": [servers[0], "0b8c0e5e-0000-4000-8000-000000000000"]})
    assert r.status_code == 200
    assert r.json()["status"] == "fail"
    assert_fits_model(r.json(), "BatchAddServerGroupMemberResponse")


def test_groups_list_by_marker_show_and_delete(ecsd):
    ids = [create_group(ecsd, f"g{i}").id for i in range(3)]
    first = ecsd.ecs.list_server_groups(ListServerGroupsRequest(limit=2))
    assert [g.id for g in first.server_groups] == ids[:2]
    assert first.page_info.next_marker == ids[1]
    second = ecsd.ecs.list_server_groups(ListServerGroupsRequest(limit=2, marker=first.page_info.next_marker))
    assert [g.id for g in second.server_groups] == ids[2:] and second.page_info is None
    raw = ecsd.raw("GET", "/v1/{project_id}/cloudservers/os-server-groups", query=[("limit", "2")]).json()
    assert_fits_model(raw, "ListServerGroupsResponse")
    assert_fits_model(ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/os-server-groups/{ids[0]}").json(), "ShowServerGroupResponse")
    assert ecsd.ecs.show_server_limits(ShowServerLimitsRequest()).absolute.total_server_groups_used == 3
    ecsd.ecs.delete_server_group(DeleteServerGroupRequest(server_group_id=ids[0]))
    e = expect_client_error(ecsd.ecs.show_server_group, ShowServerGroupRequest(server_group_id=ids[0]))
    assert (e.status_code, e.error_code) == (404, "Ecs.1000")
    body = CreateServerGroupRequestBody(server_group=CreateServerGroupOption(name="x", policies=["affinity"]))
    e = expect_client_error(ecsd.ecs.create_server_group, CreateServerGroupRequest(body=body))
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
