//! Creating servers: the checks a create request must pass against the catalogue, and the
//! servers it produces once the store has found them addresses.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::catalogue::{Catalogue, Flavor, Usage};
use super::errors::{Error, ErrorCode, Result};
use super::metadata::MetadataOptions;
use super::network::random_mac;
use super::server::{Nic, Server, Tag, Timestamp, Volume};
use super::status::{Operation, VmState};
use super::volumes::{VOLUME_TYPES, device_name};
use super::{metadata, tags, validate};

/// Most servers one create may ask for (contract T1.8: `count` at most 100).
pub const MAX_COUNT: u32 = 100;
pub const MAX_NICS: usize = 12;
pub const MAX_DATA_VOLUMES: usize = 59;
pub const MAX_METADATA: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct NicRequest {
    pub subnet_id: String,
    pub ip: Option<Ipv4Addr>,
    /// An existing port to attach (its subnet, address and MAC kept): the service checks it.
    pub port_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VolumeRequest {
    pub volume_type: String,
    pub size_gib: Option<u32>,
    /// A data disk made shared (EVS `multiattach`), which other servers may attach too.
    pub multiattach: bool,
}

/// A create request in domain terms.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateServers {
    pub name: String,
    pub count: u32,
    pub image_id: String,
    pub flavor_id: String,
    pub vpc_id: String,
    pub nics: Vec<NicRequest>,
    pub root_volume: VolumeRequest,
    pub data_volumes: Vec<VolumeRequest>,
    pub availability_zone: Option<String>,
    pub spread_over_azs: bool,
    pub metadata: BTreeMap<String, String>,
    pub tags: Vec<Tag>,
    pub security_group_ids: Vec<String>,
    pub key_name: Option<String>,
    pub user_data: Option<String>,
    pub admin_pass: Option<String>,
    pub description: String,
    /// The ECS group of `os:scheduler_hints.group`: the servers join it.
    pub server_group_id: Option<String>,
    pub metadata_options: MetadataOptions,
}

