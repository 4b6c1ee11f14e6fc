//! The admin connection policy: which client may obtain an ID-JAG for which authorization
//! server, resource and scopes. In XAA this replaces user consent (draft-04 §4.3.3, §4.1).

use xaa_core::ids::{ClientId, Issuer, ResourceClientId, ResourceUri};
use xaa_core::oauth::{ErrorCode, OAuthError};
use xaa_core::scope::Scope;
use xaa_core::spec::{self, Citation};

use crate::config::{AuthorizationServer, Connection};

const TARGET: Citation = Citation::of(&[spec::RFC8693_2_2_2, spec::IDJAG_4_3_3]);
/// An unassigned user is `invalid_grant` (lab decision A15; RFC 8693 §2.2.2 names invalid_request).
const UNASSIGNED: Citation = Citation::of(&[spec::LAB_A15, spec::RFC8693_2_2_2]);
/// A scope beyond the connection is refused, not narrowed (lab decision A14; -04 §4.3.3 allows a subset).
const BEYOND: Citation = Citation::of(&[spec::LAB_A14, spec::IDJAG_4_3_3, spec::RFC6749_5_2]);

/// One token exchange as the policy sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request<'a> {
    /// The authenticated client (IdP client id).
    pub(crate) client_id: &'a ClientId,
    /// The user's tenant: only its IT's connections apply.
    pub(crate) tenant: &'a str,
    /// The user's email, from the validated subject token.
    pub(crate) user: &'a str,
    /// The `audience` parameter.
    pub(crate) audience: &'a Issuer,
    /// The `resource` parameters.
    pub(crate) resources: &'a [&'a ResourceUri],
    /// The `scope` parameter, parsed.
    pub(crate) requested_scope: Option<&'a Scope>,
}

/// Why the policy refused a token exchange: the OAuth error, what was wrong and what the refusal
/// rests on (a lab decision for a scope beyond the connection or an unassigned user).
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) code: ErrorCode,
    /// What was wrong, without the citation: what the check log records.
    pub(crate) description: String,
    pub(crate) spec: Citation,
}

impl Refusal {
    fn new(code: ErrorCode, description: String, spec: Citation) -> Self {
        Self { code, description, spec }
    }

    /// The error the requestor receives: the description, then what it rests on.
    pub(crate) fn into_error(self) -> OAuthError {
        OAuthError::new(self.code, format!("{} ({})", self.description, self.spec))
    }
}

/// What the policy grants for one token exchange.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) audience: Issuer,
    pub(crate) resources: Vec<ResourceUri>,
    pub(crate) scope: Scope,
    pub(crate) resource_client_id: ResourceClientId,
}

