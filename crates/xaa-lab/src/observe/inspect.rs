//! The token inspector: any pasted JWT decoded, its kind recognised by `typ` and issuer, and run
//! through the very validator the receiving server uses, with the same check list.

use serde::Serialize;
use serde_json::{Map, Value};

use xaa_core::claims::{TokenKind, explain};
use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};
use xaa_core::jose::{KeySet, UnverifiedJwt};
use xaa_core::key_source::StaticKeySource;
use xaa_core::urn::{TYP_ACCESS_TOKEN, TYP_ID_JAG};
use xaa_core::validation::access_token::{AccessTokenExpectations, validate_access_token};
use xaa_core::validation::id_jag::{IdJagExpectations, validate_id_jag};
use xaa_core::validation::id_token::{IdTokenExpectations, validate_id_token};
use xaa_core::validation::{Check, CheckLog};

/// The lab the token is judged against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabContext<'a> {
    /// IdP issuer.
    pub idp: &'a str,
    /// Its public keys.
    pub idp_keys: &'a KeySet,
    /// Resource authorization server issuer.
    pub authorization_server: &'a str,
    /// Its public keys.
    pub as_keys: &'a KeySet,
    /// The todo API's resource identifier.
    pub todo_api: &'a str,
    /// Lab-clock time.
    pub now: i64,
    /// Leeway.
    pub leeway: i64,
}

/// One decoded claim and what it means.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ExplainedClaim {
    /// Name.
    pub name: String,
    /// Value as JSON; a NumericDate followed by its date.
    pub value: String,
    /// What it means.
    pub meaning: &'static str,
    /// Where it is defined.
    pub spec: xaa_core::spec::Citation,
}

/// The inspector's findings.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Inspection {
    /// What kind of token it is.
    pub kind: TokenKind,
    /// Why it was recognised as that.
    pub recognised_by: String,
    /// Who would receive it: the validator that was run.
    pub validator: String,
    /// The JOSE header, pretty-printed.
    pub header: String,
    /// The claims with explanations.
    pub claims: Vec<ExplainedClaim>,
    /// The checks the receiving server would run, in order, up to the first failure.
    pub checks: Vec<Check>,
    /// `None` when it passes; else the refusal.
    pub refusal: Option<String>,
}

/// Why a pasted token cannot be inspected at all.
#[derive(Debug, thiserror::Error)]
#[error("This is not a JWT: {0}.")]
pub(crate) struct NotAJwt(#[source] pub xaa_core::jose::unverified::JwtFormatError);

/// Decodes and judges `raw`. `Err` when it is not a JWT at all.
pub(crate) async fn inspect(raw: &str, lab: LabContext<'_>) -> Result<Inspection, NotAJwt> {
    let raw = raw.trim();
    let jwt = UnverifiedJwt::parse(raw).map_err(NotAJwt)?;
    let typ = jwt.header().typ.clone().unwrap_or_default();
    let iss = jwt.unverified_issuer().unwrap_or("").to_owned();
    let claims: Map<String, Value> = jwt.unverified_claims().clone();
    let lower = typ.to_ascii_lowercase();
    let (kind, recognised_by) = if lower.ends_with(TYP_ID_JAG) {
        (TokenKind::IdJag, format!("typ \"{typ}\""))
    } else if lower.ends_with(TYP_ACCESS_TOKEN) {
        (TokenKind::AccessToken, format!("typ \"{typ}\""))
    } else if iss == lab.idp && claims.contains_key("aud") {
        (TokenKind::IdToken, format!("issued by the lab IdP with typ \"{typ}\""))
    } else {
        (TokenKind::Other, format!("typ \"{typ}\", issuer \"{iss}\""))
    };
    let mut log = CheckLog::new();
    let (validator, outcome) = match kind {
        TokenKind::IdJag => {
            let client = ResourceClientId::new(claims.get("client_id").and_then(Value::as_str).unwrap_or(""));
            let (audience, trusted) = (Issuer::new(lab.authorization_server), [Issuer::new(lab.idp)]);
            let keys = StaticKeySource::default().with_issuer(lab.idp, lab.idp_keys.clone());
            let expect = IdJagExpectations {
                audience: &audience,
                trusted_issuers: &trusted,
                client_id: &client,
                now: lab.now,
                leeway: lab.leeway,
                jkt: None,
            };
            let r = validate_id_jag(raw, expect, &keys, &mut log).await.map(drop);
            let by = format!("presented by client '{client}', without a DPoP proof");
            (format!("the resource authorization server's jwt-bearer validation ({by})"), r)
        }
        TokenKind::AccessToken => {
            let (issuer, audience) = (Issuer::new(lab.authorization_server), ResourceUri::new(lab.todo_api));
            let expect =
                AccessTokenExpectations { issuer: &issuer, audience: &audience, now: lab.now, leeway: lab.leeway };
            // A DPoP-bound token needs a proof of its key with every request (RFC 9449 §7.1): a
            // pasted token has none, so the todo API would refuse it.
            let r = validate_access_token(raw, expect, lab.as_keys, &mut log).and_then(|c| match c.cnf {
                None => Ok(()),
                Some(cnf) => Err(log.fail(
                    "cnf",
                    &xaa_core::spec::RFC9449_7_1,
                    format!(
                        "the access token is bound to the DPoP key with thumbprint cnf.jkt \"{}\": the todo API accepts it only as Authorization: DPoP with a DPoP proof of that key, which a token alone does not come with",
                        cnf.jkt
                    ),
                )),
            });
            ("the todo API's access-token validation (the token alone, without a DPoP proof)".to_owned(), r)
        }
        TokenKind::IdToken | TokenKind::Other => {
            let client = ClientId::new(match claims.get("aud") {
                Some(Value::String(s)) => s.as_str(),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str).unwrap_or(""),
                _ => "",
            });
            let issuer = Issuer::new(lab.idp);
            let expect = IdTokenExpectations { issuer: &issuer, client_id: &client, now: lab.now, leeway: lab.leeway };
            let r = validate_id_token(raw, expect, lab.idp_keys, &mut log).map(drop);
            (format!("the IdP's subject-token validation for a token exchange by client '{client}'"), r)
        }
    };
    Ok(Inspection {
        kind,
        recognised_by,
        validator,
        header: serde_json::to_string_pretty(&serde_json::json!({
            "alg": jwt.header().alg, "typ": jwt.header().typ, "kid": jwt.header().kid,
        }))
        .unwrap_or_default(),
        claims: claims
            .iter()
            .map(|(name, value)| {
                let (meaning, spec) = explain(kind, name);
                ExplainedClaim { name: name.clone(), value: xaa_core::claims::shown_value(name, value), meaning, spec }
            })
            .collect(),
        checks: log.checks().to_vec(),
        refusal: outcome.err().map(|r| r.to_string()),
    })
}
