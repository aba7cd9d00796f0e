//! Day-2 operations (issue 13): consoles, charge mode, scheduled deletion on ecsd's clock,
//! the monitoring list, kernel dumps, launch templates and scheduled events. Each operation,
//! its refusals, project isolation and persistence.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// `now + hours` in the API's `yyyy-MM-ddTHH:mm:ssZ`, from the server's own clock.
async fn in_hours(ecs: &TestServer, hours: f64) -> String {
    let (_, now) = ecs.post("/_ecsd/clock/advance", json!({"seconds": 0})).await;
    let now =
        time::OffsetDateTime::parse(now["now"].as_str().expect("now"), &time::format_description::well_known::Rfc3339)
            .expect("a time");
    let at = now + time::Duration::seconds_f64(hours * 3600.0);
    at.format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z")).expect("format")
}

async fn advance(ecs: &TestServer, seconds: f64) {
    let (status, body) = ecs.post("/_ecsd/clock/advance", json!({ "seconds": seconds })).await;
    assert_eq!(status, StatusCode::OK, "advance: {body}");
}

async fn console_output(ecs: &TestServer, id: &str, length: &str) -> String {
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/console-output{length}"))).await;
    assert_eq!(status, StatusCode::OK, "console-output: {body}");
    body["output"].as_str().expect("output").to_string()
}

fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

// ------------------------------------------------------------------------------ consoles

