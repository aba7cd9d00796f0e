"""Every operation of the official `EcsClient` (huaweicloudsdkecs 3.1.219), found by introspection and
called once through the SDK with a minimal valid request on real ids: ecsd must route each to a real
handler (never 404 "No API matches this path", never a 5xx).

`NOT_SERVED_YET` is the exact set of operations that still answer "No API matches this path": the test
fails when a served operation stops being served and when an unserved one starts being served without
the set being updated. `REFUSED` lists the operations whose documented refusal is the real answer to
the request made here, each with the reason."""

from __future__ import annotations

import datetime
import inspect
import ipaddress

import huaweicloudsdkecs.v2 as ecs_models
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ServerResponseException
from huaweicloudsdkecs.v2 import EcsClient

SDK_OPERATIONS = 106

# Several of the operations are deprecated in the SDK; they are still operations of EcsClient.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# Operations answered with 404 "No API matches this path." in main today: none, every operation of
# EcsClient is served.
NOT_SERVED_YET: set[str] = set()

# The operation, the Ecs.* code of the documented refusal it answers the request made here with, and why
# that refusal is the real service's answer.
REFUSED: dict[str, tuple[str, str]] = {}

PASSWORD = "Ecsd@2024pass"
NOT_ROUTED = "No API matches this path."
# What Nova's one action route answers for an action it has no handler for: as unrouted as a path.
NOVA_UNKNOWN_ACTION = "There is no such action, or more than one was given."


def sdk_operations() -> dict:
    """SDK operation name -> (client method name, request class), for every public method with a *Request model."""
    found = {}
    for method, _ in inspect.getmembers(EcsClient, inspect.isfunction):
        if method.startswith("_") or method.endswith("_invoker"):
            continue
        name = "".join(part.capitalize() for part in method.split("_"))
        request_class = getattr(ecs_models, name + "Request", None)
        if request_class is not None:
            found[name] = (method, request_class)
    return found


