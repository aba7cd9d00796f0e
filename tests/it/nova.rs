//! Nova v2.1 over the same fleet: versions and microversions, servers made, listed, shown,
//! changed, operated and deleted through Nova and seen by ECS (and the reverse), flavors,
//! limits, zones, server groups, instance actions, metadata; refusals in Nova's shape.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn create_request(name: &str, extra: Value) -> Value {
    let mut server =
        json!({"name": name, "imageRef": IMAGE, "flavorRef": "s6.small.1", "networks": [{"uuid": SUBNET}]});
    if let (Some(server), Some(extra)) = (server.as_object_mut(), extra.as_object()) {
        server.extend(extra.clone());
    }
    json!({ "server": server })
}

/// Creates a server through Nova and waits until Nova shows it ACTIVE.
async fn nova_server(ecs: &TestServer, name: &str) -> String {
    let answer =
        nova_call(ecs, Method::POST, &nova(ecs, "/servers"), Some(create_request(name, json!({}))), "2.1").await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let id = answer.body["server"]["id"].as_str().expect("id").to_string();
    wait_status(ecs, &id, "ACTIVE").await;
    id
}

async fn wait_status(ecs: &TestServer, id: &str, wanted: &str) -> Value {
    for _ in 0..500 {
        let answer = nova_call(ecs, Method::GET, &nova(ecs, &format!("/servers/{id}")), None, "2.1").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        if answer.body["server"]["status"] == wanted && answer.body["server"]["OS-EXT-STS:task_state"].is_null() {
            return answer.body["server"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("server {id} never became {wanted}");
}

async fn list(ecs: &TestServer, query: &str) -> Answer {
    nova_call(ecs, Method::GET, &nova(ecs, &format!("/servers/detail{query}")), None, "2.1").await
}

async fn action(ecs: &TestServer, id: &str, body: Value) -> Answer {
    nova_call(ecs, Method::POST, &nova(ecs, &format!("/servers/{id}/action")), Some(body), "2.1").await
}

#[tokio::test]
async fn version_documents_answer_without_a_credential_and_give_the_microversion_range() {
    let ecs = TestServer::start().await;
    let http = reqwest::Client::new();
    for path in ["/v2.1", "/v2.1/"] {
        let body: Value =
            http.get(format!("{}{path}", ecs.base)).send().await.expect("sent").json().await.expect("json");
        assert_eq!(body["version"]["id"], "v2.1", "{body}");
        assert_eq!(body["version"]["version"], "2.60");
        assert_eq!(body["version"]["min_version"], "2.1");
    }
    let body: Value = http.get(format!("{}/", ecs.base)).send().await.expect("sent").json().await.expect("json");
    assert!(body["versions"].as_array().is_some_and(|v| v.iter().any(|v| v["id"] == "v2.1")), "{body}");
}

#[tokio::test]
async fn the_microversion_is_negotiated_and_one_above_the_maximum_is_406() {
    let ecs = TestServer::start().await;
    let answer = nova_call(&ecs, Method::GET, &nova(&ecs, "/servers"), None, "2.47").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.headers["openstack-api-version"], "compute 2.47");
    assert_eq!(answer.headers["x-openstack-nova-api-version"], "2.47");
    assert!(answer.headers["x-openstack-request-id"].to_str().is_ok_and(|id| id.starts_with("req-")));
    let latest = nova_call(&ecs, Method::GET, &nova(&ecs, "/servers"), None, "latest").await;
    assert_eq!(latest.headers["openstack-api-version"], "compute 2.60");
    let legacy = ecs
        .call_with_headers(
            Method::GET,
            &nova(&ecs, "/servers"),
            vec![],
            &[("x-openstack-nova-api-version", "2.9")],
            None,
        )
        .await;
    assert_eq!(legacy.headers["x-openstack-nova-api-version"], "2.9");
    let none = ecs.call_with_headers(Method::GET, &nova(&ecs, "/servers"), vec![], &[], None).await;
    assert_eq!(none.headers["openstack-api-version"], "compute 2.1");
    assert_nova_fault(&nova_call(&ecs, Method::GET, &nova(&ecs, "/servers"), None, "2.61").await, 406, "computeFault");
    assert_nova_fault(&nova_call(&ecs, Method::GET, &nova(&ecs, "/servers"), None, "2.x").await, 400, "badRequest");
}

#[tokio::test]
async fn a_server_made_through_nova_is_an_ecs_server_with_everything_it_was_given() {
    let ecs = TestServer::start().await;
    let key = json!({"keypair": {"name": "my-key"}});
    assert_eq!(
        nova_call(&ecs, Method::POST, &nova(&ecs, "/os-keypairs"), Some(key), "2.2").await.status,
        StatusCode::CREATED
    );
    let body = create_request(
        "nova-made",
        json!({"metadata": {"team": "blue"}, "key_name": "my-key", "user_data": "IyEvYmluL3NoCg==",
               "security_groups": [{"name": "default"}],
               "block_device_mapping_v2": [
                   {"boot_index": 0, "uuid": IMAGE, "source_type": "image", "destination_type": "volume", "volume_size": 50},
                   {"boot_index": -1, "source_type": "blank", "destination_type": "volume", "volume_size": 20, "volume_type": "SSD"}]}),
    );
    let answer = nova_call(&ecs, Method::POST, &nova(&ecs, "/servers"), Some(body), "2.1").await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let id = answer.body["server"]["id"].as_str().expect("id").to_string();
    assert_eq!(answer.body["server"]["security_groups"], json!([{"name": "default"}]));
    assert!(answer.body["server"]["links"][0]["href"].as_str().is_some_and(|h| h.ends_with(&id)));
    let server = wait_status(&ecs, &id, "ACTIVE").await;
    assert_eq!(server["metadata"], json!({"team": "blue"}));
    assert_eq!(server["key_name"], "my-key");
    assert_eq!(server["OS-EXT-STS:vm_state"], "active");
    assert_eq!(server["flavor"]["id"], "s6.small.1");
    assert_eq!(server["image"]["id"], IMAGE);
    assert_eq!(server["os-extended-volumes:volumes_attached"].as_array().map(Vec::len), Some(2));
    assert!(server.get("locked").is_none(), "locked needs 2.9: {server}");

    let shown = ecs.server(&id).await;
    assert_eq!(shown["name"], "nova-made");
    assert_eq!(shown["status"], "ACTIVE");
    assert_eq!(shown["os-extended-volumes:volumes_attached"].as_array().map(Vec::len), Some(2));
    assert!(ecs.all_servers().await.iter().any(|s| s["id"] == id.as_str()));

    let new = nova_call(&ecs, Method::GET, &nova(&ecs, &format!("/servers/{id}")), None, "2.60").await;
    let server = &new.body["server"];
    assert_eq!(server["flavor"]["original_name"], "s6.small.1", "{server}");
    assert_eq!(server["flavor"]["vcpus"], 1);
    assert_eq!(server["locked"], false);
    assert_eq!(server["tags"], json!([]));
    assert_eq!(server["description"], "");
}

#[tokio::test]
async fn creates_are_refused_in_novas_shape() {
    let ecs = TestServer::start().await;
    let url = nova(&ecs, "/servers");
    let cases = [
        (create_request("x", json!({"flavorRef": "nope"})), 400, "badRequest"),
        (create_request("x", json!({"imageRef": ""})), 400, "badRequest"),
        (create_request("x", json!({"networks": [{"uuid": "no-such-network"}]})), 400, "badRequest"),
        (create_request("x", json!({"networks": "none"})), 400, "badRequest"),
        (create_request("x", json!({"networks": "auto"})), 409, "conflictingRequestState"),
        (create_request("x", json!({"min_count": 3, "max_count": 2})), 400, "badRequest"),
        (create_request("x", json!({"max_count": 100000})), 400, "badRequest"),
        (json!({"server": {"name": "x"}}), 400, "badRequest"),
        (create_request("x", json!({"key_name": "no-such-key"})), 400, "badRequest"),
    ];
    for (body, status, fault) in cases {
        assert_nova_fault(&nova_call(&ecs, Method::POST, &url, Some(body), "2.1").await, status, fault);
    }
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn min_and_max_count_make_several_servers_in_one_reservation() {
    let ecs = TestServer::start().await;
    let body = create_request("fleet", json!({"min_count": 2, "max_count": 3}));
    let answer = nova_call(&ecs, Method::POST, &nova(&ecs, "/servers"), Some(body), "2.1").await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    let servers = ecs.all_servers().await;
    assert_eq!(servers.len(), 3);
    assert!(
        servers.iter().all(|s| s["OS-EXT-SRV-ATTR:reservation_id"] == servers[0]["OS-EXT-SRV-ATTR:reservation_id"])
    );
}

#[tokio::test]
async fn lists_filter_and_page_as_openstacksdk_asks() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 3).await;
    ecs.create_servers("db", "s6.medium.2", 1).await;
    ecs.batch("os-stop", &ids[..1], json!({})).await;
    let names = |answer: &Answer| -> Vec<String> {
        answer.body["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .map(|s| s["name"].as_str().expect("name").to_string())
            .collect()
    };

    assert_eq!(names(&list(&ecs, "?deleted=False").await).len(), 4);
    assert_eq!(names(&list(&ecs, "?name=web").await).len(), 3);
    assert_eq!(names(&list(&ecs, "?name=%5Edb%24").await), vec!["db".to_string()]);
    assert_eq!(names(&list(&ecs, "?name=%5Eweb%24").await), Vec::<String>::new());
    assert_eq!(names(&list(&ecs, "?status=SHUTOFF").await), vec!["web-0000".to_string()]);
    assert_eq!(names(&list(&ecs, "?flavor=s6.medium.2").await), vec!["db".to_string()]);
    assert_eq!(names(&list(&ecs, &format!("?image={IMAGE}")).await).len(), 4);
    assert_eq!(names(&list(&ecs, "?changes-since=2000-01-01T00:00:00Z").await).len(), 4);
    assert_eq!(names(&list(&ecs, "?changes-since=2999-01-01T00:00:00").await).len(), 0);
    assert_eq!(names(&list(&ecs, "?deleted=True").await).len(), 0);

    let first = list(&ecs, "?limit=3").await;
    assert_eq!(names(&first).len(), 3);
    let next = first.body["servers_links"][0]["href"].as_str().expect("next link").to_string();
    assert_eq!(first.body["servers_links"][0]["rel"], "next");
    let path = next.strip_prefix(&ecs.base).expect("on ecsd");
    let second = nova_call(&ecs, Method::GET, path, None, "2.1").await;
    assert_eq!(names(&second).len(), 1);
    assert!(second.body.get("servers_links").is_none(), "{}", second.body);
    let mut all: Vec<String> = names(&first).into_iter().chain(names(&second)).collect();
    all.sort();
    assert_eq!(all, vec!["db", "web-0000", "web-0001", "web-0002"]);

    let plain = nova_call(&ecs, Method::GET, &nova(&ecs, "/servers?limit=1"), None, "2.1").await;
    assert_eq!(plain.body["servers"].as_array().map(Vec::len), Some(1));
    assert!(plain.body["servers"][0]["links"].is_array() && plain.body["servers"][0].get("status").is_none());

    assert_nova_fault(&list(&ecs, "?marker=no-such-server").await, 400, "badRequest");
    assert_nova_fault(&list(&ecs, "?limit=-1").await, 400, "badRequest");
    assert_nova_fault(&list(&ecs, "?changes-since=yesterday").await, 400, "badRequest");
    let bad_status = nova_call(&ecs, Method::GET, &nova(&ecs, "/servers/detail?status=NAPPING"), None, "2.60").await;
    assert_nova_fault(&bad_status, 400, "badRequest");
}

#[tokio::test]
async fn actions_move_the_server_and_refuse_what_its_state_does_not_allow() {
    let ecs = TestServer::start().await;
    let id = nova_server(&ecs, "acted").await;
    let stopped = action(&ecs, &id, json!({"os-stop": null})).await;
    assert_eq!(stopped.status, StatusCode::ACCEPTED, "{}", stopped.body);
    wait_status(&ecs, &id, "SHUTOFF").await;
    assert_nova_fault(&action(&ecs, &id, json!({"os-stop": null})).await, 409, "conflictingRequestState");
    assert_nova_fault(&action(&ecs, &id, json!({"reboot": {"type": "SOFT"}})).await, 409, "conflictingRequestState");
    assert_eq!(action(&ecs, &id, json!({"os-start": null})).await.status, StatusCode::ACCEPTED);
    wait_status(&ecs, &id, "ACTIVE").await;
    for kind in ["SOFT", "HARD"] {
        assert_eq!(action(&ecs, &id, json!({"reboot": {"type": kind}})).await.status, StatusCode::ACCEPTED);
        wait_status(&ecs, &id, "ACTIVE").await;
    }
    assert_nova_fault(&action(&ecs, &id, json!({"reboot": {"type": "GENTLE"}})).await, 400, "badRequest");
    assert_nova_fault(&action(&ecs, &id, json!({"os-hibernate": null})).await, 400, "badRequest");
    assert_nova_fault(&action(&ecs, &id, json!({"os-start": null, "os-stop": null})).await, 400, "badRequest");
    assert_nova_fault(
        &action(&ecs, "00000000-0000-4000-8000-000000000000", json!({"os-stop": {}})).await,
        404,
        "itemNotFound",
    );

    assert_eq!(action(&ecs, &id, json!({"lock": null})).await.status, StatusCode::ACCEPTED);
    let locked = nova_call(&ecs, Method::GET, &nova(&ecs, &format!("/servers/{id}")), None, "2.9").await;
    assert_eq!(locked.body["server"]["locked"], true);
    assert_nova_fault(&action(&ecs, &id, json!({"os-stop": null})).await, 409, "conflictingRequestState");
    assert_eq!(action(&ecs, &id, json!({"unlock": null})).await.status, StatusCode::ACCEPTED);
    assert_eq!(action(&ecs, &id, json!({"os-stop": null})).await.status, StatusCode::ACCEPTED);

    let console = action(&ecs, &id, json!({"os-getConsoleOutput": {"length": 5}})).await;
    assert_eq!(console.status, StatusCode::OK, "{}", console.body);
    let lines = console.body["output"].as_str().expect("output").lines().count();
    assert!((1..=5).contains(&lines), "{}", console.body);
    let all = action(&ecs, &id, json!({"os-getConsoleOutput": {"length": null}})).await;
    assert!(all.body["output"].as_str().expect("output").lines().count() >= lines);
    assert_nova_fault(&action(&ecs, &id, json!({"os-getConsoleOutput": {"length": "many"}})).await, 400, "badRequest");

    let actions =
        nova_call(&ecs, Method::GET, &nova(&ecs, &format!("/servers/{id}/os-instance-actions")), None, "2.1").await;
    let listed: Vec<&str> = actions.body["instanceActions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| a["action"].as_str().expect("action"))
        .collect();
    assert_eq!(listed, vec!["stop", "reboot", "reboot", "start", "stop", "create"]);
    let request_id = actions.body["instanceActions"][5]["request_id"].as_str().expect("request id");
    let one = nova_call(
        &ecs,
        Method::GET,
        &nova(&ecs, &format!("/servers/{id}/os-instance-actions/{request_id}")),
        None,
        "2.1",
    )
    .await;
    assert_eq!(one.body["instanceAction"]["action"], "create", "{}", one.body);
    assert_eq!(one.body["instanceAction"]["events"][0]["result"], "Success");
    let missing =
        nova_call(&ecs, Method::GET, &nova(&ecs, &format!("/servers/{id}/os-instance-actions/nope")), None, "2.1")
            .await;
    assert_nova_fault(&missing, 404, "itemNotFound");
}

#[tokio::test]
async fn ecs_and_nova_operate_each_others_servers() {
    let ecs = TestServer::start().await;
    let made_by_nova = nova_server(&ecs, "from-nova").await;
    let job = ecs.batch("os-stop", std::slice::from_ref(&made_by_nova), json!({})).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let shown = wait_status(&ecs, &made_by_nova, "SHUTOFF").await;
    assert_eq!(shown["OS-EXT-STS:vm_state"], "stopped");
    assert_eq!(shown["OS-EXT-STS:power_state"], 4);

    let made_by_ecs = ecs.create_servers("from-ecs", "s6.small.1", 1).await.remove(0);
    assert_eq!(action(&ecs, &made_by_ecs, json!({"os-stop": null})).await.status, StatusCode::ACCEPTED);
    wait_status(&ecs, &made_by_ecs, "SHUTOFF").await;
    assert_eq!(ecs.server(&made_by_ecs).await["status"], "SHUTOFF");
}

#[tokio::test]
async fn update_renames_and_delete_removes_the_server() {
    let ecs = TestServer::start().await;
    let id = nova_server(&ecs, "before").await;
    let path = nova(&ecs, &format!("/servers/{id}"));
    let renamed = nova_call(&ecs, Method::PUT, &path, Some(json!({"server": {"name": "after"}})), "2.1").await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["server"]["name"], "after");
    assert_eq!(ecs.server(&id).await["name"], "after");
    let described = nova_call(&ecs, Method::PUT, &path, Some(json!({"server": {"description": "d"}})), "2.1").await;
    assert_nova_fault(&described, 400, "badRequest");
    let described = nova_call(&ecs, Method::PUT, &path, Some(json!({"server": {"description": "d"}})), "2.19").await;
    assert_eq!(described.body["server"]["description"], "d", "{}", described.body);
    let bad = nova_call(&ecs, Method::PUT, &path, Some(json!({"server": {"name": "a/b"}})), "2.1").await;
    assert_nova_fault(&bad, 400, "badRequest");

    let deleted = nova_call(&ecs, Method::DELETE, &path, None, "2.1").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    for _ in 0..500 {
        if nova_call(&ecs, Method::GET, &path, None, "2.1").await.status == StatusCode::NOT_FOUND {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_nova_fault(&nova_call(&ecs, Method::GET, &path, None, "2.1").await, 404, "itemNotFound");
    assert_nova_fault(&nova_call(&ecs, Method::DELETE, &path, None, "2.1").await, 404, "itemNotFound");
}

#[tokio::test]
async fn another_projects_paths_and_a_bad_token_are_refused() {
    let ecs = TestServer::start_with_two_projects().await;
    let id = nova_server(&ecs, "mine").await;
    let other_project = other_credential().project_id;
    let other = format!("/v2.1/{other_project}/servers/{id}");
    assert_nova_fault(&nova_call(&ecs, Method::GET, &other, None, "2.1").await, 403, "forbidden");
    let declared = ecs.call_with_headers(Method::GET, &other, vec![], &[], Some(&other_project)).await;
    assert_nova_fault(&declared, 403, "forbidden");
    let response = reqwest::Client::new()
        .get(format!("{}{}", ecs.base, nova(&ecs, "/servers")))
        .header("x-auth-token", "MIIforged")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], 401, "{body}");
}

#[tokio::test]
async fn flavors_limits_and_zones_are_the_catalogues() {
    let ecs = TestServer::start().await;
    let flavors = nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors/detail?is_public=None"), None, "2.1").await;
    assert_eq!(flavors.status, StatusCode::OK, "{}", flavors.body);
    let small = flavors.body["flavors"].as_array().expect("flavors").iter().find(|f| f["id"] == "s6.small.1").cloned();
    let small = small.expect("s6.small.1 listed");
    assert_eq!(small["vcpus"], 1);
    assert_eq!(small["os-flavor-access:is_public"], true);
    let brief = nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors"), None, "2.1").await;
    assert_eq!(brief.body["flavors"].as_array().map(Vec::len), flavors.body["flavors"].as_array().map(Vec::len));
    let private = nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors/detail?is_public=false"), None, "2.1").await;
    assert_eq!(private.body["flavors"], json!([]));
    let shown = nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors/s6.small.1"), None, "2.1").await;
    assert_eq!(shown.body["flavor"]["ram"], small["ram"]);
    let specs = nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors/s6.small.1/os-extra_specs"), None, "2.1").await;
    assert!(specs.body["extra_specs"]["ecs:performancetype"].is_string(), "{}", specs.body);
    assert_nova_fault(
        &nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors/nope"), None, "2.1").await,
        404,
        "itemNotFound",
    );
    assert_nova_fault(
        &nova_call(&ecs, Method::GET, &nova(&ecs, "/flavors/detail?minRam=x"), None, "2.1").await,
        400,
        "badRequest",
    );

    ecs.create_servers("counted", "s6.small.1", 2).await;
    let limits = nova_call(&ecs, Method::GET, &nova(&ecs, "/limits"), None, "2.1").await;
    let absolute = &limits.body["limits"]["absolute"];
    assert_eq!(absolute["totalInstancesUsed"], 2, "{}", limits.body);
    assert_eq!(absolute["totalCoresUsed"], 2);
    assert!(absolute["maxTotalInstances"].as_i64().is_some_and(|m| m > 2));

    let zones = nova_call(&ecs, Method::GET, &nova(&ecs, "/os-availability-zone"), None, "2.1").await;
    assert_eq!(zones.body["availabilityZoneInfo"][0]["zoneState"]["available"], true);
    assert!(zones.body["availabilityZoneInfo"][0]["hosts"].is_null());
    let detail = nova_call(&ecs, Method::GET, &nova(&ecs, "/os-availability-zone/detail"), None, "2.1").await;
    assert!(
        detail.body["availabilityZoneInfo"][0]["hosts"].as_object().is_some_and(|h| !h.is_empty()),
        "{}",
        detail.body
    );
}

#[tokio::test]
async fn server_groups_are_ecs_groups_and_the_scheduler_hint_joins_one() {
    let ecs = TestServer::start().await;
    let url = nova(&ecs, "/os-server-groups");
    let body = json!({"server_group": {"name": "spread", "policies": ["anti-affinity"]}});
    let created = nova_call(&ecs, Method::POST, &url, Some(body), "2.1").await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let group = created.body["server_group"]["id"].as_str().expect("id").to_string();
    assert_eq!(created.body["server_group"]["policies"], json!(["anti-affinity"]));
    let affinity = json!({"server_group": {"name": "together", "policies": ["affinity"]}});
    assert_nova_fault(&nova_call(&ecs, Method::POST, &url, Some(affinity), "2.1").await, 400, "badRequest");

    let mut body = create_request("member", json!({}));
    body["os:scheduler_hints"] = json!({"group": group});
    let answer = nova_call(&ecs, Method::POST, &nova(&ecs, "/servers"), Some(body), "2.1").await;
    let id = answer.body["server"]["id"].as_str().expect("id").to_string();
    wait_status(&ecs, &id, "ACTIVE").await;
    let shown = nova_call(&ecs, Method::GET, &format!("{url}/{group}"), None, "2.13").await;
    assert_eq!(shown.body["server_group"]["members"], json!([id]), "{}", shown.body);
    assert_eq!(shown.body["server_group"]["project_id"], ecs.project());
    let ecs_view = ecs.get(&ecs.v1(&format!("/cloudservers/os-server-groups/{group}"))).await;
    assert_eq!(ecs_view.1["server_group"]["members"], json!([id]));
    let listed = nova_call(&ecs, Method::GET, &url, None, "2.1").await;
    assert_eq!(listed.body["server_groups"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        nova_call(&ecs, Method::DELETE, &format!("{url}/{group}"), None, "2.1").await.status,
        StatusCode::NO_CONTENT
    );
    assert_nova_fault(&nova_call(&ecs, Method::GET, &format!("{url}/{group}"), None, "2.1").await, 404, "itemNotFound");
}

#[tokio::test]
async fn metadata_is_the_servers_user_metadata() {
    let ecs = TestServer::start().await;
    let id = nova_server(&ecs, "tagged").await;
    let url = nova(&ecs, &format!("/servers/{id}/metadata"));
    let added = nova_call(&ecs, Method::POST, &url, Some(json!({"metadata": {"a": "1", "b": "2"}})), "2.1").await;
    assert_eq!(added.body["metadata"], json!({"a": "1", "b": "2"}), "{}", added.body);
    let replaced = nova_call(&ecs, Method::PUT, &url, Some(json!({"metadata": {"c": "3"}})), "2.1").await;
    assert_eq!(replaced.body["metadata"], json!({"c": "3"}));
    let item = nova_call(&ecs, Method::PUT, &format!("{url}/d"), Some(json!({"meta": {"d": "4"}})), "2.1").await;
    assert_eq!(item.body["meta"], json!({"d": "4"}), "{}", item.body);
    let mismatch = nova_call(&ecs, Method::PUT, &format!("{url}/e"), Some(json!({"meta": {"d": "4"}})), "2.1").await;
    assert_nova_fault(&mismatch, 400, "badRequest");
    let shown = nova_call(&ecs, Method::GET, &format!("{url}/d"), None, "2.1").await;
    assert_eq!(shown.body["meta"], json!({"d": "4"}));
    assert_eq!(nova_call(&ecs, Method::DELETE, &format!("{url}/d"), None, "2.1").await.status, StatusCode::NO_CONTENT);
    assert_nova_fault(&nova_call(&ecs, Method::GET, &format!("{url}/d"), None, "2.1").await, 404, "itemNotFound");
    assert_nova_fault(&nova_call(&ecs, Method::DELETE, &format!("{url}/d"), None, "2.1").await, 404, "itemNotFound");
    let listed = nova_call(&ecs, Method::GET, &url, None, "2.1").await;
    assert_eq!(listed.body["metadata"], json!({"c": "3"}));
    assert_eq!(ecs.server(&id).await["metadata"]["c"], "3");
}

fn keypairs(ecs: &TestServer, rest: &str) -> String {
    nova(ecs, &format!("/os-keypairs{rest}"))
}

#[tokio::test]
async fn a_generated_key_pair_gives_its_private_key_once_and_an_imported_one_keeps_its_key() {
    let ecs = TestServer::start().await;
    let old =
        nova_call(&ecs, Method::POST, &keypairs(&ecs, ""), Some(json!({"keypair": {"name": "old"}})), "2.1").await;
    assert_eq!(old.status, StatusCode::OK, "{}", old.body);
    assert!(old.body["keypair"].get("type").is_none(), "type needs 2.2: {}", old.body);
    let made =
        nova_call(&ecs, Method::POST, &keypairs(&ecs, ""), Some(json!({"keypair": {"name": "gen key_1"}})), "2.2")
            .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let keypair = &made.body["keypair"];
    let private = keypair["private_key"].as_str().expect("a private key");
    assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"), "{private}");
    assert_eq!(keypair["type"], "ssh");
    assert_eq!(keypair["user_id"], ecs.project());
    let public = keypair["public_key"].as_str().expect("public key").to_string();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    let fingerprint = keypair["fingerprint"].as_str().expect("fingerprint").to_string();
    let pairs: Vec<&str> = fingerprint.split(':').collect();
    assert_eq!(pairs.len(), 16, "{fingerprint}");
    assert!(pairs.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())));

    let shown = nova_call(&ecs, Method::GET, &keypairs(&ecs, "/gen%20key_1"), None, "2.2").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let detail = &shown.body["keypair"];
    assert!(detail.get("private_key").is_none(), "never again: {detail}");
    assert_eq!(detail["public_key"], public.as_str());
    assert_eq!(detail["fingerprint"], fingerprint.as_str());
    assert_eq!(detail["deleted"], false);
    assert!(detail["id"].as_i64().is_some_and(|id| id > 0), "{detail}");
    assert!(detail["created_at"].as_str().is_some(), "{detail}");
    assert!(!shown.body.to_string().contains("PRIVATE"), "{}", shown.body);

    let imported = json!({"keypair": {"name": "imported", "public_key": format!("{public} me@host")}});
    let imported = nova_call(&ecs, Method::POST, &keypairs(&ecs, ""), Some(imported), "2.2").await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    assert!(imported.body["keypair"].get("private_key").is_none(), "{}", imported.body);
    assert_eq!(imported.body["keypair"]["fingerprint"], fingerprint.as_str(), "the same key, the same fingerprint");
    assert_eq!(imported.body["keypair"]["public_key"], format!("{public} me@host"));

    let listed = nova_call(&ecs, Method::GET, &keypairs(&ecs, ""), None, "2.2").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let names: Vec<&str> = listed.body["keypairs"]
        .as_array()
        .expect("keypairs")
        .iter()
        .map(|k| k["keypair"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["old", "gen key_1", "imported"]);
    assert!(!listed.body.to_string().contains("PRIVATE"), "{}", listed.body);
    let page = nova_call(&ecs, Method::GET, &keypairs(&ecs, "?limit=1&marker=old"), None, "2.35").await;
    assert_eq!(page.body["keypairs"].as_array().map(Vec::len), Some(1), "{}", page.body);
    assert_eq!(page.body["keypairs"][0]["keypair"]["name"], "gen key_1");
    assert!(page.body["keypairs_links"][0]["href"].as_str().is_some_and(|h| h.contains("marker=gen")), "{}", page.body);

    let deleted = nova_call(&ecs, Method::DELETE, &keypairs(&ecs, "/imported"), None, "2.2").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let deleted = nova_call(&ecs, Method::DELETE, &keypairs(&ecs, "/old"), None, "2.1").await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED);
    assert_nova_fault(
        &nova_call(&ecs, Method::GET, &keypairs(&ecs, "/imported"), None, "2.2").await,
        404,
        "itemNotFound",
    );
    assert_nova_fault(
        &nova_call(&ecs, Method::DELETE, &keypairs(&ecs, "/imported"), None, "2.2").await,
        404,
        "itemNotFound",
    );
}

#[tokio::test]
async fn key_pair_creates_are_refused_in_novas_shape_and_stay_in_their_project() {
    let ecs = TestServer::start_with_two_projects().await;
    let url = keypairs(&ecs, "");
    let made = nova_call(&ecs, Method::POST, &url, Some(json!({"keypair": {"name": "k"}})), "2.2").await;
    assert_eq!(made.status, StatusCode::CREATED);
    let cases = [
        (json!({"keypair": {"name": "k"}}), "2.2", 409, "conflictingRequestState"),
        (json!({"keypair": {"name": ""}}), "2.2", 400, "badRequest"),
        (json!({"keypair": {"name": "a/b"}}), "2.2", 400, "badRequest"),
        (json!({"keypair": {"name": "x".repeat(256)}}), "2.2", 400, "badRequest"),
        (json!({"keypair": {"name": "bad", "public_key": "ssh-rsa nonsense"}}), "2.2", 400, "badRequest"),
        (json!({"keypair": {"name": "x509", "type": "x509"}}), "2.2", 400, "badRequest"),
        (json!({"keypair": {"name": "typed", "type": "ssh"}}), "2.1", 400, "badRequest"),
        (json!({"keypair": {}}), "2.2", 400, "badRequest"),
        (json!({"name": "k"}), "2.2", 400, "badRequest"),
    ];
    for (body, version, status, fault) in cases {
        let answer = nova_call(&ecs, Method::POST, &url, Some(body.clone()), version).await;
        assert_nova_fault(&answer, status, fault);
        assert!(answer.body.to_string().len() < 1000, "{body}");
    }
    let listed = nova_call(&ecs, Method::GET, &url, None, "2.2").await;
    assert_eq!(listed.body["keypairs"].as_array().map(Vec::len), Some(1), "{}", listed.body);

    let other = TestServer::remote(&ecs.base, other_credential());
    let theirs = nova_call(&other, Method::GET, &keypairs(&other, "/k"), None, "2.2").await;
    assert_nova_fault(&theirs, 404, "itemNotFound");
    let same_name = json!({"keypair": {"name": "k"}});
    let same_name = nova_call(&other, Method::POST, &keypairs(&other, ""), Some(same_name), "2.2").await;
    assert_eq!(same_name.status, StatusCode::CREATED, "names are per project");
}

#[tokio::test]
async fn a_create_naming_an_unknown_key_pair_is_refused_by_ecs_and_nova_and_a_known_one_is_shown() {
    let ecs = TestServer::start().await;
    let mut body = create_body("keyed", "s6.small.1", 1);
    body["server"]["key_name"] = json!("nope");
    let (status, refused) = ecs.post(&ecs.v1("/cloudservers"), body.clone()).await;
    assert_error(status, &refused, 400, "Ecs.0314");
    let nova_body = create_request("k", json!({"key_name": "nope"}));
    let refused = nova_call(&ecs, Method::POST, &nova(&ecs, "/servers"), Some(nova_body), "2.1").await;
    assert_nova_fault(&refused, 400, "badRequest");
    assert_eq!(refused.body["badRequest"]["message"], "Invalid key_name provided.");
    assert!(ecs.all_servers().await.is_empty());

    let made =
        nova_call(&ecs, Method::POST, &keypairs(&ecs, ""), Some(json!({"keypair": {"name": "nope"}})), "2.2").await;
    assert_eq!(made.status, StatusCode::CREATED);
    let ids = ecs.create_from(body).await;
    assert_eq!(ecs.server(&ids[0]).await["key_name"], "nope");
    let shown = nova_call(&ecs, Method::GET, &nova(&ecs, &format!("/servers/{}", ids[0])), None, "2.1").await;
    assert_eq!(shown.body["server"]["key_name"], "nope");
    let deleted = nova_call(&ecs, Method::DELETE, &keypairs(&ecs, "/nope"), None, "2.2").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(ecs.server(&ids[0]).await["key_name"], "nope", "a server keeps the name of a deleted key pair");
}

#[tokio::test]
async fn key_pairs_are_in_snapshots_and_reset() {
    let ecs = TestServer::start().await;
    let url = keypairs(&ecs, "");
    assert_eq!(
        nova_call(&ecs, Method::POST, &url, Some(json!({"keypair": {"name": "kept"}})), "2.2").await.status,
        StatusCode::CREATED
    );
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "with-key"})).await;
    assert!(status.is_success());
    let (status, _) = ecs.post("/_ecsd/reset", json!({"project_id": ecs.project()})).await;
    assert!(status.is_success());
    assert_eq!(nova_call(&ecs, Method::GET, &url, None, "2.2").await.body["keypairs"], json!([]));
    let (status, _) = ecs.post("/_ecsd/snapshots/with-key/restore", json!({})).await;
    assert!(status.is_success());
    let shown = nova_call(&ecs, Method::GET, &keypairs(&ecs, "/kept"), None, "2.2").await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
}
