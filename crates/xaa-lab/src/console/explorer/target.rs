//! What the explorer runs the four steps against, and as whom: the lab's todo API or its MCP
//! server, as the lab's own requestor (fixture role `explorer`), or a registered resource app, as
//! that app's test requestor. Every difference between them is answered here, so the steps, the
//! page and its one step template are written once.
//!
//! | | todo API | MCP server | resource app |
//! | --- | --- | --- | --- |
//! | page | `/explorer` | `/explorer` (step 2 switches) | `/explorer/resources/{id}` |
//! | requestor | `lab-explorer` | `lab-explorer` | the app's `{id}-tester` |
//! | step 2 `resource` | `{todo_api}` | `{todo_api}/mcp` | its base URL |
//! | step 3 | the lab AS | the lab AS | its AS: the lab's, or the developer's |
//! | step 4 | REST endpoints, or MCP calls | the same | its endpoints, `resources/list` if MCP |
//! | the lab serves (checks in the trace) | every step | every step | steps 1 and 2, 3 at the lab AS |
//! | refresh token, code snippets | yes | yes | no |

use serde_json::{Value, json};
use xaa_core::ids::{Issuer, ResourceUri};
use xaa_core::oauth::GrantRequest;

use super::ExplorerClient;
use super::mcp::{self, Action};
use super::step::Step;
use crate::admin::ResourceApp;
use crate::config::Urls;

/// The todo API calls step 4 offers.
const TODO_ENDPOINTS: [&str; 4] =
    ["GET /api/todos", "GET /api/todos/stats", "GET /api/todos/incomplete", "POST /api/todos"];
/// The scopes step 2 asks for the todo API.
const TODO_SCOPE: &str = "todos.read todos.write";

/// What the explorer runs the four steps against.
#[derive(Clone, Debug, Default)]
pub(crate) enum Target {
    /// The lab's todo API (REST).
    #[default]
    TodoApi,
    /// The lab's todo MCP server, `{todo_api}/mcp`.
    McpServer,
    /// A developer's registered resource app (REST, or an MCP server).
    ResourceApp(Box<ResourceApp>),
}

/// A client the explorer acts as at a token endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Client {
    pub(crate) id: String,
    /// None: the authorization server takes no secret from it.
    pub(crate) secret: Option<String>,
}

impl Client {
    /// `request` as the form to post, authenticated with `client_secret_post` (RFC 6749 §2.3.1),
    /// or naming only `client_id` for a client without a secret.
    pub(crate) fn form(&self, request: &impl GrantRequest) -> Vec<(&'static str, String)> {
        match &self.secret {
            Some(secret) => request.to_form_posting(&self.id, secret),
            None => {
                let mut form = request.to_form();
                form.push(("client_id", self.id.clone()));
                form
            }
        }
    }
}

/// Step 4's call.
#[derive(Clone, Debug)]
pub(crate) enum ResourceCall {
    /// One REST request.
    Rest { method: String, url: String, json: Option<Value> },
    /// An MCP session at `url` ending in `action`.
    Mcp { url: String, action: &'static Action },
}

impl Target {
    /// One of the lab's own servers (else a registered resource app).
    pub(crate) fn is_lab(&self) -> bool {
        !matches!(self, Self::ResourceApp(_))
    }

    /// The registered resource app, when it is one.
    pub(crate) fn app(&self) -> Option<&ResourceApp> {
        match self {
            Self::ResourceApp(app) => Some(app),
            _ => None,
        }
    }

    /// The explorer page of this target; its forms post below it.
    pub(crate) fn path(&self) -> String {
        match self {
            Self::ResourceApp(app) => format!("/explorer/resources/{}", app.id),
            _ => "/explorer".to_owned(),
        }
    }

    /// The key of a browser's chain (`session`: its explorer cookie): the todo API and the MCP
    /// server share the lab's chain, each resource app has its own beside it.
    pub(crate) fn session_key(&self, session: &str) -> String {
        match self {
            Self::ResourceApp(app) => format!("{session} resource-app {}", app.id),
            _ => session.to_owned(),
        }
    }

    /// The target a new chain starts with: the lab's starts at its todo API again.
    pub(crate) fn anew(&self) -> Self {
        match self {
            Self::McpServer => Self::TodoApi,
            other => other.clone(),
        }
    }

    /// The lab's target step 2's `target` field chooses (`mcp`: the MCP server, else the todo
    /// API), when that is another; a resource app's page offers no choice.
    pub(crate) fn switched(&self, choice: &str) -> Option<Self> {
        let mcp = choice == "mcp";
        match self {
            Self::TodoApi if mcp => Some(Self::McpServer),
            Self::McpServer if !mcp => Some(Self::TodoApi),
            _ => None,
        }
    }

