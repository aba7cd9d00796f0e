//! A server's NICs: BatchAddServerNics and BatchDeleteServerNics (jobs, with their refusals,
//! fault rules and timings), ListServerInterfaces and ShowServerAttachableNicNum; the ports and
//! groups the VPC API shows for them.

use crate::common::*;
use crate::vpc::{assert_vpc_error, ports_of};
use ecsd::engine::sim::Timings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn add_nics(ecs: &TestServer, server: &str, nics: Value) -> (StatusCode, Value) {
    ecs.post(&ecs.v1(&format!("/cloudservers/{server}/nics")), json!({ "nics": nics })).await
}

async fn delete_nics(ecs: &TestServer, server: &str, ports: &[&str]) -> (StatusCode, Value) {
    let nics: Vec<Value> = ports.iter().map(|id| json!({ "id": id })).collect();
    ecs.post(&ecs.v1(&format!("/cloudservers/{server}/nics/delete")), json!({ "nics": nics })).await
}

async fn interfaces(ecs: &TestServer, server: &str) -> Value {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn port_ids(interfaces: &Value) -> Vec<String> {
    interfaces["interfaceAttachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .map(|a| a["port_id"].as_str().expect("port id").to_string())
        .collect()
}

async fn done(ecs: &TestServer, answer: (StatusCode, Value)) -> Value {
    let (status, body) = answer;
    assert_eq!(status, StatusCode::OK, "{body}");
    ecs.wait_job(body["job_id"].as_str().expect("job id")).await
}

#[tokio::test]
async fn nics_are_added_listed_and_deleted_by_jobs() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.large.2", 1).await.remove(0);
    let listed = interfaces(&ecs, &server).await;
    let primary = port_ids(&listed).remove(0);
    assert_eq!(listed["attachableQuantity"]["free_nic"], 1, "s6.large.2 takes 2 NICs");
    let attachment = &listed["interfaceAttachments"][0];
    assert_eq!(attachment["port_state"], "ACTIVE");
    assert_eq!(attachment["net_id"], SUBNET);
    assert_eq!(attachment["fixed_ips"][0]["subnet_id"], SUBNET);
    assert_eq!(attachment["mac_addr"], ecs.server(&server).await["addresses"][VPC][0]["OS-EXT-IPS-MAC:mac_addr"]);

    let web = {
        let (_, body) = ecs.post(&ecs.v1("/security-groups"), json!({"security_group": {"name": "web"}})).await;
        body["security_group"]["id"].as_str().expect("id").to_string()
    };
    let job = done(
        &ecs,
        add_nics(
            &ecs,
            &server,
            json!([{"subnet_id": SUBNET, "ip_address": "192.168.50.5", "security_groups": [{"id": web}]}]),
        )
        .await,
    )
    .await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "addNic");
    assert_eq!(job["entities"]["sub_jobs"][0]["job_type"], "addSingleNic");
    assert_eq!(job["entities"]["sub_jobs"][0]["entities"]["server_id"], server.as_str());
    let listed = interfaces(&ecs, &server).await;
    let ids = port_ids(&listed);
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], primary, "the primary NIC first");
    assert_eq!(listed["interfaceAttachments"][1]["fixed_ips"][0]["ip_address"], "192.168.50.5");
    assert_eq!(listed["attachableQuantity"]["free_nic"], 0);
    let shown = ecs.server(&server).await;
    let addresses = shown["addresses"][VPC].as_array().expect("addresses");
    assert_eq!(addresses.len(), 2);
    assert_eq!(addresses[1]["addr"], "192.168.50.5");
    assert_eq!(addresses[1]["primary"], false);
    let groups: Vec<&str> = shown["security_groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| g["name"].as_str().expect("name"))
        .collect();
    assert_eq!(groups, ["default", "web"], "the groups of its ports");
    let ports = ports_of(&ecs, &server).await;
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[1]["security_groups"], json!([web]));
    assert_eq!(ports[1]["binding:vif_details"]["primary_interface"], false);

    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface_extension"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["attachableQuantity"], json!({"free_nic": 0, "free_efi_nic": 0}));
    assert_eq!(body["interfaceAttachments"][1]["preserve_on_delete"], false);

    let (status, body) = add_nics(&ecs, &server, json!([{"subnet_id": SUBNET}])).await;
    assert_error(status, &body, 400, "Ecs.0050");

    let (status, body) = delete_nics(&ecs, &server, &[&primary]).await;
    assert_error(status, &body, 403, "Ecs.0005");
    let (status, body) = delete_nics(&ecs, &server, &["not-a-nic"]).await;
    assert_error(status, &body, 400, "Ecs.0085");

    let job = done(&ecs, delete_nics(&ecs, &server, &[&ids[1]]).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "deleteNic");
    assert_eq!(port_ids(&interfaces(&ecs, &server).await), vec![primary.clone()]);
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{}", ids[1]))).await;
    assert_vpc_error(status, &body, 404, "VPC.2501");
    assert_eq!(ecs.server(&server).await["security_groups"].as_array().map(Vec::len), Some(1));
    let (status, _) = ecs.call(Method::DELETE, &ecs.v1(&format!("/security-groups/{web}")), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "no port carries the group any more");
    // The address is free again.
    let job =
        done(&ecs, add_nics(&ecs, &server, json!([{"subnet_id": SUBNET, "ip_address": "192.168.50.5"}])).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
}

