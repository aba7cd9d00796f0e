//! `POST /v1/{pid}/cloudservers` and `POST /v1.1/{pid}/cloudservers` (SDK `CreateServers`,
//! `CreatePostPaidServers`): contract T1.8, T1.9, 1.5.

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OTHER_VPC: &str = "3b9e6d1a-7c2f-4e8a-b5d0-0a1b2c3d4e02";
const OTHER_SUBNET: &str = "5c1d7e2b-8a3f-4b9c-a6e1-1b2c3d4e5f02";
const DEACTIVATED_IMAGE: &str = "0d4f9e1c-6b1e-4c1e-9a55-3f3c0b2f5a10";

/// The create body of `name` × `count` with `change` applied to its `server` object.
fn body_with(count: u32, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut body = create_body("web", "s6.small.1", count);
    change(body["server"].as_object_mut().expect("server object"));
    body
}

/// Asserts that creating with `body` fails with `code` (400) and that nothing was created.
async fn assert_refused(ecs: &TestServer, body: Value, code: &str) -> String {
    let before = ecs.all_servers().await.len();
    let (status, answer) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    let message = assert_error(status, &answer, 400, code);
    assert_eq!(ecs.all_servers().await.len(), before, "nothing created");
    message
}

fn is_job_id(value: &Value) -> bool {
    value.as_str().is_some_and(|s| s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_uuid(value: &Value) -> bool {
    value.as_str().is_some_and(|s| uuid::Uuid::parse_str(s).is_ok_and(|u| u.hyphenated().to_string() == s))
}

#[tokio::test]
async fn count_creates_that_many_servers_with_four_digit_suffixes() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("web", "s6.small.1", 3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["job_id", "serverIds"], "exactly job_id and serverIds");
    assert!(is_job_id(&body["job_id"]), "{body}");
    let ids: Vec<String> = body["serverIds"]
        .as_array()
        .expect("serverIds")
        .iter()
        .map(|v| {
            assert!(is_uuid(v), "server id {v} is a dashed UUID");
            v.as_str().expect("id").to_string()
        })
        .collect();
    assert_eq!(ids.len(), 3);

    let job = ecs.wait_job(body["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["job_type"], "createServer");
    assert_eq!(job["entities"]["sub_jobs_total"], 3);
    let sub_server_ids: Vec<&str> = job["entities"]["sub_jobs"]
        .as_array()
        .expect("sub jobs")
        .iter()
        .map(|s| {
            assert_eq!(s["job_type"], "createSingleServer");
            assert_eq!(s["status"], "SUCCESS");
            s["entities"]["server_id"].as_str().expect("server id")
        })
        .collect();
    assert_eq!(sub_server_ids, ids);

    for (index, id) in ids.iter().enumerate() {
        let server = ecs.server(id).await;
        assert_eq!(server["name"], format!("web-{index:04}"));
        assert_eq!(server["status"], "ACTIVE");
        assert_eq!(server["OS-EXT-SRV-ATTR:launch_index"], index);
    }
    let reservation = ecs.server(&ids[0]).await["OS-EXT-SRV-ATTR:reservation_id"].clone();
    assert_eq!(
        ecs.server(&ids[2]).await["OS-EXT-SRV-ATTR:reservation_id"],
        reservation,
        "servers created together share a reservation id"
    );
}

#[tokio::test]
async fn a_single_server_keeps_its_name_without_suffix() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("db.primary", "s6.large.2", 1).await;
    assert_eq!(ecs.server(&ids[0]).await["name"], "db.primary");
}

#[tokio::test]
async fn servers_are_visible_in_build_as_soon_as_the_create_is_accepted() {
    let ecs = TestServer::start_with_timings(slow(true, false, false)).await;
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), create_body("web", "s6.small.1", 1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let server = ecs.server(body["serverIds"][0].as_str().expect("id")).await;
    assert_eq!(server["status"], "BUILD");
    assert_eq!(server["OS-EXT-STS:vm_state"], "building");
    assert_eq!(server["OS-EXT-STS:power_state"], 0);
    assert!(server["OS-EXT-STS:task_state"].is_string(), "{server}");
    let job = ecs.job(body["job_id"].as_str().expect("job")).await;
    assert!(job["status"] == "INIT" || job["status"] == "RUNNING", "{job}");
    assert_eq!(job["end_time"], "", "end_time is empty until the job ends");
}

#[tokio::test]
async fn dry_run_answers_202_and_creates_nothing() {
    let ecs = TestServer::start().await;
    let mut body = create_body("web", "s6.small.1", 2);
    body["dry_run"] = json!(true);
    let (status, answer) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert!(ecs.all_servers().await.is_empty());
    assert_eq!(ecs.limits().await["totalInstancesUsed"], 0);
}

#[tokio::test]
async fn dry_run_still_checks_the_request() {
    let ecs = TestServer::start().await;
    let mut body = body_with(1, |s| {
        s.insert("flavorRef".into(), json!("no.such.flavor"));
    });
    body["dry_run"] = json!(true);
    assert_refused(&ecs, body, "Ecs.0029").await;
}

#[tokio::test]
async fn the_same_client_token_and_body_answer_the_first_result_and_create_nothing_new() {
    let ecs = TestServer::start().await;
    let token = uuid::Uuid::new_v4().to_string();
    let body = serde_json::to_vec(&create_body("idem", "s6.small.1", 2)).expect("json");
    let headers = [("x-client-token", token.as_str())];
    let (status, first) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), body.clone(), &headers).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    ecs.wait_job(first["job_id"].as_str().expect("job")).await;

    let (status, second) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), body, &headers).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second, first, "the first answer again");
    assert_eq!(ecs.all_servers().await.len(), 2, "nothing new created");
    assert_eq!(ecs.limits().await["totalInstancesUsed"], 2);
}

