"""Issue 12, the NIC and VPC half, driven by the official Python SDKs (ECS and VPC, pinned to the same
version): a server created with two NICs sits on two ports of its subnet (ListPorts by device_id,
ShowPort, ShowSubnet as Terraform reads them), its interfaces listed, a NIC added and deleted
(BatchAddServerNics, BatchDeleteServerNics, ListServerInterfaces, ShowServerAttachableNicNum), a port
of its own attached and kept (UpdateServerInterface), the primary NIC's address changed
(ChangeServerNetworkInterface), virtual IPs bound and unbound (AssociateServerVirtualIp,
DisassociateServerVirtualIp), the server moved to another VPC (ChangeVpc), security groups with rules (CreateSecurityGroup,
CreateSecurityGroupRule, ListSecurityGroupRules, DeleteSecurityGroup refused while in use), ports and
private IPs of their own, and a deleted server's ports gone. Every answer is checked against the SDK
model."""

from __future__ import annotations

from huaweicloudsdkecs.v2 import (
    AssociateServerVirtualIpOption,
    AssociateServerVirtualIpRequest,
    AssociateServerVirtualIpRequestBody,
    BatchAddServerNicOption,
    BatchAddServerNicsRequest,
    BatchAddServerNicsRequestBody,
    BatchDeleteServerNicOption,
    BatchDeleteServerNicsRequest,
    BatchDeleteServerNicsRequestBody,
    BatchStopServersOption,
    BatchStopServersRequest,
    BatchStopServersRequestBody,
    ChangeServerNetworkInterfaceRequest,
    ChangeServerNetworkInterfaceRequestBody,
    ChangeVpcNicBody,
    ChangeVpcRequest,
    ChangeVpcRequestBody,
    ChangeVpcSecurityGroups,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    DisassociateServerVirtualIpOption,
    DisassociateServerVirtualIpRequest,
    DisassociateServerVirtualIpRequestBody,
    InterfaceAttachment,
    PostPaidServerNic,
    ListServerInterfacesRequest,
    PostPaidServerSecurityGroup,
    ServerNicSecurityGroup,
    ServerId,
    ShowServerAttachableNicNumRequest,
    UpdateNicInfoRequestBody,
    UpdateServerInterfaceRequest,
)
from huaweicloudsdkvpc.v2 import (
    AllowedAddressPair,
    CreatePortOption,
    CreatePortRequest,
    CreatePortRequestBody,
    CreatePrivateipOption,
    CreatePrivateipRequest,
    CreatePrivateipRequestBody,
    CreateSecurityGroupOption,
    CreateSecurityGroupRequest,
    CreateSecurityGroupRequestBody,
    CreateSecurityGroupRuleOption,
    CreateSecurityGroupRuleRequest,
    CreateSecurityGroupRuleRequestBody,
    DeletePortRequest,
    DeletePrivateipRequest,
    DeleteSecurityGroupRequest,
    DeleteSecurityGroupRuleRequest,
    FixedIp,
    ListPortsRequest,
    ListSubnetsRequest,
    ListVpcsRequest,
    ListPrivateipsRequest,
    ListSecurityGroupRulesRequest,
    ListSecurityGroupsRequest,
    ShowPortRequest,
    ShowSecurityGroupRequest,
    ShowSubnetRequest,
    ShowVpcRequest,
    UpdatePortOption,
    UpdatePortRequest,
    UpdatePortRequestBody,
)

from conftest import expect_client_error, server_ids
from model_check import VPC_MODELS, assert_fits_model


def fits(ecsd, path: str, model: str, query=None) -> dict:
    """The raw answer of a GET, checked against the VPC SDK's model of it."""
    r = ecsd.raw("GET", path, query=query)
    assert r.status_code == 200, (r.status_code, r.text)
    assert_fits_model(r.json(), model, models=VPC_MODELS)
    return r.json()


def create_group(ecsd, name: str):
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name=name))
    return ecsd.vpc.create_security_group(CreateSecurityGroupRequest(body=body)).security_group


def create_server(ecsd, name: str, nics: int, groups=()):
    cat = ecsd.discover()
    spec = ecsd.server_spec(name=name, flavor="s6.xlarge.2")
    spec.nics = [PostPaidServerNic(subnet_id=cat.subnet_id) for _ in range(nics)]
    spec.security_groups = [PostPaidServerSecurityGroup(id=g) for g in groups] or None
    resp = ecsd.ecs.create_post_paid_servers(CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=spec)))
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    return resp.server_ids[0]


