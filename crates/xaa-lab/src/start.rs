//! `Lab::start`, in the order a lab comes up: bind every listener, derive the URLs from the bound
//! ports, prepare what the roles are built from (TLS, fixtures, keys, the data directory) and what
//! they share (clock, entropy, break-it switches, trace, outbound client), build each role, then
//! the console over them, and serve each component behind the recorder.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum_server::tls_openssl::OpenSSLConfig;
use xaa_core::clock::SharedClock;
use xaa_core::http_client::{HttpClientError, LazyClient};
use xaa_core::jose::SigningKey;
use xaa_core::key_source::HttpKeySource;
use xaa_faults::{Faults, SharedFaults};
use xaa_idp::{IdpConfig, IdpState};
use xaa_notes::{NotesConfig, NotesState};
use xaa_resource_as::{
    AsState, MCP_PATH, ProtectedResource, ResourceAsConfig, SamlTrust, Shared, Store, TodoApiConfig, TodoState,
};

use crate::admin::{Admin, ReportCards};
use crate::config::{LabConfig, Ports, Storage, Urls};
use crate::data_lock::DataDirLock;
use crate::env_file::EnvFile;
use crate::fixtures::{ClientRole, Fixtures, LabKeys, Requestor};
use crate::handle::LabHandle;
use crate::observe::recorder::{Recorder, SentCalls, record};
use crate::observe::trace::Trace;
use crate::outbound::outbound_client;
use crate::tls::{self, TlsMaterial};

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A port could not be bound.
    #[error("cannot listen on {addr} ({component}): {source}")]
    Bind {
        /// The component.
        component: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Fixtures or keys.
    #[error("fixtures: {0}")]
    Fixtures(#[from] crate::fixtures::FixtureError),
    /// TLS material.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// Storage.
    #[error("storage: {0}")]
    Storage(String),
    /// Anything else at start-up.
    #[error("{0}")]
    Other(String),
}

/// The lab: IdP, resource authorization server, todo API and console.
#[derive(Debug)]
pub struct Lab;

impl Lab {
    /// Starts every component and returns once all of them listen.
    pub async fn start(config: LabConfig) -> Result<LabHandle, StartError> {
        let listeners = Listeners::bind(&config)?;
        let urls = config.urls(listeners.ports());
        let ground = Groundwork::prepare(&config, &urls)?;
        let keys = LabKeys::load(config.keys_dir.as_deref())?;
        let shared = SharedServices::new(&config, &ground);
        let idp = idp(&config, &urls, &ground, &shared, keys.idp)?;
        let (resource_as, todo_api) = resource_as(&config, &urls, &ground, &shared, keys.resource_as)?;
        let notes = notes(&config, &urls, &ground, &shared)?;
        let report_cards = Arc::new(ReportCards::new(
            idp.clone(),
            ground.fixtures.authorization_servers.iter().map(|s| s.issuer.clone()).collect(),
        ));
        let console = console(&config, &urls, &ground, &shared, &idp, &resource_as, &report_cards)?;
        let routers = [
            ("idp", listeners.idp, xaa_idp::router(idp.clone())),
            ("resource-as", listeners.authorization_server, xaa_resource_as::authz_router(resource_as.clone())),
            ("todo-api", listeners.todo_api, xaa_resource_as::todo_router(todo_api)),
            ("console", listeners.console, console),
            ("notes", listeners.notes, xaa_notes::router(notes)),
        ];
        let tls = ground.tls_config()?;
        let mut handle = LabHandle {
            ca_cert: ground.tls.as_ref().map(|t| t.ca_cert_path.clone()),
            ca_cert_pem: ground.tls.as_ref().map(|t| t.ca_cert_pem.clone()),
            env: ground.env,
            urls,
            idp,
            resource_as,
            faults: shared.faults.clone(),
            admin_token: shared.admin_token.clone(),
            join_code: shared.join_code.clone(),
            fixtures: ground.fixtures,
            trace: shared.trace.clone(),
            handles: Vec::new(),
            _data_lock: ground.data.lock,
            addrs: Vec::new(),
            tasks: Vec::new(),
        };
        let public_host = crate::config::url_host(config.public_host());
        for (service, listener, router) in routers {
            // The console shows the trace; it is not in it.
            let router = match service {
                "console" => router,
                _ => shared.recorded(router, service, &public_host, &listener, &report_cards),
            };
            handle.serve(service, listener, router, tls.clone(), &config.connections)?;
        }
        Ok(handle)
    }
}

/// Every listener, bound before anything else so the URLs can name the ports they got (port 0
/// picks a free one).
struct Listeners {
    idp: TcpListener,
    authorization_server: TcpListener,
    todo_api: TcpListener,
    console: TcpListener,
    notes: TcpListener,
}

impl Listeners {
    fn bind(config: &LabConfig) -> Result<Self, StartError> {
        let listen_on = |component: &'static str, ip, port: u16| {
            let addr = SocketAddr::new(ip, port);
            TcpListener::bind(addr).map_err(|source| StartError::Bind { component, addr, source })
        };
        let listen = |component: &'static str, port: u16| listen_on(component, config.bind, port);
        Ok(Self {
            idp: listen("IdP", config.ports.idp)?,
            authorization_server: listen("resource authorization server", config.ports.authorization_server)?,
            todo_api: listen("todo API", config.ports.todo_api)?,
            // The console carries the admin API: loopback only unless configured otherwise.
            console: listen_on("console", config.console_bind, config.ports.console)?,
            notes: listen("notes app", config.ports.notes)?,
        })
    }

    fn ports(&self) -> Ports {
        Ports {
            console: port_of(&self.console),
            idp: port_of(&self.idp),
            authorization_server: port_of(&self.authorization_server),
            todo_api: port_of(&self.todo_api),
            notes: port_of(&self.notes),
        }
    }
}

