//! The lab console (:4400). For now its home page: the actors, the four steps, a link to every
//! component, how to log in, and the bring-your-own `.env`.

use std::path::PathBuf;
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use xaa_idp::User;

use crate::config::Urls;
use crate::env_file::EnvFile;

/// What the console shows.
#[derive(Clone, Debug)]
pub(crate) struct ConsoleState {
    pub(crate) urls: Urls,
    pub(crate) env: EnvFile,
    pub(crate) ca_cert: Option<PathBuf>,
    pub(crate) users: Vec<User>,
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
    Router::new().route("/", get(home)).with_state(Arc::new(state))
}

async fn home(State(st): State<Arc<ConsoleState>>) -> HomePage {
    HomePage {
        urls: st.urls.clone(),
        dotenv: st.env.to_dotenv(),
        ca_cert: st.ca_cert.as_ref().map(|p| p.display().to_string()),
        users: st.users.clone(),
    }
}
