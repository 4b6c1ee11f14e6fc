//! Lab-only RSA test keys and a JWT builder for unit tests of the validators.
//!
//! **Security: these private keys are published in the source on purpose and protect nothing.**
//! They exist only so tests sign tokens without generating RSA keys (slow in debug builds). Never
//! use them for the lab's own signing keys ([`crate::jose::SigningKey`] of the IdP or the resource
//! AS), nor anywhere outside tests. Compiled only for tests and with the `test-helpers` feature.
//!
//! [`JwtBuilder`] mints a compact JWS whose header and claims are chosen freely, so each test can
//! change exactly one thing from a valid token: a foreign `alg`, a missing `kid`, a `crit`
//! parameter, a claim of the wrong type. The signature is always RS256 over the signing input with
//! the chosen key, whatever the header says.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jws::JwsSigner;
use serde_json::{Map, Value};

use crate::jose::{KeySet, SigningKey};

/// The `kid` of [`TEST_KEY_A_PEM`].
pub const TEST_KID_A: &str = "test-a";
/// The `kid` of [`TEST_KEY_B_PEM`].
pub const TEST_KID_B: &str = "test-b";

/// Test key A: RSA-2048, PKCS#8 PEM (`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`).
/// Lab-only, published: never use it outside tests.
pub const TEST_KEY_A_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDHtp9hJSVbZGJW
2oXHiW3wQphoUMRHQH+uKWEFOuYjxBTwPB20C3S4FQkjT6c8/X207LVolW08oRIf
ZJmbfQwvAfb7DMamxAHmL1lC9e9COAaVJ7ffaIVOIM+ygy7V4GVyGKdQGikwKr3v
J8t9lCOX/tgJK79Pwc3DOCONOtfX4C920UZj7gsy+AShQYmU1s5COugvXlQQZN+O
w6DZw1/NeVGxIvMQzMs4hYTzQG40EOMv4NtoZpGjmbUnL+miqO/b6q+HQxT/6+Lf
OOHQ3XM+/0gdBvTt72DLlRqi1P651A/agiczXryb2A0wyA6hvlkx6B/FRw8pmS+N
+4fzi1bZAgMBAAECggEALDCxTvBGdhS9+rxjFh4HZL6DlS9r4t03c0zGIj9gXYEd
ZfPTWbugMbw716OgHGt1tYMb9956e4wjY61hnMlcWQltAitXSF6+EdYfwOSEsqkN
cdMGSUmKF5nEg1oqEpqSr96bJOsI+pa2jLTIPsr43kC+Qjc7H3WBZ0UkfrNKv8H/
wOuCAXMbSKTwkBgxBKRC9y2vFwziMAXXPjYbCPazBLlGwpCxP7UrYvpHj1EjNlI+
rb5LgNvEn7kpdmwikqAmlZ13qbtxWFOMOZTMDetNYV1dNWA6umwojfsxriSdYuiM
/XqH9T6zduuTmXLa9jCSohcJVYsIFmi8MvtattGhBQKBgQDzXH416o3aWGpwkijo
wyrUSZ2KIBzK9LxJbM7Hv4u3NXmgncnfUAT5/Ty6Gxsh0JaadMj9R1IzzwC2NxB+
9Bv39v74zyQw8+3Ha3VgpTHxIcv3KI4AE6VRbyFjWAOlZ/d7USnH0rioA5ZlU0x5
MtDS9q04EYuFMnbESk4Q/pzsTQKBgQDSFdO2VLdJENEAuJNZmAp5fAoB9fVy1K55
QllhmWYlNlRFR+CSfGesgmdPeXhYVh+aChJcHJ4CCBjcxJHG8+8z6XTyxN1fUUoc
FeB0RDBhyqyVEBxBW0TUnJr70nsZ+mJulucgIgPkhY9+pvt5Bx1r/IDxX/fnPU5x
/tKwN71qvQKBgQCToKw/cMYUikYne8KtUJeOqAmVXN2akNQXhpX5vky3Gw1pTc7E
VPpv3BsWmpLe9HYnxGiYnMdU/mHkJ4suOE8vIPqTXLULrS21J47QzeV57ZKZoFRj
34cN22hZp26uzF7ow9egjEfQRDzbwqhFbXoYP+Pce2gzqOU7NggdbxcqkQKBgBXn
YrCC+q0qjLAHjo1r1cO+1AhKTbIQTLSl303WwZilpnmmudpsEB8jZYQaxRpouFjG
Lg3eifbqQzVZZV2Z91mxQJlDP1V90z1EZqeYqHa5u+66xEdoLbABOAODeYRG39Zp
82UdRsyfxEtPO67tt/qXVBZWjDFW6gPmrq7i0OP9AoGAErxNR/MWkiqfc3X9V14x
EstlRYc2pEVUrP57f9xu1TJFb6s7e5vhGfsFw1cq/Z+HM7++S+m3RdzQUjc88Buu
tTfzz+HhbjroSqNJOCYZLNbPtuPE43XmhT65xfQYlm+knbYMx/kwBo1dI0LMr4nP
66jJ6UpxSY2uYKQU/O4bHCg=
-----END PRIVATE KEY-----
";

