//! `GET /v1/{pid}/cloudservers/{server_id}` (SDK `ShowServer`): contract T1.11, 5.4.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Checks that `doc[key]` is a string of the given shape and replaces it with `placeholder`.
fn take(doc: &mut Value, pointer: &str, check: impl Fn(&str) -> bool, placeholder: &str) {
    let slot = doc.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} present"));
    let text = slot.as_str().unwrap_or_else(|| panic!("{pointer} is a string: {slot}"));
    assert!(check(text), "{pointer} has the expected form: {text:?}");
    *slot = json!(placeholder);
}

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s)
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_mac(s: &str) -> bool {
    has_shape(&s.replace(|c: char| c.is_ascii_hexdigit(), "x"), "xx:xx:xx:xx:xx:xx") && s.starts_with("fa:16:3e:")
}

#[tokio::test]
async fn show_answers_the_full_server_document_with_the_contract_types() {
    let ecs = TestServer::start().await;
    let mut body = create_body("full", "s6.large.2", 1);
    let server = body["server"].as_object_mut().expect("server");
    server.insert("nics".into(), json!([{"subnet_id": SUBNET, "ip_address": "192.168.10.20"}]));
    server.insert("root_volume".into(), json!({"volumetype": "SSD", "size": 40}));
    server.insert("data_volumes".into(), json!([{"volumetype": "SAS", "size": 100}]));
    server.insert("metadata".into(), json!({"owner": "team-a"}));
    server.insert("server_tags".into(), json!([{"key": "env", "value": "prod"}, {"key": "solo"}]));
    server.insert("description".into(), json!("web tier"));
    server.insert("user_data".into(), json!("IyEvYmluL3NoCmVjaG8gaGk="));
    server.insert("availability_zone".into(), json!("eu-de-02"));
    let ids = ecs.create_from(body).await;
    let id = ids[0].clone();

    let (status, answer) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&String> = answer.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["server"]);
    let mut doc = answer["server"].clone();

    assert_eq!(doc["id"], id.as_str());
    take(&mut doc, "/id", is_uuid, "ID");
    take(&mut doc, "/created", |s| has_shape(s, "dddd-dd-ddTdd:dd:ddZ"), "CREATED");
    take(&mut doc, "/updated", |s| has_shape(s, "dddd-dd-ddTdd:dd:ddZ"), "UPDATED");
    take(&mut doc, "/OS-SRV-USG:launched_at", |s| has_shape(s, "dddd-dd-ddTdd:dd:dd.dddddd"), "LAUNCHED");
    take(&mut doc, "/OS-EXT-SRV-ATTR:instance_name", |s| s.starts_with("instance-"), "INSTANCE");
    take(&mut doc, "/OS-EXT-SRV-ATTR:reservation_id", |s| s.starts_with("r-") && s.len() > 2, "RESERVATION");
    // The first server of an empty zone lands on its first host; hostId hashes project and host.
    assert_eq!(doc["hostId"], ecsd::domain::placement::host_id(ecs.project(), Some("pod01.eu-de-02")));
    take(&mut doc, "/hostId", is_hex, "HOST_ID");
    let address = format!("/addresses/{VPC}/0");
    take(&mut doc, &format!("{address}/OS-EXT-IPS-MAC:mac_addr"), is_mac, "MAC");
    take(&mut doc, &format!("{address}/OS-EXT-IPS:port_id"), is_uuid, "PORT");
    take(&mut doc, "/security_groups/0/id", is_uuid, "DEFAULT_GROUP");
    take(&mut doc, "/os-extended-volumes:volumes_attached/0/id", is_uuid, "ROOT_VOLUME");
    take(&mut doc, "/os-extended-volumes:volumes_attached/1/id", is_uuid, "DATA_VOLUME");

    let project = ecs.project();
    assert_eq!(
        doc,
        json!({
            "id": "ID",
            "name": "full",
            "description": "web tier",
            "status": "ACTIVE",
            "OS-EXT-STS:vm_state": "active",
            "OS-EXT-STS:task_state": null,
            "OS-EXT-STS:power_state": 1,
            "progress": 100,
            "created": "CREATED",
            "updated": "UPDATED",
            "OS-SRV-USG:launched_at": "LAUNCHED",
            "OS-SRV-USG:terminated_at": "",
            "flavor": {"id": "s6.large.2", "name": "s6.large.2", "disk": "0", "vcpus": "2", "ram": "4096"},
            "image": {"id": IMAGE},
            "addresses": {VPC: [{
                "version": "4",
                "addr": "192.168.10.20",
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": "MAC",
                "OS-EXT-IPS:port_id": "PORT",
                "primary": true,
            }]},
            "key_name": "",
            "security_groups": [{"id": "DEFAULT_GROUP", "name": "default"}],
            "OS-EXT-AZ:availability_zone": "eu-de-02",
            "OS-EXT-SRV-ATTR:host": "pod01.eu-de-02",
            "OS-EXT-SRV-ATTR:hypervisor_hostname": "nova-pod01.eu-de-02",
            "OS-EXT-SRV-ATTR:instance_name": "INSTANCE",
            "OS-EXT-SRV-ATTR:hostname": "full",
            "OS-EXT-SRV-ATTR:reservation_id": "RESERVATION",
            "OS-EXT-SRV-ATTR:launch_index": 0,
            "OS-EXT-SRV-ATTR:kernel_id": "",
            "OS-EXT-SRV-ATTR:ramdisk_id": "",
            "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
            "OS-EXT-SRV-ATTR:user_data": "IyEvYmluL3NoCmVjaG8gaGk=",
            "OS-DCF:diskConfig": "MANUAL",
            "os-extended-volumes:volumes_attached": [
                {"id": "ROOT_VOLUME", "delete_on_termination": "true", "bootIndex": "0", "device": "/dev/vda"},
                {"id": "DATA_VOLUME", "delete_on_termination": "false", "device": "/dev/vdb"},
            ],
            "metadata": {
                "charging_mode": "0",
                "vpc_id": VPC,
                "metering.image_id": IMAGE,
                "metering.imagetype": "gold",
                "metering.resourcespeccode": "s6.large.2.linux",
                "metering.resourcetype": "1",
                "image_name": "Standard_Ubuntu_22.04_latest",
                "os_type": "Linux",
                "os_bit": "64",
                "owner": "team-a",
            },
            "tags": ["env=prod", "solo"],
            "sys_tags": [{"key": "_sys_enterprise_project_id", "value": "0"}],
            "os:scheduler_hints": {},
            "locked": false,
            "host_status": "UP",
            "hostId": "HOST_ID",
            "tenant_id": project,
            "user_id": project,
            "accessIPv4": "",
            "accessIPv6": "",
            "config_drive": "",
            "fault": null,
            "security_options": {"tpm_enabled": false, "secure_boot_enabled": false},
            "enterprise_project_id": "0",
            "auto_terminate_time": "",
        })
    );
}

