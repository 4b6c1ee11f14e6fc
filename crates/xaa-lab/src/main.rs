//! `lab`: runs the whole XAA lab on loopback, offline, from embedded fixtures and keys.
//!
//! ```text
//! cargo run --bin lab                  # console :4400, IdP :4401, resource AS :4402, todo API :4403
//! cargo run --bin lab -- --tls         # the same over HTTPS with a lab CA (for Node/openid-client apps)
//! cargo run --bin lab -- env --tls     # print the bring-your-own requestor's .env
//! cargo run --bin lab -- check as --issuer http://localhost:8080 --client-id c --client-secret s --resource …
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use xaa_lab::{ClientRole, ConnectionLimits, EnvFile, Fixtures, Lab, LabConfig, LabHandle, Ports, Storage};

/// The XAA lab: a mock IdP, resource authorization server and todo API on localhost.
#[derive(Parser, Debug)]
#[command(name = "lab", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant, reason = "parsed once, at start")]
enum Command {
    /// Print the `.env` of the bring-your-own requestor (the tutorial's variable names).
    Env {
        #[command(flatten)]
        lab: LabUrls,
    },
    /// Mint a token signed with the lab's keys (for tests in any language), printed as the JSON of
    /// the endpoint that would issue it. Reads the running lab's URLs from --ready-file when given.
    Token {
        #[command(subcommand)]
        kind: TokenCommand,
    },
    /// Reset a stopped lab's data dir for the next group: empty the audit log, give the fixture
    /// clients the connections of policy.json again and delete every registered requestor (IdP and
    /// resource-AS clients), unless --keep-registrations. Switches, the clock and the trace live in
    /// memory and start clean anyway. Refuses while a lab runs on the data dir.
    Reset {
        /// Keep registered requestors (their clients and connections).
        #[arg(long)]
        keep_registrations: bool,
        /// The stopped lab's directory of SQLite files.
        #[arg(long, value_name = "DIR", default_value = "lab-data", env = "LAB_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Key management for lab signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Grade an ID-JAG authorization server or a protected resource against the specs, the lab
    /// playing the party it trusts (docs/conformance.md). Exits with 1 when a MUST is not met.
    Check {
        #[command(subcommand)]
        target: CheckCommand,
    },
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// An authorization server that redeems ID-JAGs (jwt-bearer): the lab plays the IdP it trusts.
    As(CheckAsArgs),
    /// A protected resource (REST or MCP): the lab plays the authorization server it trusts, or
    /// (--without-tokens) runs the checks that need no token.
    Resource(CheckResourceArgs),
}

#[derive(Args, Debug)]
struct CheckAsArgs {
    /// The server's issuer: the valid ID-JAG's aud, and where its token endpoint is discovered
    /// (RFC 8414 metadata, then OpenID Connect discovery, then {issuer}/token).
    #[arg(long, value_name = "URL", required_unless_present = "token_endpoint")]
    issuer: Option<String>,
    /// Its token endpoint (no discovery).
    #[arg(long, value_name = "URL")]
    token_endpoint: Option<String>,
    /// The valid ID-JAG's aud (default: --issuer).
    #[arg(long, value_name = "URL", required_unless_present = "issuer")]
    audience: Option<String>,
    /// The client the checks authenticate as there: the valid ID-JAG's client_id.
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// That client's secret (none: a public client, sending its client_id alone).
    #[arg(long, value_name = "SECRET", env = "LAB_CHECK_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// How the client authenticates: client_secret_basic or client_secret_post.
    #[arg(long, value_name = "METHOD", default_value = "basic", value_parser = ["basic", "post"])]
    auth: String,
    /// The resource the valid ID-JAG grants (one the server governs).
    #[arg(long, value_name = "URL")]
    resource: Option<String>,
    /// The scope the valid ID-JAG grants.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// The server follows the MCP enterprise-managed authorization profile: its MUSTs fail too.
    #[arg(long)]
    mcp: bool,
    #[command(flatten)]
    run: CheckRun,
}

#[derive(Args, Debug)]
struct CheckResourceArgs {
    /// The resource identifier: the access tokens' aud, and where its RFC 9728 metadata is.
    #[arg(long, value_name = "URL")]
    resource: String,
    /// The URL called (default: --resource): a GET of a REST API, or the MCP endpoint.
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// It is an MCP server: the call is a JSON-RPC initialize, and MCP's authorization rules apply.
    #[arg(long)]
    mcp: bool,
    /// The scope the endpoint needs (the valid token carries it).
    #[arg(long, value_name = "SCOPE", default_value = "")]
    scope: String,
    /// A sibling resource of the same authorization server (default: {resource}/lab-check-sibling).
    #[arg(long, value_name = "URL")]
    sibling: Option<String>,
    /// The resource trusts only its own authorization server: run the checks without a token.
    #[arg(long)]
    without_tokens: bool,
    #[command(flatten)]
    run: CheckRun,
}

/// How `lab check` runs and reports.
#[derive(Args, Debug)]
struct CheckRun {
    /// Print the results as JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write the results as JUnit XML to FILE (for CI).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print what the server under test must be configured with to trust the lab, and exit.
    #[arg(long)]
    print_trust: bool,
    /// Use a running lab, reading its URLs from its ready file (`lab --ready-file PATH`); without
    /// it, the lab starts in-process on its default ports for the run.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
    /// Read idp-*.pem and resource-as-*.pem signing keys from this directory (as the lab was started with).
    #[arg(long, value_name = "DIR", env = "LAB_KEYS")]
    keys: Option<PathBuf>,
    /// Trust this CA certificate (PEM) when calling the server under test, besides the system's.
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// An ID token from the IdP (600 s).
    IdToken(MintArgs),
    /// An ID-JAG from the IdP (300 s).
    IdJag(MintArgs),
    /// An access token from the resource authorization server (7200 s).
    AccessToken(MintArgs),
}

#[derive(Args, Debug, Clone)]
struct MintArgs {
    /// The user.
    #[arg(long, default_value = "alice@acme.example")]
    email: String,
    /// The requestor's IdP client id (fixtures); its resource-AS client id follows from it.
    #[arg(long, default_value = "my-requestor")]
    client: String,
    /// Granted scope (ID-JAG, access token).
    #[arg(long, default_value = "todos.read todos.write")]
    scope: String,
    /// Lifetime in seconds (default: the lab's own for that token).
    #[arg(long)]
    lifetime: Option<i64>,
    /// Issue it already expired (beyond the 60 s leeway).
    #[arg(long)]
    expired: bool,
    /// Override the JOSE typ (e.g. JWT, to see it refused).
    #[arg(long)]
    typ: Option<String>,
    /// Override aud.
    #[arg(long)]
    aud: Option<String>,
    /// Override client_id (ID-JAG, access token).
    #[arg(long)]
    client_id: Option<String>,
    /// Read the running lab's URLs from its ready file (written with `lab --ready-file PATH`).
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
    /// Read idp-*.pem and resource-as-*.pem signing keys from this directory (as the lab was started with).
    #[arg(long, value_name = "DIR", env = "LAB_KEYS")]
    keys: Option<PathBuf>,
    /// Mint as a lab started with --deterministic SEED: its clock and its ids.
    #[arg(long, value_name = "SEED", num_args = 0..=1, default_missing_value = "0")]
    deterministic: Option<u64>,
    #[command(flatten)]
    lab: LabUrls,
}

/// Where the lab is, for the subcommands that name its URLs without running it (`env`, `token`):
/// the options it was started with that change its URLs.
#[derive(Args, Debug, Clone)]
struct LabUrls {
    /// URLs over HTTPS (a lab started with --tls).
    #[arg(long, env = "LAB_TLS")]
    tls: bool,
    /// The host name the lab is reached by (a lab started with --public-host).
    #[arg(long, value_name = "NAME", value_parser = xaa_lab::public_host::parse)]
    public_host: Vec<String>,
    /// The address the lab listens on (a lab started with --bind).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Read clients.json, policy.json, users.json and todos.json from this directory.
    #[arg(long, value_name = "DIR", env = "LAB_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// The lab's data directory (its TLS CA is under `<dir>/tls`).
    #[arg(long, value_name = "DIR", default_value = "lab-data", env = "LAB_DATA_DIR")]
    data_dir: PathBuf,
}

impl LabUrls {
    fn config(&self) -> LabConfig {
        LabConfig {
            tls: self.tls,
            tls_dir: Some(self.data_dir.join("tls")),
            fixtures_dir: self.fixtures.clone(),
            bind: self.bind,
            public_hosts: self.public_host.clone(),
            ..LabConfig::default()
        }
    }
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Print a new 2048-bit RSA signing key (PKCS#8 PEM) to stdout: `lab keys new --kid idp-2027-01 > keys/idp-2027-01.pem`.
    New {
        /// Key id; name the file `<kid>.pem`.
        #[arg(long)]
        kid: String,
    },
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// Serve every component over HTTPS with certificates from a lab-generated local CA.
    #[arg(long, env = "LAB_TLS")]
    tls: bool,
    /// Bind every component to a port the OS picks (see --ready-file for the URLs).
    #[arg(long)]
    ephemeral_ports: bool,
    /// Keep all state in memory (only the TLS CA is written, to `<data-dir>/tls`).
    #[arg(long)]
    in_memory: bool,
    /// Directory for the SQLite files and the lab CA (kept across restarts).
    #[arg(long, value_name = "DIR", default_value = "lab-data", env = "LAB_DATA_DIR")]
    data_dir: PathBuf,
    /// Write the URLs, CA path and .env as JSON to this file once everything listens.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,
    /// Read clients.json, policy.json, users.json and todos.json from this directory.
    #[arg(long, value_name = "DIR", env = "LAB_FIXTURES")]
    fixtures: Option<PathBuf>,
    /// Read idp-*.pem and resource-as-*.pem signing keys from this directory.
    #[arg(long, value_name = "DIR", env = "LAB_KEYS")]
    keys: Option<PathBuf>,
    /// Show tokens and secrets in full in the OAuth HTTP log and the trace (masked by default).
    #[arg(long)]
    reveal_secrets: bool,
    /// Deterministic mode: the clock stands at 2027-01-15T08:00:00Z and codes, ids and jtis derive
    /// from SEED, so two runs issue byte-identical tokens.
    #[arg(long, value_name = "SEED", num_args = 0..=1, default_missing_value = "0")]
    deterministic: Option<u64>,
    /// The admin token the console's admin pages and API require (default: a new one per start,
    /// printed in the banner and written to the ready file).
    #[arg(long, value_name = "TOKEN", env = "LAB_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// The join code participants enter at the console's /join to register their own app
    /// (default: a new one per start, printed in the banner and shown on the admin page).
    #[arg(long, value_name = "CODE", env = "LAB_JOIN_CODE")]
    join_code: Option<String>,
    /// How many apps participants may register with the join code while the lab runs.
    #[arg(long, value_name = "N", default_value_t = xaa_lab::DEFAULT_MAX_JOINS)]
    max_joins: usize,
    /// How many registrations the join code takes per minute (of the lab clock).
    #[arg(long, value_name = "N", default_value_t = xaa_lab::DEFAULT_JOINS_PER_MINUTE, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    joins_per_minute: usize,
    /// Let the console's resource wizard and explorer call link-local and cloud metadata
    /// addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), refused by default.
    #[arg(long)]
    allow_link_local: bool,
    /// Address the IdP, resource AS, todo API and notes app listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// The host name or IP address the room reaches the lab by: used in every issuer, resource
    /// identifier, redirect and metadata URL instead of localhost, and added to the TLS leaf. May be
    /// given several times (the first is used in URLs; all go into the leaf). It must resolve to an
    /// address the lab binds (--bind), as the lab calls its own URLs.
    #[arg(long, value_name = "NAME", value_parser = xaa_lab::public_host::parse)]
    public_host: Vec<String>,
    /// Address the console and its admin API listen on (loopback unless you choose otherwise).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    console_bind: std::net::IpAddr,
    /// How many requests the console's live trace keeps (0 turns recording off).
    #[arg(long, value_name = "N", default_value_t = 2000)]
    trace_capacity: usize,
    /// How much memory the live trace may use, in MiB (oldest requests dropped first; every value
    /// is cut to 300 characters and a request keeps at most 40 parameters).
    #[arg(long, value_name = "MIB", default_value_t = 4)]
    trace_budget_mb: usize,
    /// Open connections each component takes at once (default: a fifth of the open-files limit
    /// less a reserve, between 32 and 1024). When they are all open, a new connection takes the
    /// place of an idle one (never used, or kept alive between requests) of the client address
    /// holding the most; it is closed at once only when none is idle.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Of those, how many one client address may hold (an IPv6 client: its /64; loopback counts
    /// like any address). Past it, the address's new connection takes the place of its own
    /// longest-idle one, or is closed at once when none is idle. Raise it when the room reaches the
    /// lab through one NAT address (default: half of --max-connections).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    max_connections_per_address: Option<usize>,
    /// Seconds a connection may go without a byte either way before it is closed: never used,
    /// kept alive between requests, or waiting on a handler (above the longest `todo-api-slow`
    /// delay, 60 s).
    #[arg(long, value_name = "SECONDS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Seconds an HTTP/1 request head (request line and headers) may take to arrive once its first
    /// byte has; a slower one is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// How many clients open RFC 7591 registration (POST /register, no admin token) may hold, at
    /// the IdP and at the resource AS each; past it, 403 access_denied until one is deleted.
    /// Clients registered in the console do not count.
    #[arg(long, value_name = "N", default_value_t = xaa_core::oauth::DEFAULT_MAX_OPEN_REGISTRATIONS)]
    max_open_registrations: usize,
    /// How many entries the IdP's audit log keeps (the newest; older ones are dropped as new ones come).
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    audit_max_entries: u32,
    /// How many days of the lab clock an audit log entry is kept.
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    audit_max_age_days: u32,
}

impl RunArgs {
    fn connection_limits(&self) -> ConnectionLimits {
        let defaults = ConnectionLimits::default();
        ConnectionLimits {
            per_listener: self.max_connections.unwrap_or(defaults.per_listener).max(1),
            per_address: self.max_connections_per_address,
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout),
        }
    }