def ports_of(ecsd, server_id: str):
    return ecsd.vpc.list_ports(ListPortsRequest(device_id=server_id, limit=100)).ports


def test_a_server_with_two_nics_sits_on_two_ports_terraform_can_read(ecsd):
    cat = ecsd.discover()
    web = create_group(ecsd, "sdk-web")
    server_id = create_server(ecsd, "two-nics", nics=2, groups=[web.id])
    server = ecsd.show(server_id)
    addresses = server.addresses[cat.vpc_id]
    assert len(addresses) == 2
    assert [a.primary for a in addresses] == [True, False]
    assert [(g.id, g.name) for g in server.security_groups] == [(web.id, "sdk-web")]

    ports = ports_of(ecsd, server_id)
    assert [p.id for p in ports] == [a.os_ext_ip_sport_id for a in addresses]
    for port, address in zip(ports, addresses):
        assert port.device_id == server_id
        assert port.network_id == cat.subnet_id
        assert port.fixed_ips[0].ip_address == address.addr
        assert port.mac_address == address.os_ext_ips_ma_cmac_addr
        assert port.security_groups == [web.id]
        assert port.status == "ACTIVE"
    fits(ecsd, "/v1/{project_id}/ports", "ListPortsResponse", query=[("device_id", server_id)])

    # What huaweicloud_compute_instance reads on every refresh: the subnet by id, each port by id, the
    # groups of every enterprise project.
    subnet = ecsd.vpc.show_subnet(ShowSubnetRequest(subnet_id=cat.subnet_id)).subnet
    assert subnet.vpc_id == cat.vpc_id
    fits(ecsd, f"/v1/{{project_id}}/subnets/{cat.subnet_id}", "ShowSubnetResponse")
    assert ecsd.vpc.show_vpc(ShowVpcRequest(vpc_id=cat.vpc_id)).vpc.id == cat.vpc_id
    fits(ecsd, f"/v1/{{project_id}}/vpcs/{cat.vpc_id}", "ShowVpcResponse")
    shown = ecsd.vpc.show_port(ShowPortRequest(port_id=ports[0].id)).port
    assert shown.allowed_address_pairs == [] and shown.network_id == cat.subnet_id
    fits(ecsd, f"/v1/{{project_id}}/ports/{ports[0].id}", "ShowPortResponse")
    groups = ecsd.vpc.list_security_groups(ListSecurityGroupsRequest(enterprise_project_id="all_granted_eps"))
    assert {g.name for g in groups.security_groups} == {"default", "sdk-web"}
    fits(ecsd, "/v1/{project_id}/security-groups", "ListSecurityGroupsResponse")

    # Terraform's source_dest_check = false.
    body = UpdatePortRequestBody(port=UpdatePortOption(allowed_address_pairs=[AllowedAddressPair(ip_address="1.1.1.1/0")]))
    updated = ecsd.vpc.update_port(UpdatePortRequest(port_id=ports[1].id, body=body)).port
    assert [p.ip_address for p in updated.allowed_address_pairs] == ["1.1.1.1/0"]

    # A server's NIC is not the user's to delete.
    error = expect_client_error(ecsd.vpc.delete_port, DeletePortRequest(port_id=ports[0].id))
    assert (error.status_code, error.error_code) == (400, "VPC.2500")

    resp = ecsd.ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=server_ids([server_id]))))
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    assert ports_of(ecsd, server_id) == []
    error = expect_client_error(ecsd.vpc.show_port, ShowPortRequest(port_id=ports[0].id))
    assert (error.status_code, error.error_code) == (404, "VPC.2501")


