//! A running lab: what its user reads (URLs, credentials, fixtures), what IT governs at the roles,
//! the break-it switches and the trace, and how each component is served and stopped. Dropping the
//! handle stops everything.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum_server::Handle;
use axum_server::accept::DefaultAcceptor;
use axum_server::tls_openssl::{OpenSSLAcceptor, OpenSSLConfig};
use tokio::task::JoinHandle;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use xaa_core::sqlite::DbError;
use xaa_faults::{Fault, SharedFaults, Switch};
use xaa_idp::{AuthorizationServer, Connection, IdpClient, IdpState, RegistryError};
use xaa_resource_as::{AsClient, AsState, ProtectedResource};

use crate::config::Urls;
use crate::connections::{ConnectionLimits, Guarded};
use crate::env_file::EnvFile;
use crate::fixtures::Fixtures;
use crate::observe::trace::{Trace, TraceEvent, TraceFilter};
use crate::start::StartError;

/// A running lab. Its parts are read and changed through its methods, never reached into: the
/// URLs and credentials a client needs, and what a test or the console does to the roles (IT's
/// connection policy, the registered clients, the break-it switches, the trace).
pub struct LabHandle {
    pub(crate) urls: Urls,
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) ca_cert_pem: Option<Vec<u8>>,
    pub(crate) env: EnvFile,
    pub(crate) idp: Arc<IdpState>,
    pub(crate) resource_as: Arc<AsState>,
    pub(crate) faults: SharedFaults,
    pub(crate) admin_token: String,
    pub(crate) join_code: String,
    pub(crate) fixtures: Fixtures,
    pub(crate) trace: Arc<Trace>,
    pub(crate) handles: Vec<(&'static str, Handle<SocketAddr>)>,
    /// The data dir's lock (`lab reset` refuses while it is held); `None` in memory.
    pub(crate) _data_lock: Option<crate::data_lock::DataDirLock>,
    pub(crate) addrs: Vec<(&'static str, SocketAddr)>,
    pub(crate) tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for LabHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabHandle").field("urls", &self.urls).finish_non_exhaustive()
    }
}

impl LabHandle {
    /// Serves `router` on `listener` (over TLS when `tls` is given), within the connection limits.
    pub(crate) fn serve(
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
        // The idle and request-head timeouts are the acceptor's (hyper's header timer would also
        // run while a connection waits, idle, for its next request).
        let server = axum_server::from_tcp(listener)
            .map_err(|e| StartError::Other(format!("{service}: {e}")))?
            .handle(handle.clone());
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