#[tokio::test]
async fn the_same_client_token_with_another_body_is_refused_with_ecs_0122() {
    let ecs = TestServer::start().await;
    let token = uuid::Uuid::new_v4().to_string();
    let headers = [("x-client-token", token.as_str())];
    let first = serde_json::to_vec(&create_body("idem", "s6.small.1", 1)).expect("json");
    let (status, answer) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), first, &headers).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    ecs.wait_job(answer["job_id"].as_str().expect("job")).await;

    let other = serde_json::to_vec(&create_body("idem", "s6.small.1", 2)).expect("json");
    let (status, answer) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), other, &headers).await;
    assert_error(status, &answer, 400, "Ecs.0122");
    assert_eq!(ecs.all_servers().await.len(), 1, "nothing new created");
}

#[tokio::test]
async fn a_client_token_that_is_not_a_lower_case_uuid_is_refused_with_ecs_0123() {
    let ecs = TestServer::start().await;
    let upper = uuid::Uuid::new_v4().to_string().to_uppercase();
    for token in ["not-a-uuid", upper.as_str(), "12345678123456781234567812345678"] {
        let body = serde_json::to_vec(&create_body("web", "s6.small.1", 1)).expect("json");
        let (status, answer) =
            ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), body, &[("x-client-token", token)]).await;
        assert_error(status, &answer, 400, "Ecs.0123");
    }
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn an_unknown_flavor_is_ecs_0029() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("flavorRef".into(), json!("s9.huge.99"));
    });
    assert_refused(&ecs, body, "Ecs.0029").await;
}

#[tokio::test]
async fn an_unknown_image_is_ecs_0031() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("imageRef".into(), json!("00000000-0000-4000-8000-000000000000"));
    });
    assert_refused(&ecs, body, "Ecs.0031").await;
}

#[tokio::test]
async fn a_deactivated_image_is_ecs_0032() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("imageRef".into(), json!(DEACTIVATED_IMAGE));
    });
    assert_refused(&ecs, body, "Ecs.0032").await;
}