def test_security_groups_with_rules_and_a_group_in_use_is_not_deleted(ecsd):
    group = create_group(ecsd, "sdk-db")
    assert all(r.direction == "egress" for r in group.security_group_rules)
    option = CreateSecurityGroupRuleOption(
        security_group_id=group.id, direction="ingress", protocol="tcp", port_range_min=5432, port_range_max=5432,
        remote_ip_prefix="10.0.0.0/8",
    )
    rule = ecsd.vpc.create_security_group_rule(
        CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=option))
    ).security_group_rule
    assert (rule.protocol, rule.port_range_min, rule.ethertype) == ("tcp", 5432, "IPv4")
    error = expect_client_error(
        ecsd.vpc.create_security_group_rule,
        CreateSecurityGroupRuleRequest(body=CreateSecurityGroupRuleRequestBody(security_group_rule=option)),
    )
    assert (error.status_code, error.error_code) == (409, "VPC.0604")
    rules = ecsd.vpc.list_security_group_rules(ListSecurityGroupRulesRequest(security_group_id=group.id))
    assert rule.id in [r.id for r in rules.security_group_rules]
    fits(ecsd, "/v1/{project_id}/security-group-rules", "ListSecurityGroupRulesResponse")
    fits(ecsd, f"/v1/{{project_id}}/security-group-rules/{rule.id}", "ShowSecurityGroupRuleResponse")
    ecsd.vpc.delete_security_group_rule(DeleteSecurityGroupRuleRequest(security_group_rule_id=rule.id))

    server_id = create_server(ecsd, "in-db", nics=1, groups=[group.id])
    error = expect_client_error(ecsd.vpc.delete_security_group, DeleteSecurityGroupRequest(security_group_id=group.id))
    assert (error.status_code, error.error_code) == (409, "VPC.0602")
    resp = ecsd.ecs.delete_servers(DeleteServersRequest(body=DeleteServersRequestBody(servers=server_ids([server_id]))))
    assert ecsd.wait_job(resp.job_id).status == "SUCCESS"
    ecsd.vpc.delete_security_group(DeleteSecurityGroupRequest(security_group_id=group.id))
    error = expect_client_error(ecsd.vpc.show_security_group, ShowSecurityGroupRequest(security_group_id=group.id))
    assert (error.status_code, error.error_code) == (404, "VPC.0602")


def test_ports_and_private_ips_of_their_own(ecsd):
    cat = ecsd.discover()
    option = CreatePortOption(network_id=cat.subnet_id, name="vip", device_owner="neutron:VIP_PORT",
                              fixed_ips=[FixedIp(ip_address="192.168.200.10")])
    port = ecsd.vpc.create_port(CreatePortRequest(body=CreatePortRequestBody(port=option))).port
    assert port.fixed_ips[0].ip_address == "192.168.200.10" and port.status == "DOWN"
    error = expect_client_error(ecsd.vpc.create_port, CreatePortRequest(body=CreatePortRequestBody(port=option)))
    assert (error.status_code, error.error_code) == (409, "VPC.0701")
    listed = ecsd.vpc.list_ports(ListPortsRequest(fixed_ips=["ip_address=192.168.200.10"])).ports
    assert [p.id for p in listed] == [port.id]

    made = ecsd.vpc.create_privateip(CreatePrivateipRequest(body=CreatePrivateipRequestBody(
        privateips=[CreatePrivateipOption(subnet_id=cat.subnet_id, ip_address="192.168.200.11")]
    ))).privateips
    assert made[0].ip_address == "192.168.200.11"
    held = ecsd.vpc.list_privateips(ListPrivateipsRequest(subnet_id=cat.subnet_id)).privateips
    assert {p.ip_address for p in held} >= {"192.168.200.10", "192.168.200.11"}
    fits(ecsd, f"/v1/{{project_id}}/subnets/{cat.subnet_id}/privateips", "ListPrivateipsResponse")
    fits(ecsd, f"/v1/{{project_id}}/privateips/{made[0].id}", "ShowPrivateipResponse")
    ecsd.vpc.delete_privateip(DeletePrivateipRequest(privateip_id=made[0].id))
    ecsd.vpc.delete_port(DeletePortRequest(port_id=port.id))
    assert ecsd.vpc.list_ports(ListPortsRequest(fixed_ips=["ip_address=192.168.200.10"])).ports == []


