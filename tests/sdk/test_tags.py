"""Issue 11: tags of servers, driven by the official Python SDK (BatchCreateServerTags, BatchDeleteServerTags,
ShowServerTags, ListServerTags, ListServersByTag). A fleet of 50 is tagged and queried with each filter form.

`tags_any` and `not_tags_any` are not in the SDK's request model (3.1.219): they are sent SDK-signed with
`ecsd.raw`. Every answer is also checked against the SDK's model of it (model_check)."""

from __future__ import annotations

import pytest

from huaweicloudsdkecs.v2 import (
    BatchAddServerTag,
    BatchCreateServerTagsRequest,
    BatchCreateServerTagsRequestBody,
    BatchDeleteServerTagsRequest,
    BatchDeleteServerTagsRequestBody,
    ListServerTagsRequest,
    ListServersByTagRequest,
    ListServersByTagRequestBody,
    ListServersDetailsRequest,
    ServerTag,
    ServerTagMatch,
    ServerTags,
    ShowServerTagsRequest,
)

from conftest import expect_client_error
from model_check import assert_fits_model

BY_TAG = "/v1/{project_id}/cloudservers/resource_instances/action"


def add_tags(ecsd, server_id, tags: dict):
    body = BatchCreateServerTagsRequestBody(
        action="create", tags=[BatchAddServerTag(key=k, value=v) for k, v in tags.items()]
    )
    return ecsd.ecs.batch_create_server_tags(BatchCreateServerTagsRequest(server_id=server_id, body=body))


def delete_tags(ecsd, server_id, tags: dict):
    body = BatchDeleteServerTagsRequestBody(action="delete", tags=[ServerTag(key=k, value=v) for k, v in tags.items()])
    return ecsd.ecs.batch_delete_server_tags(BatchDeleteServerTagsRequest(server_id=server_id, body=body))


def by_tag(ecsd, **kw):
    return ecsd.ecs.list_servers_by_tag(ListServersByTagRequest(body=ListServersByTagRequestBody(**kw)))


def ids(answer) -> set:
    return {r.resource_id for r in (answer.resources or [])}


@pytest.fixture
def fleet(ecsd):
    """50 servers: 0-19 env=prod tier=web, 20-29 env=prod tier=db, 30-39 env=dev tier=web, 40-49 untagged."""
    servers = ecsd.create_servers(50, name="fleet", flavor="s6.small.1")
    for i, server_id in enumerate(servers):
        if i < 20:
            add_tags(ecsd, server_id, {"env": "prod", "tier": "web"})
        elif i < 30:
            add_tags(ecsd, server_id, {"env": "prod", "tier": "db"})
        elif i < 40:
            add_tags(ecsd, server_id, {"env": "dev", "tier": "web"})
    return servers


def test_a_fleet_of_50_is_found_by_every_filter_form(ecsd, fleet):
    web, db, dev, bare = set(fleet[:20]), set(fleet[20:30]), set(fleet[30:40]), set(fleet[40:])
    answer = by_tag(ecsd, action="filter", tags=[ServerTags(key="env", values=["prod"])])
    assert answer.total_count == 30 and ids(answer) == web | db
    answer = by_tag(ecsd, action="filter", tags=[ServerTags(key="env", values=["prod"]), ServerTags(key="tier", values=["web"])])
    assert ids(answer) == web
    answer = by_tag(ecsd, action="filter", tags=[ServerTags(key="tier", values=["db", "web"])])
    assert ids(answer) == web | db | dev
    answer = by_tag(ecsd, action="filter", tags=[ServerTags(key="tier")])
    assert answer.total_count == 40
    answer = by_tag(ecsd, action="filter", not_tags=[ServerTags(key="env", values=["prod"])])
    assert ids(answer) == dev | bare
    answer = by_tag(ecsd, action="filter", matches=[ServerTagMatch(key="resource_name", value="fleet-004")])
    assert ids(answer) == set(fleet[40:50])
    count = by_tag(ecsd, action="count", tags=[ServerTags(key="tier", values=["web"])])
    assert count.total_count == 30 and count.resources is None

    # Paging by item index over all 50.
    seen = set()
    for offset in range(0, 50, 20):
        page = by_tag(ecsd, action="filter", limit="20", offset=str(offset))
        assert page.total_count == 50
        seen |= ids(page)
    assert seen == set(fleet)

    # The forms the SDK model lacks, sent as it would sign them.
    r = ecsd.raw("POST", BY_TAG, {"action": "filter", "tags_any": [{"key": "tier", "values": ["db"]}, {"key": "env", "values": ["dev"]}]})
    assert r.status_code == 200, r.text
    assert {x["resource_id"] for x in r.json()["resources"]} == db | dev
    r = ecsd.raw("POST", BY_TAG, {"action": "filter", "not_tags_any": [{"key": "tier", "values": ["db"]}, {"key": "env", "values": ["dev"]}]})
    assert {x["resource_id"] for x in r.json()["resources"]} == web | bare
    assert_fits_model(r.json(), "ListServersByTagResponse")

    # One resource in full.
    answer = by_tag(ecsd, action="filter", tags=[ServerTags(key="tier", values=["db"])], limit="1")
    resource = answer.resources[0]
    assert resource.resource_id in db and resource.resource_name.startswith("fleet-")
    assert {(t.key, t.value) for t in resource.tags} == {("env", "prod"), ("tier", "db")}


def test_project_tags_and_one_servers_tags_round_trip(ecsd, fleet):
    listed = ecsd.ecs.list_server_tags(ListServerTagsRequest())
    assert [(t.key, t.values) for t in listed.tags] == [("env", ["dev", "prod"]), ("tier", ["db", "web"])]
    assert_fits_model(ecsd.raw("GET", "/v1/{project_id}/cloudservers/tags").json(), "ListServerTagsResponse")
    server = fleet[0]
    add_tags(ecsd, server, {"env": "staging", "owner": "ops"})
    shown = ecsd.ecs.show_server_tags(ShowServerTagsRequest(server_id=server))
    assert [(t.key, t.value) for t in shown.tags] == [("env", "staging"), ("tier", "web"), ("owner", "ops")]
    assert_fits_model(ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server}/tags").json(), "ShowServerTagsResponse")
    assert sorted(ecsd.show(server).tags) == ["env=staging", "owner=ops", "tier=web"]
    delete_tags(ecsd, server, {"owner": "ops", "nope": None})
    shown = ecsd.ecs.show_server_tags(ShowServerTagsRequest(server_id=server))
    assert [t.key for t in shown.tags] == ["env", "tier"]
    # The v1 list's tag filters read the same data.
    listed = ecsd.ecs.list_servers_details(ListServersDetailsRequest(tags="env=staging"))
    assert [s.id for s in listed.servers] == [server]


def test_tag_refusals_carry_their_codes(ecsd):
    server = ecsd.create_servers(1, name="strict", flavor="s6.small.1")[0]
    add_tags(ecsd, server, {f"k{i}": "v" for i in range(10)})
    e = expect_client_error(add_tags, ecsd, server, {"one-more": "v"})
    assert (e.status_code, e.error_code) == (400, "Ecs.0905")
    e = expect_client_error(add_tags, ecsd, server, {"bad key": "v"})
    assert (e.status_code, e.error_code) == (400, "Ecs.0906")
    e = expect_client_error(add_tags, ecsd, "0b8c0e5e-0000-4000-8000-000000000000", {"a": "b"})
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")
    e = expect_client_error(by_tag, ecsd, action="filter", limit="5000")
    assert (e.status_code, e.error_code) == (400, "Ecs.0005")
