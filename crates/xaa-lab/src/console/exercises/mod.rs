//! The exercises: one page per break-it switch, written as "predict, run, explain". Each links to
//! the admin page's switch (the admin token turns it on) and to the explorer step to run.

mod texts;

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use xaa_faults::Fault;

use super::ConsoleState;
use super::lab_status::LabStatus;
pub(crate) use texts::{EXERCISES, Exercise, exercise};

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
    /// Whom the switch is on for, if it is on.
    on_for: Option<String>,
    /// The client ids of the explorer, to scope the switch to oneself.
    explorer_client: String,
    step_title: &'static str,
    effect: &'static str,
    component: &'static str,
}

/// Whom the switch of `fault` is on for, when it is on.
fn on_for(st: &ConsoleState, fault: Fault) -> Option<String> {
    st.admin.faults.list().iter().find(|s| s.fault == fault).map(super::lab_status::whom)
}

pub(crate) async fn index(State(st): State<Arc<ConsoleState>>) -> Response {
    let exercises = EXERCISES.iter().map(|e| (*e, on_for(&st, e.fault))).collect();
    IndexPage { lab_status: LabStatus::of(&st), exercises }.into_response()
}

pub(crate) async fn page(State(st): State<Arc<ConsoleState>>, Path(name): Path<String>) -> Response {
    let found = Fault::from_name(&name).and_then(exercise).copied();
    let page = ExercisePage {
        lab_status: LabStatus::of(&st),
        exercise: found,
        on_for: found.and_then(|e| on_for(&st, e.fault)),
        explorer_client: st.explorer.client_id.clone(),
        step_title: found.map(|e| super::explorer::step_title(e.step)).unwrap_or(""),
        effect: found.map(|e| e.fault.effect()).unwrap_or(""),
        component: found.map(|e| e.fault.component()).unwrap_or(""),
        name,
    };
    match page.exercise {
        Some(_) => page.into_response(),
        None => (StatusCode::NOT_FOUND, page).into_response(),
    }
}
