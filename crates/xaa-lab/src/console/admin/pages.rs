//! The admin pages: overview (requestors, connections, ID-JAG re-use, switches, clock, keys) and one
//! requestor's credentials, SAML service provider and report card (registration is in
//! `register.rs`). Every form carries the
//! console's CSRF token; a change redirects back with a one-line message.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use xaa_core::oauth::FormParams;
use xaa_faults::Fault;
use xaa_idp::{Connection, IdpClient, PublishedKey, SamlServiceProvider, Tenant};
use xaa_web::csrf::{CsrfForm, CsrfRejection, CsrfToken};
use xaa_web::redirect::SeeOther;

use super::AdminAuth;
use super::api::{SwitchOn, turn_off, turn_on};
use crate::admin::Registered;
use crate::admin::report_card::Card;
use crate::console::ConsoleState;
use crate::console::reuse::ReuseView;

#[derive(Deserialize, Default)]
pub(crate) struct Flash {
    msg: Option<String>,
    ok: Option<String>,
    token: Option<String>,
    tenant: Option<String>,
    /// The section of the overview the change was made in (its message shows there).
    at: Option<String>,
}

/// A part of the overview: a change made in it comes back to it, its message shown there, instead
/// of to the top of a long page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    Top,
    Clients,
    Connections,
    Reuse,
    Switches,
    Clock,
    Keys,
    Reset,
}

impl Section {
    const ALL: [Section; 8] = [
        Section::Top,
        Section::Clients,
        Section::Connections,
        Section::Reuse,
        Section::Switches,
        Section::Clock,
        Section::Keys,
        Section::Reset,
    ];

    /// Its element id on the page (the anchor a change comes back to).
    pub(crate) fn id(self) -> &'static str {
        match self {
            Section::Top => "top",
            Section::Clients => "clients-section",
            Section::Connections => "connections-section",
            Section::Reuse => "id-jag-reuse",
            Section::Switches => "switches-section",
            Section::Clock => "clock-section",
            Section::Keys => "keys-section",
            Section::Reset => "reset-section",
        }
    }

    fn from_id(id: Option<&str>) -> Self {
        Section::ALL.into_iter().find(|s| Some(s.id()) == id).unwrap_or(Section::Top)
    }
}

/// Back to the overview's `section` (post-redirect-get), with a one-line message shown there.
pub(super) fn back_to(to: &str, section: Section, ok: bool, msg: impl AsRef<str>) -> Response {
    let m = form_urlencoded::byte_serialize(msg.as_ref().as_bytes()).collect::<String>();
    let sep = if to.contains('?') { '&' } else { '?' };
    let id = section.id();
    SeeOther::to(&format!("{to}{sep}ok={}&msg={m}&at={id}#{id}", u8::from(ok))).into_response()
}

/// "1 switch", "2 switches".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One button of the lab clock: how far it moves the clock, and what that expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClockStep {
    pub(crate) seconds: i64,
    pub(crate) label: String,
    pub(crate) expires: String,
}

/// `7261` → "2 h 1 min 1 s".
fn duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let parts = [(h, "h"), (m, "min"), (s, "s")];
    let shown: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n} {unit}")).collect();
    if shown.is_empty() { "0 s".into() } else { shown.join(" ") }
}

/// The clock's steps: each moves the clock just past a lifetime and the validators' leeway, so
/// every token of that kind issued before it is refused as expired.
pub(crate) fn clock_steps(lifetimes: crate::LabLifetimes) -> Vec<ClockStep> {
    let leeway = xaa_core::JWT_LEEWAY;
    let kinds = [
        (xaa_faults::SHORT_LIFETIME, "tokens issued while the short-lifetimes switch is on"),
        (lifetimes.idp.id_jag, "ID-JAGs"),
        (lifetimes.idp.id_token, "ID tokens"),
        (lifetimes.access_token, "access tokens"),
    ];
    let mut steps: Vec<ClockStep> = Vec::new();
    for (lifetime, what) in kinds {
        let seconds = lifetime + leeway + 1;
        if let Some(same) = steps.iter_mut().find(|s| s.seconds == seconds) {
            same.expires = format!("{} and {what}", same.expires);
            continue;
        }
        steps.push(ClockStep {
            seconds,
            label: format!("+{}", duration(seconds)),
            expires: format!("{what} ({lifetime} s, plus the {leeway} s leeway)"),
        });
    }
    steps.sort_by_key(|s| s.seconds);
    steps.into_iter().map(|s| ClockStep { expires: format!("expires {}", s.expires), ..s }).collect()
}

