//! The console's admin side: pages under `/admin` and a JSON API under `/api/admin`, both behind
//! the admin token `lab` prints at start (and writes to the ready file as `admin_token`).
//! The API takes only `Authorization: Bearer <admin token>`. A browser opens `/admin?token=…`
//! once (or pastes the token at `/admin/login`) and then carries a random session id (never the
//! token) in an HttpOnly, SameSite=Strict cookie scoped to `/admin`; every admin form also carries
//! the console's CSRF token, and the console refuses state changes sent from other origins.
//!
//! The teacher's dashboard is a page: `/admin/room` (live over `/admin/room/events`, CSV at
//! `/admin/room.csv`).
//!
//! | API | what |
//! | --- | --- |
//! | `GET, POST /api/admin/clients` | list; register a requestor (IdP client + AS client + connection) |
//! | `GET, DELETE /api/admin/clients/{id}` | credentials, `.env` and report card; delete (an IdP client, or a client registered only at the resource AS) |
//! | `PUT /api/admin/clients/{id}/saml` | register or replace its SAML service provider |
//! | `GET, PUT, DELETE /api/admin/connections` | the policy; grant or narrow; revoke (`?client_id=&resource=`) |
//! | `GET, PUT /api/admin/id-jag-reuse` | each resource's ID-JAG re-use policy (`{"resource", "policy": "single_use" \| "reuse_until_exp"}`) |
//! | `GET /api/admin/audit` | the ID-JAG audit log (`?client_id=&user=&outcome=&format=csv`) |
//! | `GET /api/admin/switches`, `PUT, DELETE /api/admin/switches/{name}` | break-it switches |
//! | `GET, POST /api/admin/clock` | the lab clock (`{"advance": seconds}`) |
//! | `GET /api/admin/keys`, `POST /api/admin/keys/rotate` | IdP signing keys; rotation |
//! | `POST /api/admin/reset` | reset the room (`{"keep_registrations": bool}`) |

mod api;
mod audit;
mod connections;
mod pages;
mod register;
mod reuse;
mod room;
mod saml;
mod sign_in;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum_extra::extract::CookieJar;
use xaa_core::secret::Secret;
use xaa_web::redirect::SeeOther;

use super::ConsoleState;

/// The cookie holding a browser's admin session id (path `/admin`).
pub(crate) const ADMIN_COOKIE: &str = "xaa_console_admin";

/// Proof that the request carries the admin token.
pub(crate) struct AdminAuth;

/// How a request without the token is refused: JSON for the API, the login page for pages.
pub(crate) enum Refused {
    Api,
    Page { path: String, method: axum::http::Method },
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Api => {
                let body = serde_json::json!({
                    "error": "unauthorized",
                    "error_description": "the admin API needs the admin token lab printed at start: Authorization: Bearer <admin_token>",
                });
                let mut resp = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"lab-admin\""));
                resp
            }
            Refused::Page { path, method } => {
                // After signing in, come back to the page; a form's target is no page to land on.
                let path = if method == axum::http::Method::GET { path } else { "/admin".to_owned() };
                let next = form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
                SeeOther::to(&format!("/admin/login?next={next}")).into_response()
            }
        }
    }
}

impl FromRequestParts<Arc<ConsoleState>> for AdminAuth {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<ConsoleState>) -> Result<Self, Self::Rejection> {
        if parts.uri.path().starts_with("/api/") {
            // The API: the token itself, as a bearer token (the scheme is case-insensitive).
            let token = Secret::new(st.admin_token.clone());
            let bearer = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim());
            return if bearer.is_some_and(|b| token.matches(b)) { Ok(AdminAuth) } else { Err(Refused::Api) };
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let session = jar.get(ADMIN_COOKIE).map(|c| c.value().to_owned());
        let known = session.is_some_and(|s| st.admin_sessions.lock().is_ok_and(|set| set.contains(&s)));
        if known {
            return Ok(AdminAuth);
        }
        Err(Refused::Page { path: parts.uri.path().to_owned(), method: parts.method.clone() })
    }
}

/// A known path asked with another method: JSON for the admin API, a line of text elsewhere.
pub(crate) async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let message = format!("{} does not answer {method}", uri.path());
    if uri.path().starts_with("/api/") {
        let body = serde_json::json!({ "error": "method_not_allowed", "error_description": message });
        (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
    } else {
        (StatusCode::METHOD_NOT_ALLOWED, message).into_response()
    }
}

pub(crate) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/admin", get(pages::overview))
        .route("/admin/login", get(sign_in::login_form).post(sign_in::login))
        .route("/admin/logout", post(sign_in::logout))
        .route("/admin/register", get(register::register_form).post(register::register))
        .route("/admin/clients/{id}", get(pages::client))
        .route("/admin/clients/{id}/delete", post(pages::delete_client))
        .route("/admin/clients/{id}/saml", post(saml::saml_form))
        .route("/admin/connections", post(connections::grant_form))
        .route("/admin/connections/revoke", post(connections::revoke_form))
        .route("/admin/id-jag-reuse", post(reuse::set_form))
        .route("/admin/switches", post(pages::switch))
        .route("/admin/clock", post(pages::clock))
        .route("/admin/keys/rotate", post(pages::rotate))
        .route("/admin/reset", post(pages::reset))
        .route("/admin/room", get(room::page))
        .route("/admin/room/events", get(room::events))
        .route("/admin/room.csv", get(room::export))
        .route("/admin/audit", get(audit::audit))
        .route("/admin/audit/export", get(audit::audit_export))
        .route("/api/admin/clients", get(api::clients).post(api::register))
        .route("/api/admin/clients/{id}", get(api::client).delete(api::delete_client))
        .route("/api/admin/clients/{id}/saml", put(saml::put_saml))
        .route("/api/admin/connections", get(connections::list).put(connections::grant).delete(connections::revoke))
        .route("/api/admin/id-jag-reuse", get(reuse::list).put(reuse::set))
        .route("/api/admin/audit", get(api::audit))
        .route("/api/admin/switches", get(api::switches))
        .route("/api/admin/switches/{name}", put(api::switch_on).delete(api::switch_off))
        .route("/api/admin/clock", get(api::clock).post(api::advance_clock))
        .route("/api/admin/keys", get(api::keys))
        .route("/api/admin/keys/rotate", post(api::rotate))
        .route("/api/admin/reset", post(api::reset))
        .route("/api/admin/{*rest}", axum::routing::any(api::unknown))
}
