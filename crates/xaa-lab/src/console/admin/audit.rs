//! The audit log page and its CSV/JSON export links.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use xaa_idp::AuditEntry;

use super::AdminAuth;
use super::api::AuditQuery;
use super::pages::time;
use crate::console::ConsoleState;

#[derive(Template, WebTemplate)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    lab_status: crate::console::lab_status::LabStatus,
    q: AuditQuery,
    query: String,
    entries: Vec<AuditEntry>,
    clients: Vec<String>,
    tenants: Vec<xaa_idp::Tenant>,
}

impl AuditPage {
    fn at(&self, t: &i64) -> String {
        time(*t)
    }
}

pub(crate) async fn audit_export(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    super::api::export_audit(&st, q).await
}

pub(crate) async fn audit(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let entries = st.admin.idp.audit(q.filter()).await.unwrap_or_default();
    let f = q.filter();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("client_id", f.client_id), ("user", f.user), ("outcome", f.outcome), ("tenant", f.tenant)] {
        if let Some(v) = v {
            query.append_pair(k, &v);
        }
    }
    let page = AuditPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        q,
        query: query.finish(),
        entries,
        clients: st.admin.idp.clients().into_iter().map(|c| c.client_id.into_string()).collect(),
        tenants: st.admin.idp.tenants().all().to_vec(),
    };
    page.into_response()
}