    /// The lab's MCP server.
    pub(crate) fn is_mcp_server(&self) -> bool {
        matches!(self, Self::McpServer)
    }

    /// The requestor at the IdP (steps 1 and 2).
    pub(crate) fn requestor(&self, explorer: &ExplorerClient) -> Client {
        match self {
            Self::ResourceApp(app) => Client { id: app.client_id.clone(), secret: Some(app.client_secret.clone()) },
            _ => Client { id: explorer.client_id.clone(), secret: Some(explorer.client_secret.expose().to_owned()) },
        }
    }

    /// Where the IdP sends the browser back after step 1.
    pub(crate) fn redirect_uri(&self, urls: &Urls) -> String {
        match self {
            Self::ResourceApp(app) => app.redirect_uri.clone(),
            _ => format!("{}/explorer/callback", urls.console),
        }
    }

    /// Whether step 1 may ask for a refresh token, to present as step 2's subject token.
    pub(crate) fn offers_refresh_token(&self) -> bool {
        self.is_lab()
    }

    /// The resource step 2 asks for, and the one token responses must name.
    pub(crate) fn resource(&self, urls: &Urls) -> ResourceUri {
        match self {
            Self::TodoApi => urls.todo_api_resource(),
            Self::McpServer => ResourceUri::new(mcp::server_url(urls)),
            Self::ResourceApp(app) => ResourceUri::new(app.base_url.as_str()),
        }
    }

    /// Step 2's `audience`: the issuer of the resource's authorization server.
    pub(crate) fn audience(&self, urls: &Urls) -> Issuer {
        match self {
            Self::ResourceApp(app) => Issuer::new(app.issuer.as_str()),
            _ => urls.authorization_server_issuer(),
        }
    }

    /// Step 2's `scope`.
    pub(crate) fn scope(&self) -> String {
        match self {
            Self::TodoApi => TODO_SCOPE.to_owned(),
            Self::McpServer => mcp::SCOPE.to_owned(),
            Self::ResourceApp(app) => app.scopes.join(" "),
        }
    }

    /// Step 3's token endpoint.
    pub(crate) fn token_endpoint(&self, urls: &Urls) -> String {
        match self {
            Self::ResourceApp(app) => app.token_endpoint.clone(),
            _ => format!("{}/token", urls.authorization_server),
        }
    }

    /// The requestor at the resource's authorization server (step 3).
    pub(crate) fn as_client(&self, explorer: &ExplorerClient) -> Client {
        match self {
            Self::ResourceApp(app) => Client {
                id: app.as_client_id.clone(),
                secret: Some(app.as_client_secret.clone()).filter(|s| !s.is_empty()),
            },
            _ => Client {
                id: explorer.resource_client_id.clone(),
                secret: Some(explorer.resource_client_secret.expose().to_owned()),
            },
        }
    }

    /// Whether one of the lab's servers answers `step`: its record in the trace then shows the
    /// checks it ran and the tokens it decoded. A developer's server shows neither, so the
    /// explorer decodes the tokens itself and, on a refusal, hints at what went wrong.
    pub(crate) fn lab_serves(&self, step: Step) -> bool {
        match (self, step) {
            (Self::ResourceApp(app), Step::JwtBearer) => !app.own_as,
            (Self::ResourceApp(_), Step::Call) => false,
            _ => true,
        }
    }

    /// The MCP calls step 4 offers.
    fn mcp_actions(&self) -> &'static [Action] {
        match self {
            Self::ResourceApp(app) if app.mcp_url.is_empty() => &[],
            Self::ResourceApp(_) => std::slice::from_ref(&mcp::LIST_RESOURCES),
            _ => &mcp::LAB_ACTIONS,
        }
    }

    /// What step 4's endpoint picker offers, in its order: the REST endpoints, then the MCP calls.
    pub(crate) fn endpoints(&self) -> Vec<String> {
        let rest = match self {
            Self::ResourceApp(app) => app.endpoints.clone(),
            _ => TODO_ENDPOINTS.map(str::to_owned).to_vec(),
        };
        rest.into_iter().chain(self.mcp_actions().iter().map(|a| a.label.to_owned())).collect()
    }

    /// Whether the token step 3 got for this target is accepted at `endpoint`: the lab's REST
    /// API and its MCP server are two resources, and a token for one is refused by the other
    /// (its `aud`); a resource app's endpoints all take its token.
    pub(crate) fn token_fits(&self, endpoint: &str) -> bool {
        let mcp = self.mcp_actions().iter().any(|a| a.label == endpoint);
        match self {
            Self::TodoApi => !mcp,
            Self::McpServer => mcp,
            Self::ResourceApp(_) => true,
        }
    }

