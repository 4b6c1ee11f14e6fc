//! Every spec reference the lab shows or sends, in one typed table.
//!
//! A check, a refusal's `error_description`, a claim's meaning, a hint, an exercise or a report
//! card item cites a [`Citation`]: one or more rows of the table below ([`ALL`]), each a
//! [`Reference`] with its document, section, title and requirement [`Level`]. A reference is
//! never typed by hand in a string: `cargo test -p xaa-core spec` fails on any `§` in the
//! crates' code or templates outside this file, on any section of the docs that is not in the
//! table, and on any draft-04 section whose number or title differs from the draft's section map
//! (`docs/spec/draft-04-sections.txt`).
//!
//! Where the lab decides something the specifications leave open, or follows a profile (the MCP
//! enterprise-managed authorization extension) rather than the draft, the citation says so: its
//! first row is a lab decision ([`Level::LabDecision`], `A1`…) or a profile rule
//! ([`Level::Profile`]), with a one-line why, and the pages label it.

use std::fmt;

use serde::{Serialize, Serializer};

/// The document a reference points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Doc {
    /// draft-ietf-oauth-identity-assertion-authz-grant-04 (the ID-JAG draft the lab implements).
    IdJag,
    /// A change to the ID-JAG draft after -04 that the lab already follows (`C1`…).
    IdJagPost04,
    /// An RFC, by number.
    Rfc(u16),
    /// OpenID Connect Core 1.0 (errata set 2).
    OidcCore,
    /// OpenID Connect RP-Initiated Logout 1.0.
    OidcLogout,
    /// SAML 2.0 Core (saml-core-2.0-os).
    Saml2Core,
    /// SAML 2.0 Bindings (saml-bindings-2.0-os).
    Saml2Bindings,
    /// The MCP extension "Enterprise-Managed Authorization", which profiles the ID-JAG for MCP.
    McpEnterprise,
    /// MCP's own authorization specification (revision 2025-06-18), by heading (it numbers none).
    McpAuthorization,
    /// A decision of this lab where the specifications leave a choice (`A1`…).
    Lab,
    /// The lab's break-it switches: a teacher made a server refuse on purpose.
    BreakIt,
}

/// How strongly the cited text asks for what the lab does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// MUST, MUST NOT, REQUIRED, SHALL.
    Must,
    /// SHOULD, SHOULD NOT, RECOMMENDED.
    Should,
    /// MAY, OPTIONAL.
    May,
    /// A definition (a claim, a parameter, a format) with no requirement of its own.
    Defines,
    /// A rule of a profile of the draft (the MCP extension), not of the draft itself.
    Profile,
    /// This lab's choice where the specifications leave one.
    LabDecision,
    /// A break-it switch a teacher turned on, not a rule of any text.
    Switch,
}

impl Level {
    /// The label a page shows next to a citation at this level.
    pub fn label(self) -> &'static str {
        match self {
            Self::Must => "MUST",
            Self::Should => "SHOULD",
            Self::May => "MAY",
            Self::Defines => "definition",
            Self::Profile => "MCP profile",
            Self::LabDecision => "lab decision",
            Self::Switch => "break-it switch",
        }
    }
}

/// One row of the table: a section of a document, what it is titled, and what it asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// The document.
    pub doc: Doc,
    /// The section number (`4.4.1`), a numbered item of it (`3 item 7`), or a decision's id (`A2`).
    pub section: &'static str,
    /// The section's title as the document heads it, or a decision's name.
    pub title: &'static str,
    /// How strongly the cited text asks for what the lab does.
    pub level: Level,
    /// One line: what the text says, or why the lab decided so.
    pub why: &'static str,
}

impl Reference {
    /// The label a page shows for this row: `lab decision A14` for a lab decision (with its id),
    /// else its level's label (`MCP profile`, `break-it switch`, `MUST`, …).
    pub fn label(&self) -> String {
        match self.doc {
            Doc::Lab => format!("{} {}", self.level.label(), self.section),
            _ => self.level.label().to_owned(),
        }
    }
}

impl Serialize for Reference {
    /// `{"cites","label","title","why"}`: the reference as [`fmt::Display`] writes it, its
    /// [`Reference::label`], its title and its one-line why.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Reference", 4)?;
        out.serialize_field("cites", &self.to_string())?;
        out.serialize_field("label", &self.label())?;
        out.serialize_field("title", self.title)?;
        out.serialize_field("why", self.why)?;
        out.end()
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.section;
        match self.doc {
            Doc::IdJag => write!(f, "draft-ietf-oauth-identity-assertion-authz-grant-04 §{s}"),
            Doc::IdJagPost04 => write!(f, "draft-ietf-oauth-identity-assertion-authz-grant post-04 change {s}"),
            Doc::Rfc(n) => write!(f, "RFC {n} §{s}"),
            Doc::OidcCore => write!(f, "OIDC Core §{s}"),
            Doc::OidcLogout => write!(f, "OpenID Connect RP-Initiated Logout 1.0 §{s}"),
            Doc::Saml2Core => write!(f, "SAML 2.0 Core §{s}"),
            Doc::Saml2Bindings => write!(f, "SAML 2.0 Bindings §{s}"),
            Doc::McpEnterprise => f.write_str("MCP enterprise-managed authorization"),
            Doc::McpAuthorization => write!(f, "MCP authorization 2025-06-18 \"{}\"", self.title),
            Doc::Lab => write!(f, "lab decision {s}"),
            Doc::BreakIt => f.write_str("XAA Lab break-it switch"),
        }
    }
}

/// What a check, a refusal or a text rests on: one or more references, the first the one that
/// decides (a lab decision or profile rule comes first, then the text it decides on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Citation(&'static [Reference]);

impl Citation {
    /// The citation of `refs`, in that order.
    pub const fn of(refs: &'static [Reference]) -> Self {
        Self(refs)
    }

