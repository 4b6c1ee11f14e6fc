//! The todo endpoints. Reads need `todos.read`, writes `todos.write`; todos are per user (`sub`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use xaa_core::claims::AccessTokenClaims;

use crate::bearer::{Authorized, ReadTodos, WriteTodos};
use crate::state::TodoState;
use crate::store::Todo;

/// Longest accepted title, in characters.
const MAX_TITLE: usize = 500;

type ApiResult = Result<Json<Value>, ApiError>;

/// A refused or failed todo request: `{"success": false, "error": ..., "error_description": ...}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "success": false, "error": self.error, "error_description": self.description });
        (self.status, Json(body)).into_response()
    }
}

fn fail(status: StatusCode, error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError { status, error, description: description.into() }
}

fn storage(e: xaa_core::sqlite::DbError) -> ApiError {
    tracing::error!(error = %e, "todo storage failed");
    fail(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "the todo API could not read or write its storage")
}

fn not_found(id: i64) -> ApiError {
    fail(StatusCode::NOT_FOUND, "not_found", format!("no todo with id {id}"))
}

fn path_id(id: Result<Path<i64>, PathRejection>) -> Result<i64, ApiError> {
    id.map(|Path(i)| i)
        .map_err(|_| fail(StatusCode::BAD_REQUEST, "invalid_request", "the todo id must be a whole number"))
}

/// The body of a listing: `{"success": true, "count": n, "user": {...}, "data": [...]}`, written
/// straight from the rows (no intermediate JSON tree: this is the API's hottest answer).
#[derive(serde::Serialize)]
struct Listing<'a> {
    success: bool,
    count: usize,
    user: UserOf<'a>,
    data: &'a [&'a Todo],
}

/// The caller, as every answer names them: `{"sub": ..., "email": ...}`.
#[derive(serde::Serialize)]
struct UserOf<'a> {
    sub: &'a xaa_core::ids::Subject,
    email: &'a Option<String>,
}

impl<'a> UserOf<'a> {
    fn of(c: &'a AccessTokenClaims) -> Self {
        Self { sub: &c.sub, email: &c.email }
    }
}

async fn listing(st: &TodoState, claims: AccessTokenClaims, keep: fn(&Todo) -> bool) -> Result<Response, ApiError> {
    let todos = st.store.todos(claims.sub.clone(), &st.config.seed_todos, st.clock.now()).await.map_err(storage)?;
    let kept: Vec<&Todo> = todos.iter().filter(|t| keep(t)).collect();
    Ok(Json(Listing { success: true, count: kept.len(), user: UserOf::of(&claims), data: &kept }).into_response())
}

pub(crate) async fn list(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<ReadTodos>,
) -> Result<Response, ApiError> {
    listing(&st, claims, |_| true).await
}

pub(crate) async fn completed(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<ReadTodos>,
) -> Result<Response, ApiError> {
    listing(&st, claims, |t| t.completed).await
}

pub(crate) async fn incomplete(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<ReadTodos>,
) -> Result<Response, ApiError> {
    listing(&st, claims, |t| !t.completed).await
}

pub(crate) async fn stats(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<ReadTodos>,
) -> ApiResult {
    let todos = st.store.todos(claims.sub.clone(), &st.config.seed_todos, st.clock.now()).await.map_err(storage)?;
    let done = todos.iter().filter(|t| t.completed).count();
    let data = json!({ "total": todos.len(), "completed": done, "incomplete": todos.len() - done });
    Ok(Json(json!({ "success": true, "user": UserOf::of(&claims), "data": data })))
}

pub(crate) async fn get(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<ReadTodos>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let todo = st.store.todo(claims.sub.clone(), id).await.map_err(storage)?.ok_or_else(|| not_found(id))?;
    Ok(Json(json!({ "success": true, "user": UserOf::of(&claims), "data": todo })))
}

#[derive(Deserialize)]
pub(crate) struct NewTodo {
    title: String,
}

#[derive(Deserialize)]
pub(crate) struct TodoChange {
    title: Option<String>,
    completed: Option<bool>,
}

fn clean_title(title: &str) -> Result<String, ApiError> {
    let t = title.trim();
    if t.is_empty() {
        return Err(fail(StatusCode::BAD_REQUEST, "invalid_request", "title must not be empty"));
    }
    if t.chars().count() > MAX_TITLE {
        return Err(fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("title is longer than {MAX_TITLE} characters"),
        ));
    }
    Ok(t.to_owned())
}

fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|e| {
        fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("the body must be JSON like {{\"title\": \"...\"}}: {}", e.body_text()),
        )
    })
}

pub(crate) async fn create(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<WriteTodos>,
    new: Result<Json<NewTodo>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let title = clean_title(&body(new)?.title)?;
    let todo = st
        .store
        .create(claims.sub.clone(), title, st.config.seed_todos.clone(), st.clock.now())
        .await
        .map_err(storage)?;
    tracing::info!(user.sub = %claims.sub, todo.id = todo.id, "todo created");
    Ok((StatusCode::CREATED, Json(json!({ "success": true, "user": UserOf::of(&claims), "data": todo }))))
}

pub(crate) async fn update(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<WriteTodos>,
    id: Result<Path<i64>, PathRejection>,
    change: Result<Json<TodoChange>, JsonRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let change = body(change)?;
    let title = change.title.as_deref().map(clean_title).transpose()?;
    let todo = st
        .store
        .update(claims.sub.clone(), id, title, change.completed)
        .await
        .map_err(storage)?
        .ok_or_else(|| not_found(id))?;
    Ok(Json(json!({ "success": true, "user": UserOf::of(&claims), "data": todo })))
}

pub(crate) async fn delete(
    State(st): State<Arc<TodoState>>,
    Authorized { claims, .. }: Authorized<WriteTodos>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult {
    let id = path_id(id)?;
    let todo = st.store.delete(claims.sub.clone(), id).await.map_err(storage)?.ok_or_else(|| not_found(id))?;
    Ok(Json(json!({ "success": true, "user": UserOf::of(&claims), "data": todo })))
}
