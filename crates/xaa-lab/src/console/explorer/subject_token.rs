//! Step 2's subject token: the ID token of step 1, or the IdP refresh token step 1 got when it
//! asked for `offline_access` (OIDC Core §11). A refresh token as the subject of the token
//! exchange (draft-ietf-oauth-identity-assertion-authz-grant §4.3.3) lets an app get ID-JAGs after
//! the ID token expired, without the user; the IdP still validates the token and applies IT's
//! policy, and revoking the refresh token stops it.

use xaa_core::oauth::SubjectTokenType;

use super::chain::Chain;
use super::step::{Step, StepRecord};

/// Step 1's scopes without and with the refresh token.
const SCOPE: &str = "openid email profile";
const SCOPE_OFFLINE: &str = "openid email profile offline_access";

/// Why a refresh token as the subject token matters, as the page says it.
const WHY: &str = "With a refresh token as the subject token an app can get ID-JAGs after the ID token \
expired, without the user being there. The IdP still checks the token and applies IT's connection policy, and \
revoking the refresh token (or its expiry) stops it.";

/// Which token step 2 presents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Subject {
    /// Step 1's ID token (`urn:ietf:params:oauth:token-type:id_token`).
    #[default]
    IdToken,
    /// Step 1's refresh token (`urn:ietf:params:oauth:token-type:refresh_token`).
    RefreshToken,
}

impl Subject {
    /// The choice of step 2's `subject` field: `refresh_token`, else the ID token.
    pub(super) fn from_form(value: &str) -> Self {
        if value == "refresh_token" { Self::RefreshToken } else { Self::IdToken }
    }

    /// The `subject_token_type` sent for this subject.
    pub(crate) fn token_type(self) -> SubjectTokenType {
        match self {
            Self::IdToken => SubjectTokenType::IdToken,
            Self::RefreshToken => SubjectTokenType::RefreshToken,
        }
    }

    /// The token the chain holds for this subject, if step 1 got one.
    pub(super) fn token(self, chain: &Chain) -> Option<String> {
        match self {
            Self::IdToken => chain.id_token.clone(),
            Self::RefreshToken => chain.refresh_token.clone(),
        }
    }
}

/// What the page shows of the refresh token choice.
pub(super) struct View {
    /// Step 1's box was ticked.
    pub(super) offline: bool,
    /// Step 1 got a refresh token, so step 2 offers it as the subject token.
    pub(super) offered: bool,
    /// Step 2 last chose the refresh token.
    pub(super) chosen: bool,
    /// Why it matters.
    pub(super) why: &'static str,
}

impl View {
    /// The view of `chain`.
    pub(super) fn of(chain: &Chain) -> Self {
        Self {
            offline: chain.offline,
            offered: chain.refresh_token.is_some(),
            chosen: chain.subject == Subject::RefreshToken,
            why: WHY,
        }
    }
}

/// Records step 2's `choice` in the chain and returns the chosen token; when step 1 got none, step
/// 2 records why instead (nothing is sent) and the later steps are cleared.
pub(super) fn choose(chain: &mut Chain, choice: &str) -> Option<String> {
    chain.subject = Subject::from_form(choice);
    let token = chain.subject.token(chain);
    if token.is_none() {
        let missing = StepRecord::unanswered(
            "# Nothing was sent.".into(),
            "Step 1 got no refresh token. Tick \"also get a refresh token (offline_access)\" and sign in \
again, or choose the ID token."
                .into(),
            "no refresh token",
        );
        chain.id_jag = None;
        chain.record(Step::TokenExchange, missing);
    }
    token
}

/// The scope step 1 asks for: with `offline_access` when the box was ticked.
pub(super) fn scope(offline: bool) -> &'static str {
    if offline { SCOPE_OFFLINE } else { SCOPE }
}

/// Whether step 1's checkbox was ticked (an HTML checkbox sends its value only when ticked).
pub(super) fn ticked(value: &str) -> bool {
    !value.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_choice_names_the_exact_urn() {
        assert_eq!(
            Subject::from_form("refresh_token").token_type().urn(),
            "urn:ietf:params:oauth:token-type:refresh_token"
        );
        assert_eq!(Subject::from_form("id_token").token_type().urn(), "urn:ietf:params:oauth:token-type:id_token");
        assert_eq!(Subject::from_form("").token_type().urn(), "urn:ietf:params:oauth:token-type:id_token");
    }

    #[test]
    fn the_chain_gives_the_chosen_token_only() {
        let mut chain = Chain::default();
        chain.id_token = Some("id".into());
        assert_eq!(Subject::IdToken.token(&chain).as_deref(), Some("id"));
        assert_eq!(Subject::RefreshToken.token(&chain), None);
        chain.refresh_token = Some("rt".into());
        assert_eq!(Subject::RefreshToken.token(&chain).as_deref(), Some("rt"));
    }

    #[test]
    fn offline_access_is_asked_only_when_ticked() {
        assert_eq!(scope(ticked("on")), "openid email profile offline_access");
        assert_eq!(scope(ticked("")), "openid email profile");
    }
}
