//! `Lab::start`: bind every listener first, derive the URLs from the bound ports, build each role
//! from the fixtures, then serve. `LabHandle` holds the running lab; dropping it stops everything.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum_server::Handle;
use axum_server::accept::DefaultAcceptor;
use axum_server::tls_openssl::{OpenSSLAcceptor, OpenSSLConfig};
use hyper_util::rt::TokioTimer;

use crate::connections::{ConnectionLimits, Guarded};
use crate::observe::trace::{Trace, TraceEvent, TraceFilter};
use tokio::task::JoinHandle;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use xaa_core::http_client::{HttpClientError, LazyClient};
use xaa_core::key_source::HttpKeySource;
use xaa_core::sqlite::DbError;
use xaa_faults::{Fault, Faults, SharedFaults, Switch};
use xaa_idp::{AuthorizationServer, Connection, IdpClient, IdpConfig, IdpState, RegistryError};
use xaa_notes::{NotesConfig, NotesState};
use xaa_resource_as::{
    AsClient, AsState, ProtectedResource, ResourceAsConfig, SamlTrust, Shared, Store, TodoApiConfig, TodoState,
};

use crate::admin::{Admin, ReportCards};
use crate::config::{LabConfig, Ports, Storage, Urls};
use crate::env_file::EnvFile;
use crate::fixtures::{ClientRole, Fixtures, LabKeys};
use crate::observe::recorder::{Recorder, SentCalls};
use crate::outbound::outbound_client;
use crate::tls;

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

/// A running lab. Its parts are read and changed through its methods, never reached into: the
/// URLs and credentials a client needs, and what a test or the console does to the roles (IT's
/// connection policy, the registered clients, the break-it switches, the trace).
pub struct LabHandle {
    urls: Urls,
    ca_cert: Option<PathBuf>,
    ca_cert_pem: Option<Vec<u8>>,
    env: EnvFile,
    idp: Arc<IdpState>,
    resource_as: Arc<AsState>,
    faults: SharedFaults,
    admin_token: String,
    join_code: String,
    fixtures: Fixtures,
    trace: Arc<Trace>,
    handles: Vec<(&'static str, Handle<SocketAddr>)>,
    /// The data dir's lock (`lab reset` refuses while it is held); `None` in memory.
    _data_lock: Option<crate::data_lock::DataDirLock>,
    addrs: Vec<(&'static str, SocketAddr)>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for LabHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabHandle").field("urls", &self.urls).finish_non_exhaustive()
    }
}

impl Lab {
    /// Starts every component and returns once all of them listen.
    pub async fn start(config: LabConfig) -> Result<LabHandle, StartError> {
        let listen_on = |component: &'static str, ip, port: u16| {
            let addr = SocketAddr::new(ip, port);
            TcpListener::bind(addr).map_err(|source| StartError::Bind { component, addr, source })
        };
        let listen = |component: &'static str, port: u16| listen_on(component, config.bind, port);
        let idp_l = listen("IdP", config.ports.idp)?;
        let as_l = listen("resource authorization server", config.ports.authorization_server)?;
        let todo_l = listen("todo API", config.ports.todo_api)?;
        // The console carries the admin API: loopback only unless configured otherwise.
        let console_l = listen_on("console", config.console_bind, config.ports.console)?;
        let notes_l = listen("notes app", config.ports.notes)?;
        let port = |l: &TcpListener| l.local_addr().map(|a| a.port()).unwrap_or(0);
        let ports = Ports {
            console: port(&console_l),
            idp: port(&idp_l),
            authorization_server: port(&as_l),
            todo_api: port(&todo_l),
            notes: port(&notes_l),
        };
        let urls = config.urls(ports);
        let trace = Arc::new(Trace::new(config.trace_capacity, config.reveal_secrets).with_budget(config.trace_budget));