#[tokio::test]
async fn adding_nics_is_refused_with_the_documented_codes() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let taken = ecs.server(&server).await["addresses"][VPC][0]["addr"].clone();
    for (nics, code) in [
        (json!([{"subnet_id": "nope"}]), "Ecs.0038"),
        (json!([{"subnet_id": "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f02"}]), "Ecs.0064"),
        (json!([{"subnet_id": SUBNET, "ip_address": "10.0.0.1"}]), "Ecs.0039"),
        (json!([{"subnet_id": SUBNET, "ip_address": taken}]), "Ecs.0010"),
        (json!([{"subnet_id": SUBNET, "ip_address": "not-an-ip"}]), "Ecs.0005"),
        (json!([{"subnet_id": SUBNET, "security_groups": [{"id": "nope"}]}]), "Ecs.0014"),
        (json!([{"subnet_id": SUBNET, "port_id": "some-port"}]), "Ecs.0307"),
        (json!([]), "Ecs.0005"),
    ] {
        let (status, body) = add_nics(&ecs, &server, nics.clone()).await;
        assert_error(status, &body, 400, code);
    }
    assert_eq!(port_ids(&interfaces(&ecs, &server).await).len(), 1, "a refusal adds nothing");
    assert_eq!(ports_of(&ecs, &server).await.len(), 1, "and takes no address");

    let (status, body) = add_nics(&ecs, "00000000-0000-4000-8000-000000000000", json!([{"subnet_id": SUBNET}])).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs.get(&ecs.v1("/cloudservers/00000000-0000-4000-8000-000000000000/os-interface")).await;
    assert_error(status, &body, 404, "Ecs.0114");
    let (status, body) = ecs.post(&ecs.v1(&format!("/cloudservers/{server}/nics")), json!({"nics": 7})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn a_nic_change_takes_its_time_and_keeps_other_operations_off_the_server() {
    let timings = Timings { nic_ms: 600_000, ..Timings::INSTANT };
    let ecs = TestServer::start_with_timings(timings).await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let (status, body) = add_nics(&ecs, &server, json!([{"subnet_id": SUBNET}])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let job_id = body["job_id"].as_str().expect("job").to_string();
    let shown = ecs.server(&server).await;
    assert_eq!(shown["OS-EXT-STS:task_state"], "networking");
    assert_eq!(shown["status"], "ACTIVE");
    let status = ecs.job(&job_id).await["status"].clone();
    assert!(status == "INIT" || status == "RUNNING", "{status}");
    assert_eq!(port_ids(&interfaces(&ecs, &server).await).len(), 1, "not attached yet");
    assert_eq!(ports_of(&ecs, &server).await.len(), 2, "its port holds the address already");

    let (status, body) = add_nics(&ecs, &server, json!([{"subnet_id": SUBNET}])).await;
    assert_error(status, &body, 400, "Ecs.0603");
    let refused = ecs.batch("os-stop", std::slice::from_ref(&server), json!({})).await;
    assert_eq!(refused["status"], "FAIL", "one operation at a time: {refused}");

    let (status, _) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 600})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ecs.wait_job(&job_id).await["status"], "SUCCESS");
    assert_eq!(port_ids(&interfaces(&ecs, &server).await).len(), 2);
    assert_eq!(ecs.server(&server).await["OS-EXT-STS:task_state"], Value::Null);
}

#[tokio::test]
async fn fault_rules_fail_nic_jobs_and_take_their_ports_back() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let (status, body) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "nics", "count": 1, "effect": {"kind": "sub_job_fail", "code": "Ecs.0201"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let job =
        done(&ecs, add_nics(&ecs, &server, json!([{"subnet_id": SUBNET, "ip_address": "192.168.60.6"}])).await).await;
    assert_eq!(job["status"], "FAIL", "{job}");
    assert_eq!(job["error_code"], "Ecs.0201");
    assert_eq!(port_ids(&interfaces(&ecs, &server).await).len(), 1);
    assert_eq!(ports_of(&ecs, &server).await.len(), 1, "the port made for the NIC is gone");
    assert_eq!(ecs.server(&server).await["OS-EXT-STS:task_state"], Value::Null);

    let (status, _) = ecs
        .post(
            "/_ecsd/faults",
            json!({"operation": "nics", "count": 1, "effect": {"kind": "precheck_fail", "code": "Ecs.0507"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = add_nics(&ecs, &server, json!([{"subnet_id": SUBNET, "ip_address": "192.168.60.6"}])).await;
    assert_error(status, &body, 400, "Ecs.0507");
    let job =
        done(&ecs, add_nics(&ecs, &server, json!([{"subnet_id": SUBNET, "ip_address": "192.168.60.6"}])).await).await;
    assert_eq!(job["status"], "SUCCESS", "the rules fired once each, and the address was free: {job}");
    let (_, faults) = ecs.get("/_ecsd/faults").await;
    assert!(faults["faults"].as_array().expect("faults").iter().all(|f| f["fired"] == 1), "{faults}");
}

#[tokio::test]
async fn deleting_a_server_deletes_the_nics_it_was_given() {
    let ecs = TestServer::start().await;
    let server = ecs.create_servers("web", "s6.xlarge.2", 1).await.remove(0);
    let job = done(&ecs, add_nics(&ecs, &server, json!([{"subnet_id": SUBNET}, {"subnet_id": SUBNET}])).await).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(ports_of(&ecs, &server).await.len(), 3);
    assert_eq!(ecs.delete(std::slice::from_ref(&server)).await["status"], "SUCCESS");
    assert_eq!(ports_of(&ecs, &server).await, Vec::<Value>::new());
    let (_, body) = ecs.get(&ecs.v1(&format!("/subnets/{SUBNET}/privateips"))).await;
    assert_eq!(body["privateips"], json!([]), "every address is free");
}