    fn config(&self) -> LabConfig {
        let config = LabConfig {
            ports: if self.ephemeral_ports { Ports::EPHEMERAL } else { Ports::DEFAULT },
            tls: self.tls,
            storage: if self.in_memory { Storage::InMemory } else { Storage::Dir(self.data_dir.clone()) },
            // The lab CA lives in the data dir even with --in-memory, so NODE_EXTRA_CA_CERTS stays valid.
            tls_dir: Some(self.data_dir.join("tls")),
            fixtures_dir: self.fixtures.clone(),
            keys_dir: self.keys.clone(),
            reveal_secrets: self.reveal_secrets,
            trace_capacity: self.trace_capacity,
            trace_budget: self.trace_budget_mb.saturating_mul(1024 * 1024),
            connections: self.connection_limits(),
            max_open_registrations: self.max_open_registrations,
            audit_retention: xaa_idp::AuditRetention {
                max_entries: self.audit_max_entries,
                max_age: i64::from(self.audit_max_age_days) * 86_400,
            },
            admin_token: self.admin_token.clone(),
            join_code: self.join_code.clone().filter(|c| !c.trim().is_empty()),
            max_joins: self.max_joins,
            allow_link_local: self.allow_link_local,
            joins_per_minute: self.joins_per_minute,
            bind: self.bind,
            console_bind: self.console_bind,
            public_hosts: self.public_host.clone(),
            ..LabConfig::default()
        };
        match self.deterministic {
            Some(seed) => config.deterministic(seed),
            None => config,
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Env { lab }) => print_env(&lab),
        Some(Command::Keys { command: KeysCommand::New { kid } }) => new_key(&kid),
        Some(Command::Token { kind }) => mint_token(kind),
        Some(Command::Reset { keep_registrations, data_dir }) => reset(&data_dir, keep_registrations),
        Some(Command::Check { target }) => {
            return match check(target) {
                Ok(true) => std::process::ExitCode::SUCCESS,
                Ok(false) => std::process::ExitCode::from(1),
                Err(e) => {
                    eprintln!("lab check: {e:#}");
                    std::process::ExitCode::from(2)
                }
            };
        }
        None => run_lab(cli.run),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lab: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn print_env(lab: &LabUrls) -> anyhow::Result<()> {
    let config = lab.config();
    let urls = config.urls(config.ports);
    let fixtures = Fixtures::load(config.fixtures_dir.as_deref(), &urls)?;
    let byo = fixtures
        .requestor(ClientRole::BringYourOwn)
        .ok_or_else(|| anyhow::anyhow!("clients.json has no \"bring-your-own\" client"))?;
    stdout(&EnvFile::new(&urls, byo).to_dotenv())?;
    if config.tls {
        let ca = std::path::absolute(config.tls_dir().join("ca.pem"))?;
        eprintln!("# Node reads the CA from the shell, not from .env: NODE_EXTRA_CA_CERTS={}", ca.display());
    }
    Ok(())
}

fn mint_token(kind: TokenCommand) -> anyhow::Result<()> {
    use xaa_lab::mint::{MintRequest, TokenKind, mint};
    let (kind, args, default_lifetime) = match kind {
        TokenCommand::IdToken(a) => (TokenKind::IdToken, a, 600),
        TokenCommand::IdJag(a) => (TokenKind::IdJag, a, 300),
        TokenCommand::AccessToken(a) => (TokenKind::AccessToken, a, 7200),
    };
    let config = args.lab.config();
    let config = LabConfig { keys_dir: args.keys.clone(), ..config };
    let config = match args.deterministic {
        Some(seed) => config.deterministic(seed),
        None => config,
    };
    let mut urls = config.urls(config.ports);
    if let Some(path) = &args.ready_file {
        read_ready_urls(path, &mut urls)?;
    }
    let fixtures = Fixtures::load(config.fixtures_dir.as_deref(), &urls)?;
    let keys = xaa_lab::LabKeys::load(config.keys_dir.as_deref())?;
    let request = MintRequest {
        email: args.email,
        client: args.client,
        scope: args.scope,
        lifetime: args.lifetime.unwrap_or(default_lifetime),
        expired: args.expired,
        typ: args.typ,
        aud: args.aud,
        client_id: args.client_id,
        resource: None,
        defect: Default::default(),
    };
    let now = config.clock.now();
    let out = mint(kind, &request, &urls, &fixtures, (&keys).into(), now, config.entropy.as_ref())
        .map_err(anyhow::Error::msg)?;
    stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))
}

/// The running lab's URLs, from the ready file it wrote (`lab --ready-file PATH`).
fn read_ready_urls(path: &std::path::Path, urls: &mut xaa_lab::Urls) -> anyhow::Result<()> {
    let ready: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let url =
        |k: &str| ready[k].as_str().map(str::to_owned).ok_or_else(|| anyhow::anyhow!("{} has no {k}", path.display()));
    urls.idp = url("idp")?;
    urls.authorization_server = url("authorization_server")?;
    urls.todo_api = url("todo_api")?;
    Ok(())
}

/// `lab check as|resource`: `Ok(false)` when a MUST is not met.
fn check(command: CheckCommand) -> anyhow::Result<bool> {
    use xaa_lab::conformance::{self, LabParty, Report, as_server, resource};
    let run = match &command {
        CheckCommand::As(a) => &a.run,
        CheckCommand::Resource(r) => &r.run,
    };
    let ca = run.ca.as_ref().map(std::fs::read).transpose()?;
    let http = conformance::http_client(ca.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        // The lab the server under test trusts: a running one, or one started for this run.
        let needs_lab = !matches!(&command, CheckCommand::Resource(r) if r.without_tokens) && !run.print_trust;
        let config = LabConfig { keys_dir: run.keys.clone(), storage: Storage::InMemory, ..LabConfig::default() };
        let mut urls = config.urls(config.ports);
        let started = match &run.ready_file {
            Some(path) => {
                read_ready_urls(path, &mut urls)?;
                None
            }
            None if needs_lab => {
                let lab = Lab::start(config.clone()).await.map_err(|e| {
                    anyhow::anyhow!("{e}: the lab starts on its default ports for `lab check`; with a lab running, pass --ready-file")
                })?;
                urls = lab.urls().clone();
                Some(lab)
            }
            None => None,
        };
        let fixtures = Fixtures::load(None, &urls)?;
        let keys = xaa_lab::LabKeys::load(run.keys.as_deref())?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
        let entropy = xaa_core::secret::OsEntropy;
        let lab = LabParty { urls: &urls, fixtures: &fixtures, keys: (&keys).into(), now, entropy: &entropy };
        let report: anyhow::Result<Report> = match &command {
            CheckCommand::As(a) => {
                let mut target = as_server::AsTarget {
                    token_endpoint: a.token_endpoint.clone().unwrap_or_default(),
                    audience: a.audience.clone().or_else(|| a.issuer.clone()).unwrap_or_default(),
                    client_id: a.client_id.clone(),
                    client_secret: a.client_secret.clone(),
                    auth: if a.auth == "post" { as_server::ClientAuth::Post } else { as_server::ClientAuth::Basic },
                    resource: a.resource.clone(),
                    scope: a.scope.clone(),
                    mcp: a.mcp,
                };
                if run.print_trust {
                    return print_trust(&as_server::trust(&lab, &target));
                }
                if let (None, Some(issuer)) = (&a.token_endpoint, &a.issuer) {
                    let (endpoint, tried) = as_server::discover_token_endpoint(&http, issuer).await;
                    eprintln!("lab check: token endpoint {endpoint}\n  (tried: {})", tried.join("; "));
                    target.token_endpoint = endpoint;
                }
                as_server::run(&http, lab, &target).await.map_err(Into::into)
            }
            CheckCommand::Resource(r) => {
                let target = resource::ResourceTarget {
                    resource: r.resource.clone(),
                    endpoint: r.endpoint.clone().unwrap_or_else(|| r.resource.clone()),
                    mcp: r.mcp,
                    scope: r.scope.clone(),
                    sibling: r.sibling.clone(),
                    with_tokens: !r.without_tokens,
                };
                if run.print_trust {
                    return print_trust(&resource::trust(&lab, &target));
                }
                resource::run(&http, lab, &target).await.map_err(Into::into)
            }
        };
        if let Some(lab) = started {
            lab.shutdown(Duration::from_secs(1)).await;
        }
        let report = report?;
        if let Some(path) = &run.junit {
            std::fs::write(path, Report::junit(std::slice::from_ref(&report)))?;
        }
        if run.json {
            stdout(&format!("{}\n", serde_json::to_string_pretty(&report.json())?))?;
        } else {
            stdout(&report.table())?;
        }
        Ok(report.passed())
    })
}