fn port_of(l: &TcpListener) -> u16 {
    l.local_addr().map(|a| a.port()).unwrap_or(0)
}

/// What the roles are built from (besides their signing keys): TLS material (in TLS mode), the
/// fixtures with the configured edits, the bring-your-own requestor's `.env`, and the data
/// directory.
struct Groundwork {
    tls: Option<TlsMaterial>,
    fixtures: Fixtures,
    env: EnvFile,
    data: DataDir,
}

impl Groundwork {
    fn prepare(config: &LabConfig, urls: &Urls) -> Result<Self, StartError> {
        let tls = if config.tls { Some(tls::load_or_create(&config.tls_dir(), &config.public_hosts)?) } else { None };
        let mut fixtures = Fixtures::load(config.fixtures_dir.as_deref(), urls)?;
        for edit in &config.fixture_edits {
            edit.apply(&mut fixtures);
        }
        fixtures.check_saml()?;
        let env = EnvFile::new(urls, requestor(&fixtures, ClientRole::BringYourOwn)?);
        Ok(Self { tls, fixtures, env, data: DataDir::open(&config.storage) })
    }

    /// The servers' TLS configuration, in TLS mode.
    fn tls_config(&self) -> Result<Option<OpenSSLConfig>, StartError> {
        let Some(t) = &self.tls else { return Ok(None) };
        OpenSSLConfig::from_pem(&t.leaf_chain_pem, &t.leaf_key_pem)
            .map(Some)
            .map_err(|e| StartError::Other(format!("TLS configuration: {e}")))
    }
}

/// Where the roles keep their SQLite files: a directory, or nowhere (in memory).
struct DataDir {
    storage: Storage,
    /// The directory's lock (`lab reset` refuses while it is held). A second lab on the same data
    /// dir runs as before; only the first holds the lock.
    lock: Option<DataDirLock>,
}

impl DataDir {
    fn open(storage: &Storage) -> Self {
        let lock = match storage {
            Storage::Dir(d) => crate::data_lock::lock(d).ok(),
            Storage::InMemory => None,
        };
        Self { storage: storage.clone(), lock }
    }

    /// The path of the database `name` (creating the directory, owner-only), or `None` in memory.
    fn db(&self, name: &str) -> Result<Option<PathBuf>, StartError> {
        match &self.storage {
            Storage::InMemory => Ok(None),
            Storage::Dir(d) => {
                crate::private_file::create_dir(d).map_err(|e| StartError::Storage(format!("{}: {e}", d.display())))?;
                Ok(Some(d.join(name)))
            }
        }
    }
}

/// What every component shares: the lab clock, the break-it switches, the trace, the one outbound
/// HTTP client (built off the start-up path), and the console's admin token and join code.
struct SharedServices {
    clock: SharedClock,
    faults: SharedFaults,
    trace: Arc<Trace>,
    /// Whether the trace records (a capacity of 0 turns it off).
    tracing: bool,
    http: Arc<LazyClient>,
    admin_token: String,
    join_code: String,
}

