//! OAuth scope sets (RFC 6749 §3.3): space-delimited, order-insensitive, case-sensitive.

use std::collections::BTreeSet;
use std::fmt;

/// A set of scope tokens, kept sorted so the wire form is stable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a space-delimited scope string; empty tokens are ignored.
    pub fn parse(s: &str) -> Self {
        Self(s.split(' ').filter(|t| !t.is_empty()).map(str::to_owned).collect())
    }
    /// Builds a scope from tokens.
    pub fn from_tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> Self {
        Self(tokens.into_iter().map(Into::into).collect())
    }
    /// True when no token is present.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// True when `token` is in the set.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }
    /// Tokens in both sets.
    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(self.0.intersection(&other.0).cloned().collect())
    }
    /// Tokens of `self` that `other` lacks.
    pub fn difference(&self, other: &Scope) -> Scope {
        Scope(self.0.difference(&other.0).cloned().collect())
    }
    /// True when every token of `self` is in `other`.
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }
    /// The tokens, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_intersect_and_print() {
        let a = Scope::parse("todos.write  todos.read");
        let b = Scope::parse("todos.read openid");
        assert_eq!(a.to_string(), "todos.read todos.write");
        assert_eq!(a.intersection(&b).to_string(), "todos.read");
        assert_eq!(b.difference(&a).to_string(), "openid");
        assert!(Scope::parse("todos.read").is_subset(&a));
        assert!(Scope::parse("").is_empty());
    }
}