#[tokio::test]
async fn an_unknown_vpc_is_ecs_0014() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("vpcid".into(), json!("00000000-0000-4000-8000-000000000001"));
    });
    assert_refused(&ecs, body, "Ecs.0014").await;
}

#[tokio::test]
async fn an_unknown_subnet_is_ecs_0038() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("nics".into(), json!([{"subnet_id": "00000000-0000-4000-8000-000000000002"}]));
    });
    assert_refused(&ecs, body, "Ecs.0038").await;
}

#[tokio::test]
async fn a_subnet_of_another_vpc_is_ecs_0064() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("nics".into(), json!([{ "subnet_id": OTHER_SUBNET }]));
    });
    assert_refused(&ecs, body, "Ecs.0064").await;
    // The same subnet with its own VPC is fine.
    let ids = ecs
        .create_from(body_with(1, |s| {
            s.insert("vpcid".into(), json!(OTHER_VPC));
            s.insert("nics".into(), json!([{ "subnet_id": OTHER_SUBNET }]));
        }))
        .await;
    let server = ecs.server(&ids[0]).await;
    let addr = server["addresses"][OTHER_VPC][0]["addr"].as_str().expect("address in the backend VPC");
    assert!(addr.starts_with("10.0.1."), "{addr}");
}

#[tokio::test]
async fn an_ip_outside_the_subnet_is_ecs_0039() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("nics".into(), json!([{"subnet_id": SUBNET, "ip_address": "10.20.30.40"}]));
    });
    assert_refused(&ecs, body, "Ecs.0039").await;
}

#[tokio::test]
async fn a_fixed_ip_is_assigned_and_a_second_request_for_it_is_ecs_0010() {
    let ecs = TestServer::start().await;
    let fixed = |name: &str| {
        let mut body = create_body(name, "s6.small.1", 1);
        body["server"]["nics"] = json!([{"subnet_id": SUBNET, "ip_address": "192.168.3.77"}]);
        body
    };
    let ids = ecs.create_from(fixed("first")).await;
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["addresses"][VPC][0]["addr"], "192.168.3.77");
    let message = assert_refused(&ecs, fixed("second"), "Ecs.0010").await;
    assert!(message.contains("192.168.3.77"), "{message}");
}

#[tokio::test]
async fn a_count_outside_1_to_100_is_ecs_0913() {
    let ecs = TestServer::start().await;
    for count in [0, 101] {
        assert_refused(&ecs, create_body("web", "s6.small.1", count), "Ecs.0913").await;
    }
    let ids = ecs.create_servers("many", "s6.small.1", 100).await;
    assert_eq!(ids.len(), 100);
    assert_eq!(ecs.server(&ids[99]).await["name"], "many-0099");
}

#[tokio::test]
async fn a_name_too_long_is_ecs_0914_and_one_with_bad_characters_is_ecs_0915() {
    let ecs = TestServer::start().await;
    let named = |name: &str, count: u32| create_body(name, "s6.small.1", count);
    assert_refused(&ecs, named(&"a".repeat(129), 1), "Ecs.0914").await;
    // With count > 1 the suffix `-0000` must still fit in 128 characters.
    assert_refused(&ecs, named(&"a".repeat(124), 2), "Ecs.0914").await;
    assert_refused(&ecs, named("web server", 1), "Ecs.0915").await;
    assert_refused(&ecs, named("web/1", 1), "Ecs.0915").await;
    assert_refused(&ecs, named("", 1), "Ecs.0915").await;

    let ids = ecs.create_from(named(&"a".repeat(128), 1)).await;
    assert_eq!(ecs.server(&ids[0]).await["name"].as_str().map(str::len), Some(128));
    let ids = ecs.create_from(named(&"b".repeat(123), 2)).await;
    assert_eq!(ecs.server(&ids[1]).await["name"], format!("{}-0001", "b".repeat(123)));
}