#[tokio::test]
async fn a_remote_console_is_a_novnc_address_for_a_running_server_only() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("console", "s6.small.1", 2).await;
    let path = |id: &str| ecs.v1(&format!("/cloudservers/{id}/remote_console"));
    let vnc = json!({"remote_console": {"protocol": "vnc", "type": "novnc"}});
    let (status, body) = ecs.post(&path(&ids[0]), vnc.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let console = &body["remote_console"];
    assert_eq!((console["protocol"].as_str(), console["type"].as_str()), (Some("vnc"), Some("novnc")));
    let url = console["url"].as_str().expect("url");
    assert!(url.starts_with("https://nova-novncproxy.") && url.contains("/vnc_auto.html?token="), "{url}");
    let (_, again) = ecs.post(&path(&ids[0]), vnc.clone()).await;
    assert_ne!(again["remote_console"]["url"], console["url"], "every address has a fresh token");

    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let (status, body) = ecs.post(&path(&ids[1]), vnc.clone()).await;
    assert_error(status, &body, 400, "Ecs.0100");
    let (status, body) =
        ecs.post(&path(&ids[0]), json!({"remote_console": {"protocol": "vnc", "type": "serial"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) =
        ecs.post(&path(&ids[0]), json!({"remote_console": {"protocol": "rdp", "type": "novnc"}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&path("no-such-server"), vnc).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn serial_login_is_refused_until_it_is_switched_on_and_again_after_it_is_off() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("serial", "s6.small.1", 1).await.remove(0);
    let actions = ecs.v1(&format!("/cloudservers/{id}/actions/serial-console"));
    let options = ecs.v1(&format!("/cloudservers/{id}/serial-console-options"));
    let (status, body) = ecs.call(reqwest::Method::POST, &actions, None).await;
    assert_error(status, &body, 400, "Ecs.0100");

    let (status, body) = ecs.put(&options, json!({"serial_console_options": {"enabled": true}})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = ecs.call(reqwest::Method::POST, &actions, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["serial_console"]["url"].as_str().expect("url").starts_with("wss://"), "{body}");
    let serial = json!({"remote_console": {"protocol": "serial", "type": "serial"}});
    let (status, body) = ecs.post(&ecs.v1(&format!("/cloudservers/{id}/remote_console")), serial).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, _) = ecs.put(&options, json!({"serial_console_options": {"enabled": false}})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.call(reqwest::Method::POST, &actions, None).await;
    assert_error(status, &body, 400, "Ecs.0100");
    let (status, body) = ecs.put(&options, json!({"serial_console_options": {}})).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn switching_the_serial_console_of_a_busy_or_locked_server_is_refused() {
    let ecs = TestServer::start_with_timings(slow(false, true, false)).await;
    let id = ecs.create_servers("busy", "s6.small.1", 1).await.remove(0);
    let (status, _) = ecs.post(&ecs.v1("/cloudservers/action"), json!({"os-stop": {"servers": [{"id": id}]}})).await;
    assert_eq!(status, StatusCode::OK);
    let options = ecs.v1(&format!("/cloudservers/{id}/serial-console-options"));
    let (status, body) = ecs.put(&options, json!({"serial_console_options": {"enabled": true}})).await;
    assert_error(status, &body, 400, "Ecs.0603");

    let (status, fixtures) =
        ecs.post("/_ecsd/fixtures", json!({"servers": [{"name": "locked", "locked": true}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{fixtures}");
    let locked = fixtures["servers"][0].as_str().expect("id");
    let (status, body) = ecs
        .put(
            &ecs.v1(&format!("/cloudservers/{locked}/serial-console-options")),
            json!({"serial_console_options": {"enabled": true}}),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0605");
}

#[tokio::test]
async fn the_console_log_grows_with_boots_resets_reboots_and_dumps() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("log", "s6.small.1", 1).await.remove(0);
    let first = console_output(&ecs, &id, "?length=-1").await;
    assert_eq!(count(&first, "Linux version"), 1, "{first}");
    assert!(first.ends_with("log login: "), "{first}");

    let (status, _) = ecs
        .put(
            &ecs.v1(&format!("/cloudservers/{id}/os-reset-password")),
            json!({"reset-password": {"new_password": "Ecsd@2024pass"}}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let pending = console_output(&ecs, &id, "?length=-1").await;
    assert_eq!(pending, first, "a reset shows only when the guest boots again");

    ecs.batch("reboot", std::slice::from_ref(&id), json!({"type": "SOFT"})).await;
    let rebooted = console_output(&ecs, &id, "?length=-1").await;
    assert!(rebooted.starts_with(&first), "the log only grows");
    assert_eq!(count(&rebooted, "Linux version"), 2);
    assert_eq!(count(&rebooted, "reboot: Restarting system"), 1);
    assert_eq!(count(&rebooted, "The password of user root has been reset."), 1);

    ecs.batch("os-stop", std::slice::from_ref(&id), json!({})).await;
    let stopped = console_output(&ecs, &id, "?length=-1").await;
    assert!(stopped.ends_with("reboot: Power down"), "{stopped}");

    let last_five = console_output(&ecs, &id, "?length=5").await;
    assert_eq!(last_five.lines().count(), 5);
    assert!(stopped.ends_with(&last_five));
    ecs.batch("os-start", std::slice::from_ref(&id), json!({})).await;
    ecs.batch("reboot", std::slice::from_ref(&id), json!({"type": "HARD"})).await;
    let full = console_output(&ecs, &id, "?length=-1").await;
    assert_eq!(count(&full, "Linux version"), 4);
    assert_eq!(count(&full, "reboot: Restarting system"), 1, "a hard reboot does not shut down");
    let default = console_output(&ecs, &id, "").await;
    assert_eq!(default.split('\n').count(), 50, "50 lines when length is not given");
    assert!(full.ends_with(&default));
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/console-output?length=-2"))).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{id}/console-output?length=many"))).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

// ------------------------------------------------------------------------------ billing and life

fn charge(ids: &[&str]) -> Value {
    json!({"server_ids": ids, "charge_mode": "prePaid", "prepaid_options": {"period_type": "month", "period_num": "1"}})
}

#[tokio::test]
async fn a_charge_mode_change_places_an_order_that_is_never_paid() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("bill", "s6.small.1", 2).await;
    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let path = ecs.v1("/cloudservers/actions/change-charge-mode");
    let (status, body) = ecs.post(&path, charge(&[&ids[0], &ids[1]])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = body["order_id"].as_str().expect("order id");
    assert!(order.starts_with("CS") && order.len() == 17, "{order}");
    assert!(body.get("job_id").is_none(), "no job: nothing is paid, {body}");
    assert_eq!(ecs.server(&ids[0]).await["metadata"]["charging_mode"], "0", "still pay-per-use");

    let mut dry = charge(&[&ids[0]]);
    dry["dry_run"] = json!(true);
    let (status, _) = ecs.post(&path, dry).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, body) = ecs
        .post(
            &path,
            json!({"server_ids": [ids[0]], "charge_mode": "postPaid",
        "prepaid_options": {"period_type": "month", "period_num": 1}}),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs
        .post(
            &path,
            json!({"server_ids": [ids[0]], "charge_mode": "prePaid",
        "prepaid_options": {"period_type": "year", "period_num": "4"}}),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&path, json!({"server_ids": [ids[0]], "charge_mode": "prePaid"})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&path, charge(&[&ids[0], "no-such-server"])).await;
    assert_batch_refused(status, &body, &[("no-such-server", "Ecs.0114")]);
}

#[tokio::test]
async fn a_server_is_deleted_by_a_job_when_the_clock_reaches_its_auto_terminate_time() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("ttl", "s6.small.1", 2).await;
    let path = |id: &str| ecs.v1(&format!("/cloudservers/{id}/actions/update-auto-terminate-time"));
    let at = in_hours(&ecs, 1.0).await;
    let (status, body) = ecs.post(&path(&ids[0]), json!({ "auto_terminate_time": at })).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let shown = ecs.server(&ids[0]).await["auto_terminate_time"].as_str().expect("shown").to_string();
    assert!(has_shape(&shown, "dddd-dd-ddTdd:dd:00Z"), "seconds dropped: {shown}");
    assert_eq!(ecs.server(&ids[1]).await["auto_terminate_time"], "");

    advance(&ecs, 1800.0).await;
    assert_eq!(ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[0]))).await.0, StatusCode::OK, "not yet");
    advance(&ecs, 1900.0).await;
    let (status, body) = ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[0]))).await;
    assert_error(status, &body, 404, "Ecs.0114");
    assert_eq!(ecs.get(&ecs.v1(&format!("/cloudservers/{}", ids[1]))).await.0, StatusCode::OK, "the other stays");

    let (_, listed) = ecs.get("/_ecsd/auto-terminations").await;
    let fired = &listed["auto_terminations"][0];
    assert_eq!(fired["server_id"], ids[0]);
    let job = ecs.wait_job(fired["job_id"].as_str().expect("a delete job")).await;
    assert_eq!((job["job_type"].as_str(), job["status"].as_str()), (Some("deleteServer"), Some("SUCCESS")), "{job}");
    assert_eq!(job["entities"]["server_id"], ids[0]);
}

#[tokio::test]
async fn an_auto_terminate_time_is_cancelled_by_an_empty_string_or_null_and_refused_when_out_of_range() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("keep", "s6.small.1", 1).await.remove(0);
    let path = ecs.v1(&format!("/cloudservers/{id}/actions/update-auto-terminate-time"));
    for cancel in [json!(""), Value::Null] {
        let at = in_hours(&ecs, 1.0).await;
        assert_eq!(ecs.post(&path, json!({ "auto_terminate_time": at })).await.0, StatusCode::NO_CONTENT);
        let (status, body) = ecs.post(&path, json!({ "auto_terminate_time": cancel })).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        assert_eq!(ecs.server(&id).await["auto_terminate_time"], "");
    }
    advance(&ecs, 7200.0).await;
    assert_eq!(ecs.server(&id).await["status"], "ACTIVE", "cancelled deletions never fire");

    let soon = in_hours(&ecs, 0.25).await;
    let (status, body) = ecs.post(&path, json!({ "auto_terminate_time": soon })).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let far = in_hours(&ecs, 24.0 * 365.0 * 3.0 + 48.0).await;
    let (status, body) = ecs.post(&path, json!({ "auto_terminate_time": far })).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&path, json!({ "auto_terminate_time": "2030-01-01 00:00:00" })).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post(&path, json!({})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs
        .post(
            &ecs.v1("/cloudservers/no-such-server/actions/update-auto-terminate-time"),
            json!({"auto_terminate_time": ""}),
        )
        .await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn a_scheduled_deletion_survives_a_restart_and_a_reset_clears_it() {
    let mut ecs = TestServer::start().await;
    let ids = ecs.create_servers("persist", "s6.small.1", 2).await;
    for id in &ids {
        let at = in_hours(&ecs, 1.0).await;
        let (status, _) = ecs
            .post(
                &ecs.v1(&format!("/cloudservers/{id}/actions/update-auto-terminate-time")),
                json!({ "auto_terminate_time": at }),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    ecs.restart(ecsd::engine::sim::Timings::INSTANT).await;
    let (_, listed) = ecs.get("/_ecsd/auto-terminations").await;
    assert_eq!(listed["auto_terminations"].as_array().map(Vec::len), Some(2), "{listed}");
    let (status, _) = ecs.post("/_ecsd/snapshots", json!({"name": "before"})).await;
    assert_eq!(status, StatusCode::CREATED);

    advance(&ecs, 3700.0).await;
    assert!(ecs.all_servers().await.is_empty());
    let (status, _) = ecs.post("/_ecsd/snapshots/before/restore", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(ecs.all_servers().await.len(), 2, "the snapshot holds the servers and their pending deletions");
    let (status, _) = ecs.post("/_ecsd/reset", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = ecs.get("/_ecsd/auto-terminations").await;
    assert_eq!(listed["auto_terminations"], json!([]));
}

#[tokio::test]
async fn register_server_monitor_has_no_project_in_its_path_and_sees_only_the_callers_servers() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let id = ecs.create_servers("watched", "s6.small.1", 1).await.remove(0);
    let path = format!("/v1.0/servers/{id}/action");
    let (status, body) = ecs.post(&path, json!({"monitorMetrics": ""})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs.post(&path, json!({"monitorMetrics": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = ecs.post(&path, json!({})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.post("/v1.0/servers/no-such-server/action", json!({"monitorMetrics": ""})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    ecs.credential = other_credential();
    let (status, body) = ecs.post(&path, json!({"monitorMetrics": ""})).await;
    assert_error(status, &body, 404, "Ecs.0114");
}

#[tokio::test]
async fn a_kernel_dump_needs_a_running_x86_server_and_shows_on_the_console() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("dump", "s6.small.1", 2).await;
    let arm = ecs.create_servers("arm", "kc1.large.2", 1).await.remove(0);
    let path = |id: &str| ecs.v1(&format!("/cloudservers/{id}/actions/trigger-crash-dump"));
    let (status, body) = ecs.call(reqwest::Method::POST, &path(&ids[0]), None).await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!({})), "{body}");
    let log = console_output(&ecs, &ids[0], "?length=-1").await;
    assert_eq!(count(&log, "Kernel panic - not syncing: NMI"), 1);
    assert_eq!(count(&log, "Linux version"), 2, "the guest boots again after the dump");
    assert_eq!(ecs.server(&ids[0]).await["status"], "ACTIVE");

    ecs.batch("os-stop", &ids[1..], json!({})).await;
    let (status, body) = ecs.call(reqwest::Method::POST, &path(&ids[1]), None).await;
    assert_error(status, &body, 400, "Ecs.0100");
    let (status, body) = ecs.call(reqwest::Method::POST, &path(&arm), None).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn request_fault_rules_match_the_new_operations_by_name() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("faulty", "s6.small.1", 1).await.remove(0);
    let rule = json!({"operation": "crash-dump", "count": 1,
        "effect": {"kind": "http_error", "status": 503, "code": "Ecs.0615", "message": "injected"}});
    assert_eq!(ecs.post("/_ecsd/faults", rule).await.0, StatusCode::CREATED);
    let path = ecs.v1(&format!("/cloudservers/{id}/actions/trigger-crash-dump"));
    let (status, body) = ecs.call(reqwest::Method::POST, &path, None).await;
    assert_error(status, &body, 503, "Ecs.0615");
    assert_eq!(ecs.call(reqwest::Method::POST, &path, None).await.0, StatusCode::OK, "count 1");

    let precheck = json!({"operation": "auto-terminate", "server_id": id, "count": 1,
        "effect": {"kind": "precheck_fail", "code": "Ecs.0100", "message": "not now"}});
    assert_eq!(ecs.post("/_ecsd/faults", precheck).await.0, StatusCode::CREATED);
    let at = in_hours(&ecs, 2.0).await;
    let (status, body) = ecs
        .post(
            &ecs.v1(&format!("/cloudservers/{id}/actions/update-auto-terminate-time")),
            json!({ "auto_terminate_time": at }),
        )
        .await;
    assert_error(status, &body, 400, "Ecs.0100");
    assert_eq!(ecs.server(&id).await["auto_terminate_time"], "", "nothing changed");
}

// ------------------------------------------------------------------------------ launch templates

fn template(name: &str, flavor: &str, image: &str) -> Value {
    json!({"launch_template": {"name": name, "description": "web tier", "version_description": "first",
        "template_data": {"flavor_id": flavor, "name": "web", "availability_zone_id": "eu-de-01",
            "security_group_ids": ["sg-1"], "network_interfaces": [{"virsubnet_id": SUBNET}],
            "block_device_mappings": [{"source_type": "image", "source_id": image, "volume_type": "SSD",
                "volume_size": 40, "attachment": {"boot_index": 0}}],
            "metadata": {"team": "web"}, "tag_options": [{"tags": [{"key": "env", "value": "test"}]}]}}})
}

#[tokio::test]
async fn launch_templates_round_trip_with_their_versions_and_are_the_projects_own() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let p = ecs.project().to_string();
    let templates = format!("/v3/{p}/launch-templates");
    let (status, body) = ecs.post(&templates, template("web", "s6.small.1", IMAGE)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let web = body["launch_template_id"].as_str().expect("id").to_string();
    let (status, body) = ecs.post(&templates, template("db", "m6.large.8", "other-image")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let db = body["launch_template_id"].as_str().expect("id").to_string();

    let (status, listed) = ecs.get(&templates).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let names: Vec<&str> =
        listed["launch_templates"].as_array().expect("list").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["web", "db"]);
    let first = &listed["launch_templates"][0];
    assert_eq!((first["default_version"].as_u64(), first["latest_version"].as_u64()), (Some(1), Some(1)));
    assert_eq!(first["description"], "web tier");

    let (_, page) = ecs.get(&format!("{templates}?limit=1")).await;
    assert_eq!(page["page_info"]["next_marker"], web.as_str());
    let (_, next) = ecs.get(&format!("{templates}?limit=1&marker={web}")).await;
    assert_eq!(next["launch_templates"][0]["id"], db.as_str());
    assert!(next["page_info"].get("next_marker").is_none());
    let (_, by_name) = ecs.get(&format!("{templates}?name=db")).await;
    assert_eq!(by_name["launch_templates"].as_array().map(Vec::len), Some(1));

    let versions = format!("/v3/{p}/launch-template-versions");
    let (status, body) = ecs.get(&format!("{versions}?launch_template_id={web}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let version = &body["launch_template_versions"][0];
    assert_eq!(version["version_number"], 1);
    assert_eq!(version["version_description"], "first");
    assert_eq!(version["launch_template_id"], web.as_str());
    assert_eq!(version["template_data"], template("web", "s6.small.1", IMAGE)["launch_template"]["template_data"]);
    for (query, expected) in [
        (format!("image_id={IMAGE}"), 1),
        ("flavor_id=m6.large.8".to_string(), 1),
        ("version=1,2".to_string(), 2),
        ("version=2".to_string(), 0),
    ] {
        let (_, body) = ecs.get(&format!("{versions}?{query}")).await;
        assert_eq!(body["launch_template_versions"].as_array().map(Vec::len), Some(expected), "{query}: {body}");
    }

    ecs.credential = other_credential();
    let q = other_credential().project_id;
    let (_, theirs) = ecs.get(&format!("/v3/{q}/launch-templates")).await;
    assert_eq!(theirs["launch_templates"], json!([]));
    let (status, body) = ecs.call(reqwest::Method::DELETE, &format!("/v3/{q}/launch-templates/{web}"), None).await;
    assert_error(status, &body, 404, "Ecs.1000");
    ecs.credential = test_credential();

    let (status, _) = ecs.call(reqwest::Method::DELETE, &format!("{templates}/{web}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = ecs.call(reqwest::Method::DELETE, &format!("{templates}/{web}"), None).await;
    assert_error(status, &body, 404, "Ecs.1000");
    let (_, body) = ecs.get(&format!("{versions}?launch_template_id={web}")).await;
    assert_eq!(body["launch_template_versions"], json!([]), "the versions go with their template");
}

#[tokio::test]
async fn a_launch_template_with_a_bad_or_taken_name_is_refused_and_a_dry_run_creates_nothing() {
    let ecs = TestServer::start().await;
    let templates = format!("/v3/{}/launch-templates", ecs.project());
    assert_eq!(ecs.post(&templates, template("web", "s6.small.1", IMAGE)).await.0, StatusCode::OK);
    let (status, body) = ecs.post(&templates, template("web", "s6.large.2", IMAGE)).await;
    assert_error(status, &body, 400, "Ecs.0005");
    for name in ["", "has space", &"x".repeat(129)] {
        let (status, body) = ecs.post(&templates, template(name, "s6.small.1", IMAGE)).await;
        assert_error(status, &body, 400, "Ecs.0005");
    }
    let mut dry = template("dry", "s6.small.1", IMAGE);
    dry["dry_run"] = json!(true);
    assert_eq!(ecs.post(&templates, dry).await.0, StatusCode::ACCEPTED);
    let (_, listed) = ecs.get(&templates).await;
    assert_eq!(listed["launch_templates"].as_array().map(Vec::len), Some(1));
    let (status, body) = ecs.get(&format!("{templates}?limit=0")).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.get(&format!("{templates}?marker=nope")).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

// ------------------------------------------------------------------------------ scheduled events

async fn raise(ecs: &TestServer, body: Value) -> Value {
    let (status, event) = ecs.post("/_ecsd/scheduled-events", body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

async fn events(ecs: &TestServer, query: &str) -> Vec<Value> {
    let (status, body) = ecs.get(&format!("/v3/{}/instance-scheduled-events{query}", ecs.project())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["events"].as_array().expect("events").clone()
}

#[tokio::test]
async fn an_accepted_redeploy_event_runs_as_a_job_and_completes() {
    let ecs = TestServer::start().await;
    let id = ecs.create_servers("maint", "s6.small.1", 1).await.remove(0);
    let event = raise(&ecs, json!({"server_id": id, "type": "instance-redeploy"})).await;
    assert_eq!(event["state"], "inquiring");
    assert_eq!(event["instance_id"], id.as_str());
    assert!(event.get("not_before").is_none());
    let event_id = event["id"].as_str().expect("id");
    let base = format!("/v3/{}/instance-scheduled-events/{event_id}", ecs.project());

    let (status, body) = ecs.put(&base, json!({"not_before": "2030-01-01T00:00:00Z"})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs.call(reqwest::Method::POST, &format!("{base}/actions/accept"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    ecs.post("/_ecsd/clock/settle", json!({})).await;
    let listed = events(&ecs, "").await;
    assert_eq!(listed[0]["state"], "completed", "{listed:?}");
    assert!(listed[0]["start_time"].is_string() && listed[0]["finish_time"].is_string());
    let log = console_output(&ecs, &id, "?length=-1").await;
    assert_eq!(count(&log, "Linux version"), 2, "a redeploy restarts the guest: {log}");
    let (status, body) = ecs.call(reqwest::Method::POST, &format!("{base}/actions/accept"), None).await;
    assert_error(status, &body, 400, "Ecs.0005");

    let (status, body) = ecs
        .call(
            reqwest::Method::POST,
            &format!("/v3/{}/instance-scheduled-events/nope/actions/accept", ecs.project()),
            None,
        )
        .await;
    assert_error(status, &body, 404, "Ecs.1000");
}

#[tokio::test]
async fn a_scheduled_event_runs_at_its_time_on_the_clock_and_can_be_moved_before_its_deadline() {
    let ecs = TestServer::start().await;
    let ids = ecs.create_servers("planned", "s6.small.1", 2).await;
    let in_two = in_hours(&ecs, 2.0).await;
    let deadline = in_hours(&ecs, 48.0).await;
    let stop = raise(
        &ecs,
        json!({"server_id": ids[0], "type": "instance-stop", "state": "scheduled",
        "not_before": in_two, "not_before_deadline": deadline}),
    )
    .await;
    assert_eq!((stop["state"].as_str(), stop["not_before"].as_str()), (Some("scheduled"), Some(in_two.as_str())));
    let base = format!("/v3/{}/instance-scheduled-events/{}", ecs.project(), stop["id"].as_str().expect("id"));
    let (status, body) = ecs.put(&base, json!({"not_before": in_hours(&ecs, 72.0).await})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let in_three = in_hours(&ecs, 3.0).await;
    let (status, body) = ecs.put(&base, json!({"not_before": in_three})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    advance(&ecs, 2.5 * 3600.0).await;
    assert_eq!(ecs.server(&ids[0]).await["status"], "ACTIVE", "moved to three hours");
    advance(&ecs, 3600.0).await;
    assert_eq!(ecs.server(&ids[0]).await["status"], "SHUTOFF");
    assert_eq!(events(&ecs, "?state=completed&type=instance-stop").await.len(), 1);

    // An event whose action the server's state forbids fails, as its job does.
    let reboot = raise(
        &ecs,
        json!({"server_id": ids[0], "type": "instance-reboot", "state": "scheduled",
        "not_before": in_hours(&ecs, 0.0).await}),
    )
    .await;
    ecs.post("/_ecsd/clock/settle", json!({})).await;
    let failed = events(&ecs, &format!("?id={}", reboot["id"].as_str().expect("id"))).await;
    assert_eq!(failed[0]["state"], "failed", "{failed:?}");
    assert_eq!(events(&ecs, &format!("?instance_id={}", ids[1])).await.len(), 0);
    let (status, body) = ecs.get(&format!("/v3/{}/instance-scheduled-events?state=later", ecs.project())).await;
    assert_error(status, &body, 400, "Ecs.0005");
}

#[tokio::test]
async fn events_are_raised_only_for_the_callers_servers_and_of_simulated_kinds() {
    let mut ecs = TestServer::start_with_two_projects().await;
    let id = ecs.create_servers("mine", "s6.small.1", 1).await.remove(0);
    let (status, body) =
        ecs.post("/_ecsd/scheduled-events", json!({"server_id": id, "type": "localdisk-recovery"})).await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) = ecs
        .post("/_ecsd/scheduled-events", json!({"server_id": id, "type": "instance-reboot", "state": "completed"}))
        .await;
    assert_error(status, &body, 400, "Ecs.0005");
    let (status, body) =
        ecs.post("/_ecsd/scheduled-events", json!({"server_id": "nope", "type": "instance-reboot"})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    raise(&ecs, json!({"server_id": id, "type": "system-maintenance"})).await;
    let last = raise(
        &ecs,
        json!({"server_id": id, "type": "instance-reboot", "state": "scheduled",
        "not_before": "9999-12-31T23:00:00Z", "not_before_deadline": "9999-12-31T23:30:00Z"}),
    )
    .await;
    assert!(last.get("not_after").is_none(), "no window past the end of the calendar: {last}");
    ecs.credential = other_credential();
    let (status, body) = ecs.post("/_ecsd/scheduled-events", json!({"server_id": id, "type": "instance-reboot"})).await;
    assert_error(status, &body, 404, "Ecs.0114");
    assert!(events(&ecs, "").await.is_empty(), "another project sees none");
}
