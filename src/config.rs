//! Configuration: one struct, built from flags, environment and an optional TOML file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use crate::domain::catalogue::{self, Catalogue, Flavor, Image, Quota, Subnet, Vpc};
use crate::domain::placement::Placement;
use crate::engine::sim::Timings;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TimingsMode {
    /// Transitions take seconds, like the cloud (durations from the config file).
    Realistic,
    /// Every transition completes at once.
    Instant,
}

/// The bootstrap credential: an access key pair and the project it may use.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credential {
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
}

/// A key of the file's `[[access_keys]]`: a credential, and whether it is an admin one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyConfig {
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
    /// Its control calls may reach every project (docs/testing.md), like the bootstrap
    /// credential's.
    #[serde(default)]
    pub admin: bool,
}

/// What one client may hold of the server: connections and how long they may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// A request head must arrive whole within this, counted from the connection's opening
    /// (or the TLS handshake's start), or from the first byte of a later request's head.
    pub header_read_timeout: std::time::Duration,
    /// A kept-alive connection with no request being answered is closed after this long
    /// without a byte read or written.
    pub idle_timeout: std::time::Duration,
    /// How long a console session lasts from sign-in.
    pub console_session: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_read_timeout: std::time::Duration::from_secs(10),
            idle_timeout: std::time::Duration::from_secs(60),
            console_session: std::time::Duration::from_secs(12 * 3600),
        }
    }
}

/// The certificate chain and private key (PEM files) of `--tls-cert`/`--tls-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where the state is kept (`--store`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreChoice {
    /// SQLite in the data dir: one ecsd.
    #[default]
    Sqlite,
    /// A PostgreSQL database (its URL, password and options included): one or several ecsd
    /// replicas sharing it.
    Postgres(String),
}

impl StoreChoice {
    /// `sqlite`, or a `postgres://` / `postgresql://` URL.
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        if value == "sqlite" {
            return Ok(StoreChoice::Sqlite);
        }
        if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            return Ok(StoreChoice::Postgres(value.to_string()));
        }
        anyhow::bail!("--store must be `sqlite` or a postgres:// URL, not {value:?}")
    }

    /// Opens the store: the data dir's SQLite file, or the database (migrating either).
    pub fn open(&self, data_dir: &std::path::Path) -> anyhow::Result<std::sync::Arc<dyn crate::store::Store>> {
        Ok(match self {
            StoreChoice::Sqlite => {
                std::sync::Arc::new(crate::store::SqliteStore::open(&data_dir.join(crate::STORE_FILE))?)
            }
            StoreChoice::Postgres(url) => std::sync::Arc::new(crate::store::PostgresStore::open(url)?),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// The store: the data dir's SQLite file unless a PostgreSQL URL is given.
    pub store: StoreChoice,
    pub timings: Timings,
    pub catalogue: Catalogue,
    /// From flags or environment; when absent the data dir's (or a generated one) is used.
    pub credential: Option<Credential>,
    /// Verify signatures and tokens (off only with `--no-auth`).
    pub auth: bool,
    /// More projects, access keys and token users from the file.
    pub projects: Vec<ProjectConfig>,
    pub access_keys: Vec<AccessKeyConfig>,
    pub users: Vec<crate::iam::User>,
    /// A fleet to load into the bootstrap project when it has no servers yet.
    pub fixtures: Option<serde_json::Value>,
    pub limits: Limits,
    /// Serve HTTPS with these files instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Start from an empty store: the data dir's store files are removed once the listener is
    /// bound (the bootstrap credential file stays).
    pub reset_on_start: bool,
    /// The one region ecsd is (`eu-de` unless configured): the Keystone catalog's region, and
    /// the name of every project that was not given one, as the cloud names a region's main
    /// project after the region.
    pub region: String,
    /// How much of the audit trail is kept, and whether reads are recorded.
    pub trail: crate::audit::TrailConfig,
    /// Also serve `GET /metrics` here, without authentication (for a Prometheus scraper).
    pub metrics_listen: Option<SocketAddr>,
}

/// The region when none is configured.
pub const DEFAULT_REGION: &str = "eu-de";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// The TOML file: every section optional; a list given replaces the seeded one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub timings: Option<Timings>,
    pub quota: Option<Quota>,
    pub flavors: Option<Vec<Flavor>>,
    pub images: Option<Vec<Image>>,
    pub vpcs: Option<Vec<Vpc>>,
    pub subnets: Option<Vec<Subnet>>,
    pub availability_zones: Option<Vec<String>>,
    pub placement: Option<Placement>,
    /// The region's name (`eu-de` by default).
    pub region: Option<String>,
    #[serde(default)]
    pub projects: Vec<ProjectConfig>,
    #[serde(default)]
    pub access_keys: Vec<AccessKeyConfig>,
    #[serde(default)]
    pub users: Vec<crate::iam::User>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn catalogue(&self) -> anyhow::Result<Catalogue> {
        let catalogue = Catalogue {
            flavors: self.flavors.clone().unwrap_or_else(catalogue::default_flavors),
            images: self.images.clone().unwrap_or_else(catalogue::default_images),
            vpcs: self.vpcs.clone().unwrap_or_else(catalogue::default_vpcs),
            subnets: self.subnets.clone().unwrap_or_else(catalogue::default_subnets),
            availability_zones: self.availability_zones.clone().unwrap_or_else(catalogue::default_availability_zones),
            quota: self.quota.clone().unwrap_or_default(),
            placement: self.placement.clone().unwrap_or_default(),
        };
        if catalogue.availability_zones.is_empty() {
            anyhow::bail!("availability_zones must name at least one zone");
        }
        catalogue.placement.validate(&catalogue.availability_zones).map_err(anyhow::Error::msg)?;
        for subnet in &catalogue.subnets {
            if subnet.network().is_none() {
                anyhow::bail!(
                    "subnet {}: cidr {} is not an IPv4 CIDR with a prefix of at most /30",
                    subnet.id,
                    subnet.cidr
                );
            }
            if catalogue.vpc(&subnet.vpc_id).is_none() {
                anyhow::bail!("subnet {} names the unknown VPC {}", subnet.id, subnet.vpc_id);
            }
        }
        Ok(catalogue)
    }

    /// A project id is 32 lower-case hex characters, like the real ones.
    pub fn check_project_ids(&self) -> anyhow::Result<()> {
        let ids = self.projects.iter().map(|p| &p.id).chain(self.access_keys.iter().map(|k| &k.project_id));
        for id in ids.chain(self.users.iter().map(|u| &u.project_id)) {
            if !is_project_id(id) {
                anyhow::bail!("project id {id:?} is not 32 lower-case hex characters");
            }
        }
        Ok(())
    }

    pub fn timings(&self, mode: TimingsMode) -> Timings {
        match mode {
            TimingsMode::Instant => Timings::INSTANT,
            TimingsMode::Realistic => self.timings.unwrap_or(Timings::REALISTIC),
        }
    }
}

impl TimingsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TimingsMode::Realistic => "realistic",
            TimingsMode::Instant => "instant",
        }
    }
}

impl Config {
    /// Whether transitions take time, as the health answer and the banner say.
    pub fn timings_mode(&self) -> TimingsMode {
        if self.timings == Timings::INSTANT { TimingsMode::Instant } else { TimingsMode::Realistic }
    }
}

pub fn is_project_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
