//! The exercises: one page per break-it switch, and one for a resource's ID-JAG re-use policy,
//! written as "predict, run, explain". Each links to the admin page's switch or policy (the admin
//! token changes it) and to the explorer step to run.

mod prediction;
mod texts;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use xaa_resource_as::ReusePolicy;

use super::ConsoleState;
use super::lab_status::LabStatus;
use prediction::{Outcome, names_the_check};
pub(crate) use texts::{EXERCISES, Exercise, Lever, exercise};

#[derive(Template, WebTemplate)]
#[template(path = "exercises.html")]
struct IndexPage {
    lab_status: LabStatus,
    exercises: Vec<(Exercise, Option<String>)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "exercise.html")]
struct ExercisePage {
    lab_status: LabStatus,
    /// The exercise shown; none: the name matched no switch.
    exercise: Option<Exercise>,
    /// The name asked for.
    name: String,
    /// Whom the switch is on for, or where re-use is allowed, if anywhere.
    on_for: Option<String>,
    /// The client ids of the explorer, to scope the switch to oneself.
    explorer_client: String,
    /// The todo API's resource identifier (the re-use policy's curl example).
    todo_api: String,
    /// Lab Notes, which names the re-use policy beside its token.
    notes: String,
    step_title: &'static str,
    effect: &'static str,
    component: &'static str,
    /// The re-use exercise's passing `jti` check for a re-submission, as the explorer lists it.
    resubmitted: Option<String>,
    /// What the re-use exercise rests on, one row per reference.
    rests_on: Vec<RestsOn>,
    /// The prediction's choices: `(value, label, chosen)`.
    outcomes: Vec<(&'static str, &'static str, bool)>,
    /// What the participant predicted, if they did.
    predicted: Option<Predicted>,
    /// The answer is shown (asked for); until then nothing of it is on the page.
    revealed: bool,
}

/// The page's query: the prediction, and whether the answer is asked for.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PredictQuery {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    check: String,
    #[serde(default)]
    reveal: String,
}

/// A prediction as the page shows it, and, once revealed, whether each part was right.
struct Predicted {
    outcome: Option<Outcome>,
    check: String,
    outcome_right: bool,
    check_right: bool,
}

/// One reference an exercise rests on, labelled with its level (a lab decision, an MCP profile
/// rule, a MAY of the draft) and the registry's one-line why.
struct RestsOn {
    level: &'static str,
    reference: String,
    title: &'static str,
    why: &'static str,
}

/// The rows of `cites`.
fn rests_on(cites: xaa_core::spec::Citation) -> Vec<RestsOn> {
    cites
        .references()
        .iter()
        .map(|r| RestsOn { level: r.level.label(), reference: r.to_string(), title: r.title, why: r.why })
        .collect()
}

/// Whom the switch of `lever` is on for, when it is on; for the re-use policy, the resources
/// that accept an ID-JAG again, if any.
fn on_for(st: &ConsoleState, lever: Lever) -> Option<String> {
    match lever {
        Lever::Switch(fault) => st.admin.faults.list().iter().find(|s| s.fault == fault).map(super::lab_status::whom),
        Lever::ReusePolicy => {
            let reusable: Vec<String> = st
                .admin
                .resource_as
                .reuse_policies()
                .into_iter()
                .filter(|r| r.policy == ReusePolicy::ReusableUntilExp)
                .map(|r| r.resource.to_string())
                .collect();
            (!reusable.is_empty()).then(|| reusable.join(", "))
        }
    }
}

pub(crate) async fn index(State(st): State<Arc<ConsoleState>>) -> Response {
    let exercises = EXERCISES.iter().map(|e| (*e, on_for(&st, e.lever))).collect();
    IndexPage { lab_status: LabStatus::of(&st), exercises }.into_response()
}

pub(crate) async fn page(
    State(st): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
    query: Result<Query<PredictQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let found = Lever::from_name(&name).and_then(exercise).copied();
    let outcome = Outcome::from_value(&q.outcome);
    let check: String = q.check.trim().chars().take(80).collect();
    let predicted = found.filter(|_| outcome.is_some() || !check.is_empty()).map(|e| Predicted {
        outcome,
        outcome_right: outcome == Some(e.outcome),
        check_right: names_the_check(&check, e.check),
        check: check.clone(),
    });
    let reuse = found.is_some_and(|e| e.lever == Lever::ReusePolicy);
    let page = ExercisePage {
        lab_status: LabStatus::of(&st),
        exercise: found,
        on_for: found.and_then(|e| on_for(&st, e.lever)),
        explorer_client: st.explorer.client_id.clone(),
        todo_api: st.urls.todo_api.clone(),
        notes: st.urls.notes.clone(),
        step_title: found.map(|e| super::explorer::step_title(e.step)).unwrap_or(""),
        effect: found.map(|e| e.lever.effect()).unwrap_or(""),
        component: found.map(|e| e.lever.component()).unwrap_or(""),
        resubmitted: reuse.then(|| format!("{} ({})", texts::RESUBMITTED, texts::RESUBMITTED_CITES)),
        rests_on: if reuse { rests_on(texts::REUSE_RESTS_ON) } else { Vec::new() },
        outcomes: Outcome::ALL.into_iter().map(|o| (o.value(), o.label(), Some(o) == outcome)).collect(),
        predicted,
        revealed: q.reveal == "1",
        name,
    };
    match page.exercise {
        Some(_) => page.into_response(),
        None => (StatusCode::NOT_FOUND, page).into_response(),
    }
}
