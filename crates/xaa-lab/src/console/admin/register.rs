//! `/admin/register`: the registration form, as xaa.dev's "Register Client" with its OIDC | SAML
//! tabs. The requestor's OIDC client, AS client and connection, plus an optional SAML service
//! provider (entityID, ACS URL, NameID format) registered through the admin API's code path; a
//! refused SAML part leaves nothing registered. Success lands on the client's page.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use xaa_idp::Tenant;
use xaa_web::csrf::CsrfToken;

use super::AdminAuth;
use super::pages::{AdminForm, text};
use super::saml::saml_fields;
use crate::admin::{RegisterRequest, SamlRequest};
use crate::console::{ConsoleState, form_lines};

/// The NameID formats the form offers (xaa.dev's two; `transient` is refused by the IdP).
const NAME_ID_FORMATS: [&str; 2] = ["emailAddress", "persistent"];

#[derive(Template, WebTemplate)]
#[template(path = "admin_register.html")]
struct RegisterPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    error: Option<String>,
    name: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: Vec<(String, bool)>,
    resource: String,
    /// Every tenant, the one the connection goes to selected.
    tenants: Vec<(Tenant, bool)>,
    /// The optional SAML part as typed.
    saml: SamlRequest,
    /// The NameID format choices, the chosen one selected.
    name_id_formats: Vec<(&'static str, bool)>,
}

/// The NameID format choices with `chosen` (else `emailAddress`) selected.
pub(super) fn format_choice(chosen: &str) -> Vec<(&'static str, bool)> {
    let chosen = if chosen.is_empty() { NAME_ID_FORMATS[0] } else { chosen };
    NAME_ID_FORMATS.iter().map(|f| (*f, *f == chosen)).collect()
}

/// The tenants for the registration form's select, `chosen` (else the default) selected.
fn tenant_choice(st: &ConsoleState, chosen: Option<&str>) -> Vec<(Tenant, bool)> {
    let tenants = st.admin.idp.tenants();
    let chosen = chosen.unwrap_or(&tenants.default_tenant().id);
    tenants.all().iter().map(|t| (t.clone(), t.id == chosen)).collect()
}

pub(crate) async fn register_form(_: AdminAuth, State(st): State<Arc<ConsoleState>>, csrf: CsrfToken) -> Response {
    let resource = st.admin.lab_authorization_server().and_then(|s| s.resources.first()).cloned();
    let page = RegisterPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        error: None,
        name: String::new(),
        redirect_uris: "http://localhost:3000/auth/callback".into(),
        post_logout_redirect_uris: "http://localhost:3000".into(),
        scopes: resource.as_ref().map(|r| r.scopes.iter().map(|s| (s.clone(), true)).collect()).unwrap_or_default(),
        resource: resource.map(|r| r.resource.into_string()).unwrap_or_default(),
        tenants: tenant_choice(&st, None),
        saml: SamlRequest::default(),
        name_id_formats: format_choice(""),
    };
    (csrf, page).into_response()
}

pub(crate) async fn register(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    AdminForm(form): AdminForm,
) -> Response {
    let scopes: Vec<String> = form.values("scopes").map(str::to_owned).collect();
    let req = RegisterRequest {
        name: text(&form, "name").unwrap_or_default(),
        redirect_uris: form_lines(&form, "redirect_uris"),
        post_logout_redirect_uris: form_lines(&form, "post_logout_redirect_uris"),
        resource: text(&form, "resource"),
        scopes: Some(scopes.clone()),
        tenant: text(&form, "tenant"),
    };
    let saml = saml_fields(&form);
    match st.admin.register_with_saml(req.clone(), saml.as_ref()).await {
        // Shown here, not after a redirect: the IdP keeps only the secret's hash.
        Ok(r) => super::pages::client_page(&st, csrf, r, true, None).await,
        Err(e) => {
            let all = st
                .admin
                .lab_authorization_server()
                .and_then(|s| s.resources.first())
                .map(|r| r.scopes.clone())
                .unwrap_or_default();
            let saml = saml.unwrap_or_default();
            let page = RegisterPage {
                lab_status: crate::console::lab_status::LabStatus::of(&st),
                csrf: csrf.value().to_owned(),
                error: Some(e.to_string()),
                name: req.name,
                redirect_uris: req.redirect_uris.join("\n"),
                post_logout_redirect_uris: req.post_logout_redirect_uris.join("\n"),
                scopes: all.iter().map(|s| (s.clone(), scopes.contains(s))).collect(),
                resource: req.resource.unwrap_or_default(),
                tenants: tenant_choice(&st, req.tenant.as_deref()),
                name_id_formats: format_choice(&saml.name_id_format),
                saml,
            };
            (StatusCode::BAD_REQUEST, csrf, page).into_response()
        }
    }
}