/// A switch as the overview lists it.
pub(crate) struct SwitchRow {
    name: &'static str,
    component: &'static str,
    effect: &'static str,
    on: bool,
    scope: String,
    delay_ms: u64,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
struct Overview {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    message: Option<(bool, String)>,
    /// The id of the section the message belongs to.
    message_at: &'static str,
    clients: Vec<(IdpClient, bool)>,
    /// The tenant whose connections are shown, and every tenant (the selector).
    tenant: Tenant,
    tenants: Vec<Tenant>,
    /// Each connection of the tenant with the scopes its resource defines (its checkboxes).
    connections: Vec<(Connection, Vec<String>)>,
    /// The todo API's scopes (the grant form's checkboxes).
    scopes: Vec<String>,
    /// Each resource's ID-JAG re-use policy, and the decision it rests on.
    reuse: Vec<ReuseView>,
    reuse_decision: String,
    reuse_why: &'static str,
    switches: Vec<SwitchRow>,
    now: String,
    offset: i64,
    clock_steps: Vec<ClockStep>,
    keys: Vec<(String, Option<String>)>,
    /// The join code, how many joined with it and the cap.
    join: (String, usize, usize),
}

fn flash(f: &Flash) -> Option<(bool, String)> {
    f.msg.clone().map(|m| (f.ok.as_deref() == Some("1"), m))
}

pub(super) fn back(to: &str, ok: bool, msg: impl AsRef<str>) -> Response {
    let m = form_urlencoded::byte_serialize(msg.as_ref().as_bytes()).collect::<String>();
    let sep = if to.contains('?') { '&' } else { '?' };
    SeeOther::to(&format!("{to}{sep}ok={}&msg={m}", u8::from(ok))).into_response()
}

pub(super) fn time(t: i64) -> String {
    xaa_core::claims::numeric_date(t)
}

pub(crate) async fn overview(
    auth: Result<AdminAuth, super::Refused>,
    State(st): State<Arc<ConsoleState>>,
    jar: CookieJar,
    csrf: CsrfToken,
    f: Result<Query<Flash>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let f = f.map(|Query(f)| f).unwrap_or_default();
    // `/admin?token=…` (the link lab prints) signs this browser in once.
    if let Some(t) = &f.token {
        return super::sign_in::sign_in(&st, jar, csrf, t, "/admin");
    }
    if let Err(r) = auth {
        return r.into_response();
    }
    let a = &st.admin;
    // An unknown tenant shows the default one, saying so (unless a change's message is waiting).
    let (tenant, message) = match a.tenant(f.tenant.as_deref()) {
        Ok(t) => (t, flash(&f)),
        Err(e) => (a.idp.tenants().default_tenant().clone(), flash(&f).or(Some((false, e.to_string())))),
    };
    let on = a.faults.list();
    let switches = Fault::ALL
        .into_iter()
        .map(|fault| {
            let s = on.iter().find(|s| s.fault == fault);
            SwitchRow {
                name: fault.name(),
                component: fault.component(),
                effect: fault.effect(),
                on: s.is_some(),
                scope: match s {
                    Some(s) if !s.clients.is_empty() => s.clients.join(" / "),
                    Some(_) => "every client".into(),
                    None => String::new(),
                },
                delay_ms: s.map(|s| s.delay_ms).unwrap_or(0),
            }
        })
        .collect();
    let scopes = a.lab_authorization_server().and_then(|s| s.resources.first()).map(|r| r.scopes.clone());
    let now = a.clock.now();
    let page = Overview {
        lab_status: crate::console::lab_status::LabStatus::of(&st),
        csrf: csrf.value().to_owned(),
        message,
        message_at: Section::from_id(f.at.as_deref()).id(),
        clients: a.idp.clients().into_iter().map(|c| (c.clone(), !a.idp.is_fixture_client(&c.client_id))).collect(),
        connections: {
            let servers = a.idp.authorization_servers();
            a.idp
                .connections()
                .into_iter()
                .filter(|c| c.tenant == tenant.id)
                .map(|c| {
                    let defined = servers
                        .iter()
                        .filter(|s| s.issuer == c.authorization_server)
                        .flat_map(|s| s.resources.iter())
                        .find(|r| r.resource == c.resource)
                        .map(|r| r.scopes.clone());
                    // A resource no longer governed still shows what the connection grants.
                    let scopes = defined.unwrap_or_else(|| c.scopes.clone());
                    (c, scopes)
                })
                .collect()
        },
        tenants: a.idp.tenants().all().to_vec(),
        tenant,
        scopes: scopes.unwrap_or_default(),
        reuse: a.resource_as.reuse_policies().iter().map(ReuseView::from).collect(),
        reuse_decision: crate::console::reuse::decision(),
        reuse_why: crate::console::reuse::WHY,
        switches,
        now: time(now),
        offset: super::api::clock_json(&st)["offset_seconds"].as_i64().unwrap_or(0),
        clock_steps: clock_steps(a.lifetimes),
        keys: a.idp.published_keys().into_iter().map(|k: PublishedKey| (k.kid, k.until.map(time))).collect(),
        join: {
            let (joined, cap) = a.join.count();
            (a.join.code().to_owned(), joined, cap)
        },
    };
    (csrf, page).into_response()
}

/// The form of a change, once its CSRF token is this browser's. A refused one goes back to
/// `/admin` saying the page was open too long.
pub(crate) struct AdminForm(pub(crate) FormParams);

impl FromRequest<Arc<ConsoleState>> for AdminForm {
    type Rejection = Response;