#[tokio::test]
async fn a_description_too_long_or_with_angle_brackets_is_ecs_0041() {
    let ecs = TestServer::start().await;
    for description in ["x".repeat(86), "<b>bold</b>".to_string()] {
        let body = body_with(1, |s| {
            s.insert("description".into(), json!(description));
        });
        assert_refused(&ecs, body, "Ecs.0041").await;
    }
}

#[tokio::test]
async fn a_weak_admin_password_is_ecs_0011() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("adminPass".into(), json!("password"));
    });
    assert_refused(&ecs, body, "Ecs.0011").await;
}

#[tokio::test]
async fn an_unknown_availability_zone_is_refused_and_a_known_one_is_used() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("availability_zone".into(), json!("mars-01"));
    });
    assert_refused(&ecs, body, "Ecs.0005").await;
    let ids = ecs
        .create_from(body_with(1, |s| {
            s.insert("availability_zone".into(), json!("eu-de-02"));
        }))
        .await;
    assert_eq!(ecs.server(&ids[0]).await["OS-EXT-AZ:availability_zone"], "eu-de-02");
}

#[tokio::test]
async fn exceeding_the_instance_or_core_quota_is_ecs_0001() {
    let ecs = TestServer::start_with_toml("[quota]\nmax_instances = 3\nmax_cores = 4\n").await;
    assert_refused(&ecs, create_body("web", "s6.small.1", 4), "Ecs.0001").await;
    ecs.create_servers("web", "s6.small.1", 2).await;
    // 2 of 3 instances used: one more fits, two do not.
    assert_refused(&ecs, create_body("more", "s6.small.1", 2), "Ecs.0001").await;
    // 2 of 4 cores used: a 4-vCPU flavor does not fit.
    assert_refused(&ecs, create_body("big", "s6.xlarge.2", 1), "Ecs.0001").await;
    ecs.create_servers("last", "s6.large.2", 1).await;
    let limits = ecs.limits().await;
    assert_eq!(limits["maxTotalInstances"], 3);
    assert_eq!(limits["totalInstancesUsed"], 3);
    assert_eq!(limits["totalCoresUsed"], 4);
    assert_refused(&ecs, create_body("over", "s6.small.1", 1), "Ecs.0001").await;
}

#[tokio::test]
async fn a_full_subnet_is_ecs_0012() {
    // A /29 has 8 addresses; network, gateway and broadcast leave 5 for servers.
    let ecs = TestServer::start_with_toml(&format!(
        r#"
[[subnets]]
id = "{SUBNET}"
name = "subnet-tiny"
vpc_id = "{VPC}"
cidr = "192.168.7.0/29"
gateway_ip = "192.168.7.1"
"#
    ))
    .await;
    assert_refused(&ecs, create_body("web", "s6.small.1", 6), "Ecs.0012").await;
    let ids = ecs.create_servers("web", "s6.small.1", 5).await;
    let mut addrs: Vec<String> = Vec::new();
    for id in &ids {
        let server = ecs.server(id).await;
        addrs.push(server["addresses"][VPC][0]["addr"].as_str().expect("addr").to_string());
    }
    addrs.sort();
    assert_eq!(addrs, ["192.168.7.2", "192.168.7.3", "192.168.7.4", "192.168.7.5", "192.168.7.6"]);
    assert_refused(&ecs, create_body("one-more", "s6.small.1", 1), "Ecs.0012").await;
}