    /// The endpoint the picker shows chosen before step 4 ran.
    pub(crate) fn first_endpoint(&self) -> String {
        match self {
            Self::TodoApi => TODO_ENDPOINTS[0].to_owned(),
            Self::McpServer => mcp::LAB_ACTIONS[0].label.to_owned(),
            Self::ResourceApp(app) => app.endpoints.first().cloned().unwrap_or_default(),
        }
    }

    /// Step 4's call for the picker's `choice` (one it does not offer: its first), and the
    /// choice as the picker names it.
    pub(crate) fn call(&self, urls: &Urls, choice: &str) -> (String, ResourceCall) {
        let offered = self.endpoints();
        let label = offered.iter().find(|e| *e == choice).or(offered.first()).cloned().unwrap_or_default();
        if let Some(action) = self.mcp_actions().iter().find(|a| a.label == label) {
            let url = match self {
                Self::ResourceApp(app) => app.mcp_url.clone(),
                _ => mcp::server_url(urls),
            };
            return (label, ResourceCall::Mcp { url, action });
        }
        let (method, path) = label.split_once(' ').unwrap_or(("GET", "/"));
        let (url, json) = match self {
            Self::ResourceApp(app) => (app.url_of(path), matches!(method, "POST" | "PUT" | "PATCH").then(|| json!({}))),
            _ => (
                format!("{}{path}", urls.todo_api),
                (method == "POST").then(|| json!({ "title": "Created from the flow explorer" })),
            ),
        };
        let call = ResourceCall::Rest { method: method.to_owned(), url, json };
        (label, call)
    }
}

#[cfg(test)]
mod tests {
    use xaa_core::oauth::JwtBearerRequest;
    use xaa_core::secret::Secret;

    use super::*;

    fn urls() -> Urls {
        Urls {
            console: "http://console".into(),
            idp: "http://idp".into(),
            authorization_server: "http://as".into(),
            todo_api: "http://api".into(),
            notes: "http://notes".into(),
        }
    }

    fn explorer() -> ExplorerClient {
        ExplorerClient {
            client_id: "lab-explorer".into(),
            client_secret: Secret::new("s1"),
            resource_client_id: "lab-explorer-at-todo0".into(),
            resource_client_secret: Secret::new("s2"),
        }
    }

    fn app(own_as: bool, mcp_url: &str) -> Target {
        Target::ResourceApp(Box::new(ResourceApp {
            id: "items".into(),
            base_url: "http://rs/".into(),
            own_as,
            issuer: "http://own-as".into(),
            token_endpoint: "http://own-as/token".into(),
            as_client_id: "target".into(),
            scopes: vec!["items.read".into(), "items.write".into()],
            endpoints: vec!["GET /api/items".into(), "PUT /api/items".into()],
            mcp_url: mcp_url.into(),
            client_id: "items-tester".into(),
            client_secret: "s3".into(),
            redirect_uri: "http://console/explorer/resources/items/callback".into(),
            ..ResourceApp::default()
        }))
    }

    #[test]
    fn the_lab_serves_every_step_but_a_developers_servers_do_not() {
        for lab in [Target::TodoApi, Target::McpServer] {
            assert!(Step::ALL.iter().all(|s| lab.lab_serves(*s)), "{lab:?}");
        }
        let lab_as = app(false, "");
        assert_eq!(Step::ALL.map(|s| lab_as.lab_serves(s)), [true, true, true, false]);
        let own_as = app(true, "");
        assert_eq!(Step::ALL.map(|s| own_as.lab_serves(s)), [true, true, false, false]);
    }

    #[test]
    fn each_target_asks_for_its_own_resource_as_its_own_requestor() {
        let (urls, ex) = (urls(), explorer());
        let asked = |t: &Target| {
            (t.resource(&urls).into_string(), t.audience(&urls).into_string(), t.scope(), t.token_endpoint(&urls))
        };
        assert_eq!(
            asked(&Target::TodoApi),
            ("http://api".into(), "http://as".into(), "todos.read todos.write".into(), "http://as/token".into())
        );
        assert_eq!(asked(&Target::McpServer).0, "http://api/mcp");
        assert_eq!(asked(&Target::McpServer).2, "todos.read todos.write mcp.access");
        let items = app(true, "");
        assert_eq!(
            asked(&items),
            (
                "http://rs/".into(),
                "http://own-as".into(),
                "items.read items.write".into(),
                "http://own-as/token".into()
            )
        );
        assert_eq!(Target::McpServer.requestor(&ex).id, "lab-explorer");
        assert_eq!(items.requestor(&ex), Client { id: "items-tester".into(), secret: Some("s3".into()) });
        assert_eq!(Target::TodoApi.redirect_uri(&urls), "http://console/explorer/callback");
        assert_eq!(items.redirect_uri(&urls), "http://console/explorer/resources/items/callback");
        assert!(Target::TodoApi.offers_refresh_token() && !items.offers_refresh_token());
    }