#[tokio::test]
async fn a_stopped_server_shows_shutoff_with_power_state_4() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("stop", "s6.small.1", 1).await;
    ecs.batch("os-stop", &ids, json!({"type": "SOFT"})).await;
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["status"], "SHUTOFF");
    assert_eq!(server["OS-EXT-STS:vm_state"], "stopped");
    assert_eq!(server["OS-EXT-STS:power_state"], 4);
    assert_eq!(server["OS-EXT-STS:task_state"], Value::Null);
}

#[tokio::test]
async fn a_server_being_built_shows_build_with_its_task_state() {
    let ecs = TestServer::start_with_timings(slow(true, false, false)).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("new", "s6.small.1", 1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let server = ecs.server(body["serverIds"][0].as_str().expect("id")).await;
    assert_eq!(server["status"], "BUILD");
    assert_eq!(server["OS-EXT-STS:vm_state"], "building");
    assert_eq!(server["OS-EXT-STS:task_state"], "scheduling");
    assert_eq!(server["OS-EXT-STS:power_state"], 0);
    assert_eq!(server["OS-SRV-USG:launched_at"], "", "not launched yet");
    assert!(server["progress"].as_u64().is_some_and(|p| p < 100), "{server}");
}

#[tokio::test]
async fn a_stopping_server_still_shows_active_with_task_powering_off() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let ids = ecs.create_servers("halting", "s6.small.1", 1).await;
    let (status, body) =
        ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": server_ids(&ids)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["status"], "ACTIVE");
    assert_eq!(server["OS-EXT-STS:task_state"], "powering-off");
    assert_eq!(server["OS-EXT-STS:power_state"], 1);
}

#[tokio::test]
async fn an_unknown_server_is_ecs_0114_with_404() {
    let ecs = TestServer::start().await;
    for id in [random_ids(1).remove(0), "not-a-uuid".to_string()] {
        let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}"))).await;
        let message = assert_error(status, &body, 404, "Ecs.0114");
        assert!(message.contains(&id), "the message names the id: {message}");
    }
}

#[tokio::test]
async fn a_server_of_another_project_is_ecs_0114_with_404() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let ids = ecs.create_servers("mine", "s6.small.1", 1).await;
    ecs.credential = other_credential();
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[0]))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    ecs.credential = test_credential();
    assert_eq!(ecs.server(&ids[0]).await["name"], "mine");
}