    /// The references cited.
    pub fn references(self) -> &'static [Reference] {
        self.0
    }

    /// The lab decision or profile rule this citation rests on, if it does: what a page labels.
    pub fn decision(self) -> Option<&'static Reference> {
        self.0.iter().find(|r| matches!(r.level, Level::LabDecision | Level::Profile | Level::Switch))
    }

    /// The strongest requirement level among the cited texts (a decision or profile rule first).
    pub fn level(self) -> Level {
        self.decision().map_or_else(|| self.0.first().map_or(Level::Defines, |r| r.level), |d| d.level)
    }

    /// The references other than [`Citation::decision`]: the texts a decision decides on, or
    /// every reference when there is no decision; written as the citation is (`RFC 9068 §2.1, §4`),
    /// empty when the decision is all there is.
    pub fn texts(self) -> Texts {
        Texts { refs: self.0, decision: self.decision() }
    }

    /// The keyword a page shows in front of a citation without a decision when what it cites is
    /// weaker than a MUST: `SHOULD` or `MAY`. A MUST or a definition is the quiet default: `None`,
    /// as for a citation resting on a decision (which shows [`Reference::label`] instead).
    pub fn keyword(self) -> Option<&'static str> {
        match self.level() {
            Level::Should | Level::May => Some(self.level().label()),
            _ => None,
        }
    }

    /// What an export writes next to the citation: its level's label and the decision it rests on.
    pub fn labels(self) -> Labels {
        Labels { level: self.level().label(), decision: self.decision() }
    }
}

/// The references of a citation other than its decision ([`Citation::texts`]).
#[derive(Clone, Copy, Debug)]
pub struct Texts {
    refs: &'static [Reference],
    decision: Option<&'static Reference>,
}

impl Texts {
    /// Whether there is no text besides the decision (a break-it switch cites nothing else).
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    fn iter(&self) -> impl Iterator<Item = &'static Reference> + '_ {
        self.refs.iter().filter(|r| !self.decision.is_some_and(|d| std::ptr::eq(d, *r)))
    }
}

impl fmt::Display for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_references(f, self.iter())
    }
}

/// What an export (the live trace's JSON, the report card's) writes next to a citation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Labels {
    /// The label of [`Citation::level`]: `MUST`, `lab decision`, `MCP profile`, …
    pub level: &'static str,
    /// The lab decision, profile rule or break-it switch the citation rests on, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<&'static Reference>,
}

/// Writes `refs` joined by `, `; a section of the same document as the one before it is written
/// `§x` alone (`RFC 9068 §2.1, §4`).
fn write_references<'a>(f: &mut fmt::Formatter<'_>, refs: impl Iterator<Item = &'a Reference>) -> fmt::Result {
    let mut previous: Option<Doc> = None;
    for r in refs {
        if previous.is_some() {
            f.write_str(", ")?;
        }
        let numbered =
            !matches!(r.doc, Doc::Lab | Doc::BreakIt | Doc::McpEnterprise | Doc::McpAuthorization | Doc::IdJagPost04);
        match previous {
            Some(doc) if doc == r.doc && numbered => write!(f, "§{}", r.section)?,
            _ => write!(f, "{r}")?,
        }
        previous = Some(r.doc);
    }
    Ok(())
}

impl From<&'static Reference> for Citation {
    fn from(r: &'static Reference) -> Self {
        Self(std::slice::from_ref(r))
    }
}

impl fmt::Display for Citation {
    /// The references joined by `, `; a section of the same document as the one before it is
    /// written `§x` alone (`RFC 9068 §2.1, §4`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_references(f, self.0.iter())
    }
}

impl Serialize for Citation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