        let tls_material =
            if config.tls { Some(tls::load_or_create(&config.tls_dir(), &config.public_hosts)?) } else { None };
        let mut fixtures = Fixtures::load(config.fixtures_dir.as_deref(), &urls)?;
        for edit in &config.fixture_edits {
            edit.apply(&mut fixtures);
        }
        fixtures.check_saml()?;
        let keys = LabKeys::load(config.keys_dir.as_deref())?;
        // A second lab on the same data dir runs as before; only the first holds the lock.
        let data_lock = match &config.storage {
            Storage::Dir(d) => crate::data_lock::lock(d).ok(),
            Storage::InMemory => None,
        };
        let db_path = |name: &str| -> Result<Option<PathBuf>, StartError> {
            match &config.storage {
                Storage::InMemory => Ok(None),
                Storage::Dir(d) => {
                    std::fs::create_dir_all(d).map_err(|e| StartError::Storage(format!("{}: {e}", d.display())))?;
                    Ok(Some(d.join(name)))
                }
            }
        };

        let faults: SharedFaults = Arc::new(Faults::new());
        let admin_token = config.admin_token.clone().unwrap_or_else(|| config.entropy.token(24));
        // Easy to read aloud and type: lower-case letters and digits.
        let join_code =
            config.join_code.clone().unwrap_or_else(|| config.entropy.token(6).to_lowercase().replace(['-', '_'], "x"));
        let idp = IdpState::new(
            IdpConfig {
                issuer: urls.idp.clone(),
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
            keys.idp,
            db_path("idp.sqlite")?.as_deref(),
            config.clock.clone(),
            config.entropy.clone(),
            faults.clone(),
        )
        .map_err(|e| StartError::Storage(e.to_string()))?;
        crate::saml_key::load_or_create(&idp, &config.storage)?;

        let ca_pem = tls_material.as_ref().map(|t| t.ca_cert_pem.clone());
        let http = Arc::new(LazyClient::new(Box::new(move || {
            outbound_client(ca_pem.as_deref()).map_err(HttpClientError::new)
        })));
        let warm = http.clone();
        tokio::task::spawn_blocking(move || warm.warm());
        let idp_keys = Arc::new(HttpKeySource::new(http.clone(), config.jwks_refetch_interval));
        let store =
            Store::open(db_path("resource.sqlite")?.as_deref()).map_err(|e| StartError::Storage(e.to_string()))?;
        let resources: Vec<ProtectedResource> = fixtures
            .authorization_servers
            .iter()
            .filter(|s| s.issuer == urls.authorization_server)
            .flat_map(|s| s.resources.iter())
            .map(|r| ProtectedResource { resource: r.resource.clone(), scopes: r.scopes.clone() })
            .collect();
        let as_state = AsState::new(
            ResourceAsConfig {
                issuer: urls.authorization_server.clone(),
                trusted_issuers: vec![urls.idp.clone()],
                default_tenant: fixtures.tenants.default_tenant().id.clone(),
                clients: fixtures.requestors.iter().map(|r| r.resource_as.clone()).collect(),
                resources,
                access_token_lifetime: config.lifetimes.access_token,
                max_open_registrations: config.max_open_registrations,
                saml_trust: vec![SamlTrust {
                    idp_issuer: urls.idp.clone(),
                    saml_issuer: xaa_idp::saml_entity_id(&urls.idp),
                    // As on xaa.dev, SAML-derived ID-JAGs are accepted for the default tenant only.
                    tenants: vec![fixtures.tenants.default_tenant().id.clone()],
                }],
            },
            keys.resource_as,
            idp_keys,
            store.clone(),
            Shared { clock: config.clock.clone(), entropy: config.entropy.clone(), faults: faults.clone() },
        )
        .map_err(|e| StartError::Storage(e.to_string()))?;
        let todo_state = TodoState::new(
            TodoApiConfig {
                resource: urls.todo_api.clone(),
                authorization_server: urls.authorization_server.clone(),
                seed_todos: fixtures.todos.clone(),
            },
            as_state.public_keys().clone(),
            store,
            config.clock.clone(),
            faults.clone(),
        );
        let explorer = fixtures
            .requestor(ClientRole::Explorer)
            .ok_or_else(|| StartError::Other("clients.json has no \"explorer\" client".into()))?;
        let notes_client = fixtures
            .requestor(ClientRole::Notes)
            .ok_or_else(|| StartError::Other("clients.json has no \"notes\" client".into()))?;
        let notes = NotesState::new(
            NotesConfig {
                base_url: urls.notes.clone(),
                idp_issuer: urls.idp.clone(),
                authorization_server: urls.authorization_server.clone(),
                todo_api: urls.todo_api.clone(),
                client_id: notes_client.idp.client_id.clone(),
                client_secret: notes_client.idp.client_secret.clone(),
                resource_client_id: notes_client.resource_as.client_id.clone(),
                resource_client_secret: notes_client.resource_as.client_secret.clone(),
                scopes: "todos.read todos.write".into(),
                secure_cookies: config.tls,
                reveal_secrets: config.reveal_secrets,
            },
            db_path("notes.sqlite")?.as_deref(),
            http.clone(),
            config.clock.clone(),
            (config.trace_capacity > 0).then(|| Arc::new(SentCalls(trace.clone())) as Arc<dyn xaa_notes::CallLog>),
        )
        .map_err(|e| StartError::Storage(e.to_string()))?;
        let byo = fixtures
            .requestor(ClientRole::BringYourOwn)
            .ok_or_else(|| StartError::Other("clients.json has no \"bring-your-own\" client".into()))?;
        let env = EnvFile::new(&urls, byo);
        let report_cards = Arc::new(ReportCards::new(
            idp.clone(),
            fixtures.authorization_servers.iter().map(|s| s.issuer.clone()).collect(),
        ));
        let admin = Admin {
            urls: urls.clone(),
            idp: idp.clone(),
            resource_as: as_state.clone(),
            authorization_servers: fixtures.authorization_servers.clone(),
            faults: faults.clone(),
            clock: config.clock.clone(),
            entropy: config.entropy.clone(),
            report_cards: report_cards.clone(),
            trace: trace.clone(),
            clock_moved: Default::default(),
            join: crate::admin::JoinDesk::new(join_code.clone(), config.max_joins, config.joins_per_minute),
            resource_apps: crate::admin::ResourceAppStore::open(db_path("resource_apps.sqlite")?.as_deref())
                .and_then(|store| crate::admin::ResourceApps::open(store, &urls.authorization_server))
                .map_err(|e| StartError::Storage(e.to_string()))?,
        };
        admin.govern_resource_apps();
        let console = crate::console::router(crate::console::ConsoleState {
            urls: urls.clone(),
            env: env.clone(),
            ca_cert: tls_material.as_ref().map(|t| t.ca_cert_path.clone()),
            users: fixtures.users.clone(),
            trace: trace.clone(),
            trace_rows: Default::default(),
            as_keys: as_state.public_keys().clone(),
            admin,
            admin_token: admin_token.clone(),
            admin_sessions: Default::default(),
            clock: config.clock.clone(),
            secure_cookies: config.tls,
            explorer: crate::console::ExplorerClient {
                client_id: explorer.idp.client_id.clone(),
                client_secret: explorer.idp.client_secret.clone(),
                resource_client_id: explorer.resource_as.client_id.clone(),
                resource_client_secret: explorer.resource_as.client_secret.clone(),
            },
            explorer_sessions: crate::console::Sessions::default(),
            http: http.clone(),
        });

        let public_host = crate::config::url_host(config.public_host());
        let mut handle = LabHandle {
            urls,
            ca_cert: tls_material.as_ref().map(|t| t.ca_cert_path.clone()),
            ca_cert_pem: tls_material.as_ref().map(|t| t.ca_cert_pem.clone()),
            env,
            idp: idp.clone(),
            resource_as: as_state.clone(),
            faults,
            admin_token,
            join_code,
            fixtures,
            trace: trace.clone(),
            handles: Vec::new(),
            _data_lock: data_lock,
            addrs: Vec::new(),
            tasks: Vec::new(),
        };
        let tls_config = match &tls_material {
            Some(t) => Some(
                OpenSSLConfig::from_pem(&t.leaf_chain_pem, &t.leaf_key_pem)
                    .map_err(|e| StartError::Other(format!("TLS configuration: {e}")))?,
            ),
            None => None,
        };
        let clock = config.clock.clone();
        let tracing_on = config.trace_capacity > 0;
        let recorder = |service: &'static str, port: u16| {
            tracing_on.then(|| {
                Arc::new(Recorder {
                    trace: trace.clone(),
                    service,
                    host: format!("{public_host}:{port}"),
                    clock: clock.clone(),
                    report_cards: report_cards.clone(),
                })
            })
        };
        for (service, listener, router, recorder) in [
            ("idp", idp_l, xaa_idp::router(idp), recorder("idp", ports.idp)),
            (
                "resource-as",
                as_l,
                xaa_resource_as::authz_router(as_state),
                recorder("resource-as", ports.authorization_server),
            ),
            ("todo-api", todo_l, xaa_resource_as::todo_router(todo_state), recorder("todo-api", ports.todo_api)),
            ("console", console_l, console, None),
            ("notes", notes_l, xaa_notes::router(notes), recorder("notes", ports.notes)),
        ] {
            let router = match recorder {
                Some(r) => router.layer(axum::middleware::from_fn_with_state(r, crate::observe::recorder::record)),
                None => router,
            };
            handle.serve(service, listener, router, tls_config.clone(), &config.connections)?;
        }
        Ok(handle)
    }
}