    async fn from_request(req: Request, st: &Arc<ConsoleState>) -> Result<Self, Response> {
        match CsrfForm::<Bytes>::from_request(req, st).await {
            Ok(CsrfForm(body)) => Ok(Self(FormParams::parse(&body))),
            Err(CsrfRejection::Forged(_)) => {
                Err(back("/admin", false, "This page was open too long (its form token expired); try again."))
            }
            Err(CsrfRejection::Unreadable(e)) => Err(e.into_response()),
        }
    }
}

pub(super) fn text(form: &FormParams, name: &str) -> Option<String> {
    form.single(name).ok().flatten().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_client.html")]
struct ClientPage {
    lab_status: crate::console::lab_status::LabStatus,
    csrf: String,
    fresh: bool,
    registered: bool,
    r: Registered,
    card: Card,
    connected: bool,
    /// The outcome of the SAML form.
    message: Option<(bool, String)>,
    /// Its SAML service provider, if it has one.
    saml: Option<SamlServiceProvider>,
    /// The IdP's SAML SSO and metadata URLs.
    saml_sso: String,
    saml_metadata: String,
    /// The SAML form's NameID format choices, the SP's selected.
    name_id_formats: Vec<(&'static str, bool)>,
}

#[derive(Deserialize, Default)]
pub(crate) struct New {
    new: Option<u8>,
    msg: Option<String>,
    ok: Option<String>,
}

pub(crate) async fn client(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    csrf: CsrfToken,
    Path(id): Path<String>,
    n: Result<Query<New>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let n = n.map(|Query(n)| n).unwrap_or_default();
    let Some(r) = st.admin.registered(&id) else {
        return back("/admin", false, format!("There is no client \"{id}\"."));
    };
    let message = flash(&Flash { msg: n.msg, ok: n.ok, ..Flash::default() });
    client_page(&st, csrf, r, n.new == Some(1), message).await
}

/// A client's page; `fresh` right after its registration, when `r` holds the IdP client secret
/// (the IdP keeps only its hash: this page is the one place it is shown).
pub(crate) async fn client_page(
    st: &ConsoleState,
    csrf: CsrfToken,
    r: crate::admin::Registered,
    fresh: bool,
    message: Option<(bool, String)>,
) -> Response {
    let id = r.client_id.to_string();
    let connected = st.admin.idp.connections().iter().any(|c| c.client_id == id);
    let saml = st.admin.saml_service_provider(&id).await;
    let format = saml.as_ref().map(|sp| sp.name_id_format.clone()).unwrap_or_default();
    let issuer = st.admin.idp.issuer();
    let page = ClientPage {
        lab_status: crate::console::lab_status::LabStatus::of(st),
        csrf: csrf.value().to_owned(),
        fresh,
        registered: !st.admin.idp.is_fixture_client(&id),
        card: st.admin.report_cards.card(&id),
        r,
        connected,
        message,
        saml,
        saml_sso: format!("{issuer}/saml/sso"),
        saml_metadata: format!("{issuer}/saml/metadata"),
        name_id_formats: super::register::format_choice(&format),
    };
    (csrf, page).into_response()
}

pub(crate) async fn delete_client(
    _: AdminAuth,
    State(st): State<Arc<ConsoleState>>,
    Path(id): Path<String>,
    _: AdminForm,
) -> Response {
    match st.admin.unregister(&id).await {
        Ok(()) => back_to("/admin", Section::Clients, true, format!("Deleted \"{id}\" and its connection.")),
        Err(e) => back_to("/admin", Section::Clients, false, e.to_string()),
    }
}

pub(crate) async fn switch(_: AdminAuth, State(st): State<Arc<ConsoleState>>, AdminForm(form): AdminForm) -> Response {
    let name = text(&form, "name").unwrap_or_default();
    if text(&form, "action").as_deref() == Some("off") {
        return match Fault::from_name(&name) {
            Some(f) => {
                turn_off(&st, f);
                back_to("/admin", Section::Switches, true, format!("Switch {name} is off."))
            }
            None => back_to("/admin", Section::Switches, false, format!("There is no switch \"{name}\".")),
        };
    }
    let delay_ms = match text(&form, "delay_ms").map(|d| d.parse::<u64>()) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            return back_to(
                "/admin",
                Section::Switches,
                false,
                "The delay is a whole number of milliseconds (0 to 60000).",
            );
        }
    };
    let on = SwitchOn { client_id: text(&form, "client_id"), delay_ms };
    match turn_on(&st, &name, &on) {
        Ok(s) => back_to("/admin", Section::Switches, true, format!("Switch {name} is on: {}", s.fault.effect())),
        Err((_, m)) => back_to("/admin", Section::Switches, false, m),
    }
}

pub(crate) async fn clock(_: AdminAuth, State(st): State<Arc<ConsoleState>>, AdminForm(form): AdminForm) -> Response {
    let Some(s) = text(&form, "advance").and_then(|s| s.parse::<i64>().ok()) else {
        return back_to("/admin", Section::Clock, false, "Move the clock by a whole number of seconds.");
    };
    match st.admin.advance_clock(s) {
        Ok(now) => {
            back_to("/admin", Section::Clock, true, format!("The lab clock moved {s} s; it now reads {}.", time(now)))
        }
        Err(e) => back_to("/admin", Section::Clock, false, e.to_string()),
    }
}

pub(crate) async fn rotate(_: AdminAuth, State(st): State<Arc<ConsoleState>>, _: AdminForm) -> Response {
    let s = st.clone();
    match tokio::task::spawn_blocking(move || s.admin.rotate_idp_key()).await {
        Ok(Ok(r)) => back_to(
            "/admin",
            Section::Keys,
            true,
            format!(
                "The IdP now signs with \"{}\"; \"{}\" stays in the JWKS until {}.",
                r.kid,
                r.previous_kid,
                time(r.previous_published_until)
            ),
        ),
        Ok(Err(e)) => back_to("/admin", Section::Keys, false, e.to_string()),
        Err(e) => back_to("/admin", Section::Keys, false, e.to_string()),
    }
}

/// The reset button: needs its confirmation box ticked.
pub(crate) async fn reset(_: AdminAuth, State(st): State<Arc<ConsoleState>>, AdminForm(form): AdminForm) -> Response {
    if text(&form, "confirm").as_deref() != Some("yes") {
        return back_to(
            "/admin",
            Section::Reset,
            false,
            "Nothing was reset: tick the box to confirm, then press Reset the room again.",
        );
    }
    let keep = text(&form, "keep_registrations").as_deref() == Some("yes");
    match st.admin.reset(keep).await {
        Ok(r) => back_to(
            "/admin",
            Section::Reset,
            true,
            format!(
                "The room is reset: {} turned off, the clock is back on the wall clock, the trace and the audit log are empty, the fixture policy is reseeded; {}.",
                count(r.switches_turned_off.len(), "switch", "switches"),
                if keep {
                    "registered requestors were kept".to_owned()
                } else {
                    format!(
                        "{} deleted",
                        count(r.removed_clients.len(), "registered requestor", "registered requestors")
                    )
                }
            ),
        ),
        Err(e) => back_to("/admin", Section::Reset, false, format!("The reset failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_clock_step_passes_one_lifetime_and_the_leeway() {
        let steps = clock_steps(crate::LabLifetimes::default());
        let shown: Vec<(i64, &str)> = steps.iter().map(|s| (s.seconds, s.label.as_str())).collect();
        assert_eq!(shown, [(91, "+1 min 31 s"), (361, "+6 min 1 s"), (661, "+11 min 1 s"), (7261, "+2 h 1 min 1 s")]);
        assert_eq!(steps[1].expires, "expires ID-JAGs (300 s, plus the 60 s leeway)");
        // Lifetimes that coincide share one step.
        let same = clock_steps(crate::LabLifetimes::short(30));
        assert_eq!(same.len(), 1, "{same:?}");
        assert!(same[0].expires.contains(" and ID-JAGs and ID tokens and access tokens"), "{same:?}");
        assert_eq!((duration(0), duration(3600), duration(59)), ("0 s".into(), "1 h".into(), "59 s".into()));
    }

    #[test]
    fn a_change_comes_back_to_its_section() {
        for section in Section::ALL {
            assert_eq!(Section::from_id(Some(section.id())), section);
        }
        assert_eq!(Section::from_id(Some("elsewhere")), Section::Top);
        assert_eq!(Section::from_id(None), Section::Top);
        let resp = back_to("/admin?tenant=customer2", Section::Clock, true, "moved 5 s");
        let location = resp.headers()["location"].to_str().unwrap();
        assert_eq!(location, "/admin?tenant=customer2&ok=1&msg=moved+5+s&at=clock-section#clock-section");
        assert_eq!(
            (count(1, "switch", "switches"), count(2, "switch", "switches")),
            ("1 switch".into(), "2 switches".into())
        );
    }
}