def utc(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class World:
    """The real objects the requests name: servers in the states they need, a group, a template, events."""

    def __init__(self, ecsd):
        self.ecsd = ecsd
        cat = ecsd.discover()
        self.cat = cat
        bin_on = ecsd.raw("PUT", "/v1/{project_id}/recycle-bin", {"recycle_bin": {"switch": "on"}})
        assert bin_on.status_code == 200, bin_on.text
        policy = {"policy": {"retention_hour": 24, "recycle_threshold_day": 1}}
        assert ecsd.raw("PUT", "/v1/{project_id}/recycle-bin/policy", policy).status_code == 200
        spec = ecsd.server_spec(name="cover", flavor="s6.medium.2")
        spec.count = 8
        spec.data_volumes = [ecs_models.PostPaidServerDataVolume(volumetype="SSD", size=10)]
        created = ecsd.ecs.create_post_paid_servers(
            ecs_models.CreatePostPaidServersRequest(body=ecs_models.CreatePostPaidServersRequestBody(server=spec))
        )
        assert ecsd.wait_job(created.job_id).status == "SUCCESS"
        self.job_id = created.job_id
        (self.running, self.stopped, self.deleted, self.nova_deleted, self.binned, self.purged, self.spare,
         self.moved) = created.server_ids
        # Old enough for the recycle bin (threshold one day), then two of them deleted into it.
        self.now = self.advance(86_400 + 60)
        self.job(ecsd.ecs.delete_servers(
            ecs_models.DeleteServersRequest(body={"servers": [{"id": self.binned}, {"id": self.purged}]})
        ))
        self.job(ecsd.ecs.batch_stop_servers(
            ecs_models.BatchStopServersRequest(body={"os-stop": {"type": "SOFT", "servers": [{"id": self.stopped}, {"id": self.moved}]}})
        ))
        shown = ecsd.show_raw(self.running)
        self.port_id = next(a["OS-EXT-IPS:port_id"] for nets in shown["addresses"].values() for a in nets)
        self.stopped_port_id = next(
            a["OS-EXT-IPS:port_id"] for nets in ecsd.show_raw(self.stopped)["addresses"].values() for a in nets
        )
        # A free address of the subnet for a virtual IP: its last host address.
        self.virtual_ip = str(list(ipaddress.ip_network(cat.subnet_cidr).hosts())[-1])
        vpcs = ecsd.raw("GET", "/v1/{project_id}/vpcs").json()["vpcs"]
        self.other_vpc = next(v["id"] for v in vpcs if v["id"] != cat.vpc_id)
        subnets = ecsd.raw("GET", "/v1/{project_id}/subnets", query=[("vpc_id", self.other_vpc)]).json()["subnets"]
        self.other_subnet = subnets[0]["id"]
        self.data_volume = self.data_volume_of(shown)
        self.spare_data_volume = self.data_volume_of(ecsd.show_raw(self.spare))
        shared = ecsd.raw("POST", "/v2.1/{project_id}/cloudvolumes", {"volume": {
            "size": 10, "volume_type": "SSD", "availability_zone": shown["OS-EXT-AZ:availability_zone"],
            "multiattach": True, "name": "cover-shared",
        }})
        assert shared.status_code == 200, shared.text
        assert ecsd.wait_job(shared.json()["job_id"]).status == "SUCCESS"
        self.shared_volume = shared.json()["volume_ids"][0]
        self.group = self.group_named("cover-group")
        self.doomed_group = self.group_named("cover-doomed")
        template = ecsd.raw("POST", "/v3/{project_id}/launch-templates", {"launch_template": {
            "name": "cover-template",
            "template_data": {"flavor_id": "s6.medium.2", "name": "from-template"},
        }})
        assert template.status_code == 200, template.text
        self.template = template.json()["launch_template_id"]
        self.accepted_event = self.event("instance-redeploy", "inquiring")
        self.updated_event = self.event("instance-stop", "scheduled")

    def added_port(self) -> str:
        """The NIC BatchAddServerNics gave the spare server (its second one)."""
        r = self.ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{self.spare}/os-interface")
        assert r.status_code == 200, r.text
        return r.json()["interfaceAttachments"][-1]["port_id"]

    @staticmethod
    def data_volume_of(shown: dict) -> str:
        attached = shown["os-extended-volumes:volumes_attached"]
        return next(v["id"] for v in attached if v.get("bootIndex") != "0")

    def advance(self, seconds: float) -> datetime.datetime:
        r = self.ecsd.raw("POST", "/_ecsd/clock/advance", {"seconds": seconds})
        assert r.status_code == 200, r.text
        return datetime.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))

    def job(self, answer) -> None:
        assert self.ecsd.wait_job(answer.job_id).status == "SUCCESS"

    def group_named(self, name: str) -> str:
        r = self.ecsd.raw("POST", "/v1/{project_id}/cloudservers/os-server-groups",
                          {"server_group": {"name": name, "policies": ["anti-affinity"]}})
        assert r.status_code == 200, r.text
        return r.json()["server_group"]["id"]

    def event(self, event_type: str, state: str) -> str:
        body = {"project_id": self.ecsd.project_id, "server_id": self.spare, "type": event_type, "state": state}
        r = self.ecsd.raw("POST", "/_ecsd/scheduled-events", body)
        assert r.status_code == 201, r.text
        return r.json()["id"]


