//! Nova's interfaces (`os-interface`) and a server's security groups (`os-security-groups`,
//! `addSecurityGroup`/`removeSecurityGroup`): the same NICs, ports and groups ECS and VPC show,
//! with their refusals in Nova's shape.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OTHER_SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f02";

async fn call(ecs: &TestServer, method: Method, path: &str, body: Option<Value>) -> Answer {
    nova_call(ecs, method, &nova(ecs, path), body, "2.1").await
}

async fn server(ecs: &TestServer) -> String {
    ecs.create_servers("nova-nic", "s6.medium.2", 1).await.remove(0)
}

async fn attach(ecs: &TestServer, server: &str, attachment: Value) -> Answer {
    call(
        ecs,
        Method::POST,
        &format!("/servers/{server}/os-interface"),
        Some(json!({ "interfaceAttachment": attachment })),
    )
    .await
}

async fn ecs_nics(ecs: &TestServer, server: &str) -> Vec<Value> {
    for _ in 0..500 {
        let shown = ecs.server(server).await;
        if shown["OS-EXT-STS:task_state"].is_null() || shown["OS-EXT-STS:task_state"] == "" {
            let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{server}/os-interface"))).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            return body["interfaceAttachments"].as_array().expect("attachments").clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("server {server} stayed busy");
}

async fn create_group(ecs: &TestServer, name: &str) -> String {
    let (status, body) = ecs.post(&ecs.v1("/security-groups"), json!({"security_group": {"name": name}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["security_group"]["id"].as_str().expect("id").to_string()
}

async fn groups_of(ecs: &TestServer, server: &str) -> Vec<Value> {
    let answer = call(ecs, Method::GET, &format!("/servers/{server}/os-security-groups"), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.body["security_groups"].as_array().expect("groups").clone()
}

async fn action(ecs: &TestServer, server: &str, body: Value) -> Answer {
    call(ecs, Method::POST, &format!("/servers/{server}/action"), Some(body)).await
}

#[tokio::test]
async fn an_attached_interface_is_an_ecs_nic_shown_by_both_and_a_detach_takes_it_away() {
    let ecs = TestServer::start().await;
    let id = server(&ecs).await;

    let listed = call(&ecs, Method::GET, &format!("/servers/{id}/os-interface"), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let primary = listed.body["interfaceAttachments"][0].clone();
    assert_eq!(listed.body["interfaceAttachments"].as_array().map(Vec::len), Some(1), "{}", listed.body);
    assert_eq!(primary["net_id"], SUBNET);
    assert_eq!(primary["port_state"], "ACTIVE");

    let answer = attach(&ecs, &id, json!({"net_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.0.77"}]})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let attached = answer.body["interfaceAttachment"].clone();
    let port_id = attached["port_id"].as_str().expect("port id").to_string();
    assert_eq!(
        attached,
        json!({"port_state": "ACTIVE", "fixed_ips": [{"subnet_id": SUBNET, "ip_address": "192.168.0.77"}],
               "net_id": SUBNET, "port_id": port_id, "mac_addr": attached["mac_addr"]}),
    );
    let nics = ecs_nics(&ecs, &id).await;
    assert_eq!(nics.len(), 2, "{nics:?}");
    assert_eq!(nics[1]["port_id"], port_id.as_str());
    assert_eq!(nics[1]["fixed_ips"][0]["ip_address"], "192.168.0.77");

    let shown = call(&ecs, Method::GET, &format!("/servers/{id}/os-interface/{port_id}"), None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert_eq!(shown.body["interfaceAttachment"], attached);
    let listed = call(&ecs, Method::GET, &format!("/servers/{id}/os-interface"), None).await;
    assert_eq!(listed.body["interfaceAttachments"][1], attached, "{}", listed.body);

    let actions = call(&ecs, Method::GET, &format!("/servers/{id}/os-instance-actions"), None).await;
    assert_eq!(actions.body["instanceActions"][0]["action"], "attach_interface", "{}", actions.body);

    let detached = call(&ecs, Method::DELETE, &format!("/servers/{id}/os-interface/{port_id}"), None).await;
    assert_eq!(detached.status, StatusCode::ACCEPTED, "{}", detached.body);
    let nics = ecs_nics(&ecs, &id).await;
    assert_eq!(nics.len(), 1, "{nics:?}");
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{port_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the port ecsd made goes with the NIC: {body}");
    let gone = call(&ecs, Method::GET, &format!("/servers/{id}/os-interface/{port_id}"), None).await;
    assert_nova_fault(&gone, 404, "itemNotFound");
}

#[tokio::test]
async fn a_port_attached_by_its_id_is_kept_when_it_is_detached() {
    let ecs = TestServer::start().await;
    let id = server(&ecs).await;
    let (status, body) = ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let port_id = body["port"]["id"].as_str().expect("id").to_string();

    let answer = attach(&ecs, &id, json!({"port_id": port_id})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["interfaceAttachment"]["port_id"], port_id.as_str());
    assert_eq!(ecs_nics(&ecs, &id).await.len(), 2);
    let again = attach(&ecs, &server(&ecs).await, json!({"port_id": port_id})).await;
    assert_nova_fault(&again, 409, "conflictingRequestState");

    let detached = call(&ecs, Method::DELETE, &format!("/servers/{id}/os-interface/{port_id}"), None).await;
    assert_eq!(detached.status, StatusCode::ACCEPTED, "{}", detached.body);
    assert_eq!(ecs_nics(&ecs, &id).await.len(), 1);
    let (status, body) = ecs.get(&ecs.v1(&format!("/ports/{port_id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["port"]["device_id"], "", "{body}");
}

#[tokio::test]
async fn interface_calls_are_refused_in_novas_shape() {
    let ecs = TestServer::start().await;
    let id = server(&ecs).await;
    let (status, body) = ecs.post(&ecs.v1("/ports"), json!({"port": {"network_id": SUBNET}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let port_id = body["port"]["id"].as_str().expect("id").to_string();
    let primary = ecs_nics(&ecs, &id).await[0]["port_id"].as_str().expect("primary").to_string();
    let taken = ecs_nics(&ecs, &id).await[0]["fixed_ips"][0]["ip_address"].clone();

    for (attachment, status, fault) in [
        (json!({"net_id": SUBNET, "port_id": port_id}), 400, "badRequest"),
        (json!({"port_id": port_id, "fixed_ips": [{"ip_address": "192.168.0.9"}]}), 400, "badRequest"),
        (json!({}), 400, "badRequest"),
        (json!({"net_id": SUBNET, "fixed_ips": [{"ip_address": "nope"}]}), 400, "badRequest"),
        (
            json!({"net_id": SUBNET, "fixed_ips": [{"ip_address": "192.168.0.9"}, {"ip_address": "192.168.0.10"}]}),
            400,
            "badRequest",
        ),
        (json!({"net_id": SUBNET, "fixed_ips": [{"ip_address": "10.9.9.9"}]}), 400, "badRequest"),
        (json!({"net_id": OTHER_SUBNET}), 400, "badRequest"),
        (json!({"net_id": "no-such-network"}), 404, "itemNotFound"),
        (json!({"port_id": "no-such-port"}), 404, "itemNotFound"),
        (json!({"port_id": primary}), 409, "conflictingRequestState"),
        (json!({"net_id": SUBNET, "fixed_ips": [{"ip_address": taken}]}), 409, "conflictingRequestState"),
    ] {
        let answer = attach(&ecs, &id, attachment.clone()).await;
        assert_nova_fault(&answer, status, fault);
        assert_eq!(ecs_nics(&ecs, &id).await.len(), 1, "{attachment} changed nothing");
    }
    let garbage =
        call(&ecs, Method::POST, &format!("/servers/{id}/os-interface"), Some(json!({"interface": {}}))).await;
    assert_nova_fault(&garbage, 400, "badRequest");
    let missing = attach(&ecs, "ffffffff-ffff-4fff-bfff-ffffffffffff", json!({"net_id": SUBNET})).await;
    assert_nova_fault(&missing, 404, "itemNotFound");
    for path in [
        "/servers/ffffffff-ffff-4fff-bfff-ffffffffffff/os-interface".to_string(),
        format!("/servers/{id}/os-interface/{port_id}"),
        format!("/servers/{id}/os-interface/no-such-port"),
    ] {
        assert_nova_fault(&call(&ecs, Method::GET, &path, None).await, 404, "itemNotFound");
    }
    let detach = call(&ecs, Method::DELETE, &format!("/servers/{id}/os-interface/no-such-port"), None).await;
    assert_nova_fault(&detach, 404, "itemNotFound");
    let detach = call(&ecs, Method::DELETE, &format!("/servers/{id}/os-interface/{primary}"), None).await;
    assert_nova_fault(&detach, 403, "forbidden");

    // A locked server takes no NIC change, as ECS's own refuse.
    assert_eq!(action(&ecs, &id, json!({"lock": null})).await.status, StatusCode::ACCEPTED);
    let locked = attach(&ecs, &id, json!({"net_id": SUBNET})).await;
    assert_nova_fault(&locked, 409, "conflictingRequestState");
    assert_eq!(ecs_nics(&ecs, &id).await.len(), 1);
}

#[tokio::test]
async fn security_groups_join_and_leave_every_nic_of_the_server() {
    let ecs = TestServer::start().await;
    let id = server(&ecs).await;
    let added = attach(&ecs, &id, json!({"net_id": SUBNET})).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(ecs_nics(&ecs, &id).await.len(), 2);
    let web = create_group(&ecs, "web").await;
    let rule = json!({"security_group_rule": {"security_group_id": web, "direction": "ingress",
        "protocol": "tcp", "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.0/8"}});
    let (status, body) = ecs.post(&ecs.v1("/security-group-rules"), rule).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rule_id = body["security_group_rule"]["id"].clone();

    let groups = groups_of(&ecs, &id).await;
    assert_eq!(groups.iter().map(|g| g["name"].clone()).collect::<Vec<_>>(), vec![json!("default")]);
    let answer = action(&ecs, &id, json!({"addSecurityGroup": {"name": "web"}})).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let groups = groups_of(&ecs, &id).await;
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!(
        groups[1],
        json!({"description": "", "id": web, "name": "web", "tenant_id": ecs.project(), "rules": [{
            "id": rule_id, "parent_group_id": web, "ip_protocol": "tcp", "from_port": 22, "to_port": 22,
            "group": {}, "ip_range": {"cidr": "10.0.0.0/8"}}]}),
    );
    let (_, ports) = ecs.get(&ecs.v1(&format!("/ports?device_id={id}"))).await;
    let ports = ports["ports"].as_array().expect("ports").clone();
    assert_eq!(ports.len(), 2, "{ports:?}");
    assert!(
        ports.iter().all(|p| p["security_groups"].as_array().is_some_and(|g| g.contains(&json!(web)))),
        "{ports:?}"
    );
    let shown = ecs.server(&id).await;
    assert!(shown["security_groups"].as_array().is_some_and(|g| g.iter().any(|g| g["name"] == "web")), "{shown}");

    // Adding it again changes nothing; it is named by id as well as by name.
    let again = action(&ecs, &id, json!({"addSecurityGroup": {"name": web}})).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(groups_of(&ecs, &id).await.len(), 2);

    let removed = action(&ecs, &id, json!({"removeSecurityGroup": {"name": "default"}})).await;
    assert_eq!(removed.status, StatusCode::ACCEPTED, "{}", removed.body);
    let groups = groups_of(&ecs, &id).await;
    assert_eq!(groups.iter().map(|g| g["name"].clone()).collect::<Vec<_>>(), vec![json!("web")]);
    let nova_shown = call(&ecs, Method::GET, &format!("/servers/{id}"), None).await;
    assert_eq!(nova_shown.body["server"]["security_groups"], json!([{"name": "web"}]), "{}", nova_shown.body);
    let not_on = action(&ecs, &id, json!({"removeSecurityGroup": {"name": "default"}})).await;
    assert_nova_fault(&not_on, 400, "badRequest");
}

#[tokio::test]
async fn security_group_actions_are_refused_in_novas_shape() {
    let ecs = TestServer::start().await;
    let id = server(&ecs).await;
    create_group(&ecs, "twin").await;
    create_group(&ecs, "twin").await;
    for (body, status, fault) in [
        (json!({"addSecurityGroup": {"name": "no-such-group"}}), 404, "itemNotFound"),
        (json!({"removeSecurityGroup": {"name": "no-such-group"}}), 404, "itemNotFound"),
        (json!({"addSecurityGroup": {"name": "twin"}}), 409, "conflictingRequestState"),
        (json!({"addSecurityGroup": {"name": " "}}), 400, "badRequest"),
        (json!({"addSecurityGroup": {}}), 400, "badRequest"),
        (json!({"addSecurityGroup": null}), 400, "badRequest"),
        (json!({"removeSecurityGroup": {"name": 7}}), 400, "badRequest"),
    ] {
        assert_nova_fault(&action(&ecs, &id, body).await, status, fault);
    }
    let missing = "ffffffff-ffff-4fff-bfff-ffffffffffff";
    assert_nova_fault(
        &action(&ecs, missing, json!({"addSecurityGroup": {"name": "default"}})).await,
        404,
        "itemNotFound",
    );
    let listed = call(&ecs, Method::GET, &format!("/servers/{missing}/os-security-groups"), None).await;
    assert_nova_fault(&listed, 404, "itemNotFound");
    assert_eq!(groups_of(&ecs, &id).await.len(), 1, "nothing changed");
}

fn create_body(name: &str, groups: Value) -> Value {
    json!({"server": {"name": name, "imageRef": IMAGE, "flavorRef": "s6.small.1",
        "networks": [{"uuid": SUBNET}], "security_groups": groups}})
}

#[tokio::test]
async fn a_nova_create_names_its_security_groups_by_name_or_id_and_default_is_the_projects() {
    let ecs = TestServer::start().await;
    let web = create_group(&ecs, "web").await;
    let db = create_group(&ecs, "db").await;
    let groups = json!([{"name": "web"}, {"name": "default"}, {"name": db}, {"name": web}]);
    let answer = call(&ecs, Method::POST, "/servers", Some(create_body("grouped", groups))).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let id = answer.body["server"]["id"].as_str().expect("id").to_string();
    assert_eq!(
        answer.body["server"]["security_groups"],
        json!([{"name": "web"}, {"name": "default"}, {"name": "db"}]),
        "each group once, in the order given"
    );
    let (_, listed) = ecs.get(&ecs.v1("/security-groups")).await;
    let default = listed["security_groups"]
        .as_array()
        .and_then(|all| all.iter().find(|g| g["name"] == "default"))
        .map(|g| g["id"].clone())
        .expect("the default group");
    let (_, ports) = ecs.get(&ecs.v1(&format!("/ports?device_id={id}"))).await;
    assert_eq!(ports["ports"][0]["security_groups"], json!([web, default, db]), "{ports}");
}

#[tokio::test]
async fn a_nova_create_with_an_unknown_or_ambiguous_security_group_makes_nothing() {
    let ecs = TestServer::start().await;
    create_group(&ecs, "twin").await;
    create_group(&ecs, "twin").await;
    for (groups, status, fault) in [
        (json!([{"name": "no-such-group"}]), 400, "badRequest"),
        (json!([{"name": "default"}, {"name": "ffffffff-ffff-4fff-bfff-ffffffffffff"}]), 400, "badRequest"),
        (json!([{"name": ""}]), 400, "badRequest"),
        (json!([{"name": "twin"}]), 409, "conflictingRequestState"),
        (json!([{"name": 7}]), 400, "badRequest"),
        (json!([{}]), 400, "badRequest"),
    ] {
        let answer = call(&ecs, Method::POST, "/servers", Some(create_body("refused", groups.clone()))).await;
        assert_nova_fault(&answer, status, fault);
        if status == 400 && groups[0]["name"] == "no-such-group" {
            assert_eq!(answer.body[fault]["message"], "Security group no-such-group not found.");
        }
    }
    let (_, servers) = ecs.get(&ecs.v1("/cloudservers/detail")).await;
    assert_eq!(servers["count"], 0, "{servers}");
}