impl LabHandle {
    fn serve(
        &mut self,
        service: &'static str,
        listener: TcpListener,
        router: Router,
        tls: Option<OpenSSLConfig>,
        limits: &ConnectionLimits,
    ) -> Result<(), StartError> {
        let router = router.layer(
            TraceLayer::new_for_http()
                .make_span_with(move |req: &Request| {
                    tracing::info_span!("http", service, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                // Every response is logged once, at INFO; a deliberate 503 (a break-it switch) is no
                // server failure, and real failures are logged where they happen.
                .on_failure(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        );
        let handle = Handle::new();
        if let Ok(addr) = listener.local_addr() {
            self.addrs.push((service, addr));
        }
        let mut server = axum_server::from_tcp(listener)
            .map_err(|e| StartError::Other(format!("{service}: {e}")))?
            .handle(handle.clone())
            .first_request_timeout(limits.header_read_timeout);
        server.http_builder().http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
        let app = router.into_make_service();
        let task = match tls {
            Some(cfg) => {
                let acceptor = Guarded::new(OpenSSLAcceptor::new(cfg), limits, service);
                tokio::spawn(async move {
                    if let Err(e) = server.acceptor(acceptor).serve(app).await {
                        tracing::error!(service, error = %e, "server stopped");
                    }
                })
            }
            None => {
                let acceptor = Guarded::new(DefaultAcceptor, limits, service);
                tokio::spawn(async move {
                    if let Err(e) = server.acceptor(acceptor).serve(app).await {
                        tracing::error!(service, error = %e, "server stopped");
                    }
                })
            }
        };
        self.handles.push((service, handle));
        self.tasks.push(task);
        Ok(())
    }

    /// The address a component (`idp`, `resource-as`, `todo-api`, `console`, `notes`) listens on.
    pub fn listening_on(&self, service: &str) -> Option<SocketAddr> {
        self.addrs.iter().find(|(name, _)| *name == service).map(|(_, a)| *a)
    }

    /// Stops one component (`idp`, `resource-as`, `todo-api`, `console`, `notes`) at once, to show
    /// what its clients do when it is down. `false` when no component has that name.
    pub fn stop_component(&self, service: &str) -> bool {
        let found = self.handles.iter().filter(|(name, _)| *name == service);
        let mut any = false;
        for (_, h) in found {
            h.shutdown();
            any = true;
        }
        any
    }

    /// The JSON written to `--ready-file`.
    pub fn ready_json(&self) -> serde_json::Value {
        serde_json::json!({
            "idp": self.urls.idp,
            "authorization_server": self.urls.authorization_server,
            "todo_api": self.urls.todo_api,
            "notes": self.urls.notes,
            "console": self.urls.console,
            "ca_cert": self.ca_cert.as_ref().map(|p| p.display().to_string()),
            "env": self.env,
            "admin_token": self.admin_token,
            "join_code": self.join_code,
        })
    }

    /// Stops accepting connections, lets requests in flight finish (up to `grace`), then returns.
    pub async fn shutdown(mut self, grace: Duration) {
        for (_, h) in &self.handles {
            h.graceful_shutdown(Some(grace));
        }
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

/// What a client of the lab reads: its URLs, credentials and fixtures.
impl LabHandle {
    /// Base URLs (issuers, resource identifier) of every component.
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The lab CA certificate's file, in TLS mode (for `NODE_EXTRA_CA_CERTS` and the like).
    pub fn ca_cert(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// The lab CA certificate as PEM, in TLS mode (for clients to trust).
    pub fn ca_cert_pem(&self) -> Option<&[u8]> {
        self.ca_cert_pem.as_deref()
    }

    /// The bring-your-own requestor's `.env`.
    pub fn env(&self) -> &EnvFile {
        &self.env
    }

    /// The token the console's admin pages and API require.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The join code participants register their own requestor with (`/join`).
    pub fn join_code(&self) -> &str {
        &self.join_code
    }

    /// The fixtures the lab started with (later changes live in the roles, not here).
    pub fn fixtures(&self) -> &Fixtures {
        &self.fixtures
    }
}

/// What IT governs at the IdP and the resource authorization server, as the console's admin pages
/// change it.
impl LabHandle {
    /// IT's connection policy: which client may get an ID-JAG for which resource, for whom.
    pub fn connections(&self) -> Vec<Connection> {
        self.idp.connections()
    }

    /// Replaces IT's connection policy (stored, as the admin page does).
    pub async fn set_connections(&self, connections: Vec<Connection>) -> Result<(), DbError> {
        self.idp.set_connections(connections).await
    }

    /// Every client the IdP knows: the fixtures' and those registered since.
    pub fn idp_clients(&self) -> Vec<IdpClient> {
        self.idp.clients()
    }

    /// The IdP's client `client_id`, if it has one.
    pub fn idp_client(&self, client_id: &str) -> Option<IdpClient> {
        self.idp.client(client_id)
    }

    /// Registers a client at the IdP (stored, as IT's registration does).
    pub async fn register_idp_client(&self, client: IdpClient) -> Result<(), RegistryError> {
        self.idp.register_client(client).await
    }

    /// The authorization servers the IdP issues ID-JAGs for: the fixtures' and those registered since.
    pub fn authorization_servers(&self) -> Vec<AuthorizationServer> {
        self.idp.authorization_servers()
    }

    /// The resource authorization server's client `client_id`, if it has one.
    pub fn resource_client(&self, client_id: &str) -> Option<AsClient> {
        self.resource_as.client(client_id)
    }

    /// The resources the resource authorization server issues access tokens for, with their scopes.
    pub fn protected_resources(&self) -> Vec<ProtectedResource> {
        self.resource_as.resources()
    }
}

/// The break-it switches and the trace.
impl LabHandle {
    /// The break-it switches that are on.
    pub fn switches(&self) -> Vec<Switch> {
        self.faults.list()
    }

    /// Turns a break-it switch on (replacing the same fault's switch, if on).
    pub fn set_switch(&self, switch: Switch) {
        self.faults.set(switch);
    }

    /// Turns a break-it switch off; `false` when it was not on.
    pub fn clear_switch(&self, fault: Fault) -> bool {
        self.faults.clear(fault)
    }

    /// The trace's kept events, oldest first, that match `filter`.
    pub fn trace_events(&self, filter: &TraceFilter) -> Vec<TraceEvent> {
        self.trace.events(filter)
    }

    /// The bytes the trace's kept events take, by the estimate its budget counts.
    pub fn trace_kept_bytes(&self) -> usize {
        self.trace.kept_bytes()
    }
}

impl Drop for LabHandle {
    fn drop(&mut self) {
        for (_, h) in &self.handles {
            h.shutdown();
        }
    }
}
