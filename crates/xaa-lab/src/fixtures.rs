//! Fixtures (`fixtures/*.json`) and signing keys (`keys/*.pem`): embedded in the binary as defaults,
//! or read from `--fixtures DIR` / `--keys DIR`. URL placeholders are replaced with real base URLs.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use xaa_core::ids::{ClientId, Issuer, ResourceUri};
use xaa_core::jose::SigningKey;
use xaa_core::secret::Secret;
use xaa_idp::{AuthorizationServer, Connection, IdpClient, Registration, SamlServiceProvider, Tenant, Tenants, User};
use xaa_resource_as::SeedTodo;

use crate::config::Urls;

const EMBEDDED: [(&str, &str); 6] = [
    ("clients.json", include_str!("../../../fixtures/clients.json")),
    ("policy.json", include_str!("../../../fixtures/policy.json")),
    ("users.json", include_str!("../../../fixtures/users.json")),
    ("todos.json", include_str!("../../../fixtures/todos.json")),
    ("tenants.json", include_str!("../../../fixtures/tenants.json")),
    ("saml.json", include_str!("../../../fixtures/saml.json")),
];
const EMBEDDED_KEYS: [(&str, &str); 2] = [
    ("idp-2026-01", include_str!("../../../keys/idp-2026-01.pem")),
    ("resource-as-2026-01", include_str!("../../../keys/resource-as-2026-01.pem")),
];

/// Errors loading fixtures or keys: they name the file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct FixtureError {
    file: String,
    message: String,
}

fn err(file: impl Into<String>, message: impl ToString) -> FixtureError {
    FixtureError { file: file.into(), message: message.to_string() }
}

/// What a requestor is in the lab.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ClientRole {
    /// The lab's own notes app.
    Notes,
    /// The client whose `.env` the lab prints for a participant's own app.
    BringYourOwn,
    /// The console's flow explorer (the lab acting as its own demo requestor).
    Explorer,
    /// Any other requestor.
    Other,
}

impl ClientRole {
    /// Its name in `clients.json`.
    pub fn name(self) -> &'static str {
        match self {
            ClientRole::Notes => "notes",
            ClientRole::BringYourOwn => "bring-your-own",
            ClientRole::Explorer => "explorer",
            ClientRole::Other => "other",
        }
    }
}

/// A requestor: its IdP client and its resource-AS client.
#[derive(Clone, Debug, Deserialize)]
pub struct Requestor {
    /// Its role.
    pub role: ClientRole,
    /// Display name.
    pub name: String,
    /// The OIDC client at the IdP.
    pub idp: IdpClientFixture,
    /// The OAuth client at the resource authorization server.
    pub resource_as: xaa_resource_as::AsClient,
}

/// An IdP client as written in `clients.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct IdpClientFixture {
    /// Client id.
    pub client_id: ClientId,
    /// Client secret.
    pub client_secret: Secret,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
}

#[derive(Deserialize)]
struct Policy {
    authorization_servers: Vec<AuthorizationServer>,
    connections: Vec<ConnectionFixture>,
}

#[derive(Deserialize)]
struct ConnectionFixture {
    /// The tenant whose IT granted it (default: the default tenant).
    #[serde(default)]
    tenant: Option<String>,
    client_id: ClientId,
    authorization_server: Issuer,
    resource: ResourceUri,
    scopes: Vec<String>,
    #[serde(default)]
    users: Vec<String>,
}

/// A change to the loaded fixtures (the [`crate::testing`] builder's users, connections, todos).
#[derive(Clone)]
pub struct FixtureEdit(std::sync::Arc<dyn Fn(&mut Fixtures) + Send + Sync>);

impl FixtureEdit {
    /// Wraps `edit`.
    pub fn new(edit: impl Fn(&mut Fixtures) + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(edit))
    }

    /// Applies it.
    pub fn apply(&self, fixtures: &mut Fixtures) {
        (self.0)(fixtures)
    }
}

impl std::fmt::Debug for FixtureEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixtureEdit")
    }
}

