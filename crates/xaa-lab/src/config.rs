//! `LabConfig`: ports, TLS, storage, fixtures, clock. Defaults work offline with no environment.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;

use xaa_core::clock::{SharedClock, SystemClock};
use xaa_core::ids::{Issuer, ResourceUri};

/// The port of each component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    /// The lab console.
    pub console: u16,
    /// The mock IdP.
    pub idp: u16,
    /// The resource authorization server.
    pub authorization_server: u16,
    /// The todo API.
    pub todo_api: u16,
    /// The notes app.
    pub notes: u16,
}

impl Ports {
    /// The documented defaults: console 4400, IdP 4401, resource AS 4402, todo API 4403, notes 4404.
    /// Port 3000 stays free for a bring-your-own requestor.
    pub const DEFAULT: Ports =
        Ports { console: 4400, idp: 4401, authorization_server: 4402, todo_api: 4403, notes: 4404 };
    /// Every component on a port the OS picks (port 0).
    pub const EPHEMERAL: Ports = Ports { console: 0, idp: 0, authorization_server: 0, todo_api: 0, notes: 0 };
}

/// Where the clock stands in deterministic mode: 2027-01-15T08:00:00Z.
pub const DETERMINISTIC_EPOCH: i64 = 1_800_000_000;

/// Where state lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Storage {
    /// SQLite files in this directory (created if missing), kept across restarts.
    Dir(PathBuf),
    /// Everything in memory, gone at exit.
    InMemory,
}

/// How many requestors participants may register with the join code, by default.
pub const DEFAULT_MAX_JOINS: usize = 100;
/// How many join-code registrations a minute, by default.
pub const DEFAULT_JOINS_PER_MINUTE: usize = 20;

/// Everything `Lab::start` needs.
#[derive(Clone, Debug)]
pub struct LabConfig {
    /// Address the IdP, resource AS, todo API and notes app bind (loopback by default).
    pub bind: IpAddr,
    /// Address the console and its admin API bind: loopback unless set otherwise.
    pub console_bind: IpAddr,
    /// Host names or addresses the room reaches the lab by (`--public-host`): the first is in
    /// every URL (issuers, resource identifiers, redirects), all are in the TLS leaf. Empty:
    /// `localhost`. Each must resolve to an address the lab binds: the lab calls its own URLs.
    pub public_hosts: Vec<String>,
    /// The token the admin pages and API require (`None`: a fresh one per start).
    pub admin_token: Option<String>,
    /// The join code participants register their own requestor with at the console's `/join`
    /// (`None`: a fresh one per start, printed in the banner and shown on the admin page).
    pub join_code: Option<String>,
    /// How many requestors participants may register with the join code in one run.
    pub max_joins: usize,
    /// How many registrations the join code takes per minute of the lab clock.
    pub joins_per_minute: usize,
    /// Let the console call link-local and cloud metadata addresses for people in the room (the
    /// resource wizard, the explorer): off, as a shared room should not reach a cloud's metadata.
    pub allow_link_local: bool,
    /// How soon the resource AS may refetch the IdP's JWKS for an unknown `kid` (rate limit; 1 s).
    pub jwks_refetch_interval: std::time::Duration,
    /// Ports.
    pub ports: Ports,
    /// Serve every component over HTTPS with the lab CA.
    pub tls: bool,
    /// Where the lab CA lives (default: `<data dir>/tls`, or a per-process temp dir in memory mode).
    pub tls_dir: Option<PathBuf>,
    /// Storage.
    pub storage: Storage,
    /// Fixtures directory (embedded fixtures when `None`).
    pub fixtures_dir: Option<PathBuf>,
    /// Keys directory (embedded keys when `None`).
    pub keys_dir: Option<PathBuf>,
    /// Show tokens and secrets in full in the notes app's OAuth HTTP log (masked by default).
    pub reveal_secrets: bool,
    /// How many requests the trace keeps (oldest dropped first); 0 turns recording off.
    pub trace_capacity: usize,
    /// About how many bytes the trace keeps at most (oldest requests dropped first).
    pub trace_budget: usize,
    /// Connections each component takes at once, and how long they may idle.
    pub connections: crate::ConnectionLimits,
    /// Token lifetimes: the IdP's (ID token, ID-JAG, code, session) and the access token's.
    pub lifetimes: LabLifetimes,
    /// How many clients open RFC 7591 registration may hold at the IdP, and at the resource AS
    /// (default [`xaa_core::oauth::DEFAULT_MAX_OPEN_REGISTRATIONS`]); the console's
    /// registrations do not count.
    pub max_open_registrations: usize,
    /// How much of the IdP's audit log to keep (10,000 entries, 7 days of the lab clock).
    pub audit_retention: xaa_idp::AuditRetention,
    /// Changes applied to the fixtures once they are loaded (tests).
    pub fixture_edits: Vec<crate::fixtures::FixtureEdit>,
    /// The clock every component uses.
    pub clock: SharedClock,
    /// Where codes, ids and `jti`s come from (seeded in deterministic mode).
    pub entropy: xaa_core::secret::SharedEntropy,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            console_bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            public_hosts: Vec::new(),
            admin_token: None,
            join_code: None,
            max_joins: DEFAULT_MAX_JOINS,
            allow_link_local: false,
            joins_per_minute: DEFAULT_JOINS_PER_MINUTE,
            jwks_refetch_interval: std::time::Duration::from_secs(1),
            ports: Ports::DEFAULT,
            tls: false,
            tls_dir: None,
            storage: Storage::Dir(PathBuf::from("lab-data")),
            fixtures_dir: None,
            keys_dir: None,
            reveal_secrets: false,
            trace_capacity: 2000,
            trace_budget: crate::observe::trace::bounds::DEFAULT_BUDGET,
            connections: crate::ConnectionLimits::default(),
            lifetimes: LabLifetimes::default(),
            max_open_registrations: xaa_core::oauth::DEFAULT_MAX_OPEN_REGISTRATIONS,
            audit_retention: xaa_idp::AuditRetention::default(),
            fixture_edits: Vec::new(),
            clock: Arc::new(SystemClock::new()),
            entropy: Arc::new(xaa_core::secret::OsEntropy),
        }
    }
}

