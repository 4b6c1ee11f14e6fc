//! CSV export (RFC 4180), safe to open in a spreadsheet: the IdP's audit log and the room.

use xaa_idp::AuditEntry;

/// One field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@`
/// (a formula in a spreadsheet) is defused with a leading quote.
pub fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// The header of [`audit_csv`].
const AUDIT_HEADER: &str = "id,at,client_id,user,audience,resource,scope,outcome,error,reason,jti,tenant";

/// The IdP's audit log as CSV, one row per entry, lines ending in CRLF.
pub(crate) fn audit_csv(entries: &[AuditEntry]) -> String {
    let mut out = format!("{AUDIT_HEADER}\r\n");
    for e in entries {
        let row = [
            e.id.to_string(),
            e.at.to_string(),
            field(&e.client_id),
            field(&e.user),
            field(&e.audience),
            field(&e.resource),
            field(&e.scope),
            field(&e.outcome),
            field(&e.error),
            field(&e.reason),
            field(&e.jti),
            field(&e.tenant),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use xaa_idp::AuditEntry;

    #[test]
    fn an_audit_row_quotes_and_defuses_formulas() {
        let mut e = AuditEntry::default();
        e.reason = "a, \"b\"".into();
        e.user = "=cmd".into();
        let csv = super::audit_csv(&[e]);
        assert_eq!(csv.lines().nth(1), Some("0,0,,'=cmd,,,,,,\"a, \"\"b\"\"\",,"));
    }

    #[test]
    fn quotes_and_defuses_formulas() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("=1+1"), "'=1+1");
        assert_eq!(super::field("plain"), "plain");
    }
}
