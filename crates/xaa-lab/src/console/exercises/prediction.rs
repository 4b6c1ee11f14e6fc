//! A participant's prediction before an exercise runs, and how it compares with the answer once
//! they ask for it: the outcome (status and error) chosen from a list, the check named in a text
//! box. The page keeps both in its query string (a GET form): nothing is stored, and nothing of
//! the answer is on the page until the participant asks for it.

/// What a step can answer, as the prediction's choices name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 200, and the requestor keeps what it got.
    Accepted,
    /// 200, but the requestor's own check makes it discard what it got.
    Discarded,
    /// 200, only late.
    Late,
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidTarget,
    InvalidScope,
    InvalidToken,
    InsufficientScope,
    TemporarilyUnavailable,
}

impl Outcome {
    /// The choices, in the order the form lists them.
    pub(crate) const ALL: [Outcome; 11] = [
        Outcome::Accepted,
        Outcome::Discarded,
        Outcome::Late,
        Outcome::InvalidRequest,
        Outcome::InvalidClient,
        Outcome::InvalidGrant,
        Outcome::InvalidTarget,
        Outcome::InvalidScope,
        Outcome::InvalidToken,
        Outcome::InsufficientScope,
        Outcome::TemporarilyUnavailable,
    ];

    /// Its value in the form.
    pub(crate) fn value(self) -> &'static str {
        match self {
            Outcome::Accepted => "200",
            Outcome::Discarded => "200-discarded",
            Outcome::Late => "200-late",
            Outcome::InvalidRequest => "400-invalid_request",
            Outcome::InvalidClient => "401-invalid_client",
            Outcome::InvalidGrant => "400-invalid_grant",
            Outcome::InvalidTarget => "400-invalid_target",
            Outcome::InvalidScope => "400-invalid_scope",
            Outcome::InvalidToken => "401-invalid_token",
            Outcome::InsufficientScope => "403-insufficient_scope",
            Outcome::TemporarilyUnavailable => "503-temporarily_unavailable",
        }
    }

    /// How the choice reads.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Outcome::Accepted => "200, and it works",
            Outcome::Discarded => "200, but the requestor must discard what it got",
            Outcome::Late => "200, but only after a delay",
            Outcome::InvalidRequest => "400 invalid_request",
            Outcome::InvalidClient => "401 invalid_client",
            Outcome::InvalidGrant => "400 invalid_grant",
            Outcome::InvalidTarget => "400 invalid_target",
            Outcome::InvalidScope => "400 invalid_scope",
            Outcome::InvalidToken => "401 invalid_token",
            Outcome::InsufficientScope => "403 insufficient_scope",
            Outcome::TemporarilyUnavailable => "503 temporarily_unavailable",
        }
    }

    pub(crate) fn from_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.value() == value)
    }
}

/// Whether the check a participant named is `expected` (as the exercise names it: `aud`,
/// `break-it switch`, `none (503 temporarily_unavailable)`): the same name, any case, quotes and
/// spaces aside, or its first word.
pub(crate) fn names_the_check(predicted: &str, expected: &str) -> bool {
    let clean = |s: &str| s.trim().trim_matches(|c| c == '"' || c == '\'' || c == '`').trim().to_lowercase();
    let (predicted, expected) = (clean(predicted), clean(expected));
    if predicted.is_empty() {
        return false;
    }
    let first_word = expected.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    predicted == expected || predicted == first_word
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_choice_round_trips_through_the_form() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_value(o.value()), Some(o));
        }
        assert_eq!(Outcome::from_value("418"), None);
    }

    #[test]
    fn a_check_is_named_by_its_name_in_any_case_or_by_its_first_word() {
        assert!(names_the_check("aud", "aud"));
        assert!(names_the_check(" \"AUD\" ", "aud"));
        assert!(names_the_check("client_id", "client_id"));
        assert!(!names_the_check("client", "client_id"));
        assert!(!names_the_check("", "aud"));
        assert!(!names_the_check("exp", "aud"));
        assert!(names_the_check("none", "none (503 temporarily_unavailable)"));
        assert!(names_the_check("break-it switch", "break-it switch"));
        assert!(names_the_check("break-it", "break-it switch"));
    }
}
