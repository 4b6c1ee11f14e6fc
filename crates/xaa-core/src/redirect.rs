//! Redirect targets. A redirect URI travels back to the browser in a `Location` header, so it may
//! never carry a control character (C0, DEL or C1: a CR LF would end the header and start another)
//! or whitespace (RFC 3986 §2 and Appendix C: a URI has none; percent-encode it). [`unsafe_char`]
//! is that rule, applied when a redirect URI is registered; the web UIs' redirect (`xaa_web`'s
//! `SeeOther`) applies it again when a redirect is sent.

/// The first character of `target` that no redirect target may carry: a control character (C0,
/// DEL, C1) or whitespace (Unicode `White_Space`).
pub fn unsafe_char(target: &str) -> Option<char> {
    target.chars().find(|c| c.is_control() || c.is_whitespace())
}

/// What kind of character `c` (one that [`unsafe_char`] found) is, in words.
pub fn describe_unsafe_char(c: char) -> String {
    let kind = if c.is_control() { "the control character" } else { "the whitespace character" };
    format!("{kind} U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_and_whitespace_are_named() {
        assert_eq!(super::unsafe_char("http://localhost:3000/cb?state=a%20b"), None);
        assert_eq!(super::unsafe_char("http://localhost:3000/c\r\nb"), Some('\r'));
        assert_eq!(super::describe_unsafe_char(' '), "the whitespace character U+0020");
        assert_eq!(super::describe_unsafe_char('\r'), "the control character U+000D");
    }
}
