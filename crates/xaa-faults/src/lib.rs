//! # xaa-faults: the break-it switches
//!
//! Faults the lab injects on demand, so a teacher or a test suite can show every
//! failure a requestor must handle. Each switch is on or off and applies to every client or to one
//! requestor (matched by any of its client ids: at the IdP and at the resource AS).
//!
//! The components ask [`Faults::active`] at the point where the fault bites; one-shot faults
//! ([`Fault::RefuseNextGrant`]) are consumed with [`Faults::take`].
//!
//! A crate of its own, not part of the protocol core: the IdP and the resource AS honour the
//! switches and the lab owns them (its console, admin API and banner), and no role may depend on
//! the lab.

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

/// A fault the lab can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The IdP issues ID-JAGs that expired two minutes ago.
    IdJagExpired,
    /// The IdP issues ID-JAGs with JOSE `typ` `JWT` instead of `oauth-id-jag+jwt`.
    IdJagWrongTyp,
    /// The IdP issues ID-JAGs whose `aud` is the todo API (the resource), not the authorization server.
    IdJagWrongAud,
    /// The IdP puts another client's resource-AS `client_id` in the ID-JAG.
    IdJagForeignClientId,
    /// The IdP signs ID-JAGs with a key that is not in its JWKS.
    IdJagUntrustedKey,
    /// The IdP's token-exchange response names a resource the requestor did not ask for.
    ExchangeWrongResource,
    /// The resource AS refuses the next jwt-bearer grant (then the switch turns itself off).
    RefuseNextGrant,
    /// The resource AS's jwt-bearer response names a resource the requestor did not ask for.
    GrantWrongResource,
    /// The todo API answers 503 Service Unavailable.
    TodoApiUnavailable,
    /// The todo API answers after a delay of `delay_ms`.
    TodoApiSlow,
    /// ID tokens, ID-JAGs and access tokens live 30 s.
    ShortLifetimes,
}

impl Fault {
    /// Every fault, in the order the console lists them.
    pub const ALL: [Fault; 11] = [
        Fault::IdJagExpired,
        Fault::IdJagWrongTyp,
        Fault::IdJagWrongAud,
        Fault::IdJagForeignClientId,
        Fault::IdJagUntrustedKey,
        Fault::ExchangeWrongResource,
        Fault::RefuseNextGrant,
        Fault::GrantWrongResource,
        Fault::TodoApiUnavailable,
        Fault::TodoApiSlow,
        Fault::ShortLifetimes,
    ];

    /// Its name in the admin API and the console (`id-jag-expired`, …).
    pub fn name(self) -> &'static str {
        match self {
            Fault::IdJagExpired => "id-jag-expired",
            Fault::IdJagWrongTyp => "id-jag-wrong-typ",
            Fault::IdJagWrongAud => "id-jag-wrong-aud",
            Fault::IdJagForeignClientId => "id-jag-foreign-client-id",
            Fault::IdJagUntrustedKey => "id-jag-untrusted-key",
            Fault::ExchangeWrongResource => "exchange-wrong-resource",
            Fault::RefuseNextGrant => "refuse-next-grant",
            Fault::GrantWrongResource => "grant-wrong-resource",
            Fault::TodoApiUnavailable => "todo-api-unavailable",
            Fault::TodoApiSlow => "todo-api-slow",
            Fault::ShortLifetimes => "short-lifetimes",
        }
    }

    /// The fault with this name.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Which component misbehaves.
    pub fn component(self) -> &'static str {
        match self {
            Fault::IdJagExpired
            | Fault::IdJagWrongTyp
            | Fault::IdJagWrongAud
            | Fault::IdJagForeignClientId
            | Fault::IdJagUntrustedKey
            | Fault::ExchangeWrongResource => "IdP",
            Fault::RefuseNextGrant | Fault::GrantWrongResource => "resource AS",
            Fault::TodoApiUnavailable | Fault::TodoApiSlow => "todo API",
            Fault::ShortLifetimes => "IdP and resource AS",
        }
    }

    /// What it does, and what the requestor then sees.
    pub fn effect(self) -> &'static str {
        match self {
            Fault::IdJagExpired => {
                "the IdP issues an ID-JAG that expired 2 minutes ago; the resource AS answers invalid_grant (check exp)"
            }
            Fault::IdJagWrongTyp => {
                "the IdP signs the ID-JAG with typ JWT; the resource AS answers invalid_grant (check typ)"
            }
            Fault::IdJagWrongAud => {
                "the IdP sets aud to the todo API instead of the authorization server; the resource AS answers invalid_grant (check aud)"
            }
            Fault::IdJagForeignClientId => {
                "the IdP puts another client's client_id in the ID-JAG; the resource AS answers invalid_grant (check client_id)"
            }
            Fault::IdJagUntrustedKey => {
                "the IdP signs the ID-JAG with a key missing from its JWKS; the resource AS refetches the JWKS, then answers invalid_grant (check kid)"
            }
            Fault::ExchangeWrongResource => {
                "the IdP's token-exchange response names a resource the requestor did not ask for (the ID-JAG is unchanged); the requestor must discard the ID-JAG"
            }
            Fault::RefuseNextGrant => {
                "the resource AS refuses the next jwt-bearer grant with invalid_grant, then turns this switch off"
            }
            Fault::GrantWrongResource => {
                "the resource AS's jwt-bearer response names a resource the requestor did not ask for (the access token is unchanged); the requestor must not use the token"
            }
            Fault::TodoApiUnavailable => "the todo API answers 503 temporarily_unavailable with Retry-After: 30",
            Fault::TodoApiSlow => "the todo API waits delay_ms before answering",
            Fault::ShortLifetimes => "ID tokens, ID-JAGs and access tokens expire after 30 s (advance the lab clock)",
        }
    }
}

