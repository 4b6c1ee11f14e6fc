//! The explorer's four steps: each one's title and what it does, as the page (and the exercises)
//! name them.

/// `(title, what happens)` of steps 1 to 4.
pub(super) const TITLES: [(&str, &str); 4] = [
    (
        "Single sign-on at the IdP",
        "The user signs in at the IdP (email, then a one-time code); the explorer redeems the authorization code with PKCE and gets an ID token.",
    ),
    (
        "Token exchange: ID token → ID-JAG",
        "RFC 8693 at the IdP: the ID token is the subject token, audience is the authorization server's issuer, resource is the todo API. IT's connection policy decides.",
    ),
    (
        "JWT bearer grant: ID-JAG → access token",
        "RFC 7523 at the resource authorization server, with the explorer's own credentials there. It validates the ID-JAG check by check.",
    ),
    (
        "Call the todo API",
        "The access token as a bearer token. The API checks it (RFC 9068) and the scope the call needs.",
    ),
];

/// The title of step `n` (1 to 4), as the explorer shows it.
pub(crate) fn step_title(n: u8) -> &'static str {
    TITLES.get(usize::from(n).wrapping_sub(1)).map(|t| t.0).unwrap_or("")
}