impl CreateServers {
    /// Every check that needs only the request and the catalogue. Returns the flavor.
    pub fn validate<'c>(&self, catalogue: &'c Catalogue) -> Result<&'c Flavor> {
        if !(1..=MAX_COUNT).contains(&self.count) {
            return Err(Error::new(
                ErrorCode::InvalidCount,
                format!("count must be between 1 and {MAX_COUNT}, got {}.", self.count),
            ));
        }
        let max_name = if self.count > 1 {
            validate::MAX_NAME_CHARS - validate::NAME_SUFFIX_CHARS
        } else {
            validate::MAX_NAME_CHARS
        };
        validate::server_name(&self.name, max_name)?;
        validate::description(&self.description)?;
        if let Some(pass) = &self.admin_pass {
            validate::password(pass, validate::CREATE_PASSWORD_SPECIALS)?;
        }
        if let Some(user_data) = &self.user_data {
            validate::user_data(user_data)?;
        }
        let flavor = catalogue.flavor(&self.flavor_id).ok_or_else(|| {
            Error::new(ErrorCode::FlavorNotFound, format!("The flavor {} does not exist.", self.flavor_id))
        })?;
        let image = catalogue.image(&self.image_id).ok_or_else(|| {
            Error::new(ErrorCode::ImageNotFound, format!("The image {} does not exist.", self.image_id))
        })?;
        if image.status != "active" {
            return Err(Error::new(
                ErrorCode::ImageNotActive,
                format!("The image {} is {}, not active.", image.id, image.status),
            ));
        }
        if let Some(az) = &self.availability_zone
            && !catalogue.availability_zones.contains(az)
        {
            return Err(Error::invalid(format!("The availability zone {az} does not exist.")));
        }
        if catalogue.vpc(&self.vpc_id).is_none() {
            return Err(Error::new(ErrorCode::InvalidNetwork, format!("The VPC {} does not exist.", self.vpc_id)));
        }
        if self.nics.is_empty() || self.nics.len() > MAX_NICS.min(flavor.max_nics as usize) {
            return Err(Error::new(
                ErrorCode::TooManyNics,
                format!("A server of flavor {} takes 1 to {} NICs.", flavor.id, MAX_NICS.min(flavor.max_nics as usize)),
            ));
        }
        for nic in &self.nics {
            if nic.port_id.is_some() {
                if self.count > 1 {
                    return Err(Error::invalid("A port_id cannot be used when count is more than 1."));
                }
                continue;
            }
            let subnet = catalogue.subnet(&nic.subnet_id).ok_or_else(|| {
                Error::new(ErrorCode::SubnetNotFound, format!("The subnet {} does not exist.", nic.subnet_id))
            })?;
            if subnet.vpc_id != self.vpc_id {
                return Err(Error::new(
                    ErrorCode::SubnetNotInVpc,
                    format!("The subnet {} is not in the VPC {}.", subnet.id, self.vpc_id),
                ));
            }
            if let Some(ip) = nic.ip {
                if self.count > 1 {
                    return Err(Error::invalid("A fixed ip_address cannot be used when count is more than 1."));
                }
                if !subnet.contains(ip) {
                    return Err(Error::new(
                        ErrorCode::IpNotInSubnet,
                        format!("The IP address {ip} is not in the subnet {} ({}).", subnet.id, subnet.cidr),
                    ));
                }
            }
        }
        for volume in std::iter::once(&self.root_volume).chain(&self.data_volumes) {
            if !VOLUME_TYPES.contains(&volume.volume_type.as_str()) {
                return Err(Error::new(
                    ErrorCode::UnknownVolumeType,
                    format!("The disk type {} does not exist.", volume.volume_type),
                ));
            }
        }
        if let Some(size) = self.root_volume.size_gib
            && size != 0
            && !(image.min_disk_gib.max(1)..=1024).contains(&size)
        {
            return Err(Error::invalid(format!(
                "The system disk size must range from {} to 1024 GiB.",
                image.min_disk_gib.max(1)
            )));
        }
        if self.data_volumes.len() > MAX_DATA_VOLUMES {
            return Err(Error::of(ErrorCode::TooManyDataDisks));
        }
        if self.data_volumes.iter().any(|v| !(10..=32768).contains(&v.size_gib.unwrap_or(0))) {
            return Err(Error::invalid("A data disk size must range from 10 to 32768 GiB."));
        }
        if self.tags.len() > tags::MAX_TAGS {
            return Err(Error::new(ErrorCode::TooManyTags, format!("At most {} tags per server.", tags::MAX_TAGS)));
        }
        tags::check_new(&self.tags)?;
        if self.metadata.len() > MAX_METADATA {
            return Err(Error::invalid(format!("At most {MAX_METADATA} metadata pairs.")));
        }
        for (key, value) in &self.metadata {
            metadata::check_pair(key, value, metadata::CREATE_KEY_SPECIALS)?;
            if metadata::SYSTEM_KEYS.contains(&key.as_str()) {
                return Err(Error::invalid(format!("The metadata key {key} is reserved: the cloud sets it.")));
            }
        }
        Ok(flavor)
    }

    /// What the servers of this request add to the project's usage.
    pub fn usage(&self, flavor: &Flavor) -> Usage {
        Usage {
            instances: self.count as i64,
            cores: self.count as i64 * flavor.vcpus as i64,
            ram_mib: self.count as i64 * flavor.ram_mib as i64,
        }
    }

    /// The servers, in `BUILD` with the first create step applied. `addresses[i]` are the
    /// private IPs of server `i`, one per NIC in request order.
    pub fn build(
        &self,
        catalogue: &Catalogue,
        project_id: &str,
        addresses: Vec<Vec<Ipv4Addr>>,
        password_hash: Option<String>,
        now: Timestamp,
    ) -> Vec<Server> {
        let image = catalogue.image(&self.image_id);
        let image_min_disk = image.map_or(40, |i| i.min_disk_gib);
        // A Windows guest with a key pair sets a random administrator password and leaves it
        // encrypted with the key pair for the user to fetch (ShowServerPassword).
        let sets_own_password =
            image.is_some_and(|i| i.os_type == "Windows") && self.key_name.is_some() && self.admin_pass.is_none();
        let first_step = Operation::Create.plan(VmState::Building)[0];
        let reservation_id = format!("r-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let zones = &catalogue.availability_zones;
        addresses
            .into_iter()
            .enumerate()
            .map(|(index, ips)| {
                let id = uuid::Uuid::new_v4().to_string();
                let name = if self.count > 1 { format!("{}-{index:04}", self.name) } else { self.name.clone() };
                let availability_zone = match (&self.availability_zone, self.spread_over_azs) {
                    (Some(az), _) => az.clone(),
                    (None, true) => zones[index % zones.len()].clone(),
                    (None, false) => zones.first().cloned().unwrap_or_default(),
                };
                let mut volumes = vec![Volume {
                    id: uuid::Uuid::new_v4().to_string(),
                    volume_type: self.root_volume.volume_type.clone(),
                    size_gib: self.root_volume.size_gib.filter(|s| *s > 0).unwrap_or(image_min_disk),
                    boot_index: Some(0),
                    device: "/dev/vda".into(),
                    delete_on_termination: true,
                }];
                volumes.extend(self.data_volumes.iter().enumerate().map(|(i, v)| Volume {
                    id: uuid::Uuid::new_v4().to_string(),
                    volume_type: v.volume_type.clone(),
                    size_gib: v.size_gib.unwrap_or(10),
                    boot_index: None,
                    device: device_name(i + 1),
                    delete_on_termination: false,
                }));
                let nics = self
                    .nics
                    .iter()
                    .zip(ips)
                    .map(|(nic, ip)| Nic {
                        port_id: uuid::Uuid::new_v4().to_string(),
                        subnet_id: nic.subnet_id.clone(),
                        ip,
                        mac: random_mac(),
                        delete_on_termination: true,
                    })
                    .collect();
                Server {
                    hostname: validate::hostname_of(&name),
                    instance_name: format!("instance-{}", &id[..8]),
                    id,
                    project_id: project_id.to_string(),
                    name,
                    description: self.description.clone(),
                    vm_state: first_step.vm_state,
                    task_state: first_step.task_state,
                    locked: false,
                    flavor_id: self.flavor_id.clone(),
                    resize_target: None,
                    image_id: self.image_id.clone(),
                    availability_zone,
                    vpc_id: self.vpc_id.clone(),
                    nics,
                    volumes,
                    metadata: self.metadata.clone(),
                    tags: self.tags.clone(),
                    security_group_ids: self.security_group_ids.clone(),
                    key_name: self.key_name.clone(),
                    user_data: self.user_data.clone(),
                    reservation_id: reservation_id.clone(),
                    launch_index: index as u32,
                    created: now,
                    updated: now,
                    launched_at: None,
                    password_hash: password_hash.clone(),
                    pending_password_hash: None,
                    auto_terminate_time: None,
                    host: None,
                    server_group_id: self.server_group_id.clone(),
                    metadata_options: self.metadata_options,
                    encrypted_password: sets_own_password.then(encrypted_password),
                    previous_host: None,
                    resize_revert: None,
                    rebuild: None,
                }
            })
            .collect()
    }
}

