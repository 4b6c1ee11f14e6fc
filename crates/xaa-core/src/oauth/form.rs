//! Token-request form parameters with the RFC 6749 §3.2 rules: a parameter sent without a value
//! is treated as omitted, and a parameter must not be repeated (except where a profile allows it).

use super::OAuthError;

/// Decoded `application/x-www-form-urlencoded` parameters, in the order sent.
#[derive(Clone, Debug, Default)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
}

impl FormParams {
    /// Decodes a form body.
    pub fn parse(body: &[u8]) -> Self {
        Self { pairs: form_urlencoded::parse(body).into_owned().collect() }
    }

    /// The value of a parameter that may appear at most once; empty values count as omitted.
    pub fn single<'a>(&'a self, name: &str) -> Result<Option<&'a str>, OAuthError> {
        let mut values = self.pairs.iter().filter(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{name}` is repeated; request parameters must not be included more than once ({})",
                crate::spec::RFC6749_3_2
            )));
        }
        Ok(first)
    }

    /// The value of a required, non-repeated parameter.
    pub fn required<'a>(&'a self, name: &str) -> Result<&'a str, OAuthError> {
        self.single(name)?.ok_or_else(|| OAuthError::invalid_request(format!("missing required parameter `{name}`")))
    }

    /// Every non-empty value of a parameter that may repeat (`resource`, `audience`).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// All parameters in the order sent (for traces; mask secrets before display).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_omitted_and_repeats_rejected() {
        let p = FormParams::parse(b"a=1&b=&c=x&c=y&resource=r1&resource=r2");
        assert_eq!(p.single("a").unwrap(), Some("1"));
        assert_eq!(p.single("b").unwrap(), None);
        assert!(p.required("b").is_err());
        let err = p.single("c").unwrap_err();
        assert_eq!(err.code.as_str(), "invalid_request");
        assert!(err.description.contains("`c` is repeated"));
        assert_eq!(p.values("resource").collect::<Vec<_>>(), ["r1", "r2"]);
    }
}
