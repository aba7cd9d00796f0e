//! Nova's volume attachments (`os-volume_attachments`): the server's block devices and the EVS
//! disks ECS attaches and detaches, with the refusals in Nova's shape.

use crate::common::*;
use crate::evs::{create_volume, create_volumes, show_volume};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn call(ecs: &TestServer, method: Method, path: &str, body: Option<Value>) -> Answer {
    nova_call(ecs, method, &nova(ecs, path), body, "2.1").await
}

async fn attach(ecs: &TestServer, server: &str, attachment: Value) -> Answer {
    let body = json!({ "volumeAttachment": attachment });
    call(ecs, Method::POST, &format!("/servers/{server}/os-volume_attachments"), Some(body)).await
}

async fn listed(ecs: &TestServer, server: &str) -> Vec<Value> {
    let answer = call(ecs, Method::GET, &format!("/servers/{server}/os-volume_attachments"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["volumeAttachments"].as_array().expect("attachments").clone()
}

async fn wait_volume(ecs: &TestServer, volume: &str, wanted: &str) -> Value {
    for _ in 0..500 {
        let shown = show_volume(ecs, volume).await;
        if shown["status"] == wanted {
            return shown;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("volume {volume} never became {wanted}");
}

#[tokio::test]
async fn an_attached_volume_is_an_evs_disk_in_use_and_a_detach_makes_it_available() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("holder", "s6.small.1", 1).await.remove(0);
    let boot = listed(&ecs, &server).await;
    assert_eq!(boot.len(), 1, "{boot:?}");
    assert_eq!(boot[0]["device"], "/dev/vda");
    let volume = create_volume(&ecs, "extra", 10).await;

    let answer = attach(&ecs, &server, json!({"volumeId": volume})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let attachment = json!({"device": "/dev/vdb", "id": volume, "serverId": server, "volumeId": volume});
    assert_eq!(answer.body["volumeAttachment"], attachment);
    let shown = wait_volume(&ecs, &volume, "in-use").await;
    assert_eq!(shown["attachments"][0]["server_id"], server.as_str());
    assert_eq!(listed(&ecs, &server).await[1], attachment);
    let one = call(&ecs, Method::GET, &format!("/servers/{server}/os-volume_attachments/{volume}"), None).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    assert_eq!(one.body["volumeAttachment"], attachment);
    let (_, devices) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/block_device"))).await;
    assert!(
        devices["volumeAttachments"].as_array().is_some_and(|d| d.iter().any(|d| d["volumeId"] == volume.as_str()))
    );

    let detached = call(&ecs, Method::DELETE, &format!("/servers/{server}/os-volume_attachments/{volume}"), None).await;
    assert_eq!(detached.status, StatusCode::ACCEPTED, "{}", detached.body);
    wait_volume(&ecs, &volume, "available").await;
    assert_eq!(listed(&ecs, &server).await.len(), 1);
    let gone = call(&ecs, Method::GET, &format!("/servers/{server}/os-volume_attachments/{volume}"), None).await;
    assert_nova_fault(&gone, 404, "itemNotFound");

    let at = attach(&ecs, &server, json!({"volumeId": volume, "device": "/dev/vdd"})).await;
    assert_eq!(at.status, StatusCode::OK, "{}", at.body);
    assert_eq!(at.body["volumeAttachment"]["device"], "/dev/vdd");
}

#[tokio::test]
async fn volume_attachments_are_refused_in_novas_shape() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("refuser", "s6.small.1", 1).await.remove(0);
    let other = ecs.create_servers("other", "s6.small.1", 1).await.remove(0);
    let volume = create_volume(&ecs, "taken", 10).await;
    let answer = attach(&ecs, &other, json!({"volumeId": volume})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    wait_volume(&ecs, &volume, "in-use").await;
    let far = create_volumes(&ecs, json!({"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-03"}))
        .await
        .remove(0);
    let free = create_volume(&ecs, "free", 10).await;
    let missing = "ffffffff-ffff-4fff-bfff-ffffffffffff";

    for (attachment, status, fault) in [
        (json!({"volumeId": missing}), 404, "itemNotFound"),
        (json!({"volumeId": volume}), 400, "badRequest"),
        (json!({"volumeId": far}), 400, "badRequest"),
        (json!({"volumeId": free, "device": "/dev/sdz9"}), 400, "badRequest"),
        (json!({"device": "/dev/vdb"}), 400, "badRequest"),
    ] {
        assert_nova_fault(&attach(&ecs, &server, attachment).await, status, fault);
    }
    assert_nova_fault(&attach(&ecs, missing, json!({"volumeId": free})).await, 404, "itemNotFound");
    assert_eq!(listed(&ecs, &server).await.len(), 1, "nothing was attached");
    assert_eq!(show_volume(&ecs, &free).await["status"], "available");

    let boot = listed(&ecs, &server).await[0]["volumeId"].as_str().expect("boot").to_string();
    let root = call(&ecs, Method::DELETE, &format!("/servers/{server}/os-volume_attachments/{boot}"), None).await;
    assert_nova_fault(&root, 400, "badRequest");
    let elsewhere =
        call(&ecs, Method::DELETE, &format!("/servers/{server}/os-volume_attachments/{volume}"), None).await;
    assert_nova_fault(&elsewhere, 404, "itemNotFound");
    let listed_missing = call(&ecs, Method::GET, &format!("/servers/{missing}/os-volume_attachments"), None).await;
    assert_nova_fault(&listed_missing, 404, "itemNotFound");

    assert_eq!(
        call(&ecs, Method::POST, &format!("/servers/{server}/action"), Some(json!({"lock": null}))).await.status,
        StatusCode::ACCEPTED
    );
    assert_nova_fault(&attach(&ecs, &server, json!({"volumeId": free})).await, 409, "conflictingRequestState");
    assert_eq!(show_volume(&ecs, &free).await["status"], "available");
}
