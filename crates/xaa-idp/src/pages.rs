//! The IdP's HTML pages (askama templates, escaped by default).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Step 1 of login: the email address.
#[derive(Template, WebTemplate)]
#[template(path = "login_email.html")]
pub(crate) struct LoginEmailPage {
    pub(crate) client_name: String,
    pub(crate) login_id: String,
    pub(crate) csrf: String,
    pub(crate) email: String,
    pub(crate) error: Option<String>,
}

/// Step 2 of login: the one-time code.
#[derive(Template, WebTemplate)]
#[template(path = "login_code.html")]
pub(crate) struct LoginCodePage {
    pub(crate) client_name: String,
    pub(crate) login_id: String,
    pub(crate) csrf: String,
    pub(crate) email: String,
    /// The user's tenant, as "Name (id)".
    pub(crate) tenant: String,
    pub(crate) error: Option<String>,
}

/// After RP-initiated logout without a redirect.
#[derive(Template, WebTemplate)]
#[template(path = "signed_out.html")]
pub(crate) struct SignedOutPage;

/// RP-Initiated Logout without an `id_token_hint` of the signed-in user: confirm first (§6).
#[derive(Template, WebTemplate)]
#[template(path = "logout_confirm.html")]
pub(crate) struct LogoutConfirmPage {
    /// The application that asked, when the request named one.
    pub(crate) client_name: Option<String>,
    pub(crate) email: String,
    pub(crate) logout_id: String,
    pub(crate) csrf: String,
}

/// Consent for a client that registered itself (open RFC 7591 registration).
#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage {
    pub(crate) client_name: String,
    pub(crate) client_id: String,
    /// The host (and port) of the redirect URI the code would go to.
    pub(crate) redirect_host: String,
    /// Each requested scope with what it gives the app.
    pub(crate) scopes: Vec<(String, &'static str)>,
    pub(crate) email: String,
    pub(crate) login_id: String,
    pub(crate) csrf: String,
}

/// A friendly error page (never a redirect to an unverified URI).
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) detail: Option<String>,
}

/// An error page with its HTTP status.
pub(crate) struct PageError(pub(crate) StatusCode, pub(crate) ErrorPage);

impl PageError {
    pub(crate) fn bad_request(title: &str, message: impl Into<String>, detail: Option<&str>) -> Self {
        Self(
            StatusCode::BAD_REQUEST,
            ErrorPage { title: title.into(), message: message.into(), detail: detail.map(str::to_owned) },
        )
    }
    pub(crate) fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "IdP page failed");
        Self(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorPage {
                title: "Something went wrong".into(),
                message: "The Lab IdP could not complete this step. Details are in the lab's terminal.".into(),
                detail: None,
            },
        )
    }
}

/// A redirect that cannot be sent (a control character or whitespace in its target): a page instead.
impl From<xaa_web::redirect::BadLocation> for PageError {
    fn from(e: xaa_web::redirect::BadLocation) -> Self {
        tracing::warn!(error = %e, "refused to send a redirect");
        Self::bad_request(
            "Redirect URI cannot be used",
            "The address to send you back to contains a control character or whitespace, so the Lab IdP cannot redirect to it.",
            Some(
                "The application's registration must be corrected: a redirect URI has no control characters or spaces.",
            ),
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self.1.render() {
            Ok(html) => (self.0, axum::response::Html(html)).into_response(),
            Err(_) => (self.0, "error").into_response(),
        }
    }
}

/// A path the IdP does not serve, for a browser.
#[derive(Template, WebTemplate)]
#[template(path = "not_found.html")]
pub(crate) struct NotFoundPage {
    pub(crate) path: String,
}

/// The fallback of every route: a `404` page for a browser, JSON for a program.
pub(crate) async fn not_found(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    xaa_web::not_found::answer(&method, &uri, &headers, |path| NotFoundPage { path })
}