/// What the guest leaves for the user: its password encrypted with the key pair's public key,
/// base64 as the real service shows it. ecsd holds no key pairs, so the bytes are random: the
/// shape of an RSA-2048 ciphertext.
pub(crate) fn encrypted_password() -> String {
    use base64::Engine;
    let bytes: [u8; 256] = std::array::from_fn(|_| rand::random());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Picks the `count` lowest free addresses of the subnet's range at or above `from`, in
/// ascending order, skipping the gateway and what `taken` says is in use. `None` when fewer
/// are free.
pub fn free_addresses<E>(
    subnet: &super::catalogue::Subnet,
    from: u32,
    count: usize,
    mut taken: impl FnMut(Ipv4Addr) -> Result<bool, E>,
) -> Result<Option<Vec<Ipv4Addr>>, E> {
    let Some(range) = subnet.usable_range() else { return Ok(None) };
    let mut picked = Vec::with_capacity(count);
    for ip in (*range.start()).max(from)..=*range.end() {
        if picked.len() == count {
            break;
        }
        let ip = Ipv4Addr::from(ip);
        if ip != subnet.gateway_ip && !taken(ip)? {
            picked.push(ip);
        }
    }
    Ok((picked.len() == count).then_some(picked))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::catalogue::Catalogue;

    fn request(catalogue: &Catalogue) -> CreateServers {
        CreateServers {
            name: "web".into(),
            count: 2,
            image_id: catalogue.images[0].id.clone(),
            flavor_id: "s6.large.2".into(),
            vpc_id: catalogue.vpcs[0].id.clone(),
            nics: vec![NicRequest { subnet_id: catalogue.subnets[0].id.clone(), ip: None, port_id: None }],
            root_volume: VolumeRequest { volume_type: "SSD".into(), size_gib: None, multiattach: false },
            data_volumes: vec![],
            availability_zone: None,
            spread_over_azs: false,
            metadata: BTreeMap::new(),
            tags: vec![],
            security_group_ids: vec![],
            key_name: None,
            user_data: None,
            admin_pass: None,
            description: String::new(),
            server_group_id: None,
            metadata_options: MetadataOptions::default(),
        }
    }

    #[test]
    fn a_valid_request_passes_and_builds_suffixed_servers_in_build() {
        let catalogue = Catalogue::default();
        let req = request(&catalogue);
        assert!(req.validate(&catalogue).is_ok());
        let ips = vec![vec![Ipv4Addr::new(192, 168, 0, 2)], vec![Ipv4Addr::new(192, 168, 0, 3)]];
        let servers = req.build(&catalogue, "p", ips, None, time::OffsetDateTime::UNIX_EPOCH);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].name, "web-0000");
        assert_eq!(servers[1].name, "web-0001");
        assert_eq!(servers[0].status().as_str(), "BUILD");
        assert_eq!(servers[0].reservation_id, servers[1].reservation_id);
        assert_eq!(servers[1].launch_index, 1);
    }

    #[test]
    fn references_to_missing_things_get_their_codes() {
        let catalogue = Catalogue::default();
        let code = |f: &dyn Fn(&mut CreateServers)| {
            let mut req = request(&catalogue);
            f(&mut req);
            req.validate(&catalogue).err().map(|e| e.code.code())
        };
        assert_eq!(code(&|r| r.flavor_id = "nope".into()), Some("Ecs.0029"));
        assert_eq!(code(&|r| r.image_id = "nope".into()), Some("Ecs.0031"));
        assert_eq!(code(&|r| r.image_id = "0d4f9e1c-6b1e-4c1e-9a55-3f3c0b2f5a10".into()), Some("Ecs.0032"));
        assert_eq!(code(&|r| r.vpc_id = "nope".into()), Some("Ecs.0014"));
        assert_eq!(code(&|r| r.nics[0].subnet_id = "nope".into()), Some("Ecs.0038"));
        assert_eq!(code(&|r| r.nics[0].subnet_id = catalogue.subnets[1].id.clone()), Some("Ecs.0064"));
        assert_eq!(code(&|r| r.count = 0), Some("Ecs.0913"));
        assert_eq!(code(&|r| r.count = 101), Some("Ecs.0913"));
        assert_eq!(code(&|r| r.root_volume.volume_type = "TAPE".into()), Some("Ecs.0043"));
        assert_eq!(code(&|r| r.admin_pass = Some("weak".into())), Some("Ecs.0011"));
    }

    #[test]
    fn free_addresses_skip_used_ones_and_report_a_full_subnet() {
        let subnet = &Catalogue::default().subnets[1];
        let used: HashSet<Ipv4Addr> = [Ipv4Addr::new(10, 0, 1, 2)].into();
        let taken = |ip| Ok::<_, ()>(used.contains(&ip));
        assert_eq!(
            free_addresses(subnet, 0, 2, taken),
            Ok(Some(vec![Ipv4Addr::new(10, 0, 1, 3), Ipv4Addr::new(10, 0, 1, 4)]))
        );
        assert_eq!(free_addresses(subnet, 0, 253, taken), Ok(None));
        let from = u32::from(Ipv4Addr::new(10, 0, 1, 250));
        assert_eq!(free_addresses(subnet, from, 1, taken), Ok(Some(vec![Ipv4Addr::new(10, 0, 1, 250)])));
    }
}