def requests_for(w: World) -> dict:
    """One minimal valid request per SDK operation, as keyword arguments of its *Request model (or a
    function giving them, for ids an earlier call makes). The order is the order of the calls: reads and reversible changes first, deletions last."""
    cat, s, stopped = w.cat, w.running, w.stopped
    later = utc(w.now + datetime.timedelta(days=2))
    server = {
        "name": "cover-new", "flavorRef": "s6.small.1", "imageRef": cat.image_id, "vpcid": cat.vpc_id,
        "nics": [{"subnet_id": cat.subnet_id}], "root_volume": {"volumetype": "SSD", "size": 40},
    }
    return {
        # Catalogue and project reads.
        "NovaListVersions": {},
        "NovaShowVersion": {"api_version": "v2.1"},
        "ListFlavors": {},
        "ListResizeFlavors": {"source_flavor_id": "s6.medium.2"},
        "ListFlavorSellPolicies": {},
        "ShowFlavorCapacity": {"flavor_id": "s6.medium.2"},
        "NovaShowFlavorExtraSpecs": {"flavor_id": "s6.medium.2"},
        "ListServerAzInfo": {},
        "NovaListAvailabilityZones": {},
        "ShowServerLimits": {},
        "ShowJob": {"job_id": w.job_id},
        "ShowRecycleBin": {},
        "ListRecycleBinServers": {},
        # Server reads.
        "ListServersDetails": {},
        "ListCloudServers": {},
        "ShowServer": {"server_id": s},
        "NovaListServers": {},
        "NovaListServersDetails": {},
        "NovaShowServer": {"server_id": s},
        "ShowResetPasswordFlag": {"server_id": s},
        "ShowServerPassword": {"server_id": s},
        "ShowServerTags": {"server_id": s},
        "ListServerTags": {},
        "ShowMetadataOptions": {"server_id": s},
        "ShowServerConsoleOutput": {"server_id": s},
        "ListServerInterfaces": {"server_id": s},
        "NovaShowServerInterface": {"server_id": s, "port_id": w.port_id},
        "NovaListServerSecurityGroups": {"server_id": s},
        "ShowServerAttachableNicNum": {"server_id": s},
        "ListServerBlockDevices": {"server_id": s},
        "ShowServerBlockDevice": {"server_id": s, "volume_id": w.data_volume},
        "ListServerVolumeAttachments": {"server_id": s},
        "ShowAppendableVolumeQuota": {"server_id": s},
        # Tags, metadata, groups.
        "BatchCreateServerTags": {"server_id": s, "body": {"action": "create", "tags": [{"key": "env", "value": "a"}]}},
        "ListServersByTag": {"body": {"action": "filter", "tags": [{"key": "env", "values": ["a"]}]}},
        "BatchDeleteServerTags": {"server_id": s, "body": {"action": "delete", "tags": [{"key": "env"}]}},
        "UpdateServerMetadata": {"server_id": s, "body": {"metadata": {"team": "cover"}}},
        "DeleteServerMetadata": {"server_id": s, "key": "team"},
        "UpdateMetadataOptions": {"server_id": s, "body": {"http_tokens": "required"}},
        "CreateServerGroup": {"body": {"server_group": {"name": "cover-made", "policies": ["anti-affinity"]}}},
        "ListServerGroups": {},
        "ShowServerGroup": {"server_group_id": w.group},
        "AddServerGroupMember": {"server_group_id": w.group, "body": {"add_member": {"instance_uuid": s}}},
        "DeleteServerGroupMember": {"server_group_id": w.group, "body": {"remove_member": {"instance_uuid": s}}},
        "BatchAddServerGroupMember": {"server_group_id": w.group, "body": {"server_ids": [s]}},
        "BatchDeleteServerGroupMember": {"server_group_id": w.group, "body": {"server_ids": [s]}},
        # Modify, consoles, life.
        "UpdateServer": {"server_id": s, "body": {"server": {"name": "cover-renamed"}}},
        "BatchUpdateServersName": {"body": {"name": "cover-batch", "servers": [{"id": s}]}},
        "ResetServerPassword": {"server_id": s, "body": {"reset-password": {"new_password": PASSWORD}}},
        "BatchResetServersPassword": {"body": {"new_password": PASSWORD, "servers": [{"id": s}]}},
        "DeleteServerPassword": {"server_id": s},
        "ShowServerRemoteConsole": {"server_id": s, "body": {"remote_console": {"protocol": "vnc", "type": "novnc"}}},
        "UpdateSerialConsoleOptions": {"server_id": s, "body": {"serial_console_options": {"enabled": True}}},
        "ShowSerialConsoleActions": {"server_id": s},
        "RegisterServerMonitor": {"server_id": s, "body": {"monitorMetrics": ""}},
        "ExecuteServerDump": {"server_id": s},
        "UpdateServerAutoTerminateTime": {"server_id": w.spare, "body": {"auto_terminate_time": later}},
        "ChangeServerChargeMode": {"body": {
            "server_ids": [s], "charge_mode": "prePaid",
            "prepaid_options": {"period_type": "month", "period_num": 1, "auto_pay": True},
        }},
        "BatchRebootServers": {"body": {"reboot": {"type": "SOFT", "servers": [{"id": s}]}}},
        "BatchStopServers": {"body": {"os-stop": {"type": "SOFT", "servers": [{"id": s}]}}},
        "BatchStartServers": {"body": {"os-start": {"servers": [{"id": s}]}}},
        # On the stopped server: resize, OS, placement.
        "ResizePostPaidServer": {"server_id": stopped, "body": {"resize": {"flavorRef": "s6.large.2"}}},
        "ResizeServer": {"server_id": stopped, "body": {"resize": {"flavorRef": "s6.xlarge.2"}}},
        "BatchResizeServers": {"body": {"resize": {"flavorRef": "s6.large.2", "servers": [{"id": stopped}]}}},
        "ReinstallServerWithCloudInit": {"server_id": stopped, "body": {"os-reinstall": {"adminpass": PASSWORD}}},
        "ReinstallServerWithoutCloudInit": {"server_id": stopped, "body": {"os-reinstall": {"adminpass": PASSWORD}}},
        "ChangeServerOsWithCloudInit": {
            "server_id": stopped, "body": {"os-change": {"imageid": cat.image_id, "adminpass": PASSWORD}},
        },
        "ChangeServerOsWithoutCloudInit": {
            "server_id": stopped, "body": {"os-change": {"imageid": cat.image_id, "adminpass": PASSWORD}},
        },
        "MigrateServer": {"server_id": w.moved, "body": {"migrate": {}}},
        "ExecuteServerRedeploy": {"server_id": w.moved},
        # NICs and security groups.
        "BatchAddServerNics": {"server_id": w.spare, "body": {"nics": [{"subnet_id": cat.subnet_id}]}},
        "UpdateServerInterface": {
            "server_id": s, "port_id": w.port_id, "body": {"interface_attachment": {"delete_on_termination": True}},
        },
        "AssociateServerVirtualIp": {
            "nic_id": w.port_id, "body": {"nic": {"subnet_id": cat.subnet_id, "ip_address": w.virtual_ip}},
        },
        "DisassociateServerVirtualIp": {"nic_id": w.port_id, "body": {"nic": {"subnet_id": "", "ip_address": ""}}},
        "NovaAttachInterface": {"server_id": w.moved, "body": {"interfaceAttachment": {"net_id": cat.subnet_network_id or cat.subnet_id}}},
        "ChangeServerNetworkInterface": {
            "server_id": stopped, "port_id": w.stopped_port_id, "body": {"subnet_id": cat.subnet_id, "ip_address": ""},
        },
        "ChangeVpc": {"server_id": stopped, "body": {"vpc_id": w.other_vpc, "nic": {"subnet_id": w.other_subnet}}},
        "BatchDeleteServerNics": lambda: {"server_id": w.spare, "body": {"nics": [{"id": w.added_port()}]}},
        "NovaAssociateSecurityGroup": {"server_id": s, "body": {"addSecurityGroup": {"name": "default"}}},
        "NovaDisassociateSecurityGroup": {"server_id": s, "body": {"removeSecurityGroup": {"name": "default"}}},
        # Disks.
        "UpdateServerBlockDevice": {
            "server_id": s, "volume_id": w.data_volume, "body": {"block_device": {"delete_on_termination": True}},
        },
        "DetachServerVolume": {"server_id": w.spare, "volume_id": w.spare_data_volume},
        "AttachServerVolume": {
            "server_id": s, "body": {"volumeAttachment": {"volumeId": w.spare_data_volume, "device": "/dev/vdc"}},
        },
        "BatchDetachVolumes": {"volume_id": w.spare_data_volume, "body": {"serverinfo": [{"server_id": s}]}},
        "BatchAttachSharableVolumes": {"volume_id": w.shared_volume, "body": {"serverinfo": [{"server_id": s}]}},
        # Key pairs, launch templates, scheduled events.
        "NovaCreateKeypair": {"body": {"keypair": {"name": "cover-key"}}},
        "NovaListKeypairs": {},
        "NovaShowKeypair": {"keypair_name": "cover-key"},
        "NovaDeleteKeypair": {"keypair_name": "cover-key"},
        "CreateLaunchTemplate": {"body": {"launch_template": {
            "name": "cover-template-2", "template_data": {"flavor_id": "s6.medium.2", "name": "t"},
        }}},
        "ListTemplates": {},
        "ListLaunchTemplateVersions": {"launch_template_id": w.template},
        "DeleteLaunchTemplates": {"launch_template_id": w.template},
        "ListScheduledEvents": {},
        "UpdateScheduledEvent": {"id": w.updated_event, "body": {"not_before": later}},
        "AcceptScheduledEvent": {"id": w.accepted_event, "body": {}},
        # Creates, recycle bin, deletes.
        "CreatePostPaidServers": {"body": {"server": server}},
        "CreateServers": {"body": {"server": dict(server, extendparam={"chargingMode": "postPaid"})}},
        "NovaCreateServers": {"body": {"server": {
            "name": "cover-nova", "imageRef": cat.image_id, "flavorRef": "s6.small.1",
            "networks": [{"uuid": cat.subnet_network_id or cat.subnet_id}],
        }}},
        "UpdateRecycleBin": {"body": {"recycle_bin": {"switch": "on"}}},
        "UpdateRecycleBinPolicy": {"body": {"policy": {"retention_hour": 24, "recycle_threshold_day": 1}}},
        "RevertRecycleBinServer": {"server_id": w.binned},
        "DeleteRecycleBinServer": {"server_id": w.purged},
        "DeleteServerGroup": {"server_group_id": w.doomed_group},
        "DeleteServers": {"body": {"servers": [{"id": w.deleted}], "delete_volume": True}},
        "NovaDeleteServer": {"server_id": w.nova_deleted},
    }


