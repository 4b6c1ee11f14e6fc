//! Safe redirects. `axum::response::Redirect::to` panics on a target that is not a valid header
//! value (the workspace's `clippy.toml` forbids it); [`SeeOther`] refuses, with [`BadLocation`],
//! any target with a character `xaa_core::redirect::unsafe_char` names (a control character or
//! whitespace), so a target stored before that rule existed, or read from a server's metadata,
//! ends in an error page rather than a panic or an injected header.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use xaa_core::redirect::{describe_unsafe_char, unsafe_char};

/// A `303 See Other` whose `Location` was checked to be a valid, injection-free header value.
#[derive(Clone, Debug)]
pub struct SeeOther(HeaderValue);

/// A redirect target that cannot be sent: it has a control character or whitespace.
#[derive(Clone, Debug, thiserror::Error)]
#[error("cannot redirect to \"{}\": it contains {}", .target.escape_debug(), describe_unsafe_char(*.found))]
pub struct BadLocation {
    /// The target as given.
    pub target: String,
    /// The first character that may not be sent.
    pub found: char,
}

impl SeeOther {
    /// A redirect to `target`, unless it has a character `unsafe_char` refuses.
    pub fn to(target: &str) -> Result<Self, BadLocation> {
        let bad = |found| BadLocation { target: target.to_owned(), found };
        if let Some(found) = unsafe_char(target) {
            return Err(bad(found));
        }
        // Every byte `http` refuses is a control character, refused above: this cannot fail.
        HeaderValue::from_str(target).map(Self).map_err(|_| bad('\u{fffd}'))
    }

    /// The checked `Location` value.
    pub fn location(&self) -> &HeaderValue {
        &self.0
    }
}

impl IntoResponse for SeeOther {
    fn into_response(self) -> Response {
        (StatusCode::SEE_OTHER, [(header::LOCATION, self.0)]).into_response()
    }
}

/// A plain error page, for servers without a page of their own: `400`, never a redirect.
impl IntoResponse for BadLocation {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "refused to send a redirect");
        let page = "<!doctype html><meta charset=\"utf-8\"><title>Cannot continue</title>\
            <h1>Cannot continue</h1><p>The next page's address contains a control character or \
            whitespace, so it cannot be sent to the browser. Details are in the lab's terminal.</p>";
        (StatusCode::BAD_REQUEST, Html(page)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_targets_become_a_location() {
        let ok = SeeOther::to("http://localhost:3000/cb?state=a%20b").unwrap();
        assert_eq!(ok.location(), "http://localhost:3000/cb?state=a%20b");
        for (bad, found) in [
            ("http://localhost:3000/cb\r\nX-Injected: 1", '\r'),
            ("http://localhost:3000/c\tb", '\t'),
            ("http://localhost:3000/c\0b", '\0'),
            ("http://localhost:3000/c\u{7f}b", '\u{7f}'),
            ("http://localhost:3000/c\u{85}b", '\u{85}'),
            ("http://localhost:3000/a b", ' '),
            ("http://localhost:3000/a\u{a0}b", '\u{a0}'),
            ("http://localhost:3000/a\u{2028}b", '\u{2028}'),
        ] {
            let e = SeeOther::to(bad).unwrap_err();
            assert_eq!(e.found, found, "{bad:?}");
        }
        assert_eq!(
            SeeOther::to("/x\r\ny").unwrap_err().to_string(),
            "cannot redirect to \"/x\\r\\ny\": it contains the control character U+000D"
        );
    }

    #[test]
    fn a_location_that_cannot_be_sent_is_a_page() {
        let resp = SeeOther::to("/a b").unwrap_err().into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert!(resp.headers().get(header::LOCATION).is_none());
        let resp = SeeOther::to("/notes?id=1").unwrap().into_response();
        assert_eq!(
            (resp.status(), &resp.headers()[header::LOCATION]),
            (StatusCode::SEE_OTHER, &HeaderValue::from_static("/notes?id=1"))
        );
    }
}
