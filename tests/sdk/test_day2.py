"""Issue 13: day-2 operations through the official Python SDK: consoles, billing and life (charge mode, scheduled
deletion on ecsd's clock, monitoring, kernel dump), launch templates, and scheduled events raised with `ecsd ctl`.

Docs: docs/behaviour.md "Day-2 operations", docs/testing.md "Worked example: host maintenance".
"""

from __future__ import annotations

import datetime
import json

from huaweicloudsdkecs.v2 import (
    AcceptScheduledEventRequest,
    BatchRebootServersRequest,
    BatchRebootServersRequestBody,
    BatchRebootSeversOption,
    ChangeServerChargeModePrepaidOption,
    ChangeServerChargeModeRequest,
    ChangeServerChargeModeRequestBody,
    CreateLaunchTemplateRequest,
    CreateLaunchTemplateRequestBody,
    DeleteLaunchTemplatesRequest,
    ExecuteServerDumpRequest,
    GetServerRemoteConsoleOption,
    LaunchTemplateOption,
    ListLaunchTemplateVersionsRequest,
    ListScheduledEventsRequest,
    ListTemplatesRequest,
    RegisterServerMonitorRequest,
    RegisterServerMonitorRequestBody,
    ResetServerPasswordOption,
    ResetServerPasswordRequest,
    ResetServerPasswordRequestBody,
    ScheduledEventAcceptBody,
    ScheduledEventUpdateBody,
    ShowSerialConsoleActionsRequest,
    ShowServerConsoleOutputRequest,
    ShowServerRemoteConsoleRequest,
    ShowServerRemoteConsoleRequestBody,
    TemplateBlockDeviceMappingOption,
    TemplateData,
    UpdateScheduledEventRequest,
    UpdateSerialConsoleOptionsOption,
    UpdateSerialConsoleOptionsRequest,
    UpdateSerialConsoleOptionsRequestBody,
    UpdateServerAutoTerminateTimeRequest,
    UpdateServerAutoTerminateTimeRequestBody,
)
from huaweicloudsdkecs.v2.model.show_server_request import ShowServerRequest

from conftest import expect_client_error, run_ecsd_cli, server_ids


def ctl(ecsd, *args):
    env = {"ECSD_ACCESS_KEY": ecsd.ak, "ECSD_SECRET_KEY": ecsd.sk, "ECSD_PROJECT_ID": ecsd.project_id}
    return run_ecsd_cli("ctl", "--endpoint", ecsd.endpoint, *args, env=env)


def advance(ecsd, seconds: float) -> datetime.datetime:
    r = ecsd.raw("POST", "/_ecsd/clock/advance", {"seconds": seconds})
    assert r.status_code == 200, r.text
    return datetime.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))


