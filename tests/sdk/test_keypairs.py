"""Nova key pairs through the official SDK's EcsClient (NovaCreateKeypair, NovaListKeypairs,
NovaShowKeypair, NovaDeleteKeypair): a generated pair's private key comes once, an imported public
key keeps its fingerprint, a create naming the pair shows it and one naming no pair is refused with
Ecs.0314. Every answer is checked against the SDK model."""

from __future__ import annotations

import pytest
from huaweicloudsdkecs.v2 import (
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    NovaCreateKeypairOption,
    NovaCreateKeypairRequest,
    NovaCreateKeypairRequestBody,
    NovaDeleteKeypairRequest,
    NovaListKeypairsRequest,
    NovaShowKeypairRequest,
)

from conftest import expect_client_error
from model_check import assert_fits_model

# The SDK marks its Nova key pair methods deprecated; they are still operations of EcsClient.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def create(ecsd, name: str, public_key: str | None = None):
    option = NovaCreateKeypairOption(name=name, public_key=public_key)
    return ecsd.ecs.nova_create_keypair(
        NovaCreateKeypairRequest(body=NovaCreateKeypairRequestBody(keypair=option), open_stack_api_version="compute 2.2")
    )


def test_key_pairs_are_made_listed_shown_used_and_deleted(ecsd):
    generated = create(ecsd, "sdk-key").keypair
    assert generated.private_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert generated.type == "ssh" and len(generated.fingerprint.split(":")) == 16
    imported = create(ecsd, "sdk-imported", public_key=generated.public_key).keypair
    assert imported.private_key is None and imported.fingerprint == generated.fingerprint

    listed = ecsd.ecs.nova_list_keypairs(NovaListKeypairsRequest())
    assert [k.keypair.name for k in listed.keypairs] == ["sdk-key", "sdk-imported"]
    shown = ecsd.ecs.nova_show_keypair(NovaShowKeypairRequest(keypair_name="sdk-key")).keypair
    assert shown.fingerprint == generated.fingerprint and shown.public_key == generated.public_key
    assert shown.deleted is False and shown.id > 0
    for path, model in [("/v2.1/{project_id}/os-keypairs", "NovaListKeypairsResponse"),
                        ("/v2.1/{project_id}/os-keypairs/sdk-key", "NovaShowKeypairResponse")]:
        r = ecsd.raw("GET", path)
        assert r.status_code == 200 and "PRIVATE KEY" not in r.text, r.text
        assert_fits_model(r.json(), model)
    r = ecsd.raw("POST", "/v2.1/{project_id}/os-keypairs", {"keypair": {"name": "raw-key"}})
    assert_fits_model(r.json(), "NovaCreateKeypairResponse")

    spec = ecsd.server_spec(name="keyed", flavor="s6.small.1")
    spec.key_name = "sdk-key"
    made = ecsd.ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)))
    assert ecsd.wait_job(made.job_id).status == "SUCCESS"
    assert ecsd.show(made.server_ids[0]).key_name == "sdk-key"
    spec.key_name = "no-such-key"
    e = expect_client_error(ecsd.ecs.create_post_paid_servers,
                            CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)))
    assert (e.status_code, e.error_code) == (400, "Ecs.0314")

    e = expect_client_error(create, ecsd, "sdk-key")
    assert e.status_code == 409
    ecsd.ecs.nova_delete_keypair(NovaDeleteKeypairRequest(keypair_name="sdk-key"))
    e = expect_client_error(ecsd.ecs.nova_show_keypair, NovaShowKeypairRequest(keypair_name="sdk-key"))
    assert e.status_code == 404
    assert ecsd.show(made.server_ids[0]).key_name == "sdk-key"