def test_a_nic_is_added_listed_and_deleted(ecsd):
    cat = ecsd.discover()
    group = create_group(ecsd, "sdk-nic")
    server_id = create_server(ecsd, "nics", nics=2)
    listed = ecsd.ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=server_id))
    assert len(listed.interface_attachments) == 2
    assert listed.attachable_quantity.free_nic == 2, "s6.xlarge.2 takes 4 NICs"
    r = ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server_id}/os-interface")
    assert_fits_model(r.json(), "ListServerInterfacesResponse")

    body = BatchAddServerNicsRequestBody(nics=[BatchAddServerNicOption(
        subnet_id=cat.subnet_id, ip_address="192.168.201.7", security_groups=[ServerNicSecurityGroup(id=group.id)],
    )])
    job = ecsd.ecs.batch_add_server_nics(BatchAddServerNicsRequest(server_id=server_id, body=body))
    assert ecsd.wait_job(job.job_id).status == "SUCCESS"
    listed = ecsd.ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=server_id)).interface_attachments
    assert len(listed) == 3
    added = listed[2]
    assert added.fixed_ips[0].ip_address == "192.168.201.7" and added.net_id == cat.subnet_id
    assert added.port_state == "ACTIVE"
    port = ecsd.vpc.show_port(ShowPortRequest(port_id=added.port_id)).port
    assert port.device_id == server_id and port.security_groups == [group.id] and port.mac_address == added.mac_addr
    quantity = ecsd.ecs.show_server_attachable_nic_num(ShowServerAttachableNicNumRequest(server_id=server_id))
    assert quantity.attachable_quantity.free_nic == 1
    r = ecsd.raw("GET", f"/v1/{{project_id}}/cloudservers/{server_id}/os-interface_extension")
    assert_fits_model(r.json(), "ShowServerAttachableNicNumResponse")

    primary = listed[0].port_id
    error = expect_client_error(ecsd.ecs.batch_delete_server_nics, BatchDeleteServerNicsRequest(
        server_id=server_id, body=BatchDeleteServerNicsRequestBody(nics=[BatchDeleteServerNicOption(id=primary)])))
    assert error.status_code == 403
    job = ecsd.ecs.batch_delete_server_nics(BatchDeleteServerNicsRequest(
        server_id=server_id, body=BatchDeleteServerNicsRequestBody(nics=[BatchDeleteServerNicOption(id=added.port_id)])))
    assert ecsd.wait_job(job.job_id).status == "SUCCESS"
    listed = ecsd.ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=server_id)).interface_attachments
    assert [a.port_id for a in listed] == [p.id for p in ecsd.vpc.list_ports(ListPortsRequest(device_id=server_id)).ports]
    assert len(listed) == 2
    error = expect_client_error(ecsd.vpc.show_port, ShowPortRequest(port_id=added.port_id))
    assert error.status_code == 404