/// Everything loaded from the fixtures, with real URLs.
#[derive(Clone, Debug)]
pub struct Fixtures {
    /// The requestors.
    pub requestors: Vec<Requestor>,
    /// Authorization servers known to the IdP.
    pub authorization_servers: Vec<AuthorizationServer>,
    /// The connection policy.
    pub connections: Vec<Connection>,
    /// Named users.
    pub users: Vec<User>,
    /// The IdP's tenants (the first is the default).
    pub tenants: Tenants,
    /// Seed todos.
    pub todos: Vec<SeedTodo>,
    /// SAML service providers (`saml.json`; optional in a `--fixtures` dir).
    pub saml_service_providers: Vec<SamlServiceProvider>,
}

impl Fixtures {
    /// Loads the fixture files from `dir` (embedded copies when `None`), substituting `urls`. A
    /// `dir` without `tenants.json` gets the embedded tenants; `saml.json` may be absent from `dir`
    /// (no SAML service providers).
    pub fn load(dir: Option<&Path>, urls: &Urls) -> Result<Self, FixtureError> {
        let embedded = |name: &str| EMBEDDED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).unwrap_or_default();
        let text = |name: &str| -> Result<String, FixtureError> {
            let raw = match dir {
                Some(d) => {
                    std::fs::read_to_string(d.join(name)).map_err(|e| err(d.join(name).display().to_string(), e))?
                }
                None => embedded(name).to_owned(),
            };
            Ok(urls.substitute(&raw))
        };
        fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, FixtureError> {
            serde_json::from_str(text).map_err(|e| err(name, e))
        }
        let requestors: Vec<Requestor> = parse("clients.json", &text("clients.json")?)?;
        // A fixtures dir from before tenants has no tenants.json: the embedded one applies.
        let tenants_text = match dir.is_some_and(|d| !d.join("tenants.json").exists()) {
            true => urls.substitute(embedded("tenants.json")),
            false => text("tenants.json")?,
        };
        let tenants =
            Tenants::new(parse::<Vec<Tenant>>("tenants.json", &tenants_text)?).map_err(|e| err("tenants.json", e))?;
        let known_tenant = |file: &str, id: Option<&str>| match id {
            Some(t) if tenants.get(t).is_none() => Err(err(file, format!("unknown tenant \"{t}\""))),
            _ => Ok(()),
        };
        let policy: Policy = parse("policy.json", &text("policy.json")?)?;
        let connections = policy
            .connections
            .into_iter()
            .map(|c| {
                let requestor = requestors
                    .iter()
                    .find(|r| r.idp.client_id == c.client_id)
                    .ok_or_else(|| err("policy.json", format!("connection for unknown client \"{}\"", c.client_id)))?;
                known_tenant("policy.json", c.tenant.as_deref())?;
                Ok(Connection {
                    tenant: c.tenant.unwrap_or_else(|| tenants.default_tenant().id.clone()),
                    client_id: c.client_id,
                    authorization_server: c.authorization_server,
                    resource: c.resource,
                    scopes: c.scopes,
                    resource_client_id: requestor.resource_as.client_id.clone(),
                    users: c.users,
                })
            })
            .collect::<Result<Vec<_>, FixtureError>>()?;
        let users: Vec<User> = parse("users.json", &text("users.json")?)?;
        for u in &users {
            known_tenant("users.json", u.tenant.as_deref())?;
        }
        Ok(Self {
            authorization_servers: policy.authorization_servers,
            connections,
            users,
            tenants,
            todos: parse("todos.json", &text("todos.json")?)?,
            saml_service_providers: match dir {
                Some(d) if !d.join("saml.json").exists() => Vec::new(),
                _ => parse("saml.json", &text("saml.json")?)?,
            },
            requestors,
        })
    }

    /// Refuses SAML service providers the IdP cannot serve (a `transient` NameID format, an
    /// unknown client, an unusable ACS URL).
    pub fn check_saml(&self) -> Result<(), FixtureError> {
        let clients = self.idp_clients();
        self.saml_service_providers
            .iter()
            .try_for_each(|sp| sp.check(&clients).map(drop).map_err(|e| err("saml.json", e)))
    }

    /// The IdP clients.
    pub fn idp_clients(&self) -> Vec<IdpClient> {
        self.requestors
            .iter()
            .map(|r| IdpClient {
                client_id: r.idp.client_id.clone(),
                client_secret: r.idp.client_secret.clone().into(),
                name: r.name.clone(),
                redirect_uris: r.idp.redirect_uris.clone(),
                post_logout_redirect_uris: r.idp.post_logout_redirect_uris.clone(),
                grant_types: Vec::new(),
                registration: Registration::It,
            })
            .collect()
    }

    /// The requestor with this role.
    pub fn requestor(&self, role: ClientRole) -> Option<&Requestor> {
        self.requestors.iter().find(|r| r.role == role)
    }
}

