//! CSV export (RFC 4180), safe to open in a spreadsheet.

/// One field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@`
/// (a formula in a spreadsheet) is defused with a leading quote.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_and_defuses_formulas() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("=1+1"), "'=1+1");
        assert_eq!(super::field("plain"), "plain");
    }
}