    #[test]
    fn a_client_without_a_secret_names_only_its_id() {
        let (ex, request) = (explorer(), JwtBearerRequest::new("jag".to_owned()));
        let names = |c: Client| c.form(&request).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
        assert_eq!(names(app(true, "").as_client(&ex)), ["grant_type", "assertion", "client_id"]);
        let lab = Target::TodoApi.as_client(&ex);
        assert_eq!(lab, Client { id: "lab-explorer-at-todo0".into(), secret: Some("s2".into()) });
        assert_eq!(names(lab), ["grant_type", "assertion", "client_id", "client_secret"]);
    }

    #[test]
    fn the_lab_and_each_resource_app_keep_their_own_chain_and_page() {
        let items = app(false, "");
        assert_eq!((Target::TodoApi.path(), items.path()), ("/explorer".into(), "/explorer/resources/items".into()));
        assert_eq!(Target::TodoApi.session_key("s"), Target::McpServer.session_key("s"));
        assert_eq!(items.session_key("s"), "s resource-app items");
    }

    #[test]
    fn only_the_lab_switches_between_its_api_and_its_mcp_server() {
        assert!(Target::McpServer.switched("mcp").is_none());
        assert!(Target::TodoApi.switched("rest").is_none());
        assert!(Target::TodoApi.switched("mcp").is_some_and(|t| t.is_mcp_server()));
        assert!(Target::McpServer.switched("").is_some_and(|t| !t.is_mcp_server()));
        assert!(app(false, "").switched("mcp").is_none());
        assert!(!Target::McpServer.anew().is_mcp_server() && !app(false, "").anew().is_lab());
    }

    #[test]
    fn a_token_for_one_lab_resource_fits_only_its_endpoints() {
        assert!(Target::TodoApi.token_fits("GET /api/todos"));
        assert!(!Target::TodoApi.token_fits(mcp::LAB_ACTIONS[0].label));
        assert!(Target::McpServer.token_fits(mcp::LAB_ACTIONS[0].label));
        assert!(!Target::McpServer.token_fits("GET /api/todos"));
        assert!(app(false, "").token_fits("PUT /api/items"));
    }

    #[test]
    fn step_4_offers_the_rest_endpoints_then_the_mcp_calls() {
        let urls = urls();
        let lab = Target::McpServer.endpoints();
        assert_eq!(lab.len(), 7);
        assert_eq!((lab[0].as_str(), lab[4].as_str()), ("GET /api/todos", "MCP: list resources"));
        assert_eq!(Target::McpServer.first_endpoint(), "MCP: list resources");
        assert_eq!(Target::TodoApi.first_endpoint(), "GET /api/todos");
        assert_eq!(app(false, "").endpoints(), ["GET /api/items", "PUT /api/items"]);
        assert_eq!(app(false, "http://rs/mcp").endpoints()[2], "MCP resources/list");

        let (label, call) = Target::TodoApi.call(&urls, "POST /api/todos");
        assert_eq!(label, "POST /api/todos");
        let ResourceCall::Rest { method, url, json, .. } = call else { panic!("a REST call") };
        assert_eq!((method.as_str(), url.as_str()), ("POST", "http://api/api/todos"));
        assert_eq!(json, Some(json!({ "title": "Created from the flow explorer" })));
        let (label, call) = Target::TodoApi.call(&urls, "MCP: call list_todos");
        assert_eq!(label, "MCP: call list_todos");
        assert!(matches!(call, ResourceCall::Mcp { url, .. } if url == "http://api/mcp"));
        // A choice the picker does not offer runs its first endpoint.
        assert_eq!(Target::McpServer.call(&urls, "DELETE /api/todos").0, "GET /api/todos");
        assert_eq!(app(false, "").call(&urls, "MCP resources/list").0, "GET /api/items");

        let (_, call) = app(false, "").call(&urls, "PUT /api/items");
        let ResourceCall::Rest { url, json, .. } = call else { panic!("a REST call") };
        assert_eq!((url.as_str(), json), ("http://rs/api/items", Some(json!({}))));
        let (_, call) = app(false, "http://rs/mcp").call(&urls, "MCP resources/list");
        assert!(
            matches!(call, ResourceCall::Mcp { url, action } if url == "http://rs/mcp" && action.label == "MCP resources/list")
        );
    }
}