def call(ecsd, method: str, request) -> tuple:
    """(HTTP status, error code, error message) of one SDK call; (2xx, "", "") when it succeeded. An
    answer with a job is waited for, so that the next call finds the server idle; a failed job is
    (its HTTP status, its error code, "job FAIL")."""
    try:
        answer = getattr(ecsd.ecs, method)(request)
        status = getattr(answer, "status_code", 200) or 200
        job_id = getattr(answer, "job_id", None)
        if job_id:
            job = ecsd.wait_job(job_id)
            if job.status != "SUCCESS":
                return (status, job.error_code or "", f"job FAIL: {job.fail_reason}")
        return (status, "", "")
    except ClientRequestException as e:
        return (e.status_code, e.error_code, e.error_msg)
    except ServerResponseException as e:
        return (e.status_code, e.error_code, e.error_msg)


def test_every_ecs_client_operation_gets_a_real_answer(ecsd):
    operations = sdk_operations()
    assert len(operations) == SDK_OPERATIONS, (
        f"huaweicloudsdkecs has {len(operations)} EcsClient operations, not {SDK_OPERATIONS}: a new SDK version? "
        "Give the new ones a request here."
    )
    world = World(ecsd)
    built = requests_for(world)
    assert set(built) == set(operations), {
        "without a request here": sorted(set(operations) - set(built)),
        "not an SDK operation": sorted(set(built) - set(operations)),
    }
    assert set(REFUSED) <= set(operations) and NOT_SERVED_YET <= set(operations)

    answers = {}
    for name, kwargs in built.items():
        method, request_class = operations[name]
        kwargs = kwargs() if callable(kwargs) else kwargs
        answers[name] = call(ecsd, method, request_class(**kwargs))

    not_routed = {
        n for n, (status, _, message) in answers.items()
        if (status == 404 and message == NOT_ROUTED) or (status == 400 and message == NOVA_UNKNOWN_ACTION)
    }
    failures = {}
    for name, (status, code, message) in answers.items():
        if name in not_routed:
            continue
        if status >= 500 or message.startswith("job FAIL"):
            failures[name] = (status, code, message)
        elif status >= 400:
            expected = REFUSED.get(name)
            if expected is None or expected[0] != code:
                failures[name] = (status, code, message)
        elif name in REFUSED:
            failures[name] = (status, "answered although REFUSED says it refuses", REFUSED[name][1])
    served = SDK_OPERATIONS - len(not_routed)
    print(f"\nEcsClient coverage: served {served} of {SDK_OPERATIONS} operations")
    assert not failures, failures
    assert not_routed == NOT_SERVED_YET, {
        "newly unrouted (broken)": sorted(not_routed - NOT_SERVED_YET),
        "served now (remove from NOT_SERVED_YET)": sorted(NOT_SERVED_YET - not_routed),
    }