/// The resource a token response names under [`Fault::ExchangeWrongResource`] and
/// [`Fault::GrantWrongResource`]: one no requestor of the lab asks for.
pub const WRONG_RESOURCE: &str = "https://api.not-asked-for.example";

/// The lifetime of every token under [`Fault::ShortLifetimes`].
pub const SHORT_LIFETIME: i64 = 30;

/// One switch that is on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switch {
    /// The fault.
    pub fault: Fault,
    /// The requestor's client ids it applies to (IdP and resource AS); empty means every client.
    #[serde(default)]
    pub clients: Vec<String>,
    /// The delay of [`Fault::TodoApiSlow`], in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
}

impl Switch {
    /// Whether it applies to a request from any of `client_ids`.
    pub fn applies_to(&self, client_ids: &[&str]) -> bool {
        self.clients.is_empty() || self.clients.iter().any(|c| client_ids.contains(&c.as_str()))
    }
}

/// The break-it switches of one lab, shared by every component.
#[derive(Debug, Default)]
pub struct Faults {
    on: RwLock<Vec<Switch>>,
}

/// The switches shared by every component.
pub type SharedFaults = Arc<Faults>;

impl Faults {
    /// No switch on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns a switch on (replacing the same fault's earlier setting).
    pub fn set(&self, switch: Switch) {
        if let Ok(mut on) = self.on.write() {
            on.retain(|s| s.fault != switch.fault);
            on.push(switch);
        }
    }

    /// Turns a fault off; `false` when it was not on.
    pub fn clear(&self, fault: Fault) -> bool {
        let Ok(mut on) = self.on.write() else { return false };
        let before = on.len();
        on.retain(|s| s.fault != fault);
        on.len() != before
    }

    /// Turns every switch off; returns how many were on.
    pub fn clear_all(&self) -> usize {
        let Ok(mut on) = self.on.write() else { return 0 };
        std::mem::take(&mut *on).len()
    }

    /// Every switch that is on.
    pub fn list(&self) -> Vec<Switch> {
        self.on.read().map(|on| on.clone()).unwrap_or_default()
    }

    /// Whether `fault` is on at all, for any client: a component checks this before it works out
    /// who a request is from (when no switch is on, nothing needs to).
    pub fn is_on(&self, fault: Fault) -> bool {
        self.on.read().is_ok_and(|on| on.iter().any(|s| s.fault == fault))
    }

    /// The switch for `fault`, if it is on for a request from any of `client_ids`.
    pub fn active(&self, fault: Fault, client_ids: &[&str]) -> Option<Switch> {
        let on = self.on.read().ok()?;
        on.iter().find(|s| s.fault == fault && s.applies_to(client_ids)).cloned()
    }

    /// Like [`Faults::active`], and turns the switch off: for one-shot faults.
    pub fn take(&self, fault: Fault, client_ids: &[&str]) -> Option<Switch> {
        let mut on = self.on.write().ok()?;
        let i = on.iter().position(|s| s.fault == fault && s.applies_to(client_ids))?;
        Some(on.remove(i))
    }

    /// `lifetime`, or [`SHORT_LIFETIME`] when the short-lifetime profile is on for these clients.
    pub fn lifetime(&self, lifetime: i64, client_ids: &[&str]) -> i64 {
        match self.active(Fault::ShortLifetimes, client_ids) {
            Some(_) => lifetime.min(SHORT_LIFETIME),
            None => lifetime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switches_scope_to_clients_and_one_shots_turn_off() {
        let f = Faults::new();
        assert!(f.active(Fault::IdJagExpired, &["a"]).is_none());
        assert!(!f.is_on(Fault::IdJagExpired));
        f.set(Switch { fault: Fault::IdJagExpired, clients: vec!["a".into(), "a-at-todo0".into()], delay_ms: 0 });
        assert!(f.is_on(Fault::IdJagExpired), "on for some client");
        assert!(!f.is_on(Fault::ShortLifetimes));
        assert!(f.active(Fault::IdJagExpired, &["a"]).is_some());
        assert!(f.active(Fault::IdJagExpired, &["b"]).is_none());
        f.set(Switch { fault: Fault::RefuseNextGrant, clients: vec![], delay_ms: 0 });
        assert!(f.take(Fault::RefuseNextGrant, &["b-at-todo0"]).is_some());
        assert!(f.take(Fault::RefuseNextGrant, &["b-at-todo0"]).is_none());
        assert_eq!(f.lifetime(600, &["a"]), 600);
        f.set(Switch { fault: Fault::ShortLifetimes, clients: vec![], delay_ms: 0 });
        assert_eq!(f.lifetime(600, &["a"]), SHORT_LIFETIME);
        assert!(f.clear(Fault::ShortLifetimes));
        assert!(!f.clear(Fault::ShortLifetimes));
        for fault in Fault::ALL {
            assert_eq!(Fault::from_name(fault.name()), Some(fault));
        }
    }
}
