//! The cookies the lab's web UIs set: every one HttpOnly (no script reads a session or a binding),
//! on path `/`, with the `SameSite` and `Secure` attributes its component chooses. Cookies on
//! localhost ignore ports, so each component names its own.

use axum_extra::extract::cookie::{Cookie, SameSite};

/// An HttpOnly cookie `name` = `value` on path `/`, `same_site`, `Secure` when `secure`.
pub fn http_only(name: &'static str, value: String, same_site: SameSite, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value)).path("/").http_only(true).same_site(same_site).secure(secure).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attributes_are_those_asked_for_and_http_only() {
        let c = http_only("xaa_test", "v".into(), SameSite::Strict, true);
        assert_eq!(c.to_string(), "xaa_test=v; HttpOnly; SameSite=Strict; Secure; Path=/");
        let c = http_only("xaa_test", "v".into(), SameSite::Lax, false);
        assert_eq!(c.to_string(), "xaa_test=v; HttpOnly; SameSite=Lax; Path=/");
    }
}
