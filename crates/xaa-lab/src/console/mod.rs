//! The lab console (:4400): the home page (actors, steps, links, `.env`), the live trace of every
//! request grouped into flows, and the token inspector.
//!
//! | path | what |
//! | --- | --- |
//! | `GET /` | home |
//! | `GET /trace` | live trace (filter `client`, `user`); streams through `GET /trace/events` (SSE) |
//! | `GET /trace.json` | the filtered trace as JSON |
//! | `GET /trace/flows/{id}`, `/trace/flows/{id}/json`, `/trace/flows/{id}/mermaid` | one flow: diagram, JSON, Mermaid |
//! | `GET /inspect`, `POST /inspect` | token inspector (CSRF protected) |

mod inspect;
mod trace;
mod view;

use std::path::PathBuf;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use xaa_core::clock::SharedClock;
use xaa_core::jose::KeySet;
use xaa_idp::User;

use crate::config::Urls;
use crate::env_file::EnvFile;

/// What the console shows and uses.
pub(crate) struct ConsoleState {
    pub(crate) urls: Urls,
    pub(crate) env: EnvFile,
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) users: Vec<User>,
    pub(crate) trace: Arc<xaa_core::trace::Trace>,
    pub(crate) idp_keys: KeySet,
    pub(crate) as_keys: KeySet,
    pub(crate) clock: SharedClock,
    pub(crate) secure_cookies: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    urls: Urls,
    dotenv: String,
    ca_cert: Option<String>,
    users: Vec<User>,
}

pub(crate) fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/trace", get(trace::page))
        .route("/trace/events", get(trace::events))
        .route("/trace.json", get(trace::export))
        .route("/trace/flows/{id}", get(trace::flow))
        .route("/trace/flows/{id}/json", get(trace::flow_json))
        .route("/trace/flows/{id}/mermaid", get(trace::flow_mermaid))
        .route("/inspect", get(inspect::form).post(inspect::analyse))
        .with_state(Arc::new(state))
}

async fn home(State(st): State<Arc<ConsoleState>>) -> HomePage {
    HomePage {
        urls: st.urls.clone(),
        dotenv: st.env.to_dotenv(),
        ca_cert: st.ca_cert.as_ref().map(|p| p.display().to_string()),
        users: st.users.clone(),
    }
}