def utc(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def console(ecsd, server_id: str, length: int = -1) -> str:
    return ecsd.ecs.show_server_console_output(ShowServerConsoleOutputRequest(server_id=server_id, length=length)).output


# ------------------------------------------------------------------ consoles


def test_consoles_give_login_addresses_and_a_log_that_grows_with_the_servers_life(ecsd):
    [sid] = ecsd.create_servers(1, name="console")
    vnc = ecsd.ecs.show_server_remote_console(
        ShowServerRemoteConsoleRequest(
            server_id=sid,
            body=ShowServerRemoteConsoleRequestBody(remote_console=GetServerRemoteConsoleOption(protocol="vnc", type="novnc")),
        )
    ).remote_console
    assert (vnc.protocol, vnc.type) == ("vnc", "novnc")
    assert "/vnc_auto.html?token=" in vnc.url

    error = expect_client_error(ecsd.ecs.show_serial_console_actions, ShowSerialConsoleActionsRequest(server_id=sid))
    assert (error.status_code, error.error_code) == (400, "Ecs.0100")
    ecsd.ecs.update_serial_console_options(
        UpdateSerialConsoleOptionsRequest(
            server_id=sid,
            body=UpdateSerialConsoleOptionsRequestBody(serial_console_options=UpdateSerialConsoleOptionsOption(enabled=True)),
        )
    )
    serial = ecsd.ecs.show_serial_console_actions(ShowSerialConsoleActionsRequest(server_id=sid)).serial_console
    assert serial.url.startswith("wss://")

    first = console(ecsd, sid)
    assert first.count("Linux version") == 1
    ecsd.ecs.reset_server_password(
        ResetServerPasswordRequest(
            server_id=sid,
            body=ResetServerPasswordRequestBody(reset_password=ResetServerPasswordOption(new_password="Ecsd@2024pass")),
        )
    )
    job = ecsd.ecs.batch_reboot_servers(
        BatchRebootServersRequest(
            body=BatchRebootServersRequestBody(reboot=BatchRebootSeversOption(servers=server_ids([sid]), type="SOFT"))
        )
    )
    assert ecsd.wait_job(job.job_id).status == "SUCCESS"
    after = console(ecsd, sid)
    assert after.startswith(first)
    assert after.count("Linux version") == 2
    assert after.count("The password of user root has been reset.") == 1
    assert len(console(ecsd, sid, length=3).split("\n")) == 3


# ------------------------------------------------------------------ billing and life


def test_auto_terminate_deletes_the_server_with_a_job_after_the_clock_advances(ecsd):
    doomed, kept = ecsd.create_servers(2, name="ttl")
    now = advance(ecsd, 0)
    at = utc((now + datetime.timedelta(hours=1)).replace(second=0))
    ecsd.ecs.update_server_auto_terminate_time(
        UpdateServerAutoTerminateTimeRequest(
            server_id=doomed, body=UpdateServerAutoTerminateTimeRequestBody(auto_terminate_time=at)
        )
    )
    assert ecsd.show(doomed).auto_terminate_time == at
    advance(ecsd, 3600 + 60)

    error = expect_client_error(ecsd.ecs.show_server, ShowServerRequest(server_id=doomed))
    assert (error.status_code, error.error_code) == (404, "Ecs.0114")
    assert ecsd.show(kept).status == "ACTIVE"
    listed = json.loads(ctl(ecsd, "auto-terminations").stdout)["auto_terminations"]
    assert [t["server_id"] for t in listed] == [doomed]
    job = ecsd.wait_job(listed[0]["job_id"])
    assert (job.job_type, job.status, job.entities.server_id) == ("deleteServer", "SUCCESS", doomed)

    error = expect_client_error(
        ecsd.ecs.update_server_auto_terminate_time,
        UpdateServerAutoTerminateTimeRequest(
            server_id=kept, body=UpdateServerAutoTerminateTimeRequestBody(auto_terminate_time=utc(now))
        ),
    )
    assert (error.status_code, error.error_code) == (400, "Ecs.0005")


def test_charge_mode_monitor_and_dump_answer_as_documented(ecsd):
    [sid] = ecsd.create_servers(1, name="life")
    order = ecsd.ecs.change_server_charge_mode(
        ChangeServerChargeModeRequest(
            body=ChangeServerChargeModeRequestBody(
                server_ids=[sid],
                charge_mode="prePaid",
                prepaid_options=ChangeServerChargeModePrepaidOption(period_type="month", period_num="3", auto_pay=True),
            )
        )
    )
    assert order.order_id.startswith("CS") and order.job_id is None
    assert ecsd.show(sid).metadata["charging_mode"] == "0"

    ecsd.ecs.register_server_monitor(
        RegisterServerMonitorRequest(server_id=sid, body=RegisterServerMonitorRequestBody(monitor_metrics=""))
    )
    ecsd.ecs.execute_server_dump(ExecuteServerDumpRequest(server_id=sid))
    assert "Kernel panic - not syncing: NMI" in console(ecsd, sid)
    assert ecsd.show(sid).status == "ACTIVE"


# ------------------------------------------------------------------ launch templates


def test_a_launch_template_round_trip(ecsd):
    cat = ecsd.discover()
    data = TemplateData(
        flavor_id="s6.medium.2",
        name="web",
        block_device_mappings=[
            TemplateBlockDeviceMappingOption(source_type="image", source_id=cat.image_id, volume_type="SSD", volume_size=40)
        ],
        metadata={"team": "web"},
    )
    created = ecsd.ecs.create_launch_template(
        CreateLaunchTemplateRequest(
            body=CreateLaunchTemplateRequestBody(
                launch_template=LaunchTemplateOption(name="web-tier", description="web", template_data=data)
            )
        )
    )
    tid = created.launch_template_id
    listed = ecsd.ecs.list_templates(ListTemplatesRequest(name=["web-tier"])).launch_templates
    assert [(t.id, t.default_version, t.latest_version) for t in listed] == [(tid, 1, 1)]
    versions = ecsd.ecs.list_launch_template_versions(
        ListLaunchTemplateVersionsRequest(launch_template_id=tid, image_id=cat.image_id)
    ).launch_template_versions
    assert [(v.version_number, v.launch_template_id) for v in versions] == [(1, tid)]
    assert versions[0].template_data.flavor_id == "s6.medium.2"
    assert versions[0].template_data.metadata == {"team": "web"}

    ecsd.ecs.delete_launch_templates(DeleteLaunchTemplatesRequest(launch_template_id=tid))
    assert ecsd.ecs.list_templates(ListTemplatesRequest()).launch_templates == []
    error = expect_client_error(ecsd.ecs.delete_launch_templates, DeleteLaunchTemplatesRequest(launch_template_id=tid))
    assert (error.status_code, error.error_code) == (404, "Ecs.1000")


# ------------------------------------------------------------------ scheduled events


def test_an_event_raised_with_ecsd_ctl_and_accepted_through_the_sdk_runs_its_job(ecsd):
    redeployed, stopped = ecsd.create_servers(2, name="maint")
    raised = json.loads(ctl(ecsd, "events", "schedule", "--server-id", redeployed, "--type", "instance-redeploy").stdout)
    assert raised["state"] == "inquiring"
    events = ecsd.ecs.list_scheduled_events(ListScheduledEventsRequest(instance_id=[redeployed])).events
    assert [(e.id, e.type, e.state) for e in events] == [(raised["id"], "instance-redeploy", "inquiring")]

    ecsd.ecs.accept_scheduled_event(AcceptScheduledEventRequest(id=raised["id"], body=ScheduledEventAcceptBody()))
    ecsd.raw("POST", "/_ecsd/clock/settle")
    [done] = ecsd.ecs.list_scheduled_events(ListScheduledEventsRequest(id=raised["id"])).events
    assert done.state == "completed" and done.start_time and done.finish_time
    assert console(ecsd, redeployed).count("Linux version") == 2

    now = advance(ecsd, 0)
    planned = json.loads(
        ctl(
            ecsd, "events", "schedule", "--server-id", stopped, "--type", "instance-stop", "--state", "scheduled",
            "--not-before", utc(now + datetime.timedelta(hours=1)),
        ).stdout
    )
    ecsd.ecs.update_scheduled_event(
        UpdateScheduledEventRequest(
            id=planned["id"], body=ScheduledEventUpdateBody(not_before=utc(now + datetime.timedelta(hours=2)))
        )
    )
    advance(ecsd, 1.5 * 3600)
    assert ecsd.show(stopped).status == "ACTIVE"
    advance(ecsd, 3600)
    assert ecsd.show(stopped).status == "SHUTOFF"
    [stop] = ecsd.ecs.list_scheduled_events(ListScheduledEventsRequest(type=["instance-stop"])).events
    assert stop.state == "completed"
