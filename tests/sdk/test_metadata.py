"""Issue 11: server metadata and the metadata service's options, driven by the official Python SDK
(UpdateServerMetadata, DeleteServerMetadata, ShowMetadataOptions, UpdateMetadataOptions)."""

from __future__ import annotations

from huaweicloudsdkecs.v2 import (
    DeleteServerMetadataRequest,
    ListServersDetailsRequest,
    ShowMetadataOptionsRequest,
    UpdateMetadataOptionsRequest,
    UpdateServerMetadataOptionsRequestBody,
    UpdateServerMetadataRequest,
    UpdateServerMetadataRequestBody,
)

from conftest import expect_client_error
from model_check import assert_fits_model


def update(ecsd, server_id, metadata):
    body = UpdateServerMetadataRequestBody(metadata=metadata)
    return ecsd.ecs.update_server_metadata(UpdateServerMetadataRequest(server_id=server_id, body=body))


def test_metadata_round_trips_through_update_show_list_and_delete(ecsd):
    server = ecsd.create_servers(1, name="meta", flavor="s6.small.1", metadata={"owner": "team-a"})[0]
    answer = update(ecsd, server, {"owner": "team-b", "app:tier": "web.1"})
    assert answer.metadata == {"owner": "team-b", "app:tier": "web.1"}
    shown = ecsd.show(server).metadata
    assert shown["owner"] == "team-b" and shown["app:tier"] == "web.1" and shown["charging_mode"] == "0"
    listed = ecsd.ecs.list_servers_details(ListServersDetailsRequest()).servers[0]
    assert listed.metadata == shown
    # The SDK percent-encodes the key in the path.
    update(ecsd, server, {"my.key:1": "x"})
    ecsd.ecs.delete_server_metadata(DeleteServerMetadataRequest(server_id=server, key="my.key:1"))
    ecsd.ecs.delete_server_metadata(DeleteServerMetadataRequest(server_id=server, key="owner"))
    ecsd.ecs.delete_server_metadata(DeleteServerMetadataRequest(server_id=server, key="owner"))
    assert update(ecsd, server, {}).metadata == {"app:tier": "web.1"}
    r = ecsd.raw("POST", f"/v1/{{project_id}}/cloudservers/{server}/metadata", {"metadata": {"k": "v"}})
    assert r.status_code == 200
    assert_fits_model(r.json(), "UpdateServerMetadataResponse")


def test_reserved_and_invalid_keys_are_refused(ecsd):
    server = ecsd.create_servers(1, name="strict", flavor="s6.small.1")[0]
    for bad in ({"charging_mode": "1"}, {"__support_agent_list": "hss"}, {"a b": "v"}, {"k": "v" * 256}):
        e = expect_client_error(update, ecsd, server, bad)
        assert (e.status_code, e.error_code) == (400, "Ecs.0005"), bad
    e = expect_client_error(ecsd.ecs.delete_server_metadata, DeleteServerMetadataRequest(server_id=server, key="os_type"))
    assert e.error_code == "Ecs.0005"
    e = expect_client_error(update, ecsd, "0b8c0e5e-0000-4000-8000-000000000000", {"a": "b"})
    assert (e.status_code, e.error_code) == (404, "Ecs.0114")


def test_metadata_options_are_shown_and_changed_one_at_a_time(ecsd):
    server = ecsd.create_servers(1, name="imds", flavor="s6.small.1")[0]
    shown = ecsd.ecs.show_metadata_options(ShowMetadataOptionsRequest(server_id=server))
    assert (shown.http_endpoint, shown.http_tokens) == ("enabled", "optional")
    body = UpdateServerMetadataOptionsRequestBody(http_tokens="required")
    ecsd.ecs.update_metadata_options(UpdateMetadataOptionsRequest(server_id=server, body=body))
    shown = ecsd.ecs.show_metadata_options(ShowMetadataOptionsRequest(server_id=server))
    assert (shown.http_endpoint, shown.http_tokens) == ("enabled", "required")
    assert_fits_model(ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server}/metadata-options").json(), "ShowMetadataOptionsResponse")
    body = UpdateServerMetadataOptionsRequestBody(http_endpoint="off")
    e = expect_client_error(ecsd.ecs.update_metadata_options, UpdateMetadataOptionsRequest(server_id=server, body=body))
    assert e.error_code == "Ecs.0005"
