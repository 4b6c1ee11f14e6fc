//! The notes app's pages (askama templates, escaped by default).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use xaa_core::id_jag_reuse::{METADATA_MEMBER, Published};
use xaa_core::spec::{self, Citation};

use crate::todo_client::Todo;
use crate::xaa::XaaError;

/// `/`: what the app is, and the way in.
#[derive(Template, WebTemplate)]
#[template(path = "landing.html")]
pub(crate) struct LandingPage {
    pub(crate) signed_in_as: Option<String>,
}

/// A note in the sidebar.
#[derive(Debug)]
pub(crate) struct NoteItem {
    pub(crate) id: i64,
    pub(crate) title: String,
    pub(crate) snippet: String,
    pub(crate) active: bool,
}

/// The note in the editor (`id` is `None` for a new note).
#[derive(Debug)]
pub(crate) struct Editor {
    pub(crate) id: Option<i64>,
    pub(crate) title: String,
    pub(crate) body: String,
}

/// Why the todo pane has no data, in words.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) step: String,
    pub(crate) status: Option<u16>,
    pub(crate) error: Option<String>,
    pub(crate) description: String,
    pub(crate) hint: String,
    pub(crate) sign_in: bool,
    /// Whose words the description is.
    pub(crate) said: &'static str,
}

/// The label of a description the server sent.
const SERVER_SAID: &str = "What the server said";

impl From<&XaaError> for Problem {
    fn from(e: &XaaError) -> Self {
        match e {
            XaaError::SignInAgain => Problem {
                step: "Sign-in".into(),
                status: None,
                error: None,
                description: "The ID token from your sign-in has expired, so no new ID-JAG can be requested.".into(),
                hint: e.hint().into(),
                sign_in: true,
                said: SERVER_SAID,
            },
            XaaError::Refused { step, status, error, description } => Problem {
                step: step.title().into(),
                status: Some(*status),
                error: Some(error.clone()),
                description: description.clone(),
                hint: e.hint().into(),
                sign_in: error == "invalid_grant" && *step == crate::xaa::Step::TokenExchange,
                said: SERVER_SAID,
            },
            XaaError::Unreachable { step, detail } => Problem {
                step: step.title().into(),
                status: None,
                error: None,
                description: detail.clone(),
                hint: e.hint().into(),
                sign_in: false,
                said: SERVER_SAID,
            },
            XaaError::WrongResource { step, detail } => Problem {
                step: step.title().into(),
                status: Some(200),
                error: None,
                description: format!("{detail} Lab Notes discarded the token and made no call with it."),
                hint: e.hint().into(),
                sign_in: false,
                said: "What Lab Notes found",
            },
        }
    }
}

/// What the ID-JAG re-use line rests on: the lab's decision, and RFC 8414's room for a member of
/// a server's own.
const REUSE_CITES: Citation = Citation::of(&[spec::LAB_A2, spec::RFC8414_2]);

/// The line beside an access token on the ID-JAG re-use policy of its resource (lab decision A2),
/// as the authorization server's metadata published it right before the grant.
#[derive(Debug)]
pub(crate) struct ReuseLine {
    /// The policy's label, or why there is none.
    pub(crate) label: String,
    /// The metadata member it was read from.
    pub(crate) member: &'static str,
    /// What it rests on.
    pub(crate) cites: Citation,
}

impl From<&Published> for ReuseLine {
    fn from(p: &Published) -> Self {
        let label = match p {
            Published::Policy(p) => p.label().to_owned(),
            Published::Unsaid => "not published".to_owned(),
            Published::Unknown(v) => format!("not understood ({v})"),
        };
        Self { label, member: METADATA_MEMBER, cites: REUSE_CITES }
    }
}

/// `/notes`: the notes list, the selected note, and the todos pane.
#[derive(Template, WebTemplate)]
#[template(path = "notes.html")]
pub(crate) struct NotesPage {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) csrf: String,
    pub(crate) notes: Vec<NoteItem>,
    pub(crate) editor: Option<Editor>,
    pub(crate) return_id: String,
    pub(crate) flash: Option<String>,
    pub(crate) note_error: Option<String>,
    pub(crate) todos: Option<Vec<Todo>>,
    pub(crate) token_scope: String,
    pub(crate) token_minutes: i64,
    /// The todo API's ID-JAG re-use policy, with the todos.
    pub(crate) reuse: Option<ReuseLine>,
    pub(crate) problem: Option<Problem>,
}

/// A friendly error page.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) retry: Option<String>,
}

/// An error page with its status.
pub(crate) struct PageError(pub(crate) StatusCode, pub(crate) ErrorPage);

impl PageError {
    pub(crate) fn bad_request(title: &str, message: impl Into<String>, retry: Option<&str>) -> Self {
        Self(
            StatusCode::BAD_REQUEST,
            ErrorPage { title: title.into(), message: message.into(), retry: retry.map(str::to_owned) },
        )
    }

    pub(crate) fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "notes page failed");
        Self(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorPage {
                title: "Something went wrong".into(),
                message: "Lab Notes could not finish this request. Details are in the lab's terminal.".into(),
                retry: Some("/notes".into()),
            },
        )
    }
}

/// A redirect that cannot be sent (a control character or whitespace in its target, e.g. an IdP
/// endpoint from discovery): a page instead.
impl From<xaa_web::redirect::BadLocation> for PageError {
    fn from(e: xaa_web::redirect::BadLocation) -> Self {
        tracing::warn!(error = %e, "refused to send a redirect");
        Self::bad_request(
            "Cannot continue",
            "The next address contains a control character or whitespace, so Lab Notes cannot send you there.",
            Some("/"),
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

/// A path the notes app does not serve, for a browser.
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

#[cfg(test)]
mod tests {
    use xaa_core::id_jag_reuse::{Published, ReusePolicy};

    use super::ReuseLine;

    #[test]
    fn the_re_use_line_names_the_policy_or_why_there_is_none_and_what_it_rests_on() {
        let line = |p: Published| ReuseLine::from(&p).label;
        assert_eq!(line(Published::Policy(ReusePolicy::SingleUse)), "single use");
        assert_eq!(line(Published::Policy(ReusePolicy::ReusableUntilExp)), "re-usable until exp");
        assert_eq!(line(Published::Unsaid), "not published");
        assert_eq!(line(Published::Unknown("\"twice\"".into())), "not understood (\"twice\")");
        let shown = ReuseLine::from(&Published::Unsaid);
        assert_eq!(
            (shown.member, shown.cites.to_string().as_str()),
            ("xaa_lab_id_jag_reuse", "lab decision A2, RFC 8414 §2")
        );
    }
}