fn print_trust(lines: &[(String, String)]) -> anyhow::Result<bool> {
    let width = lines.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    let text: String = lines.iter().map(|(k, v)| format!("{k:<width$}  {v}\n")).collect();
    stdout(&text)?;
    Ok(true)
}

/// Writes to stdout; a reader that went away (`lab env | head -1`) is not an error.
fn stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn reset(data_dir: &std::path::Path, keep_registrations: bool) -> anyhow::Result<()> {
    let r = xaa_lab::reset_data_dir(data_dir, keep_registrations)?;
    let registrations = match keep_registrations {
        true => "registered requestors kept".to_owned(),
        false => format!(
            "{} registered client(s) deleted at the IdP ({}), {} at the resource AS",
            r.removed_clients.len(),
            r.removed_clients.join(", "),
            r.removed_resource_clients.len()
        ),
    };
    stdout(&format!(
        "lab: {} reset: audit log emptied, every resource single use again, fixture policy reseeded at the next start, {registrations}.\n",
        data_dir.display()
    ))
}

fn new_key(kid: &str) -> anyhow::Result<()> {
    let key = xaa_core::jose::SigningKey::generate(kid)?;
    stdout(key.private_pem())
}

fn run_lab(args: RunArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let config = args.config();
    for warning in xaa_lab::public_host::warnings(config.bind, config.console_bind, &config.public_hosts) {
        eprintln!("\nlab: warning: {warning}\n");
    }
    runtime.block_on(async move {
        let started = Instant::now();
        let lab = Lab::start(config.clone()).await?;
        if let Some(path) = &args.ready_file {
            write_ready_file(path, &lab)?;
        }
        print_banner(&lab, &config, started.elapsed());
        shutdown_signal().await;
        eprintln!("\nlab: stopping (requests in flight may finish)…");
        lab.shutdown(Duration::from_secs(5)).await;
        eprintln!("lab: stopped");
        Ok(())
    })
}