#[tokio::test]
async fn malformed_json_is_ecs_0005_and_an_empty_body_is_common_0002() {
    let ecs = TestServer::start().await;
    let (status, body) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), b"{\"server\": {".to_vec(), &[]).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), Vec::new(), &[]).await;
    assert_error(status, &body, 400, "Common.0002");
    // Well-formed JSON without a required field.
    let mut missing = create_body("web", "s6.small.1", 1);
    missing["server"].as_object_mut().expect("server").remove("imageRef");
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), missing).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&ecs.v1("/cloudservers"), json!([1, 2])).await;
    assert_error(status, &body, 400, "Ecs.0005");
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn an_unknown_project_is_ecs_0003_with_403() {
    // What the SDK sends with a credential naming a project the access key may not use: the
    // same project in the URL and in the signed X-Project-Id.
    let ecs = TestServer::start().await;
    let project = "99999999999999999999999999999999";
    let answer = ecs
        .call_with_headers(
            Method::POST,
            &format!("/v1/{project}/cloudservers"),
            serde_json::to_vec(&create_body("web", "s6.small.1", 1)).expect("json"),
            &[],
            Some(project),
        )
        .await;
    assert_error(answer.status, &answer.body, 403, "Ecs.0003");
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn a_url_project_other_than_the_signed_x_project_id_is_ecs_0023() {
    let ecs = TestServer::start().await;
    let project = "99999999999999999999999999999999";
    let answer = ecs
        .call_with_headers(
            Method::POST,
            &format!("/v1/{project}/cloudservers"),
            serde_json::to_vec(&create_body("web", "s6.small.1", 1)).expect("json"),
            &[],
            None,
        )
        .await;
    assert_error(answer.status, &answer.body, 400, "Ecs.0023");
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn the_v1_1_path_creates_servers_too() {
    let ecs = TestServer::start().await;
    let mut body = create_body("v11", "s6.small.1", 2);
    body["server"]["extendparam"] = json!({"chargingMode": "postPaid"});
    let path = format!("/v1.1/{}/cloudservers", ecs.project());
    let (status, answer) = ecs.post(&path, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(is_job_id(&answer["job_id"]));
    assert!(answer.get("order_id").is_none(), "no order for pay-per-use: {answer}");
    let job = ecs.wait_job(answer["job_id"].as_str().expect("job")).await;
    assert_eq!(job["status"], "SUCCESS");
    assert_eq!(job["job_type"], "createServer");
    let id = answer["serverIds"][1].as_str().expect("id");
    assert_eq!(ecs.server(id).await["name"], "v11-0001");
}

#[tokio::test]
async fn prepaid_servers_are_refused_with_ecs_0005() {
    let ecs = TestServer::start().await;
    let mut body = create_body("yearly", "s6.small.1", 1);
    body["server"]["extendparam"] = json!({"chargingMode": "prePaid", "periodType": "month", "periodNum": 1});
    let path = format!("/v1.1/{}/cloudservers", ecs.project());
    let (status, answer) = ecs.post(&path, body).await;
    assert_error(status, &answer, 400, "Ecs.0005");
    assert!(ecs.all_servers().await.is_empty());
}

#[tokio::test]
async fn metadata_tags_and_volumes_of_the_request_are_recorded() {
    let ecs = TestServer::start().await;
    let ids = ecs
        .create_from(body_with(1, |s| {
            s.insert("metadata".into(), json!({"owner": "team-a"}));
            s.insert("tags".into(), json!(["old.form"]));
            s.insert("server_tags".into(), json!([{"key": "env", "value": "prod"}, {"key": "solo"}]));
            s.insert("root_volume".into(), json!({"volumetype": "SAS", "size": 50}));
            s.insert("data_volumes".into(), json!([{"volumetype": "SSD", "size": 100}]));
            s.insert("description".into(), json!("web tier"));
        }))
        .await;
    let server = ecs.server(&ids[0]).await;
    assert_eq!(server["metadata"]["owner"], "team-a");
    assert_eq!(server["tags"], json!(["old=form", "env=prod", "solo"]));
    assert_eq!(server["description"], "web tier");
    let volumes = server["os-extended-volumes:volumes_attached"].as_array().expect("volumes");
    assert_eq!(volumes.len(), 2, "{volumes:?}");
    assert_eq!(volumes[0]["bootIndex"], "0");
}

#[tokio::test]
async fn more_nics_than_the_flavor_takes_is_ecs_0050() {
    let ecs = TestServer::start().await;
    // s6.small.1 takes 2 NICs.
    let body = body_with(1, |s| {
        s.insert("nics".into(), json!([{"subnet_id": SUBNET}, {"subnet_id": SUBNET}, {"subnet_id": SUBNET}]));
    });
    assert_refused(&ecs, body, "Ecs.0050").await;
    let body = body_with(1, |s| {
        s.insert("nics".into(), json!([]));
    });
    assert_refused(&ecs, body, "Ecs.0050").await;
}

#[tokio::test]
async fn disk_errors_are_ecs_0042_and_ecs_0043() {
    let ecs = TestServer::start().await;
    let body = body_with(1, |s| {
        s.insert("root_volume".into(), json!({"volumetype": "TAPE"}));
    });
    assert_refused(&ecs, body, "Ecs.0043").await;
    let body = body_with(1, |s| {
        s.insert("data_volumes".into(), json!(vec![json!({"volumetype": "SSD", "size": 10}); 60]));
    });
    assert_refused(&ecs, body, "Ecs.0042").await;
}

#[tokio::test]
async fn tag_errors_are_ecs_0905_0906_and_0908() {
    let ecs = TestServer::start().await;
    let eleven: Vec<Value> = (0..11).map(|i| json!({"key": format!("k{i}"), "value": "v"})).collect();
    let body = body_with(1, |s| {
        s.insert("server_tags".into(), json!(eleven));
    });
    assert_refused(&ecs, body, "Ecs.0905").await;
    let body = body_with(1, |s| {
        s.insert("server_tags".into(), json!([{"key": "bad key!", "value": "v"}]));
    });
    assert_refused(&ecs, body, "Ecs.0906").await;
    let body = body_with(1, |s| {
        s.insert("server_tags".into(), json!([{"key": "env", "value": "a"}, {"key": "env", "value": "b"}]));
    });
    assert_refused(&ecs, body, "Ecs.0908").await;
}

#[tokio::test]
async fn an_admin_password_may_use_the_create_specials() {
    let ecs = TestServer::start().await;
    // `$`, `^`, `#` and `~` are allowed at create (T1.8), unlike in the batch reset (T1.4).
    let ids = ecs
        .create_from(body_with(1, |s| {
            s.insert("adminPass".into(), json!("Cr3ate$^#~pw"));
        }))
        .await;
    let server = ecs.server(&ids[0]).await;
    assert!(!server.to_string().contains("Cr3ate$^#~pw"), "the password is never returned");
}

#[tokio::test]
async fn a_dry_run_reserves_no_address() {
    let ecs = TestServer::start().await;
    let mut body = create_body("dry", "s6.small.1", 3);
    body["dry_run"] = json!(true);
    let (status, _) = ecs.post(&ecs.v1("/cloudservers"), body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let ids = ecs.create_servers("real", "s6.small.1", 1).await;
    assert_eq!(ecs.server(&ids[0]).await["addresses"][VPC][0]["addr"], "192.168.0.2");
}

#[tokio::test]
async fn addresses_freed_below_others_are_handed_out_first() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("web", "s6.small.1", 4).await;
    ecs.delete(&ids[1..3]).await;
    let again = ecs.create_servers("again", "s6.small.1", 3).await;
    let mut addrs = Vec::new();
    for id in &again {
        addrs.push(ecs.server(id).await["addresses"][VPC][0]["addr"].as_str().expect("addr").to_string());
    }
    assert_eq!(addrs, ["192.168.0.3", "192.168.0.4", "192.168.0.6"]);
}

#[tokio::test]
async fn a_client_token_older_than_8_hours_is_ecs_0124() {
    let ecs = TestServer::start().await;
    let token = [("x-client-token", "5f0c8a0e-3d2b-4c1a-9e8f-7a6b5c4d3e2f")];
    let body = serde_json::to_vec(&create_body("tok", "s6.small.1", 1)).expect("json");
    let (status, first) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), body.clone(), &token).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, _) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 9 * 3600})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = ecs.call_raw(Method::POST, &ecs.v1("/cloudservers"), body, &token).await;
    assert_error(status, &again, 400, "Ecs.0124");
}