macro_rules! references {
    ($( $(#[$m:meta])* $name:ident = $doc:expr, $section:literal, $title:literal, $level:ident, $why:literal; )*) => {
        $( $(#[$m])* pub const $name: Reference =
            Reference { doc: $doc, section: $section, title: $title, level: Level::$level, why: $why }; )*
        /// Every reference the lab cites, in the order of the table.
        pub const ALL: &[Reference] = &[$($name),*];
    };
}

use Doc::*;

references! {
    // draft-ietf-oauth-identity-assertion-authz-grant-04
    /// -04 §3.1: the claims of an ID-JAG.
    IDJAG_3_1 = IdJag, "3.1", "ID-JAG Claims", Must,
        "iss, sub, aud, client_id, jti, exp and iat are REQUIRED; scope, resource and others are OPTIONAL";
    /// -04 §3.2: the `sub_id` claim with a SAML NameID.
    IDJAG_3_2 = IdJag, "3.2", "SAML NameID Subject Identifier", Must,
        "sub_id of format saml-nameid carries format, issuer and nameid and identifies the same user as sub";
    /// -04 §3.2.2: how a resource AS uses `sub_id`.
    IDJAG_3_2_2 = IdJag, "3.2.2", "Subject Identifier Processing", Must,
        "compare every configured member of sub_id; never resolve a user by the bare nameid alone";
    /// -04 §4.3: the token exchange request.
    IDJAG_4_3 = IdJag, "4.3", "Token Exchange", Must,
        "requested_token_type id-jag, audience, resource, scope, subject_token and its type, client authentication";
    /// -04 §4.3.3: the IdP's processing of a token exchange.
    IDJAG_4_3_3 = IdJag, "4.3.3", "Processing Rules", Must,
        "validate the subject token, that it was issued to the authenticated client, and IT's policy; the granted scope MAY be a subset";
    /// -04 §4.3.4: the token exchange response.
    IDJAG_4_3_4 = IdJag, "4.3.4", "Response", Must,
        "access_token is the ID-JAG, issued_token_type id-jag, token_type N_A";
    /// -04 §4.4: the access token request with an ID-JAG.
    IDJAG_4_4 = IdJag, "4.4", "Access Token Request", Must,
        "the client presents the ID-JAG as a jwt-bearer assertion and authenticates as its client_id";
    /// -04 §4.4.1: the resource AS's processing of an ID-JAG.
    IDJAG_4_4_1 = IdJag, "4.4.1", "Processing Rules", Must,
        "validate the JWT per RFC 7523, typ oauth-id-jag+jwt, aud is this AS, client_id is the authenticated client";
    /// -04 §4.4.2: the access token response.
    IDJAG_4_4_2 = IdJag, "4.4.2", "Response", Must,
        "a token response per RFC 6749 §5.1";
    /// -04 §4.4.3: after the access token expires.
    IDJAG_4_4_3 = IdJag, "4.4.3", "Refresh Token", May,
        "no refresh token; when the access token expires, clients MAY re-submit the original ID-JAG for a new one";
    /// -04 §4.5: SAML 2.0 assertions as subject tokens.
    IDJAG_4_5 = IdJag, "4.5", "SAML 2.0 Identity Assertion Interopability", Must,
        "a SAML 2.0 assertion as subject_token: validate it and map its audience to the authenticated client";
    /// -04 §5: client ids at the IdP and at the resource AS.
    IDJAG_5 = IdJag, "5", "Cross-Domain Client ID Handling", Must,
        "the ID-JAG's client_id is the client's id at the resource AS, which the IdP must know";
    /// -04 §6.1: issuers and tenants.
    IDJAG_6_1 = IdJag, "6.1", "Issuer and Tenant Relationship", Defines,
        "when one issuer serves many tenants, the tenant claim names the user's tenant";
    /// -04 §6.3: subjects are unique per issuer and tenant.
    IDJAG_6_3 = IdJag, "6.3", "Subject Identifier Uniqueness with Tenants", Must,
        "a resource AS resolves a subject by issuer, tenant and sub together";
    /// -04 §7.1: the IdP's metadata.
    IDJAG_7_1 = IdJag, "7.1", "IdP Authorization Server Metadata", Should,
        "the IdP SHOULD list id-jag in identity_chaining_requested_token_types_supported";
    /// -04 §7.2: the resource AS's metadata.
    IDJAG_7_2 = IdJag, "7.2", "Resource Authorization Server Metadata", Should,
        "the resource AS SHOULD list the id-jag grant profile in authorization_grant_profiles_supported";
    /// -04 §8: client metadata.
    IDJAG_8 = IdJag, "8", "Client Metadata", Must,
        "a client declaring the id-jag profile lists both token-exchange and jwt-bearer in grant_types";
    /// -04 §9.1: client authentication.
    IDJAG_9_1 = IdJag, "9.1", "Client Authentication", Should,
        "clients SHOULD be confidential; public clients SHOULD use an interactive flow at the resource AS";
    /// -04 §9.3: cross-domain use.
    IDJAG_9_3 = IdJag, "9.3", "Cross-Domain Use", Must,
        "a resource AS MUST NOT accept an ID-JAG whose aud is another server";
    /// -04 §9.8.1.1: DPoP at the token exchange.
    IDJAG_9_8_1_1 = IdJag, "9.8.1.1", "Proof-of-Possession During Token Exchange", Must,
        "with a valid DPoP proof the IdP MUST put cnf.jkt in the ID-JAG; without one, no cnf";
    /// -04 §9.8.1.2.1: `cnf` and a DPoP proof.
    IDJAG_9_8_1_2_1 = IdJag, "9.8.1.2.1", "ID-JAG Contains cnf Claim and DPoP Proof is Presented", Must,
        "validate the proof (RFC 9449 §4); its key's thumbprint MUST equal cnf.jkt, else invalid_grant";
    /// -04 §9.8.1.2.2: `cnf` and no DPoP proof.
    IDJAG_9_8_1_2_2 = IdJag, "9.8.1.2.2", "ID-JAG Contains cnf Claim but DPoP Proof is Not Presented", Must,
        "the request MUST fail with invalid_grant";
    /// -04 §9.8.1.2.3: a DPoP proof and no `cnf`.
    IDJAG_9_8_1_2_3 = IdJag, "9.8.1.2.3", "ID-JAG Does Not Contain cnf Claim and DPoP Proof is Presented", Must,
        "the AS MUST validate the proof and MAY issue a DPoP-bound access token";
    /// -04 §9.8.1.2.4: neither.
    IDJAG_9_8_1_2_4 = IdJag, "9.8.1.2.4", "ID-JAG Does Not Contain cnf Claim and DPoP Proof is Not Presented", May,
        "the AS MAY issue a Bearer token, unless the resource requires sender-constrained tokens";
    /// -04 §10.1: the media type of an ID-JAG.
    IDJAG_10_1 = IdJag, "10.1", "Media Types", Defines,
        "application/oauth-id-jag+jwt, so typ is oauth-id-jag+jwt";

    // Changes to the draft after -04 that the lab follows
    /// Post-04 change C1: the token responses name the granted resource.
    IDJAG_C1 = IdJagPost04, "C1", "resource in the token responses", Should,
        "the token exchange and access token responses return the resource the grant is for";

    // Lab decisions (docs/lab-decisions.md lists them all)
    /// A1: subject-token refusals are `invalid_grant`.
    LAB_A1 = Lab, "A1", "Subject-token refusals are invalid_grant", LabDecision,
        "RFC 8693 §2.2.2 names invalid_request; the draft's examples and xaa.dev answer invalid_grant, so clients written against xaa.dev see the same code";
    /// A2: an ID-JAG is accepted once.
    LAB_A2 = Lab, "A2", "One use per ID-JAG, unless the resource allows re-use", LabDecision,
        "-04 §4.4.3 lets a client re-submit an ID-JAG; the MCP profile requires jti replay refusal, so single use is the default and the admin may allow re-use until exp per resource";
    /// A3: `typ` is compared as a media type.
    LAB_A3 = Lab, "A3", "typ compared as a media type", LabDecision,
        "the lab emits typ exactly and accepts it case-insensitively with an optional application/ prefix (RFC 7515 §4.1.9)";
    /// A4: `scope` and `resource` on the jwt-bearer request narrow the grant.
    LAB_A4 = Lab, "A4", "A jwt-bearer request can only narrow the grant", LabDecision,
        "-04 leaves scope and resource on the access token request undefined: the result is the ID-JAG's grant, the request and the AS's policy intersected";
    /// A5: one exact issuer string per server.
    LAB_A5 = Lab, "A5", "One exact issuer string per server", LabDecision,
        "the draft's examples mix trailing slashes; RFC 8414 needs identical strings, so each server uses one form everywhere";
    /// A6: lifetimes.
    LAB_A6 = Lab, "A6", "Lifetimes", LabDecision,
        "-04 sets no ID-JAG lifetime and no maximum ID token age: the lab issues ID-JAGs for 5 minutes and refuses an expired ID token";
    /// A7: no `access_denied` at the token endpoints.
    LAB_A7 = Lab, "A7", "invalid_grant rather than access_denied", LabDecision,
        "access_denied is not a token endpoint error in RFC 6749; a post-04 change proposes it, so it stays off by default";
    /// A8: the draft's examples are not copied.
    LAB_A8 = Lab, "A8", "The draft's examples are not copied verbatim", LabDecision,
        "some examples of -04 are not valid requests (a missing &, a missing comma)";
    /// A9: DPoP with the jwt-bearer grant.
    LAB_A9 = Lab, "A9", "DPoP with the jwt-bearer grant type", LabDecision,
        "the draft's DPoP example uses a jwt-dpop grant of another draft; the lab keeps jwt-bearer with an RFC 9449 DPoP header";
    /// A10: SAML subject tokens in base64url or base64.
    LAB_A10 = Lab, "A10", "SAML subject tokens in base64url or base64", LabDecision,
        "RFC 8693 §3 says base64url; the draft's example is padded base64, so both are accepted";
    /// A11: `actor_token` is refused.
    LAB_A11 = Lab, "A11", "No actor_token", LabDecision,
        "-04 defines no processing of actor_token, so a request carrying one is refused with invalid_request";
    /// A12: no `resource` means the todo API.
    LAB_A12 = Lab, "A12", "Default resource", LabDecision,
        "-04 is silent on an ID-JAG without resource; the access token's aud is then the AS's default resource";
    /// A13: an ID-JAG must name its key.
    LAB_A13 = Lab, "A13", "kid is required", LabDecision,
        "kid is OPTIONAL in RFC 7515 §4.1.4; the lab requires it so a validator never tries keys in turn";
    /// A14: a scope beyond the connection is refused, not narrowed.
    LAB_A14 = Lab, "A14", "A scope beyond the connection is refused", LabDecision,
        "-04 §4.3.3 lets the IdP grant a subset; the lab refuses with invalid_scope so a learner sees which scope IT did not allow";
    /// A15: a user IT has not assigned is refused with `invalid_grant`.
    LAB_A15 = Lab, "A15", "An unassigned user is invalid_grant", LabDecision,
        "RFC 8693 §2.2.2 names invalid_request for a subject the policy does not accept; the lab answers invalid_grant like xaa.dev (see A1)";
    /// A16: a resource AS issues tokens only for resources it governs.
    LAB_A16 = Lab, "A16", "Only resources this AS governs", LabDecision,
        "-04 §4.4.1 only points to RFC 8707; the lab's AS refuses a resource it does not govern: invalid_grant in the ID-JAG, invalid_target as a request parameter";
    /// A17: the IdP issues only ID-JAGs by token exchange.
    LAB_A17 = Lab, "A17", "Token exchange issues ID-JAGs only", LabDecision,
        "-04 §4.5 defines other requested token types for SAML; the lab's IdP only issues ID-JAGs";
    /// A18: confidential clients only.
    LAB_A18 = Lab, "A18", "Confidential clients only", LabDecision,
        "-04 §9.1 says SHOULD; the lab registers clients with client_secret_basic or client_secret_post only";
    /// A19: SAML subject tokens for one tenant.
    LAB_A19 = Lab, "A19", "SAML grants for the default tenant", LabDecision,
        "as xaa.dev does, SAML subject tokens are accepted for the default tenant only";
    /// A20: access tokens shaped as xaa.dev shapes them.
    LAB_A20 = Lab, "A20", "Access tokens as xaa.dev shapes them", LabDecision,
        "app_org names the user's tenant and sub is {app_org}:{user}, as on xaa.dev, so resource apps written against it work unchanged";

    /// A21: `lab check` expects a refusal to say why.
    LAB_A21 = Lab, "A21", "Refusals say why", LabDecision,
        "RFC 6749 §5.2 makes error_description OPTIONAL; lab check warns when a refusal names no reason, since a developer cannot fix what is not named";
    /// A22: an unreasonably large assertion is refused.
    LAB_A22 = Lab, "A22", "An oversized assertion is refused", LabDecision,
        "no spec sets a size: the lab's servers refuse token requests over 64 KiB with 413, and lab check expects any AS to refuse a 256 KiB assertion with a 4xx, never a token or a 5xx";

    /// A break-it switch made the server refuse.
    BREAK_IT = BreakIt, "", "Break-it switch", Switch,
        "a teacher turned on a switch in the console that makes this server refuse; turn it off there";

    // The MCP extension
    /// The MCP enterprise-managed authorization extension's single use of ID-JAGs.
    MCP_SINGLE_USE = McpEnterprise, "", "Enterprise-Managed Authorization", Profile,
        "an MCP authorization server MUST refuse a replayed ID-JAG (jti)";

    /// The MCP extension's check of the resource an ID-JAG names.
    MCP_RESOURCE = McpEnterprise, "resource", "Enterprise-Managed Authorization", Profile,
        "the MCP authorization server MUST validate the ID-JAG's aud and that its resource is one of its own, else invalid_grant";

    // MCP authorization (2025-06-18)
    /// MCP authorization: where a client finds the authorization server.
    MCP_AUTH_SERVER_LOCATION = McpAuthorization, "Authorization Server Location", "Authorization Server Location", Must,
        "MCP servers MUST implement RFC 9728 metadata and MUST name it in the WWW-Authenticate header of a 401";

    // RFCs
    /// RFC 3986 §2: characters in a URI.
    RFC3986_2 = Rfc(3986), "2", "Characters", Defines, "which characters a URI may contain";
    /// RFC 3986 §3.2: the authority component.
    RFC3986_3_2 = Rfc(3986), "3.2", "Authority", Defines,
        "the authority follows \"//\": an optional userinfo and \"@\", the host, an optional port";
    /// RFC 3986 §3.2.1: userinfo.
    RFC3986_3_2_1 = Rfc(3986), "3.2.1", "User Information", Should,
        "\"user:password\" in the userinfo is deprecated; it is not to be shown or used as given";
    /// RFC 3986 §6.2.2: syntax-based normalisation.
    RFC3986_6_2_2 = Rfc(3986), "6.2.2", "Syntax-Based Normalization", Defines,
        "case, percent-encoding and dot segments normalised before URIs are compared";
    /// RFC 6749 §2.3: client authentication.
    RFC6749_2_3 = Rfc(6749), "2.3", "Client Authentication", Must,
        "a client MUST NOT use more than one authentication method per request";
    /// RFC 6749 §2.3.1: client passwords.
    RFC6749_2_3_1 = Rfc(6749), "2.3.1", "Client Password", Must,
        "client_secret_basic (HTTP Basic) or client_secret_post";
    /// RFC 6749 §3.1.2: the redirection endpoint.
    RFC6749_3_1_2 = Rfc(6749), "3.1.2", "Redirection Endpoint", Must,
        "an absolute URI without a fragment";
    /// RFC 6749 §3.2: the token endpoint.
    RFC6749_3_2 = Rfc(6749), "3.2", "Token Endpoint", Must,
        "POST with application/x-www-form-urlencoded; parameters MUST NOT be repeated";
    /// RFC 6749 §3.3: scope.
    RFC6749_3_3 = Rfc(6749), "3.3", "Access Token Scope", Defines,
        "space-delimited scope tokens; the server MAY grant fewer";
    /// RFC 6749 §4.1.2: the authorization response.
    RFC6749_4_1_2 = Rfc(6749), "4.1.2", "Authorization Response", Must,
        "a code is short-lived and used once";
    /// RFC 6749 §4.1.3: the code's token request.
    RFC6749_4_1_3 = Rfc(6749), "4.1.3", "Access Token Request", Must,
        "the code was issued to this client, and redirect_uri matches the authorization request";
    /// RFC 6749 §5.1: the successful token response.
    RFC6749_5_1 = Rfc(6749), "5.1", "Successful Response", Must,
        "access_token, token_type, expires_in; Cache-Control: no-store";
    /// RFC 6749 §5.2: the token error response.
    RFC6749_5_2 = Rfc(6749), "5.2", "Error Response", Must,
        "error, error_description; 400, or 401 for a failed client authentication";
    /// RFC 6749 §6: refreshing.
    RFC6749_6 = Rfc(6749), "6", "Refreshing an Access Token", Must,
        "the refresh token is valid and was issued to this client";
    /// RFC 6749 §10.4: refresh tokens.
    RFC6749_10_4 = Rfc(6749), "10.4", "Refresh Tokens", Must,
        "the server MUST bind a refresh token to the client it was issued to";
    /// RFC 6750 §2: how a bearer token is sent.
    RFC6750_2 = Rfc(6750), "2", "Authenticated Requests", Must,
        "clients MUST NOT use more than one method to send the token";
    /// RFC 6750 §2.3: the query parameter.
    RFC6750_2_3 = Rfc(6750), "2.3", "URI Query Parameter", May,
        "the access_token query parameter MAY be supported; the lab's API does not";
    /// RFC 6750 §3: the `WWW-Authenticate` header.
    RFC6750_3 = Rfc(6750), "3", "The WWW-Authenticate Response Header Field", Must,
        "a 401 carries WWW-Authenticate: Bearer with error and error_description";
    /// RFC 6750 §3.1: bearer error codes.
    RFC6750_3_1 = Rfc(6750), "3.1", "Error Codes", Must,
        "invalid_request 400, invalid_token 401, insufficient_scope 403";
    /// RFC 7515 §4.1.4: `kid`.
    RFC7515_4_1_4 = Rfc(7515), "4.1.4", "\"kid\" (Key ID) Header Parameter", May,
        "kid is OPTIONAL: a hint to which key signed";
    /// RFC 7515 §4.1.9: `typ`.
    RFC7515_4_1_9 = Rfc(7515), "4.1.9", "\"typ\" (Type) Header Parameter", Defines,
        "a media type, compared case-insensitively, application/ may be omitted";
    /// RFC 7515 §4.1.11: `crit`.
    RFC7515_4_1_11 = Rfc(7515), "4.1.11", "\"crit\" (Critical) Header Parameter", Must,
        "a JWS with a critical parameter the recipient does not understand MUST be refused";
    /// RFC 7515 §7.1: the compact serialization.
    RFC7515_7_1 = Rfc(7515), "7.1", "JWS Compact Serialization", Defines,
        "three base64url parts separated by dots";
    /// RFC 7519 §4.1.1: `iss`.
    RFC7519_4_1_1 = Rfc(7519), "4.1.1", "\"iss\" (Issuer) Claim", Defines, "who issued the JWT";
    /// RFC 7519 §4.1.3: `aud`.
    RFC7519_4_1_3 = Rfc(7519), "4.1.3", "\"aud\" (Audience) Claim", Must,
        "a recipient not named in aud MUST refuse the JWT";
    /// RFC 7519 §4.1.4: `exp`.
    RFC7519_4_1_4 = Rfc(7519), "4.1.4", "\"exp\" (Expiration Time) Claim", Must,
        "the JWT MUST NOT be accepted on or after exp, with a small leeway";
    /// RFC 7519 §4.1.5: `nbf`.
    RFC7519_4_1_5 = Rfc(7519), "4.1.5", "\"nbf\" (Not Before) Claim", Must,
        "the JWT MUST NOT be accepted before nbf, with a small leeway";
    /// RFC 7519 §4.1.6: `iat`.
    RFC7519_4_1_6 = Rfc(7519), "4.1.6", "\"iat\" (Issued At) Claim", Defines, "when the JWT was issued";
    /// RFC 7519 §4.1.7: `jti`.
    RFC7519_4_1_7 = Rfc(7519), "4.1.7", "\"jti\" (JWT ID) Claim", Defines,
        "a unique identifier, which can be used to prevent replay";
    /// RFC 7519 §4.2: other claim names.
    RFC7519_4_2 = Rfc(7519), "4.2", "Public Claim Names", Defines, "claims defined elsewhere";
    /// RFC 7523 §2.1: the jwt-bearer grant.
    RFC7523_2_1 = Rfc(7523), "2.1", "Using JWTs as Authorization Grants", Defines,
        "grant_type urn:ietf:params:oauth:grant-type:jwt-bearer with one JWT as assertion";
    /// RFC 7523 §3 item 1: `iss`.
    RFC7523_3_ITEM_1 = Rfc(7523), "3 item 1", "JWT Format and Processing Requirements", Must,
        "the JWT MUST contain iss, an issuer the AS trusts";
    /// RFC 7523 §3 item 4: `exp`.
    RFC7523_3_ITEM_4 = Rfc(7523), "3 item 4", "JWT Format and Processing Requirements", Must,
        "the JWT MUST contain exp, and the AS MUST refuse it after that time, with a small leeway";
    /// RFC 7523 §3 item 5: `nbf`.
    RFC7523_3_ITEM_5 = Rfc(7523), "3 item 5", "JWT Format and Processing Requirements", May,
        "the JWT MAY contain nbf";
    /// RFC 7523 §3 item 7: `jti`.
    RFC7523_3_ITEM_7 = Rfc(7523), "3 item 7", "JWT Format and Processing Requirements", May,
        "the JWT MAY contain jti; the AS MAY keep the jti values it has seen to refuse replays";
    /// RFC 7523 §3 item 9: the signature.
    RFC7523_3_ITEM_9 = Rfc(7523), "3 item 9", "JWT Format and Processing Requirements", Must,
        "the JWT MUST be digitally signed or MACed, and the AS MUST refuse an invalid signature";
    /// RFC 7591 §2: client metadata.
    RFC7591_2 = Rfc(7591), "2", "Client Metadata", Defines,
        "redirect_uris, grant_types, token_endpoint_auth_method and their types";
    /// RFC 7591 §2.1: grant and response types.
    RFC7591_2_1 = Rfc(7591), "2.1", "Relationship between Grant Types and Response Types", Should,
        "authorization_code goes with the code response type";
    /// RFC 7591 §3: the registration endpoint.
    RFC7591_3 = Rfc(7591), "3", "Client Registration Endpoint", Defines,
        "an OAuth 2.0 protected or open endpoint that registers clients";
    /// RFC 7591 §3.1: the registration request.
    RFC7591_3_1 = Rfc(7591), "3.1", "Client Registration Request", Must,
        "a JSON object of client metadata, sent as application/json";
    /// RFC 7636 §4: PKCE.
    RFC7636_4 = Rfc(7636), "4", "Protocol", Must, "code_challenge on the request, code_verifier on the token request";
    /// RFC 7636 §4.2: the code challenge.
    RFC7636_4_2 = Rfc(7636), "4.2", "Client Creates the Code Challenge", Must,
        "S256: BASE64URL(SHA256(code_verifier)), 43 characters";
    /// RFC 7636 §4.5: the code verifier on the token request.
    RFC7636_4_5 = Rfc(7636), "4.5", "Client Sends the Authorization Code and the Code Verifier to the Token Endpoint", Must,
        "the client sends code_verifier";
    /// RFC 7636 §4.6: the server's check.
    RFC7636_4_6 = Rfc(7636), "4.6", "Server Verifies code_verifier before Returning the Tokens", Must,
        "the server MUST refuse a verifier whose hash is not the challenge";
    /// RFC 7800 §3.1: `cnf`.
    RFC7800_3_1 = Rfc(7800), "3.1", "Confirmation Claim", Defines, "cnf names the key the presenter must prove";
    /// RFC 8414 §2: the metadata members, and a server's own.
    RFC8414_2 = Rfc(8414), "2", "Authorization Server Metadata", May,
        "the registered members, and additional members a server MAY publish of its own";
    /// RFC 8414 §3: metadata.
    RFC8414_3 = Rfc(8414), "3", "Obtaining Authorization Server Metadata", Defines,
        "metadata at /.well-known/oauth-authorization-server under the issuer";
    /// RFC 8414 §3.3: the issuer must match.
    RFC8414_3_3 = Rfc(8414), "3.3", "Authorization Server Metadata Validation", Must,
        "the metadata's issuer MUST be identical to the issuer it was fetched for";
    /// RFC 8693 §2.1: the token exchange request.
    RFC8693_2_1 = Rfc(8693), "2.1", "Request", Defines,
        "requested_token_type, subject_token, subject_token_type, audience, resource, scope";
    /// RFC 8693 §2.2.1: the token exchange response.
    RFC8693_2_2_1 = Rfc(8693), "2.2.1", "Successful Response", Must,
        "issued_token_type is REQUIRED; token_type N_A when the token is not an access token";
    /// RFC 8693 §2.2.2: token exchange errors.
    RFC8693_2_2_2 = Rfc(8693), "2.2.2", "Error Response", Must,
        "invalid_request for an unacceptable subject token, invalid_target for an unknown audience or resource";
    /// RFC 8693 §3: token type identifiers.
    RFC8693_3 = Rfc(8693), "3", "Token Type Identifiers", Defines,
        "the id_token, saml2 and refresh_token type URNs; a SAML assertion is base64url-encoded";
    /// RFC 8693 §4.3: `client_id`.
    RFC8693_4_3 = Rfc(8693), "4.3", "\"client_id\" (Client Identifier) Claim", Defines,
        "the client the token was issued to";
    /// RFC 8707 §2: `resource`.
    RFC8707_2 = Rfc(8707), "2", "Resource Parameter", Defines,
        "resource names the protected resource; invalid_target when it is not acceptable";
    /// RFC 8725 §3.1: algorithm verification.
    RFC8725_3_1 = Rfc(8725), "3.1", "Perform Algorithm Verification", Must,
        "accept only the algorithms expected, never none";
    /// RFC 8725 §3.8: issuer validation.
    RFC8725_3_8 = Rfc(8725), "3.8", "Validate Issuer and Subject", Must,
        "the issuer MUST be one the recipient trusts, with keys that belong to it";
    /// RFC 8725 §3.10: received claims.
    RFC8725_3_10 = Rfc(8725), "3.10", "Do Not Trust Received Claims", Must,
        "a kid MUST NOT be used to fetch a key from anywhere the recipient does not trust";
    /// RFC 8725 §3.11: explicit typing.
    RFC8725_3_11 = Rfc(8725), "3.11", "Use Explicit Typing", Should,
        "each kind of JWT has its own typ";
    /// RFC 8725 §3.12: one kind of JWT is not another.
    RFC8725_3_12 = Rfc(8725), "3.12", "Use Mutually Exclusive Validation Rules for Different Kinds of JWTs", Must,
        "a JWT of one kind MUST NOT validate as another";
    /// RFC 9068 §2.1: the access token header.
    RFC9068_2_1 = Rfc(9068), "2.1", "Header", Must, "typ at+jwt";
    /// RFC 9068 §2.2: the access token claims.
    RFC9068_2_2 = Rfc(9068), "2.2", "Data Structure", Must,
        "iss, exp, aud, sub, client_id, iat and jti are REQUIRED";
    /// RFC 9068 §2.2.3: scope in an access token.
    RFC9068_2_2_3 = Rfc(9068), "2.2.3", "Authorization Claims", Defines, "scope as in RFC 8693 §4.2";
    /// RFC 9068 §4: validating an access token.
    RFC9068_4 = Rfc(9068), "4", "Validating JWT Access Tokens", Must,
        "typ at+jwt, iss is the AS, aud is this resource, a valid signature, not expired";
    /// RFC 9728 §3: the protected resource's metadata.
    RFC9728_3 = Rfc(9728), "3", "Obtaining Protected Resource Metadata", Defines,
        "metadata at /.well-known/oauth-protected-resource, inserted between host and path of the resource identifier";
    /// RFC 9728 §3.3: the metadata names the resource it was fetched for.
    RFC9728_3_3 = Rfc(9728), "3.3", "Protected Resource Metadata Validation", Must,
        "the resource in the metadata MUST be identical to the resource identifier the well-known URL was built from";
    /// RFC 9728 §5.1: the metadata URL in a challenge.
    RFC9728_5_1 = Rfc(9728), "5.1", "WWW-Authenticate Response", May,
        "a 401 challenge MAY name the metadata URL in its resource_metadata parameter";
    /// RFC 9449 §4.1: the `DPoP` header.
    RFC9449_4_1 = Rfc(9449), "4.1", "The DPoP HTTP Header", Defines, "one DPoP proof JWT per request";
    /// RFC 9449 §4.3: checking a DPoP proof.
    RFC9449_4_3 = Rfc(9449), "4.3", "Checking DPoP Proofs", Must,
        "typ dpop+jwt, an asymmetric alg, a public jwk that verifies it, htm, htu, iat, jti, ath and nonce";
    /// RFC 9449 §4.2: the proof's syntax.
    RFC9449_4_2 = Rfc(9449), "4.2", "DPoP Proof JWT Syntax", Must,
        "header typ, alg, jwk; claims jti, htm, htu, iat, and ath with an access token";
    /// RFC 9449 §4.3 item 1.
    RFC9449_4_3_ITEM_1 = Rfc(9449), "4.3 item 1", "Checking DPoP Proofs", Must, "there is exactly one DPoP header field";
    /// RFC 9449 §4.3 item 2.
    RFC9449_4_3_ITEM_2 = Rfc(9449), "4.3 item 2", "Checking DPoP Proofs", Must, "the value is a single well-formed JWT";
    /// RFC 9449 §4.3 item 3.
    RFC9449_4_3_ITEM_3 = Rfc(9449), "4.3 item 3", "Checking DPoP Proofs", Must, "every required claim is present";
    /// RFC 9449 §4.3 item 4.
    RFC9449_4_3_ITEM_4 = Rfc(9449), "4.3 item 4", "Checking DPoP Proofs", Must, "typ is dpop+jwt";
    /// RFC 9449 §4.3 item 5.
    RFC9449_4_3_ITEM_5 = Rfc(9449), "4.3 item 5", "Checking DPoP Proofs", Must, "alg is an asymmetric algorithm the server accepts";
    /// RFC 9449 §4.3 item 6.
    RFC9449_4_3_ITEM_6 = Rfc(9449), "4.3 item 6", "Checking DPoP Proofs", Must, "the signature verifies with the public key in the jwk header";
    /// RFC 9449 §4.3 item 7.
    RFC9449_4_3_ITEM_7 = Rfc(9449), "4.3 item 7", "Checking DPoP Proofs", Must, "the jwk header holds no private key";
    /// RFC 9449 §4.3 item 8.
    RFC9449_4_3_ITEM_8 = Rfc(9449), "4.3 item 8", "Checking DPoP Proofs", Must, "htm is the request's method";
    /// RFC 9449 §4.3 item 9.
    RFC9449_4_3_ITEM_9 = Rfc(9449), "4.3 item 9", "Checking DPoP Proofs", Must, "htu is the request's URI without query and fragment";
    /// RFC 9449 §4.3 item 10.
    RFC9449_4_3_ITEM_10 = Rfc(9449), "4.3 item 10", "Checking DPoP Proofs", Must, "nonce, when the server gave one, is that nonce";
    /// RFC 9449 §4.3 item 11.
    RFC9449_4_3_ITEM_11 = Rfc(9449), "4.3 item 11", "Checking DPoP Proofs", Must, "iat is within an acceptable window";
    /// RFC 9449 §4.3 item 12.
    RFC9449_4_3_ITEM_12 = Rfc(9449), "4.3 item 12", "Checking DPoP Proofs", Must, "with an access token: ath is its hash, and the key is the one the token is bound to";
    /// RFC 9449 §5: DPoP access token requests.
    RFC9449_5 = Rfc(9449), "5", "DPoP Access Token Request", Must,
        "a DPoP-bound access token has token_type DPoP";
    /// RFC 9449 §6: `cnf.jkt`.
    RFC9449_6 = Rfc(9449), "6", "Public Key Confirmation", Defines,
        "cnf.jkt is the JWK SHA-256 thumbprint of the proof key";
    /// RFC 9449 §7.1: the DPoP authentication scheme.
    RFC9449_7_1 = Rfc(9449), "7.1", "The DPoP Authentication Scheme", Must,
        "a DPoP-bound token is sent as Authorization: DPoP with a proof whose ath is the token's hash";
    /// RFC 9449 §8: server-provided nonces.
    RFC9449_8 = Rfc(9449), "8", "Authorization Server-Provided Nonce", Must,
        "use_dpop_nonce with a DPoP-Nonce header; the next proof carries that nonce";
    /// RFC 9449 §11.1: replayed proofs.
    RFC9449_11_1 = Rfc(9449), "11.1", "DPoP Proof Replay", Should,
        "a server keeps the jti of recent proofs and refuses one used again, within a short iat window";
    /// RFC 7638 §3.2: the members of a JWK thumbprint.
    RFC7638_3_2 = Rfc(7638), "3.2", "JWK Members Used in the Thumbprint Computation", Must,
        "only the required members of the key type, in lexicographic order";
    /// RFC 9700 §2.1.1: PKCE for every client.
    RFC9700_2_1_1 = Rfc(9700), "2.1.1", "Authorization Code Grant", Should,
        "clients SHOULD use PKCE; authorization servers MUST support it";
    /// RFC 9700 §4.14.2: refresh token replay.
    RFC9700_4_14_2 = Rfc(9700), "4.14.2", "Recommendations", Must,
        "refresh tokens of public clients MUST be sender-constrained or rotated; a reused one revokes the family";

    // OpenID Connect Core 1.0
    /// OIDC Core §2: the ID token.
    OIDC_2 = OidcCore, "2", "ID Token", Must, "iss, sub, aud, exp and iat are REQUIRED; nonce when sent";
    /// OIDC Core §3.1.2.1: the authentication request.
    OIDC_3_1_2_1 = OidcCore, "3.1.2.1", "Authentication Request", Must,
        "scope openid, response_type, client_id, redirect_uri";
    /// OIDC Core §3.1.3.7: ID token validation.
    OIDC_3_1_3_7 = OidcCore, "3.1.3.7", "ID Token Validation", Must,
        "signature, iss, aud, exp, and nonce equal to the one sent (item 11)";
    /// OIDC Core §5.1: standard claims.
    OIDC_5_1 = OidcCore, "5.1", "Standard Claims", Defines, "email, email_verified, name";
    /// OIDC Core §11: offline access.
    OIDC_11 = OidcCore, "11", "Offline Access", Must,
        "a refresh token for offline_access needs consent and prompt=consent";

    /// RP-Initiated Logout §6: a logout request nobody can vouch for.
    OIDC_LOGOUT_6 = OidcLogout, "6", "Security Considerations", Should,
        "a logout request without a valid id_token_hint may be forged: ask the user before ending the session";

    // SAML 2.0
    /// SAML 2.0 Core §2.5.1.2: validity window.
    SAML_CORE_2_5_1_2 = Saml2Core, "2.5.1.2", "Attributes NotBefore and NotOnOrAfter", Must,
        "an assertion is valid from NotBefore to just before NotOnOrAfter";
    /// SAML 2.0 Core §3.4.1: `AuthnRequest`.
    SAML_CORE_3_4_1 = Saml2Core, "3.4.1", "Element <AuthnRequest>", Defines, "the request a SAML SP sends";
    /// SAML 2.0 Bindings §3.4.4.1: DEFLATE encoding.
    SAML_BINDINGS_3_4_4_1 = Saml2Bindings, "3.4.4.1", "DEFLATE Encoding", Must,
        "HTTP-Redirect messages are DEFLATE-compressed, base64 and URL-encoded";
    /// SAML 2.0 Bindings §3.5.4: HTTP-POST encoding.
    SAML_BINDINGS_3_5_4 = Saml2Bindings, "3.5.4", "Message Encoding", Must, "HTTP-POST messages are base64 XML";
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