/// The IdP and resource-AS signing keys.
#[derive(Debug)]
pub struct LabKeys {
    /// Signs ID tokens and ID-JAGs.
    pub idp: SigningKey,
    /// Signs access tokens.
    pub resource_as: SigningKey,
}

impl LabKeys {
    /// Loads `idp-*.pem` and `resource-as-*.pem` from `dir` (the embedded keys when `None`);
    /// each `kid` is its file name without `.pem`.
    pub fn load(dir: Option<&Path>) -> Result<Self, FixtureError> {
        let pick = |prefix: &str| -> Result<SigningKey, FixtureError> {
            let (kid, pem) = match dir {
                None => EMBEDDED_KEYS
                    .iter()
                    .find(|(k, _)| k.starts_with(prefix))
                    .map(|(k, p)| ((*k).to_owned(), (*p).to_owned()))
                    .ok_or_else(|| err("keys", format!("no embedded {prefix}* key")))?,
                Some(d) => {
                    let path = first_pem(d, prefix)?;
                    let kid = path.file_stem().and_then(|s| s.to_str()).unwrap_or(prefix).to_owned();
                    (kid, std::fs::read_to_string(&path).map_err(|e| err(path.display().to_string(), e))?)
                }
            };
            SigningKey::from_pem(&kid, &pem).map_err(|e| err(format!("{kid}.pem"), e))
        };
        Ok(Self { idp: pick("idp-")?, resource_as: pick("resource-as-")? })
    }
}

fn first_pem(dir: &Path, prefix: &str) -> Result<PathBuf, FixtureError> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| err(dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "pem")
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    found.sort();
    found.pop().ok_or_else(|| err(dir.display().to_string(), format!("no {prefix}*.pem key")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Ports;

    /// A fixtures dir with the embedded files, `edit` applied to (name, text).
    fn dir_with(tag: &str, edit: impl Fn(&str, &str) -> Option<String>) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xaa-fixtures-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in EMBEDDED {
            match edit(name, text) {
                Some(t) => std::fs::write(dir.join(name), t).unwrap(),
                None => drop(std::fs::remove_file(dir.join(name))),
            }
        }
        dir
    }

    #[test]
    fn tenants_come_from_tenants_json_or_the_embedded_one_and_must_be_known() {
        let urls = Urls::new(false, "localhost", Ports::DEFAULT);
        let ids = |f: &Fixtures| f.tenants.all().iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        let embedded = Fixtures::load(None, &urls).unwrap();
        assert_eq!(ids(&embedded), ["customer1", "customer2", "customer3"]);
        assert!(embedded.connections.iter().any(|c| c.tenant == "customer3" && c.client_id == "lab-notes"));

        // A dir from before tenants (no tenants.json, connections without a tenant): the embedded
        // tenants, every connection the default tenant's.
        let old = dir_with("old", |name, text| {
            let untagged = text.lines().filter(|l| !l.contains("\"tenant\"")).collect::<Vec<_>>().join("\n");
            (name != "tenants.json").then_some(untagged)
        });
        let loaded = Fixtures::load(Some(&old), &urls).unwrap();
        assert_eq!(ids(&loaded), ["customer1", "customer2", "customer3"]);
        assert!(loaded.connections.iter().all(|c| c.tenant == "customer1"));

        let unknown = dir_with("unknown", |name, text| {
            Some(if name == "users.json" { text.replace("customer3", "customer9") } else { text.to_owned() })
        });
        let e = Fixtures::load(Some(&unknown), &urls).unwrap_err();
        assert_eq!(e.to_string(), "users.json: unknown tenant \"customer9\"");
        for d in [old, unknown] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}
