//! Compact JWS that a validator must refuse, made on purpose: the negative tokens of the lab's
//! conformance checks (`lab check`) and of `lab token`'s overrides. Each [`Signature`] is one of
//! the attacks RFC 8725 names: no signature (`alg` `none`, §3.1), an HMAC keyed with the issuer's
//! public key (the RS/HS confusion of §3.1), and a signature that does not match its content.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::{JoseError, SigningKey};

/// How a forged token is signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Signature {
    /// RS256 with the key, as a genuine token (the defect is elsewhere).
    #[default]
    Genuine,
    /// `alg` `none` and an empty signature.
    Unsigned,
    /// `alg` `HS256`, the HMAC keyed with the key's public key as SPKI PEM: a validator that lets
    /// the token's `alg` choose how to use the key it holds accepts it.
    HmacWithPublicKey,
    /// RS256 with the key, then one bit of the signature flipped.
    Altered,
}

/// Signs `claims` with `key` as `signature` says, under `header` (the JOSE header as given; its
/// `alg` is set to the one the signature uses). Unlike [`SigningKey::sign`], nothing is added:
/// a header without `typ` or `kid` stays without.
pub fn compact(
    key: &SigningKey,
    mut header: Map<String, Value>,
    claims: &Value,
    signature: Signature,
) -> Result<String, JoseError> {
    let alg = match signature {
        Signature::Genuine | Signature::Altered => "RS256",
        Signature::Unsigned => "none",
        Signature::HmacWithPublicKey => "HS256",
    };
    header.insert("alg".into(), alg.into());
    let encode = |v: &Value| -> Result<String, JoseError> {
        Ok(URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).map_err(JoseError::Claims)?))
    };
    let input = format!("{}.{}", encode(&Value::Object(header))?, encode(claims)?);
    let signature = match signature {
        Signature::Genuine => key.sign_input(input.as_bytes())?,
        Signature::Unsigned => Vec::new(),
        Signature::HmacWithPublicKey => {
            use josekit::jws::JwsSigner;
            josekit::jws::HS256.signer_from_bytes(key.public_pem())?.sign(input.as_bytes())?
        }
        Signature::Altered => {
            let mut s = key.sign_input(input.as_bytes())?;
            if let Some(first) = s.first_mut() {
                *first ^= 0x01;
            }
            s
        }
    };
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::jose::{KeySet, UnverifiedJwt};

    fn key() -> SigningKey {
        SigningKey::from_pem("k1", crate::test_keys::TestKey::A.signing_key().private_pem()).unwrap()
    }

    fn header() -> Map<String, Value> {
        let Value::Object(h) = json!({ "typ": "oauth-id-jag+jwt", "kid": "k1" }) else { unreachable!() };
        h
    }

    #[test]
    fn only_the_genuine_signature_verifies_with_the_key() {
        let key = key();
        let keys = KeySet::from_signing_keys([&key]);
        let public = keys.find("k1").unwrap();
        let claims = json!({ "sub": "a" });
        let token = |s| compact(&key, header(), &claims, s).unwrap();
        public.verify(&UnverifiedJwt::parse(&token(Signature::Genuine)).unwrap()).unwrap();
        for forged in [Signature::Unsigned, Signature::HmacWithPublicKey, Signature::Altered] {
            let raw = token(forged);
            let jwt = UnverifiedJwt::parse(&raw);
            assert!(jwt.is_err() || public.verify(&jwt.unwrap()).is_err(), "{forged:?} must not verify");
        }
    }

    #[test]
    fn each_forgery_says_its_alg_and_keeps_the_header_as_given() {
        let key = key();
        let header_of = |raw: &str| -> Value {
            let part = raw.split('.').next().unwrap();
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
        };
        let unsigned = compact(&key, header(), &json!({}), Signature::Unsigned).unwrap();
        assert!(unsigned.ends_with('.'), "an empty signature: {unsigned}");
        assert_eq!(header_of(&unsigned), json!({ "typ": "oauth-id-jag+jwt", "kid": "k1", "alg": "none" }));
        let hmac = compact(&key, Map::new(), &json!({}), Signature::HmacWithPublicKey).unwrap();
        assert_eq!(header_of(&hmac), json!({ "alg": "HS256" }), "no typ or kid added");
        // The HMAC is keyed with the public key's PEM, as an RS/HS confusion attacker computes it.
        use josekit::jws::JwsVerifier;
        let (input, sig) = hmac.rsplit_once('.').unwrap();
        let verifier = josekit::jws::HS256.verifier_from_bytes(key.public_pem()).unwrap();
        verifier.verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap()).unwrap();
        assert!(String::from_utf8_lossy(key.public_pem()).starts_with("-----BEGIN PUBLIC KEY-----"));
    }
}