impl SharedServices {
    fn new(config: &LabConfig, ground: &Groundwork) -> Self {
        let ca_pem = ground.tls.as_ref().map(|t| t.ca_cert_pem.clone());
        let allow_link_local = config.allow_link_local;
        let http = Arc::new(LazyClient::new(Box::new(move || {
            outbound_client(ca_pem.as_deref(), allow_link_local).map_err(HttpClientError::new)
        })));
        let warm = http.clone();
        tokio::task::spawn_blocking(move || warm.warm());
        Self {
            clock: config.clock.clone(),
            faults: Arc::new(Faults::new()),
            trace: Arc::new(Trace::new(config.trace_capacity, config.reveal_secrets).with_budget(config.trace_budget)),
            tracing: config.trace_capacity > 0,
            http,
            admin_token: config.admin_token.clone().unwrap_or_else(|| config.entropy.token(24)),
            // Easy to read aloud and type: lower-case letters and digits.
            join_code: config
                .join_code
                .clone()
                .unwrap_or_else(|| config.entropy.token(6).to_lowercase().replace(['-', '_'], "x")),
        }
    }

    /// `router` recording every request it receives into the trace (when the trace is on).
    fn recorded(
        &self,
        router: Router,
        service: &'static str,
        public_host: &str,
        listener: &TcpListener,
        report_cards: &Arc<ReportCards>,
    ) -> Router {
        if !self.tracing {
            return router;
        }
        let recorder = Arc::new(Recorder {
            trace: self.trace.clone(),
            service,
            host: format!("{public_host}:{}", port_of(listener)),
            clock: self.clock.clone(),
            report_cards: report_cards.clone(),
        });
        router.layer(axum::middleware::from_fn_with_state(recorder, record))
    }
}

/// The fixtures' requestor of `role`.
fn requestor(fixtures: &Fixtures, role: ClientRole) -> Result<&Requestor, StartError> {
    fixtures.requestor(role).ok_or_else(|| StartError::Other(format!("clients.json has no \"{}\" client", role.name())))
}

/// The IdP, with its SAML key.
fn idp(
    config: &LabConfig,
    urls: &Urls,
    ground: &Groundwork,
    shared: &SharedServices,
    key: SigningKey,
) -> Result<Arc<IdpState>, StartError> {
    let fixtures = &ground.fixtures;
    let idp = IdpState::new(
        IdpConfig {
            issuer: urls.idp_issuer(),
            clients: fixtures.idp_clients(),
            users: fixtures.users.clone(),
            tenants: fixtures.tenants.clone(),
            authorization_servers: fixtures.authorization_servers.clone(),
            connections: fixtures.connections.clone(),
            lifetimes: config.lifetimes.idp,
            secure_cookies: config.tls,
            max_open_registrations: config.max_open_registrations,
            audit_retention: config.audit_retention,
            saml_service_providers: fixtures.saml_service_providers.clone(),
        },
        key,
        ground.data.db("idp.sqlite")?.as_deref(),
        shared.clock.clone(),
        config.entropy.clone(),
        shared.faults.clone(),
    )
    .map_err(|e| StartError::Storage(e.to_string()))?;
    crate::saml_key::load_or_create(&idp, &config.storage)?;
    Ok(idp)
}

/// The resource authorization server and the todo API it protects (one store).
fn resource_as(
    config: &LabConfig,
    urls: &Urls,
    ground: &Groundwork,
    shared: &SharedServices,
    key: SigningKey,
) -> Result<(Arc<AsState>, Arc<TodoState>), StartError> {
    let fixtures = &ground.fixtures;
    let idp_keys = Arc::new(HttpKeySource::new(shared.http.clone(), config.jwks_refetch_interval));
    let store =
        Store::open(ground.data.db("resource.sqlite")?.as_deref()).map_err(|e| StartError::Storage(e.to_string()))?;
    let resources: Vec<ProtectedResource> = fixtures
        .authorization_servers
        .iter()
        .filter(|s| s.issuer == urls.authorization_server)
        .flat_map(|s| s.resources.iter())
        .map(|r| ProtectedResource {
            resource: r.resource.clone(),
            scopes: r.scopes.clone(),
            mcp: r.resource.as_str() == format!("{}{MCP_PATH}", urls.todo_api),
        })
        .collect();
    let as_state = AsState::new(
        ResourceAsConfig {
            issuer: urls.authorization_server_issuer(),
            trusted_issuers: vec![urls.idp_issuer()],
            default_tenant: fixtures.tenants.default_tenant().id.clone(),
            clients: fixtures.requestors.iter().map(|r| r.resource_as.clone()).collect(),
            resources,
            access_token_lifetime: config.lifetimes.access_token,
            max_open_registrations: config.max_open_registrations,
            saml_trust: vec![SamlTrust {
                idp_issuer: urls.idp_issuer(),
                saml_issuer: xaa_idp::saml_entity_id(&urls.idp),
                // As on xaa.dev, SAML-derived ID-JAGs are accepted for the default tenant only.
                tenants: vec![fixtures.tenants.default_tenant().id.clone()],
            }],
        },
        key,
        idp_keys,
        store.clone(),
        Shared { clock: shared.clock.clone(), entropy: config.entropy.clone(), faults: shared.faults.clone() },
    )
    .map_err(|e| StartError::Storage(e.to_string()))?;
    let todo_api = TodoState::new(
        TodoApiConfig {
            resource: urls.todo_api_resource(),
            authorization_server: urls.authorization_server_issuer(),
            seed_todos: fixtures.todos.clone(),
        },
        as_state.public_keys().clone(),
        store,
        shared.clock.clone(),
        shared.faults.clone(),
    );
    Ok((as_state, todo_api))
}

