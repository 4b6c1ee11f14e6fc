//! `--public-host`: the name or address a room reaches the lab by. It goes into every URL (so
//! issuers and redirects work from other machines) and into the TLS leaf. The lab calls its own
//! URLs (Lab Notes, the explorer), so the public host must resolve to an address the lab binds;
//! [`warnings`] says so, before start, when the configuration cannot work.

use std::net::{IpAddr, ToSocketAddrs};

/// Why a `--public-host` value was refused (clap prints the text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PublicHostError {
    /// The value is neither a DNS name nor an IP address.
    #[error(
        "\"{0}\" is neither a host name (letters, digits, '-' and '.') nor an IP address; give the name or address other machines reach this one by, with no scheme or port"
    )]
    NotAHost(String),
}

/// Checks one `--public-host` value: a DNS name (letters, digits, `-`, `.`) or an IP address.
pub fn parse(value: &str) -> Result<String, PublicHostError> {
    let v = value.trim();
    if let Ok(ip) = v.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if v.is_empty() || v.len() > 253 || !v.trim_end_matches('.').split('.').all(label_ok) {
        return Err(PublicHostError::NotAHost(value.to_owned()));
    }
    Ok(v.trim_end_matches('.').to_ascii_lowercase())
}

/// What will not work with these listen addresses (`--bind`, `--console-bind`) and public hosts,
/// one paragraph each.
pub fn warnings(bind: IpAddr, console_bind: IpAddr, public_hosts: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let Some(first) = public_hosts.first() else {
        let opened = [("--bind", bind), ("--console-bind", console_bind)].into_iter().find(|(_, a)| !a.is_loopback());
        if let Some((flag, bind)) = opened {
            out.push(format!(
                "{flag} {bind} without --public-host: other machines can open the pages, but every issuer, \
                 redirect URI and metadata URL still says localhost, so their browsers are sent to their own \
                 machine and their requestors cannot use the lab (tokens name http://localhost:… as issuer and \
                 audience). Add --public-host NAME, the host name or IP address the room reaches this machine by."
            ));
        }
        return out;
    };
    let resolved: Vec<IpAddr> = match first.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => (first.as_str(), 0).to_socket_addrs().map(|a| a.map(|s| s.ip()).collect()).unwrap_or_default(),
    };
    if resolved.is_empty() {
        out.push(format!(
            "--public-host {first} does not resolve on this machine: the lab calls its own URLs (Lab Notes, the \
             flow explorer), so those calls will fail. Use a name this machine resolves, or an IP address."
        ));
        return out;
    }
    let shown = resolved.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
    if !resolved.iter().any(|ip| listens_on(bind, *ip)) {
        out.push(format!(
            "--public-host {first} ({shown}) is not an address the lab listens on (--bind {bind}): other machines \
             cannot connect, and the lab's own calls to its URLs (Lab Notes, the flow explorer) fail. Bind that \
             address (--bind {} or --bind 0.0.0.0).",
            resolved[0]
        ));
    }
    // A console on loopback keeps its localhost URL; one opened to the room uses the public host.
    if !console_bind.is_loopback() && !resolved.iter().any(|ip| listens_on(console_bind, *ip)) {
        out.push(format!(
            "--public-host {first} ({shown}) is not an address the console listens on (--console-bind \
             {console_bind}): the console's URL and the flow explorer's redirect URI name it, so the explorer \
             cannot sign in. Use --console-bind {} or --console-bind 0.0.0.0.",
            resolved[0]
        ));
    }
    out
}

/// Whether a listener bound to `bind` accepts connections to `ip`.
fn listens_on(bind: IpAddr, ip: IpAddr) -> bool {
    bind == ip || (bind.is_unspecified() && (bind.is_ipv6() || ip.is_ipv4()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_addresses() {
        assert_eq!(parse("Lab.Example.").unwrap(), "lab.example");
        assert_eq!(parse("127.0.0.2").unwrap(), "127.0.0.2");
        assert_eq!(parse("[::1]").unwrap(), "::1");
        assert!(parse("http://lab:4400").is_err());
        assert!(parse("").is_err());
        assert_eq!(
            parse("a_b").unwrap_err().to_string(),
            "\"a_b\" is neither a host name (letters, digits, '-' and '.') nor an IP address; give the name or address other machines reach this one by, with no scheme or port"
        );
    }

    #[test]
    fn warns_about_what_cannot_work() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let lo = ip("127.0.0.1");
        assert!(warnings(lo, lo, &[]).is_empty());
        assert!(warnings(ip("0.0.0.0"), lo, &[])[0].starts_with("--bind 0.0.0.0 without --public-host"));
        assert!(warnings(lo, ip("0.0.0.0"), &[])[0].starts_with("--console-bind 0.0.0.0 without --public-host"));
        assert!(warnings(ip("127.0.0.2"), lo, &["127.0.0.2".into()]).is_empty());
        assert!(warnings(ip("0.0.0.0"), ip("0.0.0.0"), &["10.1.2.3".into()]).is_empty());
        assert!(warnings(lo, lo, &["10.1.2.3".into()])[0].contains("not an address the lab listens on"));
        let console = warnings(ip("0.0.0.0"), ip("10.9.9.9"), &["10.1.2.3".into()]);
        assert!(console.len() == 1 && console[0].contains("not an address the console listens on"), "{console:?}");
    }
}
