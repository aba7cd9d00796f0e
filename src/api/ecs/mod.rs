//! The ECS API (v1, v1.1): its operation table, handlers by family, and wire types.

mod batch;
mod catalogue;
mod consoles;
mod disks;
mod groups;
mod jobs;
mod lifecycle;
mod maintenance;
mod metadata;
mod nics;
mod os;
mod reads;
mod recycle_bin;
pub mod scheduled_events;
mod servers;
mod tags;
mod templates;
pub mod wire;

use utoipa_axum::routes;

use super::operation::{BodyMark, Row};
use crate::domain::faults::FaultOperation as Fault;

/// One row per SDK operation of `EcsClient` that ecsd serves.
pub fn operations() -> Vec<Row> {
    vec![
        Row::new(routes!(servers::create_post_paid_servers)).fault(Fault::Create),
        Row::new(routes!(servers::create_servers)).fault(Fault::Create),
        Row::new(routes!(servers::list_servers_details)),
        Row::by_body(
            routes!(batch::batch_action),
            [
                (BodyMark::Key("os-start"), "BatchStartServers", Fault::Start),
                (BodyMark::Key("os-stop"), "BatchStopServers", Fault::Stop),
                (BodyMark::Key("reboot"), "BatchRebootServers", Fault::Reboot),
            ],
        ),
        Row::new(routes!(batch::delete_servers)).fault(Fault::Delete),
        Row::new(routes!(batch::batch_reset_servers_password)).fault(Fault::ResetPassword),
        Row::new(routes!(batch::batch_update_servers_name)).fault(Fault::Rename),
        Row::new(routes!(batch::batch_resize_servers)).fault(Fault::Resize),
        Row::new(routes!(catalogue::list_flavors)),
        Row::new(routes!(catalogue::list_resize_flavors)),
        Row::new(routes!(catalogue::show_server_limits)),
        Row::new(routes!(servers::show_server)),
        Row::new(routes!(servers::update_server)).fault(Fault::Rename),
        Row::new(routes!(batch::resize_post_paid_server)).fault(Fault::Resize),
        Row::new(routes!(batch::resize_server)).fault(Fault::Resize),
        Row::new(routes!(batch::reset_server_password)).fault(Fault::ResetPassword),
        Row::new(routes!(batch::show_reset_password_flag)),
        Row::new(routes!(jobs::show_job)),
        Row::new(routes!(catalogue::list_server_az_info)),
        Row::new(routes!(consoles::show_server_remote_console)).fault(Fault::Console),
        Row::new(routes!(consoles::show_serial_console_actions)).fault(Fault::Console),
        Row::new(routes!(consoles::update_serial_console_options)).fault(Fault::Console),
        Row::new(routes!(consoles::show_server_console_output)).fault(Fault::Console),
        Row::new(routes!(lifecycle::change_server_charge_mode)).fault(Fault::ChangeChargeMode),
        Row::new(routes!(lifecycle::update_server_auto_terminate_time)).fault(Fault::AutoTerminate),
        Row::new(routes!(lifecycle::register_server_monitor)).fault(Fault::RegisterMonitor),
        Row::new(routes!(lifecycle::execute_server_dump)).fault(Fault::CrashDump),
        Row::new(routes!(os::reinstall_server_with_cloud_init)).fault(Fault::Reinstall),
        Row::new(routes!(os::reinstall_server_without_cloud_init)).fault(Fault::Reinstall),
        Row::new(routes!(os::change_server_os_with_cloud_init)).fault(Fault::ChangeOs),
        Row::new(routes!(os::change_server_os_without_cloud_init)).fault(Fault::ChangeOs),
        Row::new(routes!(maintenance::migrate_server)).fault(Fault::Migrate),
        Row::new(routes!(maintenance::execute_server_redeploy)).fault(Fault::Redeploy),
        Row::new(routes!(recycle_bin::show_recycle_bin)).fault(Fault::RecycleBin),
        Row::new(routes!(recycle_bin::update_recycle_bin)).fault(Fault::RecycleBin),
        Row::new(routes!(recycle_bin::update_recycle_bin_policy)).fault(Fault::RecycleBin),
        Row::new(routes!(recycle_bin::list_recycle_bin_servers)).fault(Fault::RecycleBin),
        Row::new(routes!(recycle_bin::revert_recycle_bin_server)).fault(Fault::RecycleBin),
        Row::new(routes!(recycle_bin::delete_recycle_bin_server)).fault(Fault::RecycleBin),
        Row::new(routes!(templates::create_launch_template)).fault(Fault::LaunchTemplate),
        Row::new(routes!(templates::list_templates)).fault(Fault::LaunchTemplate),
        Row::new(routes!(templates::list_launch_template_versions)).fault(Fault::LaunchTemplate),
        Row::new(routes!(templates::delete_launch_templates)).fault(Fault::LaunchTemplate),
        Row::new(routes!(scheduled_events::list_scheduled_events)).fault(Fault::ScheduledEvent),
        Row::new(routes!(scheduled_events::accept_scheduled_event)).fault(Fault::ScheduledEvent),
        Row::new(routes!(scheduled_events::update_scheduled_event)).fault(Fault::ScheduledEvent),
        Row::by_body(
            routes!(tags::batch_server_tags_action),
            [
                (BodyMark::Field("action", "create"), "BatchCreateServerTags", Fault::Tags),
                (BodyMark::Field("action", "delete"), "BatchDeleteServerTags", Fault::Tags),
            ],
        ),
        Row::new(routes!(tags::show_server_tags)),
        Row::new(routes!(tags::list_server_tags)),
        Row::new(routes!(tags::list_servers_by_tag)),
        Row::new(routes!(tags::list_servers_by_tag_otc_path)),
        Row::new(routes!(metadata::update_server_metadata)).fault(Fault::Metadata),
        Row::new(routes!(metadata::delete_server_metadata)).fault(Fault::Metadata),
        Row::new(routes!(metadata::show_metadata_options)),
        Row::new(routes!(metadata::update_metadata_options)).fault(Fault::Metadata),
        Row::new(routes!(disks::attach_server_volume)).fault(Fault::AttachVolume),
        Row::new(routes!(disks::detach_server_volume)).fault(Fault::DetachVolume),
        Row::new(routes!(disks::list_server_block_devices)),
        Row::new(routes!(disks::show_server_block_device)),
        Row::new(routes!(disks::update_server_block_device)).fault(Fault::UpdateBlockDevice),
        Row::new(routes!(disks::list_server_volume_attachments)),
        Row::new(routes!(disks::show_appendable_volume_quota)),
        Row::new(routes!(disks::batch_attach_sharable_volumes)).fault(Fault::AttachVolume),
        Row::new(routes!(disks::batch_detach_volumes)).fault(Fault::DetachVolume),
        Row::new(routes!(nics::batch_add_server_nics)).fault(Fault::Nics),
        Row::new(routes!(nics::batch_delete_server_nics)).fault(Fault::Nics),
        Row::new(routes!(nics::list_server_interfaces)),
        Row::new(routes!(nics::show_server_attachable_nic_num)),
        Row::new(routes!(nics::update_server_interface)).fault(Fault::Nics),
        Row::new(routes!(nics::change_server_network_interface)).fault(Fault::Nics),
        Row::by_body(
            routes!(nics::server_virtual_ip),
            [
                (BodyMark::Filled("nic", "ip_address"), "AssociateServerVirtualIp", Fault::Nics),
                (BodyMark::Blank("nic", "ip_address"), "DisassociateServerVirtualIp", Fault::Nics),
            ],
        ),
        Row::new(routes!(nics::change_vpc)).fault(Fault::Nics),
        Row::new(routes!(groups::create_server_group)).fault(Fault::ServerGroup),
        Row::new(routes!(groups::list_server_groups)),
        Row::new(routes!(groups::show_server_group)),
        Row::new(routes!(groups::delete_server_group)).fault(Fault::ServerGroup),
        Row::by_body(
            routes!(groups::server_group_member_action),
            [
                (BodyMark::Key("add_member"), "AddServerGroupMember", Fault::ServerGroup),
                (BodyMark::Key("remove_member"), "DeleteServerGroupMember", Fault::ServerGroup),
            ],
        ),
        Row::new(routes!(groups::batch_add_server_group_member)).fault(Fault::ServerGroup),
        Row::new(routes!(groups::batch_delete_server_group_member)).fault(Fault::ServerGroup),
        Row::new(routes!(reads::list_cloud_servers)),
        Row::new(routes!(reads::show_server_password)),
        Row::new(routes!(reads::delete_server_password)).fault(Fault::Password),
        Row::new(routes!(reads::list_flavor_sell_policies)),
        Row::new(routes!(reads::show_flavor_capacity)),
    ]
}

/// Paths of `EcsClient` ecsd does not serve yet whose words sit where a served path has a
/// parameter: they are reserved, so `GET .../cloudservers/tags` is an unknown API (404
/// `Ecs.1000`) rather than a lookup of a server named `tags`.
pub const UNSERVED_PATHS: &[&str] = &[];