/// Lab Notes, the reference requestor, whose outbound calls the trace shows.
fn notes(
    config: &LabConfig,
    urls: &Urls,
    ground: &Groundwork,
    shared: &SharedServices,
) -> Result<Arc<NotesState>, StartError> {
    let client = requestor(&ground.fixtures, ClientRole::Notes)?;
    NotesState::new(
        NotesConfig {
            base_url: urls.notes.clone(),
            idp_issuer: urls.idp_issuer(),
            authorization_server: urls.authorization_server_issuer(),
            todo_api: urls.todo_api_resource(),
            client_id: client.idp.client_id.clone(),
            client_secret: client.idp.client_secret.clone(),
            resource_client_id: client.resource_as.client_id.clone(),
            resource_client_secret: client.resource_as.client_secret.clone(),
            scopes: "todos.read todos.write".into(),
            secure_cookies: config.tls,
            reveal_secrets: config.reveal_secrets,
        },
        ground.data.db("notes.sqlite")?.as_deref(),
        shared.http.clone(),
        shared.clock.clone(),
        shared.tracing.then(|| Arc::new(SentCalls(shared.trace.clone())) as Arc<dyn xaa_notes::CallLog>),
    )
    .map_err(|e| StartError::Storage(e.to_string()))
}

/// The console over every role: its pages, the explorer, and the admin API.
fn console(
    config: &LabConfig,
    urls: &Urls,
    ground: &Groundwork,
    shared: &SharedServices,
    idp: &Arc<IdpState>,
    resource_as: &Arc<AsState>,
    report_cards: &Arc<ReportCards>,
) -> Result<Router, StartError> {
    let fixtures = &ground.fixtures;
    let admin = Admin {
        urls: urls.clone(),
        idp: idp.clone(),
        resource_as: resource_as.clone(),
        authorization_servers: fixtures.authorization_servers.clone(),
        faults: shared.faults.clone(),
        clock: shared.clock.clone(),
        entropy: config.entropy.clone(),
        report_cards: report_cards.clone(),
        trace: shared.trace.clone(),
        clock_moved: Default::default(),
        join: crate::admin::JoinDesk::new(shared.join_code.clone(), config.max_joins, config.joins_per_minute),
        resource_apps: crate::admin::ResourceAppStore::open(ground.data.db("resource_apps.sqlite")?.as_deref())
            .and_then(|store| crate::admin::ResourceApps::open(store, &urls.authorization_server))
            .map_err(|e| StartError::Storage(e.to_string()))?,
        lifetimes: config.lifetimes,
    };
    admin.govern_resource_apps();
    let explorer = requestor(fixtures, ClientRole::Explorer)?;
    Ok(crate::console::router(crate::console::ConsoleState {
        urls: urls.clone(),
        env: ground.env.clone(),
        ca_cert: ground.tls.as_ref().map(|t| t.ca_cert_path.clone()),
        users: fixtures.users.clone(),
        trace: shared.trace.clone(),
        trace_rows: Default::default(),
        trace_pages: Default::default(),
        as_keys: resource_as.public_keys().clone(),
        admin,
        admin_token: shared.admin_token.clone(),
        admin_sessions: Default::default(),
        clock: shared.clock.clone(),
        secure_cookies: config.tls,
        explorer: crate::console::ExplorerClient {
            client_id: explorer.idp.client_id.to_string(),
            client_secret: explorer.idp.client_secret.clone(),
            resource_client_id: explorer.resource_as.client_id.to_string(),
            resource_client_secret: explorer.resource_as.client_secret.clone(),
        },
        explorer_sessions: crate::console::Sessions::default(),
        shown_once: crate::console::ShownOnce::default(),
        probes: Default::default(),
        allow_link_local: config.allow_link_local,
        http: shared.http.clone(),
        fixtures: Arc::new(fixtures.clone()),
        conformance: Default::default(),
    }))
}