/// Decides a token exchange for `client_id` under the connections of the user's tenant:
/// `invalid_target` for an unknown or unconnected audience or resource, `invalid_scope` for scopes
/// beyond the connection (lab decision A14), `invalid_grant` for a user the connection is not
/// assigned to (lab decision A15); a refusal by the policy names the tenant.
pub(crate) fn decide(
    servers: &[AuthorizationServer],
    connections: &[Connection],
    request: &Request<'_>,
) -> Result<Grant, Refusal> {
    let Request { client_id, tenant, user, audience, resources, requested_scope } = *request;
    let target = |d: String| Refusal::new(ErrorCode::InvalidTarget, d, TARGET);
    let Some(server) = servers.iter().find(|s| s.issuer == *audience) else {
        let known: Vec<&str> = servers.iter().map(|s| s.issuer.as_str()).collect();
        return Err(target(format!(
            "audience \"{audience}\" is not the issuer of an authorization server this IdP knows (known: {}); audience must be the resource authorization server's exact issuer identifier",
            known.join(", ")
        )));
    };
    for r in resources {
        if !server.resources.iter().any(|res| res.resource == **r) {
            return Err(target(format!(
                "resource \"{r}\" is not governed by the authorization server \"{audience}\" (its resources: {})",
                server.resources.iter().map(|r| r.resource.as_str()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let connected: Vec<&Connection> = connections
        .iter()
        .filter(|c| c.tenant == tenant && c.client_id == *client_id && c.authorization_server == *audience)
        .filter(|c| resources.is_empty() || resources.contains(&&c.resource))
        .collect();
    let usable: Vec<&Connection> = connected
        .iter()
        .copied()
        .filter(|c| c.users.is_empty() || c.users.iter().any(|u| u.eq_ignore_ascii_case(user)))
        .collect();
    if !connected.is_empty() && usable.is_empty() {
        // Lab decision A7: a valid subject the policy does not entitle is invalid_grant
        // (post-04 candidate C2 would call it access_denied).
        return Err(Refusal::new(
            ErrorCode::InvalidGrant,
            format!(
                "user \"{user}\" is not assigned to the connection from client \"{client_id}\" to \"{audience}\" in tenant \"{tenant}\""
            ),
            UNASSIGNED,
        ));
    }
    for r in resources {
        if !usable.iter().any(|c| c.resource == **r) {
            return Err(target(format!(
                "the administrator has not connected client \"{client_id}\" to resource \"{r}\" at \"{audience}\" in tenant \"{tenant}\""
            )));
        }
    }
    let Some(first) = usable.first() else {
        return Err(target(format!(
            "the administrator has not connected client \"{client_id}\" to the authorization server \"{audience}\" in tenant \"{tenant}\""
        )));
    };
    let allowed = Scope::from_tokens(usable.iter().flat_map(|c| c.scopes.iter().cloned()));
    let scope = match requested_scope {
        Some(requested) if !requested.is_empty() => {
            let beyond = requested.difference(&allowed);
            if !beyond.is_empty() {
                return Err(Refusal::new(
                    ErrorCode::InvalidScope,
                    format!(
                        "scope \"{beyond}\" is not allowed for client \"{client_id}\" at \"{audience}\" in tenant \"{tenant}\" (allowed: \"{allowed}\")"
                    ),
                    BEYOND,
                ));
            }
            requested.clone()
        }
        _ => allowed,
    };
    Ok(Grant {
        audience: audience.clone(),
        resources: resources.iter().map(|r| (*r).clone()).collect(),
        scope,
        resource_client_id: first.resource_client_id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Resource;

    fn fixture() -> (Vec<AuthorizationServer>, Vec<Connection>) {
        let servers = vec![AuthorizationServer {
            issuer: Issuer::new("https://as"),
            name: "AS".into(),
            resources: vec![Resource {
                resource: ResourceUri::new("https://api"),
                scopes: vec!["r".into(), "w".into()],
            }],
        }];
        let connections = vec![Connection {
            client_id: ClientId::new("app"),
            authorization_server: Issuer::new("https://as"),
            resource: ResourceUri::new("https://api"),
            scopes: vec!["r".into()],
            resource_client_id: ResourceClientId::new("app-at-api"),
            users: Vec::new(),
            tenant: "t1".into(),
        }];
        (servers, connections)
    }

    /// [`decide`] for ann in `tenant`, the request's values typed as the token endpoint types them.
    fn decide_in(
        tenant: &str,
        s: &[AuthorizationServer],
        c: &[Connection],
        client: &str,
        audience: &str,
        resources: &[&str],
        scope: Option<&Scope>,
    ) -> Result<Grant, OAuthError> {
        let (client_id, audience) = (ClientId::new(client), Issuer::new(audience));
        let resources: Vec<ResourceUri> = resources.iter().map(|r| ResourceUri::new(*r)).collect();
        let resources: Vec<&ResourceUri> = resources.iter().collect();
        let request = Request {
            client_id: &client_id,
            tenant,
            user: "ann@x.example",
            audience: &audience,
            resources: &resources,
            requested_scope: scope,
        };
        decide(s, c, &request).map_err(Refusal::into_error)
    }

    /// [`decide_in`] tenant `t1`.
    fn ask(
        s: &[AuthorizationServer],
        c: &[Connection],
        client: &str,
        audience: &str,
        resources: &[&str],
        scope: Option<&Scope>,
    ) -> Result<Grant, OAuthError> {
        decide_in("t1", s, c, client, audience, resources, scope)
    }

    #[test]
    fn grants_within_the_connection() {
        let (s, c) = fixture();
        let r = Scope::parse("r");
        let g = ask(&s, &c, "app", "https://as", &["https://api"], Some(&r)).unwrap();
        assert_eq!(g.resource_client_id, "app-at-api");
        assert_eq!(g.scope.to_string(), "r");
        let g = ask(&s, &c, "app", "https://as", &[], None).unwrap();
        assert_eq!(g.scope.to_string(), "r");
    }

    #[test]
    fn refuses_targets_scopes_and_users_outside_it() {
        let (s, mut c) = fixture();
        let code = |r: Result<Grant, OAuthError>| r.unwrap_err().code.as_str();
        let rw = Scope::parse("r w");
        assert_eq!(code(ask(&s, &c, "app", "https://as/", &[], None)), "invalid_target");
        assert_eq!(code(ask(&s, &c, "app", "https://as", &["https://other"], None)), "invalid_target");
        assert_eq!(code(ask(&s, &c, "other", "https://as", &["https://api"], None)), "invalid_target");
        assert_eq!(code(ask(&s, &c, "app", "https://as", &[], Some(&rw))), "invalid_scope");
        c[0].users = vec!["bob@x.example".into()];
        assert_eq!(code(ask(&s, &c, "app", "https://as", &[], None)), "invalid_grant");
        c[0].users = vec!["ANN@x.example".into()];
        assert!(ask(&s, &c, "app", "https://as", &[], None).is_ok());
    }

    #[test]
    fn a_refusal_resting_on_a_lab_decision_names_it() {
        let (s, mut c) = fixture();
        let (client_id, audience) = (ClientId::new("app"), Issuer::new("https://as"));
        let rw = Scope::parse("r w");
        let mut request = Request {
            client_id: &client_id,
            tenant: "t1",
            user: "ann@x.example",
            audience: &audience,
            resources: &[],
            requested_scope: Some(&rw),
        };
        let decision = |r: Result<Grant, Refusal>| r.unwrap_err().spec.decision().map(|d| d.section);
        assert_eq!(decision(decide(&s, &c, &request)), Some("A14"), "a scope beyond the connection");
        request.requested_scope = None;
        c[0].users = vec!["bob@x.example".into()];
        assert_eq!(decision(decide(&s, &c, &request)), Some("A15"), "an unassigned user");
        c[0].users.clear();
        request.tenant = "t2";
        assert_eq!(decision(decide(&s, &c, &request)), None, "no connection: RFC 8693 and the draft");
        let refusal = decide(&s, &c, &request).unwrap_err();
        assert!(!refusal.description.contains('('), "the citation is not in the check's detail");
    }

    #[test]
    fn another_tenants_connections_do_not_apply() {
        let (s, c) = fixture();
        let e = decide_in("t2", &s, &c, "app", "https://as", &["https://api"], None).unwrap_err();
        assert_eq!(e.code.as_str(), "invalid_target");
        assert_eq!(
            e.description,
            "the administrator has not connected client 'app' to resource 'https://api' at 'https://as' in tenant 't2' (RFC 8693 Section 2.2.2, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3.3)"
        );
    }
}