/// The ready file carries the admin token, so it is owner-only (written whole, then renamed).
fn write_ready_file(path: &std::path::Path, lab: &LabHandle) -> anyhow::Result<()> {
    xaa_lab::private_file::write(path, &serde_json::to_vec_pretty(&lab.ready_json())?)?;
    Ok(())
}

fn print_banner(lab: &LabHandle, config: &LabConfig, took: Duration) {
    let u = lab.urls();
    let mut out = String::new();
    out.push_str(&format!(
        "\n  XAA Lab is running ({}, ready in {} ms)\n\n",
        if config.tls { "HTTPS with the lab CA" } else { "HTTP" },
        took.as_millis()
    ));
    for (name, url) in [
        ("Console", &u.console),
        ("IdP (issuer)", &u.idp),
        ("Resource authorization server", &u.authorization_server),
        ("Todo API", &u.todo_api),
        ("Notes app (requestor)", &u.notes),
    ] {
        out.push_str(&format!("  {name:<31} {url}\n"));
    }
    if !config.public_hosts.is_empty() {
        let open = if config.console_bind.is_loopback() { u.notes.clone() } else { format!("{}/join", u.console) };
        out.push_str(&format!("\n  Participants open: {open}   (and use the .env below for their own app)\n"));
        if config.console_bind.is_loopback() {
            out.push_str("  The console listens on loopback only (--console-bind to share it).\n");
        }
    }
    out.push_str(&format!(
        "\n  Start at the console: {}/explorer walks the four XAA steps; {}/trace shows every request live.\n",
        u.console, u.console
    ));
    out.push_str("  Log in with any email and any 6-digit code (e.g. alice@acme.example / 123456).\n");
    out.push_str(&format!(
        "\n  IT admin (register apps, connections, audit log, break-it switches, clock, keys):\n    {}/admin?token={}\n  Admin API: Authorization: Bearer {}\n",
        u.console,
        lab.admin_token(),
        lab.admin_token()
    ));
    out.push_str(&format!(
        "\n  Participants register their own app at {}/join with the join code:  {}\n",
        u.console,
        lab.join_code()
    ));
    out.push_str("\n  .env for your own requestor on http://localhost:3000 (also: `lab env`):\n\n");
    for line in lab.env().to_dotenv().lines() {
        out.push_str(&format!("    {line}\n"));
    }
    if let Some(ca) = lab.ca_cert() {
        out.push_str(&format!("\n  Start Node apps with:  NODE_EXTRA_CA_CERTS={}\n", ca.display()));
    } else {
        out.push_str("\n  Node apps using openid-client need HTTPS: run `lab --tls`.\n");
    }
    match &config.storage {
        Storage::Dir(d) => out.push_str(&format!("\n  State: {} (kept across restarts)\n", d.display())),
        Storage::InMemory => out.push_str("\n  State: in memory (gone at exit)\n"),
    }
    out.push_str("  Press Ctrl+C to stop.\n");
    let _ = stdout(&format!("{out}\n"));
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The help of `lab` or of one of its subcommands (`path`), as `--help` prints it.
    fn help(path: &[&str]) -> String {
        let mut command = Cli::command();
        for name in path {
            command = command.find_subcommand(name).expect("a subcommand").clone();
        }
        command.render_long_help().to_string()
    }

    #[test]
    fn the_connection_options_set_the_share_and_both_timeouts() {
        let limits = |args: &[&str]| {
            let cli = Cli::try_parse_from(std::iter::once("lab").chain(args.iter().copied())).expect("valid");
            cli.run.connection_limits()
        };
        let defaults = limits(&["--max-connections", "64"]);
        assert_eq!(defaults.per_listener, 64);
        assert_eq!(defaults.per_address(), 32);
        assert_eq!(defaults.idle_timeout, std::time::Duration::from_secs(90));
        assert_eq!(defaults.header_read_timeout, std::time::Duration::from_secs(15));
        let set = limits(&[
            "--max-connections",
            "64",
            "--max-connections-per-address",
            "64",
            "--idle-timeout",
            "5",
            "--header-timeout",
            "20",
        ]);
        assert_eq!(set.per_address(), 64);
        assert_eq!(set.idle_timeout, std::time::Duration::from_secs(5));
        assert_eq!(set.header_read_timeout, std::time::Duration::from_secs(20), "not cut to the idle timeout");
        for zero in ["--idle-timeout", "--header-timeout", "--max-connections-per-address"] {
            assert!(Cli::try_parse_from(["lab", zero, "0"]).is_err(), "{zero} 0");
        }
    }

    #[test]
    fn each_subcommand_offers_only_its_own_options() {
        let token = help(&["token", "id-token"]);
        for own in ["--email", "--scope", "--expired", "--ready-file", "--keys", "--deterministic", "--tls"] {
            assert!(token.contains(own), "{own} in {token}");
        }
        for server in
            ["--trace-capacity", "--max-joins", "--idle-timeout", "--admin-token", "--console-bind", "--in-memory"]
        {
            assert!(!token.contains(server), "{server} in {token}");
            assert!(!help(&["env"]).contains(server), "{server} in lab env --help");
            assert!(!help(&["reset"]).contains(server), "{server} in lab reset --help");
            assert!(help(&[]).contains(server), "{server} in lab --help");
        }
        assert!(help(&["reset"]).contains("--data-dir") && help(&["env"]).contains("--public-host"));
        let (check_as, check_resource) = (help(&["check", "as"]), help(&["check", "resource"]));
        for own in ["--issuer", "--token-endpoint", "--client-id", "--client-secret", "--auth", "--mcp"] {
            assert!(check_as.contains(own), "{own} in lab check as --help");
        }
        for own in ["--resource", "--endpoint", "--sibling", "--without-tokens", "--mcp"] {
            assert!(check_resource.contains(own), "{own} in lab check resource --help");
        }
        for shared in ["--json", "--junit", "--print-trust", "--ready-file", "--keys", "--ca"] {
            assert!(check_as.contains(shared) && check_resource.contains(shared), "{shared} in lab check");
        }
        for other in ["--trace-capacity", "--admin-token", "--in-memory", "--email", "--data-dir"] {
            assert!(!check_as.contains(other) && !check_resource.contains(other), "{other} in lab check");
        }
        assert!(!check_resource.contains("--client-id") && !check_as.contains("--without-tokens"));
        for check in ["--client-secret", "--junit", "--without-tokens", "--print-trust", "--issuer"] {
            assert!(!help(&[]).contains(check) && !token.contains(check), "{check} outside lab check");
        }
    }
}