/// Test key B: RSA-2048, PKCS#8 PEM, a second key for "signed by another key" cases.
/// Lab-only, published: never use it outside tests.
pub const TEST_KEY_B_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDkTBy5YqfPJ4wW
P5cc0w8+PUvelONhOH45b34oa3bG1J8PvjicSKBoWy6B6z3JD+SjQ3VNglp3kYP3
yHJrXgzCcje7nAuLhPumCOeptZWbvom/4ymgDKLwiVUVssWN1+t7AyNkGIY1Cs1R
qdNFAy8d36QJ/t3v6bH89yvKhTFINIJmNa22uY++KuC4XT52h9iVd70Wox4N5r/e
zrE+FVi8mAE1FVJA4pY6qZxy5NiMIbh/C2E5sJ6IF5DQkrN4SchzwrjQTGj3jIwi
AN9QsAyzmGQ0HOkO2zFwzIuaqR+CW0/KNd/jwOG1tKJy5WBFg3E8DJ742NMYsKPw
refZ5S/tAgMBAAECggEAN5Cq4Rg4/buDZhreHb7lE+H5aFhWq2ADoNkZHJ9jTmuL
t1o2DxvCJwQiYq6t4BUFMhOGJnJWsIlzVEiuSKGge2cvV3NYgAHC+htqvyyaGEkc
395bUEAjHGZgliJn4OkvwEX4RDGP4LMbXAf4ivCGdD/tfh1RSUZY8tf6CZW3c/oW
GRt6Wy6G+FkVICDq07S8AuUoahBOVzw9SOUHAN9lgGzGzeXvRGEIgC7PjbGQiCjL
x0IJ9dNxI2VvbKlWpxyZOlxg0lvPYLOreML2Mr9qE5WR0Wgsu57QLKjKKrN/vKDS
gxsX37UtrrYAHQ0CEVJrY/rLuy6B/eLB25GoN5RKQQKBgQD3JHG3dqPpwVb/XF1H
IEfxJnnLOnPy7aGBn0wTsi8TeGCjxF1yyJasnmi3MLiRkftjNhIn+FjmPbuMob71
pBvnmAMG0Ay0Py0DONDmDUZ8n+rZUGUCrORuXlK0zmNh5YTS0MdBN+iruu3bI9od
OhwdJnzcjJl0iw7pUXaKBKcGHQKBgQDsesNHyRT86WxjRhuvCqIQr5IvkMYWkw+M
5x9efbCIMb0+S0u7KWTjDxBqUFvHdHy17qLDbK9ZTFMEATw7hL94hgVD9MeVECUt
ZEcFWl5tcVzK9Ua4FYuOlXg8p23O8ZWdgdL5uKalEtbYuKU8THFpdI2xmoul7v1s
AgnnGPpoEQKBgFLERcEnXmWedkA28pYrXWyJcih5fvNQWdJLQvMlrVZb7iFqVdFn
E+7jbjZLfsRhm0ryhMoWBc+1xOWoFYe2WhIJepoBev+yWKTHlk41C/IYrFHy9qEa
vbWoqRIcPHRApWbkvJY+3xEEHTxSmW1IVLn+dbp26714BJpmycgXHsiRAoGAYgju
pfbdpY+baHhrB6Dv2N0ATInHJRqoSrCSF5khswRzwLx0U83wThUzp+9SbRiEjuO0
RDHta6axj6p3bvE0c2GUEz0J9GjyEKROsRBqrxJc9qLCQ5Ri+6RJaVO7uRv7+4UT
koUTSMHLoaLClYHXTnGMQEGifRLbqogZ1N1NChECgYBfRd1g3D671FJFKMhb63dg
ulyy7ZMRKuBGDNufqu5C/vO1VYnAsQQBGbGH5IKyDlTV3Xw+mt/zuE4LALnvM7dq
EP2RRP//1kS5Q+8zSbl9vorFxkVWuAkhOzQt4ZtaxDW6ggq/Py36BPbg/fJc3hBL
1BkDU44R/WVX2T/Jocciig==
-----END PRIVATE KEY-----
";