impl LabConfig {
    /// For tests: ephemeral ports, in-memory storage.
    pub fn for_tests() -> Self {
        Self { ports: Ports::EPHEMERAL, storage: Storage::InMemory, ..Self::default() }
    }

    /// Deterministic mode: the clock stands at [`DETERMINISTIC_EPOCH`] until moved, and every
    /// code, id and `jti` derives from `seed`, so two runs issue byte-identical tokens.
    pub fn deterministic(mut self, seed: u64) -> Self {
        self.clock = Arc::new(xaa_core::clock::ManualClock::new(DETERMINISTIC_EPOCH));
        self.entropy = Arc::new(xaa_core::secret::SeededEntropy::new(seed));
        self
    }

    /// The host in every URL: the first `--public-host`, else `localhost`.
    pub fn public_host(&self) -> &str {
        self.public_hosts.first().map_or("localhost", String::as_str)
    }

    /// The base URLs for `ports` on this configuration's scheme and public host. The console
    /// stays at `localhost` while it listens where `localhost` leads (`127.0.0.1`, `::1`: the
    /// default, it carries the admin API); bound anywhere else, the room reaches it by the public host.
    pub fn urls(&self, ports: Ports) -> Urls {
        let mut urls = Urls::new(self.tls, self.public_host(), ports);
        let localhost = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)];
        if localhost.contains(&self.console_bind) {
            urls.console = Urls::new(self.tls, "localhost", ports).console;
        }
        urls
    }

    /// The directory holding the lab CA.
    pub fn tls_dir(&self) -> PathBuf {
        match (&self.tls_dir, &self.storage) {
            (Some(d), _) => d.clone(),
            (None, Storage::Dir(d)) => d.join("tls"),
            (None, Storage::InMemory) => std::env::temp_dir().join(format!("xaa-lab-tls-{}", std::process::id())),
        }
    }
}

/// Token lifetimes across the lab, in seconds.
#[derive(Clone, Copy, Debug)]
pub struct LabLifetimes {
    /// The IdP's lifetimes (ID token 600, IdP access token 600, ID-JAG 300, code 60, session 8 h,
    /// refresh token 8 h).
    pub idp: xaa_idp::Lifetimes,
    /// Access tokens of the resource authorization server (xaa.dev: 7200).
    pub access_token: i64,
}

impl Default for LabLifetimes {
    fn default() -> Self {
        Self { idp: xaa_idp::Lifetimes::default(), access_token: 7200 }
    }
}

impl LabLifetimes {
    /// Every token lives `seconds` (a "short-lifetime profile" for showing expiry).
    pub fn short(seconds: i64) -> Self {
        let idp =
            xaa_idp::Lifetimes { id_token: seconds, access_token: seconds, id_jag: seconds, ..Default::default() };
        Self { idp, access_token: seconds }
    }
}

/// `host` as a URL names it: an IPv6 address in brackets, a name in lower case.
pub(crate) fn url_host(host: &str) -> String {
    match host.parse::<std::net::Ipv6Addr>() {
        Ok(v6) => format!("[{v6}]"),
        Err(_) => host.to_ascii_lowercase(),
    }
}

/// The base URL of each component: `scheme://host:port` (host `localhost` unless a public host is
/// set), no trailing slash. These strings
/// are the issuers and resource identifiers, used identically everywhere.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Urls {
    /// The console.
    pub console: String,
    /// The IdP issuer.
    pub idp: String,
    /// The resource AS issuer.
    pub authorization_server: String,
    /// The todo API (its resource identifier).
    pub todo_api: String,
    /// The notes app.
    pub notes: String,
}

impl Urls {
    /// The IdP's issuer identifier: its URL.
    pub fn idp_issuer(&self) -> Issuer {
        Issuer::new(self.idp.as_str())
    }

    /// The resource AS's issuer identifier: its URL.
    pub fn authorization_server_issuer(&self) -> Issuer {
        Issuer::new(self.authorization_server.as_str())
    }

    /// The todo API's resource identifier: its URL.
    pub fn todo_api_resource(&self) -> ResourceUri {
        ResourceUri::new(self.todo_api.as_str())
    }

    /// URLs for the given host (a name or an IP address; IPv6 is bracketed) and ports.
    pub fn new(tls: bool, host: &str, ports: Ports) -> Self {
        let scheme = if tls { "https" } else { "http" };
        let host = url_host(host);
        let url = |p: u16| format!("{scheme}://{host}:{p}");
        Self {
            console: url(ports.console),
            idp: url(ports.idp),
            authorization_server: url(ports.authorization_server),
            todo_api: url(ports.todo_api),
            notes: url(ports.notes),
        }
    }

    /// Replaces `{console}`, `{idp}`, `{authorization_server}`, `{todo_api}` and `{notes}` in `text`.
    pub fn substitute(&self, text: &str) -> String {
        text.replace("{console}", &self.console)
            .replace("{idp}", &self.idp)
            .replace("{authorization_server}", &self.authorization_server)
            .replace("{todo_api}", &self.todo_api)
            .replace("{notes}", &self.notes)
    }
}
