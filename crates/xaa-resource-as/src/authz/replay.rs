//! The `jti` check of the jwt-bearer grant: an ID-JAG seen before is refused, or accepted again,
//! as the re-use policy of the resource the access token is for says (lab decision A2).
//!
//! - Single use (the default; always for an MCP server, as the MCP profile requires): a second
//!   presentation is refused.
//! - Re-usable until exp (draft-04 lets a client re-submit the ID-JAG for a new access token):
//!   the client may present it again until `exp` (+ leeway, after which the `exp` check refuses
//!   it first). Another client is refused before this check (`client_id`); the `resource` and
//!   `scope` parameters may narrow each re-submission differently, since the grant is computed
//!   from the ID-JAG every time. An ID-JAG first used while single use applied stays used: a
//!   later switch, or another resource of the same ID-JAG, never revives it.

use xaa_core::JWT_LEEWAY;
use xaa_core::claims::IdJagClaims;
use xaa_core::ids::Jti;
use xaa_core::oauth::OAuthError;
use xaa_core::spec::{self, Citation};
use xaa_core::validation::CheckLog;

use crate::config::ProtectedResource;
use crate::reuse::ReusePolicy;
use crate::state::AsState;
use crate::store::JtiUse;

/// Single use of an ID-JAG (lab decision A2, as the MCP profile requires; RFC 7523 makes it a MAY).
const SINGLE_USE: Citation = Citation::of(&[spec::LAB_A2, spec::MCP_SINGLE_USE, spec::RFC7523_3_ITEM_7]);
/// Re-submission of an ID-JAG until exp, where the resource allows it (lab decision A2; -04 4.4.3).
const REUSE: Citation = Citation::of(&[spec::LAB_A2, spec::IDJAG_4_4_3]);
/// An ID-JAG first used while single use applied is never accepted again (lab decision A2).
const FIRST_USED_ONCE: Citation = Citation::of(&[spec::LAB_A2, spec::RFC7523_3_ITEM_7]);

/// How the detail of a passed `jti` check for a re-submission starts (the report card tells a
/// re-submission from a fresh ID-JAG by it).
pub const RESUBMISSION: &str = "re-submission";

/// Records the use of `id_jag` for `resource` and checks it against the resource's policy.
/// Run last, so a refused request never uses up the ID-JAG.
pub(super) async fn check(
    st: &AsState,
    id_jag: &IdJagClaims,
    resource: &ProtectedResource,
    now: i64,
    checks: &mut CheckLog,
) -> Result<(), OAuthError> {
    let policy = st.reuse_policy(resource.resource.as_str()).map(|r| r.policy).unwrap_or_default();
    let reusable = policy == ReusePolicy::ReusableUntilExp;
    let seen = st
        .store
        .use_jti(id_jag.iss.clone(), id_jag.jti.clone(), id_jag.exp + JWT_LEEWAY, now, reusable)
        .await
        .map_err(super::jwt_bearer::storage)?;
    match verdict(seen, policy, &id_jag.jti) {
        Ok((spec, detail)) => {
            checks.pass("jti", spec, detail);
            Ok(())
        }
        Err((spec, description)) => Err(OAuthError::invalid_grant(checks.fail("jti", spec, description).to_string())),
    }
}

/// What the `jti` check says of an ID-JAG the replay cache knew as `seen`, for a resource with
/// `policy`: the detail of a pass, or the description of a refusal, with what it cites.
fn verdict(seen: JtiUse, policy: ReusePolicy, jti: &Jti) -> Result<(Citation, String), (Citation, String)> {
    match (seen, policy) {
        (JtiUse::First, ReusePolicy::SingleUse) => {
            Ok((SINGLE_USE, "jti not seen before; recorded until exp + leeway".to_owned()))
        }
        (JtiUse::First, ReusePolicy::ReusableUntilExp) => Ok((
            REUSE,
            "jti not seen before; recorded until exp + leeway, and this resource's policy lets the same client re-submit it until then".to_owned(),
        )),
        (JtiUse::Again { reusable: true }, ReusePolicy::ReusableUntilExp) => Ok((
            REUSE,
            format!(
                "{RESUBMISSION} of the ID-JAG with jti \"{jti}\", allowed by this resource's policy (re-usable until exp)"
            ),
        )),
        (JtiUse::Again { .. }, ReusePolicy::SingleUse) => Err((
            SINGLE_USE,
            format!("the ID-JAG with jti \"{jti}\" was already used; this authorization server accepts each ID-JAG once"),
        )),
        (JtiUse::Again { reusable: false }, ReusePolicy::ReusableUntilExp) => Err((
            FIRST_USED_ONCE,
            format!(
                "the ID-JAG with jti \"{jti}\" was already used while single use applied to it; only an ID-JAG first used for a resource that allows re-use may be re-submitted: get a fresh one"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(v: Result<(Citation, String), (Citation, String)>) -> String {
        match v {
            Ok((spec, detail)) => format!("pass: {detail} ({spec})"),
            Err((spec, description)) => format!("refused: {description} ({spec})"),
        }
    }

    #[test]
    fn a_first_use_passes_under_either_policy() {
        let jti = Jti::new("j-1");
        insta::assert_snapshot!(shown(verdict(JtiUse::First, ReusePolicy::SingleUse, &jti)), @"pass: jti not seen before; recorded until exp + leeway (lab decision A2, MCP enterprise-managed authorization, RFC 7523 §3 item 7)");
        insta::assert_snapshot!(shown(verdict(JtiUse::First, ReusePolicy::ReusableUntilExp, &jti)), @"pass: jti not seen before; recorded until exp + leeway, and this resource's policy lets the same client re-submit it until then (lab decision A2, draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.3)");
    }

    #[test]
    fn a_second_use_is_refused_under_single_use_whatever_the_first_was() {
        let jti = Jti::new("j-1");
        let after_single_use = verdict(JtiUse::Again { reusable: false }, ReusePolicy::SingleUse, &jti);
        let after_re_use = verdict(JtiUse::Again { reusable: true }, ReusePolicy::SingleUse, &jti);
        assert_eq!(after_single_use, after_re_use);
        insta::assert_snapshot!(shown(after_re_use), @r#"refused: the ID-JAG with jti "j-1" was already used; this authorization server accepts each ID-JAG once (lab decision A2, MCP enterprise-managed authorization, RFC 7523 §3 item 7)"#);
    }

    #[test]
    fn a_re_submission_passes_where_the_resource_allows_re_use() {
        let jti = Jti::new("j-1");
        let v = verdict(JtiUse::Again { reusable: true }, ReusePolicy::ReusableUntilExp, &jti);
        insta::assert_snapshot!(shown(v), @r#"pass: re-submission of the ID-JAG with jti "j-1", allowed by this resource's policy (re-usable until exp) (lab decision A2, draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.3)"#);
    }

    #[test]
    fn an_id_jag_first_used_under_single_use_is_never_revived() {
        let jti = Jti::new("j-1");
        let v = verdict(JtiUse::Again { reusable: false }, ReusePolicy::ReusableUntilExp, &jti);
        insta::assert_snapshot!(shown(v), @r#"refused: the ID-JAG with jti "j-1" was already used while single use applied to it; only an ID-JAG first used for a resource that allows re-use may be re-submitted: get a fresh one (lab decision A2, RFC 7523 §3 item 7)"#);
    }
}