/// One of the two test keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestKey {
    /// [`TEST_KEY_A_PEM`], kid [`TEST_KID_A`].
    A,
    /// [`TEST_KEY_B_PEM`], kid [`TEST_KID_B`].
    B,
}

struct Loaded {
    signing: SigningKey,
    signer: josekit::jws::alg::rsassa::RsassaJwsSigner,
}

impl TestKey {
    fn loaded(self) -> &'static Loaded {
        static A: OnceLock<Loaded> = OnceLock::new();
        static B: OnceLock<Loaded> = OnceLock::new();
        let (cell, kid, pem) = match self {
            TestKey::A => (&A, TEST_KID_A, TEST_KEY_A_PEM),
            TestKey::B => (&B, TEST_KID_B, TEST_KEY_B_PEM),
        };
        cell.get_or_init(|| Loaded {
            signing: SigningKey::from_pem(kid, pem).expect("the committed test key is a valid RSA PEM"),
            signer: josekit::jws::RS256.signer_from_pem(pem.as_bytes()).expect("the committed test key signs RS256"),
        })
    }

    /// Its key id.
    pub fn kid(self) -> &'static str {
        self.loaded().signing.kid()
    }

    /// The key as the lab's [`SigningKey`] (RS256, with this key's `kid`), loaded once per process.
    pub fn signing_key(self) -> &'static SigningKey {
        &self.loaded().signing
    }

    /// A JWKS holding only this key's public JWK.
    pub fn key_set(self) -> KeySet {
        KeySet::from_signing_keys([self.signing_key()])
    }
}

/// A JWT under construction: a JOSE header and a claim set, both free-form JSON.
#[derive(Clone, Debug)]
pub struct JwtBuilder {
    header: Map<String, Value>,
    claims: Map<String, Value>,
    key: TestKey,
}

impl JwtBuilder {
    /// A token with header `{"alg":"RS256","typ":typ,"kid":"test-a"}`, signed with [`TestKey::A`].
    /// `claims` must be a JSON object.
    pub fn new(typ: &str, claims: Value) -> Self {
        let Value::Object(claims) = claims else { panic!("JwtBuilder::new: the claims must be a JSON object") };
        let mut header = Map::new();
        header.insert("alg".into(), "RS256".into());
        header.insert("typ".into(), typ.into());
        header.insert("kid".into(), TEST_KID_A.into());
        Self { header, claims, key: TestKey::A }
    }

    /// Sets header parameter `name` (e.g. `alg`, `typ`, `kid`, `crit`) to `value`.
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.into(), value.into());
        self
    }

    /// Removes header parameter `name`.
    pub fn without_header(mut self, name: &str) -> Self {
        self.header.remove(name);
        self
    }

    /// Sets claim `name` to `value`.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }

    /// Removes claim `name`.
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Signs with `key` instead of [`TestKey::A`] (the header `kid` is left as it is).
    pub fn signed_by(mut self, key: TestKey) -> Self {
        self.key = key;
        self
    }

    /// The compact JWS: `base64url(header).base64url(claims).base64url(RS256 signature)`.
    pub fn build(&self) -> String {
        let encode =
            |map: &Map<String, Value>| URL_SAFE_NO_PAD.encode(serde_json::to_vec(map).expect("a JSON map serializes"));
        let input = format!("{}.{}", encode(&self.header), encode(&self.claims));
        let signature = self.key.loaded().signer.sign(input.as_bytes()).expect("RS256 signing with a test key");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::UnverifiedJwt;

    #[test]
    fn the_builder_signs_with_the_chosen_key_and_header() {
        let jwt = JwtBuilder::new("JWT", serde_json::json!({ "sub": "a" })).header("crit", vec!["x"]).build();
        let unverified = UnverifiedJwt::parse(&jwt).unwrap();
        assert_eq!(unverified.header().kid.as_deref(), Some(TEST_KID_A));
        assert_eq!(unverified.header().crit, Some(vec!["x".to_owned()]));
        let key = |k: TestKey| TestKey::key_set(k).find(k.kid()).cloned().unwrap();
        key(TestKey::A).verify(&unverified).unwrap();
        assert!(key(TestKey::B).verify(&unverified).is_err());
        assert_eq!(TestKey::B.kid(), TEST_KID_B);
    }
}
