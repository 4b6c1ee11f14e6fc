//! As whom the explorer runs the lab's page: its own requestor `lab-explorer`, or a participant's
//! registered app with the credentials `/join` gave it (both pairs: the IdP client and its client
//! at the lab's authorization server). A room without Node or Python then still runs the four
//! steps as its own apps, and the teacher's dashboard shows each of them.
//!
//! `POST /explorer/as` (CSRF) with `as=lab`, or `as=app` and the four credentials as the `.env`
//! names them. The IdP checks the secrets at step 1 (a wrong one is step 1's `invalid_client`);
//! what the explorer can tell before that it refuses at once: an unknown client, or one whose
//! redirect URIs lack the explorer's callback (`/join` registers it for every participant).

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use xaa_core::secret::Secret;
use xaa_web::csrf::{CsrfForm, CsrfRejection};
use xaa_web::redirect::SeeOther;

use super::chain::Chain;
use super::target::Target;
use super::{ExplorerClient, save};
use crate::console::ConsoleState;

/// A participant's app the lab's chain runs as.
#[derive(Clone, Debug)]
pub(crate) struct ActingAs {
    /// The app's name at the IdP.
    pub(crate) name: String,
    pub(crate) client: ExplorerClient,
}

/// The form of `POST /explorer/as`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AsForm {
    /// `lab`: the lab's own requestor; `app`: the app the fields name.
    #[serde(default, rename = "as")]
    who: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    resource_client_id: String,
    #[serde(default)]
    resource_client_secret: String,
}

/// Why the explorer cannot run as the app a form names; the page shows it (`?as_error=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A credential is missing.
    Incomplete,
    /// The IdP has no client with that id.
    UnknownClient,
    /// The client's redirect URIs lack the explorer's callback.
    NoCallback,
}

impl Refused {
    /// The query parameter value.
    pub(crate) fn param(self) -> &'static str {
        match self {
            Refused::Incomplete => "incomplete",
            Refused::UnknownClient => "unknown-client",
            Refused::NoCallback => "no-callback",
        }
    }

    pub(crate) fn from_param(p: &str) -> Option<Self> {
        [Refused::Incomplete, Refused::UnknownClient, Refused::NoCallback].into_iter().find(|r| r.param() == p)
    }

    /// What the page says (`callback`: the explorer's redirect URI).
    pub(crate) fn text(self, callback: &str) -> String {
        match self {
            Refused::Incomplete => {
                "To run as your app, give all four credentials from your .env: CLIENT_ID, CLIENT_SECRET, RESOURCE_CLIENT_ID and RESOURCE_CLIENT_SECRET.".to_owned()
            }
            Refused::UnknownClient => {
                "The lab's IdP has no client with that CLIENT_ID. Copy it from the page /join showed, or join again.".to_owned()
            }
            Refused::NoCallback => format!(
                "That app's redirect URIs do not include the explorer's callback {callback}, so the IdP would refuse step 1. Apps registered at /join have it; ask IT to add it to yours."
            ),
        }
    }
}

impl AsForm {
    /// The app this form names, checked against the IdP's registry: it must exist and accept the
    /// explorer's `callback` as a redirect URI.
    fn app(&self, st: &ConsoleState, callback: &str) -> Result<ActingAs, Refused> {
        let fields = [&self.client_id, &self.client_secret, &self.resource_client_id, &self.resource_client_secret];
        if fields.iter().any(|f| f.trim().is_empty()) {
            return Err(Refused::Incomplete);
        }
        let client_id = self.client_id.trim();
        let idp = st.admin.idp.client(client_id).ok_or(Refused::UnknownClient)?;
        if !idp.redirect_uris.iter().any(|u| u == callback) {
            return Err(Refused::NoCallback);
        }
        Ok(ActingAs {
            name: idp.name.clone(),
            client: ExplorerClient {
                client_id: client_id.to_owned(),
                client_secret: Secret::new(self.client_secret.trim()),
                resource_client_id: self.resource_client_id.trim().to_owned(),
                resource_client_secret: Secret::new(self.resource_client_secret.trim()),
            },
        })
    }
}

/// The explorer's callback on the lab's page: the redirect URI a participant's app needs.
pub(crate) fn callback_uri(st: &ConsoleState) -> String {
    Target::default().redirect_uri(&st.urls)
}

/// `POST /explorer/as`: a fresh run of the lab's chain as the app the form names (or as
/// `lab-explorer` again); a refusal goes back to the page saying why, changing nothing.
pub(crate) async fn choose(
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    form: Result<CsrfForm<Form<AsForm>>, CsrfRejection<Form<AsForm>>>,
) -> Response {
    let Ok(CsrfForm(Form(f))) = form else { return SeeOther::to("/explorer#acting-as").into_response() };
    let acting_as = match f.who.as_str() {
        "app" => match f.app(&st, &callback_uri(&st)) {
            Ok(app) => Some(app),
            Err(why) => {
                return SeeOther::to(&format!("/explorer?as_error={}#acting-as", why.param())).into_response();
            }
        },
        _ => None,
    };
    // A new requestor makes every token of the run before it stale.
    let mut chain = Chain::default();
    chain.acting_as = acting_as;
    let jar = save(&st, jar, chain);
    (jar, SeeOther::to("/explorer#step-1")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_round_trips_through_its_parameter() {
        for r in [Refused::Incomplete, Refused::UnknownClient, Refused::NoCallback] {
            assert_eq!(Refused::from_param(r.param()), Some(r));
        }
        assert_eq!(Refused::from_param("other"), None);
        assert!(Refused::NoCallback.text("http://c/explorer/callback").contains("http://c/explorer/callback"));
    }
}
