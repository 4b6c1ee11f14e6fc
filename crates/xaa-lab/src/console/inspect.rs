//! The token inspector page. Its form carries the console's CSRF token (bound to the
//! `xaa_console_csrf` cookie), like every form in the lab.

use std::sync::Arc;

use crate::observe::inspect::{Inspection, LabContext, inspect};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};

use super::ConsoleState;

#[derive(Template, WebTemplate)]
#[template(path = "inspect.html")]
struct InspectPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    token: String,
    error: Option<String>,
    result: Option<Inspection>,
}

pub(crate) async fn form(State(st): State<Arc<ConsoleState>>, csrf: CsrfToken) -> Response {
    let page = InspectPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        token: String::new(),
        error: None,
        result: None,
    };
    (csrf, page).into_response()
}

#[derive(Deserialize)]
pub(crate) struct InspectForm {
    token: String,
}

pub(crate) async fn analyse(
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    form: Result<CsrfForm<Form<InspectForm>>, CsrfRejection<Form<InspectForm>>>,
) -> Response {
    let refused = |token: String, error: &str| {
        let page = InspectPage {
            lab_status: crate::console::lab_status::LabStatus::of(&st),
            csrf: csrf.value().to_owned(),
            token,
            error: Some(error.to_owned()),
            result: None,
        };
        (axum::http::StatusCode::BAD_REQUEST, page)
    };
    let f = match form {
        Ok(CsrfForm(Form(f))) => f,
        Err(CsrfRejection::Forged(Form(f))) => {
            let page = refused(f.token, "This page was open too long; press Inspect again.");
            return (csrf, page).into_response();
        }
        Err(CsrfRejection::Unreadable(_)) => {
            let page = refused(String::new(), "The form was incomplete.");
            return (csrf, page).into_response();
        }
    };
    let idp_keys = st.admin.idp.public_keys();
    let lab = LabContext {
        idp: &st.urls.idp,
        idp_keys: &idp_keys,
        authorization_server: &st.urls.authorization_server,
        as_keys: &st.as_keys,
        todo_api: &st.urls.todo_api,
        now: st.clock.now(),
        leeway: xaa_core::JWT_LEEWAY,
    };
    let (result, error) = match inspect(&f.token, lab).await {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let page = InspectPage {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        token: f.token,
        error,
        result,
    };
    (csrf, page).into_response()
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use xaa_core::claims::TokenKind;
    use xaa_core::spec::{self, Citation};
    use xaa_core::validation::Check;

    use super::InspectPage;
    use crate::observe::inspect::{ExplainedClaim, Inspection};

    fn check(name: &'static str, spec: Citation, detail: &str) -> Check {
        Check { name, passed: true, detail: detail.to_owned(), spec }
    }

    /// The `<li>` of check `name` in the rendered page.
    fn item<'a>(html: &'a str, name: &str) -> &'a str {
        let start = html.find(&format!("<strong>{name}</strong>")).unwrap_or_else(|| panic!("no check {name}"));
        let end = html[start..].find("</li>").map_or(html.len(), |e| start + e);
        &html[start..end]
    }

    /// What a check rests on, drawn by `cite.html`: a lab decision or a break-it switch gets its
    /// label and its why; a MUST stays quiet; a MAY says so; every text is escaped.
    #[test]
    fn a_check_resting_on_a_lab_decision_shows_its_label_and_why_and_a_must_does_not() {
        let result = Inspection {
            kind: TokenKind::IdJag,
            recognised_by: "typ".into(),
            validator: "the AS".into(),
            header: "{}".into(),
            claims: vec![ExplainedClaim {
                name: "app_org".into(),
                value: "\"customer1\"".into(),
                meaning: "The user's tenant.",
                spec: Citation::from(&spec::LAB_A20),
            }],
            checks: vec![
                check("kid", Citation::of(&[spec::LAB_A13, spec::RFC7515_4_1_4]), "kid <b>idp</b> is known"),
                check("typ", Citation::of(&[spec::IDJAG_4_4_1]), "typ is oauth-id-jag+jwt"),
                check("cnf", Citation::from(&spec::IDJAG_9_8_1_2_4), "no cnf, no proof"),
                check("break-it switch", Citation::from(&spec::BREAK_IT), "refused on purpose"),
            ],
            refusal: None,
        };
        let page = InspectPage {
            lab_status: Default::default(),
            csrf: String::new(),
            token: String::new(),
            error: None,
            result: Some(result),
        };
        let html = page.render().unwrap();

        let kid = item(&html, "kid");
        assert!(
            kid.contains("<span class=\"decision-tag\" title=\"kid is required\">lab decision A13</span>"),
            "{kid}"
        );
        assert!(kid.contains("kid is OPTIONAL in RFC 7515 §4.1.4; the lab requires it"), "the why: {kid}");
        assert!(kid.contains("<span class=\"note\">(RFC 7515 §4.1.4)</span>"), "the text it decides on: {kid}");
        assert!(kid.contains("kid &#60;b&#62;idp&#60;/b&#62; is known"), "escaped: {kid}");

        let typ = item(&html, "typ");
        assert!(!typ.contains("decision-tag") && !typ.contains("keyword"), "a MUST stays quiet: {typ}");
        assert!(
            typ.contains("<span class=\"note\">(draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.1)</span>")
        );

        let cnf = item(&html, "cnf");
        assert!(cnf.contains("<span class=\"keyword\">MAY</span>: draft-"), "{cnf}");
        assert!(!cnf.contains("decision-tag"), "{cnf}");

        let switch = item(&html, "break-it switch");
        assert!(switch.contains(">break-it switch</span>") && switch.contains(spec::BREAK_IT.why), "{switch}");
        assert!(!switch.contains("class=\"note\">("), "a switch cites no other text: {switch}");

        let claims = &html[html.find("<h4>Claims</h4>").unwrap_or(0)..];
        assert!(claims.contains(">lab decision A20</span>"), "{claims}");
    }
}