def test_a_port_of_its_own_is_attached_kept_and_its_server_changes_address_vips_and_vpc(ecsd):
    cat = ecsd.discover()
    option = CreatePortOption(network_id=cat.subnet_id, name="own", fixed_ips=[FixedIp(ip_address="192.168.202.2")])
    own = ecsd.vpc.create_port(CreatePortRequest(body=CreatePortRequestBody(port=option))).port
    server_id = create_server(ecsd, "eni", nics=1)
    job = ecsd.ecs.batch_add_server_nics(BatchAddServerNicsRequest(
        server_id=server_id, body=BatchAddServerNicsRequestBody(nics=[BatchAddServerNicOption(port_id=own.id)])))
    assert ecsd.wait_job(job.job_id).status == "SUCCESS"
    listed = ecsd.ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=server_id)).interface_attachments
    primary, attached = listed
    assert (attached.port_id, attached.mac_addr, attached.fixed_ips[0].ip_address) == (
        own.id, own.mac_address, "192.168.202.2")
    assert attached.delete_on_termination is False and primary.delete_on_termination is True

    # Kept when it leaves; UpdateServerInterface keeps the primary NIC too.
    ecsd.ecs.update_server_interface(UpdateServerInterfaceRequest(
        server_id=server_id, port_id=primary.port_id,
        body=UpdateNicInfoRequestBody(interface_attachment=InterfaceAttachment(delete_on_termination=False))))
    listed = ecsd.ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=server_id)).interface_attachments
    assert listed[0].delete_on_termination is False
    job = ecsd.ecs.batch_delete_server_nics(BatchDeleteServerNicsRequest(
        server_id=server_id, body=BatchDeleteServerNicsRequestBody(nics=[BatchDeleteServerNicOption(id=own.id)])))
    assert ecsd.wait_job(job.job_id).status == "SUCCESS"
    kept = ecsd.vpc.show_port(ShowPortRequest(port_id=own.id)).port
    assert (kept.status, kept.device_id, kept.mac_address) == ("DOWN", "", own.mac_address)

    # A virtual IP, bound with reverse binding, then unbound.
    answer = ecsd.ecs.associate_server_virtual_ip(AssociateServerVirtualIpRequest(
        nic_id=primary.port_id, body=AssociateServerVirtualIpRequestBody(nic=AssociateServerVirtualIpOption(
            subnet_id=cat.subnet_id, ip_address="192.168.202.9", reverse_binding=True))))
    assert answer.port_id == primary.port_id
    nic = ecsd.vpc.show_port(ShowPortRequest(port_id=primary.port_id)).port
    assert [p.ip_address for p in nic.allowed_address_pairs] == ["192.168.202.9"]
    vip = ecsd.vpc.list_ports(ListPortsRequest(fixed_ips=["ip_address=192.168.202.9"])).ports[0]
    assert vip.device_owner == "neutron:VIP_PORT"
    assert [(p.ip_address, p.mac_address) for p in vip.allowed_address_pairs] == [
        (primary.fixed_ips[0].ip_address, primary.mac_addr)]
    answer = ecsd.ecs.disassociate_server_virtual_ip(DisassociateServerVirtualIpRequest(
        nic_id=primary.port_id, body=DisassociateServerVirtualIpRequestBody(nic=DisassociateServerVirtualIpOption(
            subnet_id="", ip_address=""))))
    assert answer.port_id == primary.port_id
    assert ecsd.vpc.show_port(ShowPortRequest(port_id=primary.port_id)).port.allowed_address_pairs == []

    # The primary NIC's address, on the stopped server.
    request = ChangeServerNetworkInterfaceRequest(
        server_id=server_id, port_id=primary.port_id,
        body=ChangeServerNetworkInterfaceRequestBody(subnet_id=cat.subnet_id, ip_address="192.168.202.20"))
    error = expect_client_error(ecsd.ecs.change_server_network_interface, request)
    assert (error.status_code, error.error_code) == (400, "Ecs.0100")
    stop = BatchStopServersRequestBody(os_stop=BatchStopServersOption(servers=[ServerId(id=server_id)], type="SOFT"))
    assert ecsd.wait_job(ecsd.ecs.batch_stop_servers(BatchStopServersRequest(body=stop)).job_id).status == "SUCCESS"
    changed = ecsd.ecs.change_server_network_interface(request)
    assert (changed.id, changed.subnet_id, changed.ip_address) == (primary.port_id, cat.subnet_id, "192.168.202.20")
    r = ecsd.raw("POST", f"/v1/{{project_id}}/cloudservers/{server_id}/os-interface/{primary.port_id}/change-network-interface",
                 {"subnet_id": cat.subnet_id, "ip_address": "192.168.202.21"})
    assert_fits_model(r.json(), "ChangeServerNetworkInterfaceResponse")
    assert ecsd.show(server_id).addresses[cat.vpc_id][0].addr == "192.168.202.21"

    # Another VPC: the one NIC is replaced by a new primary NIC there.
    vpcs = ecsd.vpc.list_vpcs(ListVpcsRequest()).vpcs
    other = next(v for v in vpcs if v.id != cat.vpc_id)
    subnet = ecsd.vpc.list_subnets(ListSubnetsRequest(vpc_id=other.id)).subnets[0]
    group = create_group(ecsd, "sdk-moved")
    job = ecsd.ecs.change_vpc(ChangeVpcRequest(server_id=server_id, body=ChangeVpcRequestBody(
        vpc_id=other.id, nic=ChangeVpcNicBody(subnet_id=subnet.id, security_groups=[ChangeVpcSecurityGroups(id=group.id)]))))
    assert ecsd.wait_job(job.job_id).status == "SUCCESS"
    shown = ecsd.show(server_id)
    assert shown.metadata["vpc_id"] == other.id
    assert list(shown.addresses) == [other.id]
    ports = ports_of(ecsd, server_id)
    assert [(p.network_id, p.security_groups) for p in ports] == [(subnet.id, [group.id])]
    kept = ecsd.vpc.show_port(ShowPortRequest(port_id=primary.port_id)).port
    assert kept.status == "DOWN", "the old primary NIC was kept (delete_on_termination false)"
