//! A server's disks: the volumes a create makes, AttachServerVolume, DetachServerVolume, the
//! block device reads and update, the attachable quota, the batch attach and detach of a
//! shared disk, and what a delete does with the disks; each with its refusals.

use crate::common::*;
use crate::evs::{assert_evs_error, create_volume, create_volumes, show_volume, v2};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A server with `data` data disks of 10, 20, ... GiB; returns its id.
async fn server_with_disks(ecs: &TestServer, name: &str, data: usize) -> String {
    let mut body = create_body(name, "s6.small.1", 1);
    body["server"]["data_volumes"] =
        (0..data).map(|i| json!({"volumetype": "SAS", "size": 10 * (i + 1)})).collect::<Vec<_>>().into();
    ecs.create_from(body).await.remove(0)
}

async fn block_devices(ecs: &TestServer, server: &str) -> Value {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/block_device"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn attach(ecs: &TestServer, server: &str, attachment: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{server}/attachvolume")), json!({ "volumeAttachment": attachment })).await
}

async fn attach_ok(ecs: &TestServer, server: &str, volume: &str) -> Value {
    let (status, body) = attach(ecs, server, json!({"volumeId": volume})).await;
    assert_eq!(status, StatusCode::OK, "attach: {body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "attach job: {job}");
    job
}

async fn detach(ecs: &TestServer, server: &str, volume: &str) -> (StatusCode, Value) {
    ecs.call(Method::DELETE, &ecs.v1(&format!("/cloudservers/{server}/detachvolume/{volume}")), None).await
}

async fn detach_ok(ecs: &TestServer, server: &str, volume: &str) -> Value {
    let (status, body) = detach(ecs, server, volume).await;
    assert_eq!(status, StatusCode::OK, "detach: {body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "detach job: {job}");
    job
}

fn ids_of(devices: &Value) -> Vec<String> {
    devices["volumeAttachments"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["volumeId"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn a_create_makes_a_bootable_system_disk_and_its_data_disks_in_use() {
    let ecs = TestServer::start().await;
    let server = server_with_disks(&ecs, "disks", 2).await;
    let devices = block_devices(&ecs, &server).await;
    let list = devices["volumeAttachments"].as_array().expect("devices");
    let shown: Vec<(Value, Value, Value)> =
        list.iter().map(|d| (d["device"].clone(), d["bootIndex"].clone(), d["size"].clone())).collect();
    assert_eq!(
        shown,
        vec![
            (json!("/dev/vda"), json!(0), json!(10)),
            (json!("/dev/vdb"), json!(1), json!(10)),
            (json!("/dev/vdc"), json!(2), json!(20))
        ]
    );
    assert!(list.iter().all(|d| d["serverId"] == server.as_str() && d["id"] == d["volumeId"] && d["bus"] == "virtio"));
    assert_eq!(devices["attachableQuantity"]["free_disk"], 57);
    let system = show_volume(&ecs, list[0]["volumeId"].as_str().expect("id")).await;
    assert_eq!((system["status"].clone(), system["bootable"].clone()), (json!("in-use"), json!("true")));
    assert_eq!(system["volume_image_metadata"]["image_id"], IMAGE);
    assert_eq!(system["volume_type"], "SSD");
    let attachment = &system["attachments"][0];
    assert_eq!((attachment["server_id"].clone(), attachment["device"].clone()), (json!(server), json!("/dev/vda")));
    assert_eq!(attachment["volume_id"], system["id"]);
    assert!(attachment["attachment_id"].as_str().is_some_and(|a| a.len() == 36));
    let data = show_volume(&ecs, list[2]["volumeId"].as_str().expect("id")).await;
    assert_eq!(
        (data["bootable"].clone(), data["size"].clone(), data["volume_type"].clone()),
        (json!("false"), json!(20), json!("SAS"))
    );
    assert!(data["volume_image_metadata"].as_object().is_some_and(|m| m.is_empty()));
    // The same disks from the other reads.
    let (status, one) = ecs
        .get(&ecs.v1(&format!("/cloudservers/{server}/block_device/{}", list[1]["volumeId"].as_str().expect("id"))))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["volumeAttachment"], list[1]);
    let (_, nova) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-volume_attachments"))).await;
    assert_eq!(nova["volumeAttachments"].as_array().map(Vec::len), Some(3));
    assert_eq!(nova["volumeAttachments"][2]["device"], "/dev/vdc");
    let (_, quota) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/appendvolumequota"))).await;
    assert_eq!(quota, json!({"count": 57, "free_scsi": 57, "free_blk": 57}));
    let (_, by_server) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/detail?server_id={server}"))).await;
    assert_eq!(by_server["count"], 3);
}

#[tokio::test]
async fn attach_and_detach_move_the_disk_and_the_block_devices_together() {
    let ecs = TestServer::start().await;
    let server = server_with_disks(&ecs, "host", 1).await;
    let volume = create_volume(&ecs, "extra", 10).await;
    let job = attach_ok(&ecs, &server, &volume).await;
    assert_eq!((job["job_type"].clone(), job["entities"]["server_id"].clone()), (json!("attachVolume"), json!(server)));
    let shown = show_volume(&ecs, &volume).await;
    assert_eq!(shown["status"], "in-use");
    assert_eq!(shown["attachments"][0]["device"], "/dev/vdc");
    assert_eq!(ids_of(&block_devices(&ecs, &server).await).last(), Some(&volume));
    let attached = ecs.server(&server).await["os-extended-volumes:volumes_attached"].clone();
    assert_eq!(attached.as_array().map(Vec::len), Some(3));
    // Refusals of attach.
    let (status, body) = attach(&ecs, &server, json!({"volumeId": volume})).await;
    assert_error(status, &body, 400, "Ecs.0057");
    let other = ecs.create_servers("other", "s6.small.1", 1).await.remove(0);
    let (status, body) = attach(&ecs, &other, json!({"volumeId": volume})).await;
    assert_error(status, &body, 400, "Ecs.0103");
    let (status, body) = attach(&ecs, &other, json!({"volumeId": "ffffffff-ffff-4fff-bfff-ffffffffffff"})).await;
    assert_error(status, &body, 400, "Ecs.0103");
    let far = create_volumes(&ecs, json!({"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-03"}))
        .await
        .remove(0);
    let (status, body) = attach(&ecs, &other, json!({"volumeId": far})).await;
    assert_error(status, &body, 400, "Ecs.0121");
    let free = create_volume(&ecs, "free", 10).await;
    let (status, body) = attach(&ecs, &other, json!({"volumeId": free, "device": "/dev/vda"})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = attach(&ecs, &other, json!({"volumeId": free, "device": "/dev/xyz"})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = attach(&ecs, "ffffffff-ffff-4fff-bfff-ffffffffffff", json!({"volumeId": free})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    // A device asked for as /dev/sdX is the KVM name /dev/vdX.
    let (status, body) = attach(&ecs, &other, json!({"volumeId": free, "device": "/dev/sdf"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(show_volume(&ecs, &free).await["attachments"][0]["device"], "/dev/vdf");
    // Detach, and its refusals.
    let job = detach_ok(&ecs, &server, &volume).await;
    assert_eq!(job["job_type"], "detachVolume");
    let shown = show_volume(&ecs, &volume).await;
    assert_eq!((shown["status"].clone(), shown["attachments"].clone()), (json!("available"), json!([])));
    assert!(!ids_of(&block_devices(&ecs, &server).await).contains(&volume));
    let (status, body) = detach(&ecs, &server, &volume).await;
    assert_error(status, &body, 400, "Ecs.0111");
    let system = ids_of(&block_devices(&ecs, &server).await).remove(0);
    let (status, body) = detach(&ecs, &server, &system).await;
    assert_error(status, &body, 400, "Ecs.0100");
    let (status, body) = ecs
        .call(Method::DELETE, &ecs.v1(&format!("/cloudservers/{server}/detachvolume/{volume}?delete_flag=2")), None)
        .await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/block_device/{volume}"))).await;
    assert_error(status, &body, 400, "Ecs.0111");
    // The detached disk goes to another server.
    attach_ok(&ecs, &other, &volume).await;
    assert_eq!(show_volume(&ecs, &volume).await["attachments"][0]["server_id"], other.as_str());
}

#[tokio::test]
async fn a_stopped_servers_system_disk_may_be_detached_and_attached_again() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("stop", "s6.small.1", 1).await.remove(0);
    let system = ids_of(&block_devices(&ecs, &server).await).remove(0);
    ecs.batch("os-stop", std::slice::from_ref(&server), json!({})).await;
    detach_ok(&ecs, &server, &system).await;
    assert_eq!(show_volume(&ecs, &system).await["status"], "available");
    let (status, body) = attach(&ecs, &server, json!({"volumeId": system, "device": "/dev/vda"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    let devices = block_devices(&ecs, &server).await;
    assert_eq!(devices["volumeAttachments"][0]["bootIndex"], 0);
    assert_eq!(devices["volumeAttachments"][0]["device"], "/dev/vda");
}

#[tokio::test]
async fn a_busy_server_refuses_disk_operations() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let server = ecs.create_servers("busy", "s6.small.1", 1).await.remove(0);
    let volume = create_volume(&ecs, "v", 10).await;
    let (status, _) = ecs
        .post(
            &ecs.v1("/cloudservers/action"),
            json!({"os-stop": {"servers": server_ids(std::slice::from_ref(&server))}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = attach(&ecs, &server, json!({"volumeId": volume})).await;
    assert_error(status, &body, 400, "Ecs.0603");
    assert_eq!(show_volume(&ecs, &volume).await["status"], "available");
}

#[tokio::test]
async fn a_dry_run_attaches_nothing() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("dry", "s6.small.1", 1).await.remove(0);
    let volume = create_volume(&ecs, "v", 10).await;
    let path = ecs.v1(&format!("/cloudservers/{server}/attachvolume"));
    let (status, _) = ecs.post(&path, json!({"volumeAttachment": {"volumeId": volume}, "dry_run": true})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(show_volume(&ecs, &volume).await["status"], "available");
    assert_eq!(ids_of(&block_devices(&ecs, &server).await).len(), 1);
}

#[tokio::test]
async fn a_server_holds_sixty_disks_at_most() {
    let ecs = TestServer::start().await;
    let server = server_with_disks(&ecs, "full", 59).await;
    let devices = block_devices(&ecs, &server).await;
    assert_eq!(devices["attachableQuantity"]["free_disk"], 0);
    let names: std::collections::BTreeSet<&str> = devices["volumeAttachments"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["device"].as_str().expect("name"))
        .collect();
    assert_eq!(names.len(), 60, "every disk its own device");
    assert!(names.contains("/dev/vdz") && names.contains("/dev/vdaa"));
    let volume = create_volume(&ecs, "one-too-many", 10).await;
    let (status, body) = attach(&ecs, &server, json!({"volumeId": volume})).await;
    assert_error(status, &body, 400, "Ecs.0104");
}

#[tokio::test]
async fn delete_keeps_data_disks_available_unless_asked_to_delete_them() {
    let ecs = TestServer::start().await;
    let kept = server_with_disks(&ecs, "kept", 2).await;
    let disks = ids_of(&block_devices(&ecs, &kept).await);
    let (status, body) = ecs
        .post(&ecs.v1("/cloudservers/delete"), json!({"servers": server_ids(&[kept]), "delete_volume": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    let (status, body) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/{}", disks[0]))).await;
    assert_evs_error(status, &body, 404, "EVS.5404");
    for data in &disks[1..] {
        let volume = show_volume(&ecs, data).await;
        assert_eq!((volume["status"].clone(), volume["attachments"].clone()), (json!("available"), json!([])));
    }
    let gone = server_with_disks(&ecs, "gone", 2).await;
    let disks = ids_of(&block_devices(&ecs, &gone).await);
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/delete"), json!({"servers": server_ids(&[gone]), "delete_volume": true})).await;
    assert_eq!(status, StatusCode::OK);
    ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    for disk in &disks {
        let (status, body) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/{disk}"))).await;
        assert_evs_error(status, &body, 404, "EVS.5404");
    }
}

#[tokio::test]
async fn update_block_device_marks_a_disk_to_be_deleted_with_its_server() {
    let ecs = TestServer::start().await;
    let server = server_with_disks(&ecs, "mark", 2).await;
    let disks = ids_of(&block_devices(&ecs, &server).await);
    let path = ecs.v1(&format!("/cloudservers/{server}/block_device/{}", disks[1]));
    let (status, body) = ecs.put(&path, json!({"block_device": {"delete_on_termination": true}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let attached = ecs.server(&server).await["os-extended-volumes:volumes_attached"].clone();
    assert_eq!(attached[1]["delete_on_termination"], "true");
    let (status, body) = ecs.put(&path, json!({"block_device": {"delete_on_termination": "yes"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let stray = ecs.v1(&format!("/cloudservers/{server}/block_device/ffffffff-ffff-4fff-bfff-ffffffffffff"));
    let (status, body) = ecs.put(&stray, json!({"block_device": {"delete_on_termination": true}})).await;
    assert_error(status, &body, 400, "Ecs.0111");
    ecs.delete(&[server]).await;
    let (status, _) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/{}", disks[1]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(show_volume(&ecs, &disks[2]).await["status"], "available");
}

#[tokio::test]
async fn a_shared_disk_attaches_to_several_servers_in_one_job_and_leaves_them_in_another() {
    let ecs = TestServer::start().await;
    let servers = ecs.create_servers("cluster", "s6.small.1", 3).await;
    let shared = create_volumes(
        &ecs,
        json!({"size": 10, "volume_type": "SSD", "availability_zone": "eu-de-01", "multiattach": true}),
    )
    .await
    .remove(0);
    let info: Vec<Value> = servers[..2].iter().map(|s| json!({"server_id": s})).collect();
    let (status, body) =
        ecs.post(&ecs.v1(&format!("/batchaction/attachvolumes/{shared}")), json!({"serverinfo": info})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["entities"]["sub_jobs_total"], 2);
    let volume = show_volume(&ecs, &shared).await;
    assert_eq!(volume["status"], "in-use");
    assert_eq!(volume["attachments"].as_array().map(Vec::len), Some(2));
    // A third server may take it by itself too.
    attach_ok(&ecs, &servers[2], &shared).await;
    // One server of a batch detach it is not attached to fails its own sub-job.
    let plain = create_volume(&ecs, "plain", 10).await;
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/batchaction/attachvolumes/{plain}")),
            json!({"serverinfo": [{"server_id": servers[0]}]}),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0103");
    let lonely = ecs.create_servers("lonely", "s6.small.1", 1).await.remove(0);
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/batchaction/detachvolumes/{shared}")),
            json!({"serverinfo": [servers[0], servers[1], lonely]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "FAIL");
    let subs = job["entities"]["sub_jobs"].as_array().expect("subs");
    let codes: Vec<Value> = subs.iter().map(|s| s["error_code"].clone()).collect();
    assert_eq!(codes, vec![Value::Null, Value::Null, json!("Ecs.0111")]);
    let volume = show_volume(&ecs, &shared).await;
    assert_eq!(volume["status"], "in-use", "still on the third server");
    assert_eq!(volume["attachments"][0]["server_id"], servers[2].as_str());
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/batchaction/detachvolumes/{shared}")),
            json!({"serverinfo": ["ffffffff-ffff-4fff-bfff-ffffffffffff"]}),
        )
        .await;
    assert_error(status, &body, 404, "Ecs.0114");
    // Deleting one server of a shared disk leaves the disk on the others.
    ecs.delete(&[servers[2].clone()]).await;
    assert_eq!(show_volume(&ecs, &shared).await["status"], "available");
}

#[tokio::test]
async fn a_shared_data_disk_made_with_a_server_is_shared_in_evs_and_outlives_it_where_attached() {
    let ecs = TestServer::start().await;
    let mut body = create_body("shared", "s6.small.1", 1);
    body["server"]["data_volumes"] = json!([{"volumetype": "SSD", "size": 10, "multiattach": true}, {"volumetype": "SSD", "size": 10, "shareable": false}]);
    let server = ecs.create_from(body).await.remove(0);
    let devices = ids_of(&block_devices(&ecs, &server).await);
    let (shared, plain) = (devices[1].clone(), devices[2].clone());
    let shown = show_volume(&ecs, &shared).await;
    assert_eq!((shown["multiattach"].clone(), shown["shareable"].clone()), (json!(true), json!("true")), "{shown}");
    assert_eq!(show_volume(&ecs, &plain).await["multiattach"], false);
    let (_, listed) = ecs.get(&v2(&ecs, "/cloudvolumes/detail?multiattach=true")).await;
    assert_eq!(listed["count"], 1, "the list filter sees it shared: {listed}");

    let other = ecs.create_servers("other", "s6.small.1", 1).await.remove(0);
    let (status, body) = ecs
        .post(&ecs.v1(&format!("/batchaction/attachvolumes/{shared}")), json!({"serverinfo": [{"server_id": other}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.wait_job(body["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    let (status, body) = attach(&ecs, &other, json!({"volumeId": plain})).await;
    assert_error(status, &body, 400, "Ecs.0103");

    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/delete"), json!({"servers": [{"id": server}], "delete_volume": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ecs.wait_job(body["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    let left = show_volume(&ecs, &shared).await;
    assert_eq!(left["status"], "in-use", "still attached to the other server: {left}");
    assert_eq!(left["attachments"].as_array().map(Vec::len), Some(1));
    assert_eq!(left["attachments"][0]["server_id"], other.as_str());
    let (status, _) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/{plain}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "delete_volume took the unshared disk");
}

#[tokio::test]
async fn fault_rules_fail_an_attach_and_put_both_sides_back() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("faulty", "s6.small.1", 1).await.remove(0);
    let volume = create_volume(&ecs, "v", 10).await;
    let rule = json!({"operation": "attach-volume", "server_id": server, "count": 1,
                      "effect": {"kind": "sub_job_fail", "code": "Ecs.0205"}});
    assert_eq!(ecs.post("/_ecsd/faults", rule).await.0, StatusCode::CREATED);
    let (status, body) = attach(&ecs, &server, json!({"volumeId": volume})).await;
    assert_eq!(status, StatusCode::OK);
    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!((job["status"].clone(), job["error_code"].clone()), (json!("FAIL"), json!("Ecs.0205")));
    assert_eq!(show_volume(&ecs, &volume).await["status"], "available");
    assert_eq!(ids_of(&block_devices(&ecs, &server).await).len(), 1);
    let rule = json!({"operation": "detach-volume", "effect": {"kind": "precheck_fail", "code": "Ecs.0102"}});
    assert_eq!(ecs.post("/_ecsd/faults", rule).await.0, StatusCode::CREATED);
    attach_ok(&ecs, &server, &volume).await;
    let (status, body) = detach(&ecs, &server, &volume).await;
    assert_error(status, &body, 400, "Ecs.0102");
    assert_eq!(show_volume(&ecs, &volume).await["status"], "in-use");
}

#[tokio::test]
async fn a_held_attach_shows_attaching_until_released() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("held", "s6.small.1", 1).await.remove(0);
    let volume = create_volume(&ecs, "v", 10).await;
    let (status, rule) =
        ecs.post("/_ecsd/faults", json!({"operation": "attach-volume", "effect": {"kind": "hang"}})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, body) = attach(&ecs, &server, json!({"volumeId": volume})).await;
    let job_id = body["job_id"].as_str().expect("job").to_string();
    let (status, _) = ecs.post("/_ecsd/clock/settle", json!({})).await;
    assert!(status.is_success());
    assert_eq!(show_volume(&ecs, &volume).await["status"], "attaching");
    assert!(ids_of(&block_devices(&ecs, &server).await).contains(&volume), "the server lists it at once");
    let (status, body) = ecs.call(Method::DELETE, &v2(&ecs, &format!("/cloudvolumes/{volume}")), None).await;
    assert_evs_error(status, &body, 400, "EVS.1046");
    let (status, _) = ecs.post(&format!("/_ecsd/faults/{}/release", rule["id"].as_str().expect("id")), json!({})).await;
    assert!(status.is_success());
    assert_eq!(ecs.wait_job(&job_id).await["status"], "SUCCESS");
    assert_eq!(show_volume(&ecs, &volume).await["status"], "in-use");
}

#[tokio::test]
async fn snapshots_and_resets_hold_the_disks() {
    let ecs = TestServer::start().await;
    let kept = create_volume(&ecs, "kept", 10).await;
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "one"})).await;
    assert!(status.is_success());
    let later = create_volume(&ecs, "later", 10).await;
    let (status, _) = ecs.post("/_ecsd/snapshots/one/restore", json!({})).await;
    assert!(status.is_success());
    assert_eq!(show_volume(&ecs, &kept).await["name"], "kept");
    let (status, _) = ecs.get(&v2(&ecs, &format!("/cloudvolumes/{later}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ecs.post("/_ecsd/reset", json!({})).await;
    assert!(status.is_success());
    let (_, body) = ecs.get(&v2(&ecs, "/cloudvolumes/detail")).await;
    assert_eq!(body["count"], 0);
}

#[tokio::test]
async fn a_change_of_os_gives_the_system_disk_the_new_image() {
    const CENTOS: &str = "8f2a3c9e-5d1b-4c7a-9e0f-1a2b3c4d5e02";
    let ecs = TestServer::start().await;
    let mut body = create_body("reimage", "s6.small.1", 1);
    body["server"]["root_volume"] = json!({"volumetype": "SSD", "size": 40});
    let server = ecs.create_from(body).await.remove(0);
    ecs.batch("os-stop", std::slice::from_ref(&server), json!({})).await;
    let (status, answer) = ecs
        .post(
            &format!("/v2/{}/cloudservers/{server}/changeos", ecs.project()),
            json!({"os-change": {"imageid": CENTOS, "adminpass": "Rebuilt-Pass-2024"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(ecs.wait_job(answer["job_id"].as_str().expect("job")).await["status"], "SUCCESS");
    let system = ids_of(&block_devices(&ecs, &server).await).remove(0);
    let volume = show_volume(&ecs, &system).await;
    assert_eq!(volume["volume_image_metadata"]["image_id"], CENTOS);
    assert_eq!(volume["volume_image_metadata"]["image_name"], "Standard_CentOS_7_latest");
}
