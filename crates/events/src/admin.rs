//! The dead-letter admin API: list, show, replay and discard the local bus's
//! dead letters while the server runs (the journal is locked by the running
//! process, so offline tools cannot open it then).
//!
//! Off unless a token is configured (`ADMIN_TOKEN`); every request then needs
//! `Authorization: Bearer <token>` (compared in constant time).
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /admin/dead-letters` | 200 `{"consumer":…,"dead_letters":[{"offset","at","reason","event"}…]}`, oldest first |
//! | `GET /admin/dead-letters/{offset}` | 200 one letter; 404 when there is none at that offset |
//! | `POST /admin/dead-letters/{offset}/replay` | 200 `{"replayed":<offset>,"offset":<new offset>,"event_id":…}` |
//! | `DELETE /admin/dead-letters/{offset}` | 200 `{"discarded":<offset>,"event_id":…}` |
//!
//! A replay moves the letter back into the journal, at its head, for this
//! consumer alone, with the same event (same id: handlers can stay
//! idempotent); it then goes through the same ordering as any event, after the
//! events of its key already in the journal. Errors: 401 without or with a
//! wrong token, 400 for an offset that is not a number, 404 for an offset past
//! the journal's head or with no letter (show, discard), 409 for a replay or
//! discard of an event that is in the journal but not a dead letter.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use commerce_kit_core::http::error_response;
use commerce_kit_core::signature::constant_time_eq;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::bus::{BusError, LocalBus};

/// What the admin routes need.
#[derive(Clone)]
struct Admin {
    bus: LocalBus,
    consumer: Arc<str>,
    token: Arc<SecretString>,
}

/// The admin routes over `bus` for `consumer`'s dead letters, guarded by `token`.
///
/// ```
/// use commerce_kit_events::admin;
/// use commerce_kit_events::bus::LocalBus;
///
/// let dir = tempfile::tempdir().unwrap();
/// let bus = LocalBus::open(dir.path()).unwrap();
/// let app: axum::Router = admin::router(bus, "events-consumer", "a-long-random-admin-token".into());
/// # let _ = app;
/// ```
pub fn router(bus: LocalBus, consumer: &str, token: SecretString) -> Router {
    let state = Admin {
        bus,
        consumer: consumer.into(),
        token: Arc::new(token),
    };
    Router::new()
        .route("/admin/dead-letters", get(list))
        .route("/admin/dead-letters/{offset}", get(show).delete(discard))
        .route("/admin/dead-letters/{offset}/replay", post(replay))
        .with_state(state)
}

/// 401 unless the request carries the token.
fn authorize(admin: &Admin, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let refuse = |message: &str| {
        let mut response = error_response(StatusCode::UNAUTHORIZED, message);
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        Box::new(response)
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(refuse(
            "missing Authorization header: send 'Authorization: Bearer <ADMIN_TOKEN>'",
        ));
    };
    let given = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .ok_or_else(|| refuse("the Authorization header is not 'Bearer <token>'"))?;
    if constant_time_eq(given.trim().as_bytes(), admin.token.expose_secret().as_bytes()) {
        Ok(())
    } else {
        Err(refuse("invalid admin token"))
    }
}

fn offset_of(raw: &str) -> Result<u64, Box<Response>> {
    raw.parse().map_err(|_| {
        Box::new(error_response(
            StatusCode::BAD_REQUEST,
            format!(
                "invalid offset {:?}: expected a journal offset (a non-negative integer)",
                raw.chars().take(40).collect::<String>()
            ),
        ))
    })
}

/// A bus failure as an answer: `NotDead` by what the offset is, the rest 503.
fn failure(admin: &Admin, err: &BusError, replaying: bool) -> Response {
    match err {
        BusError::NotDead { offset, .. } if *offset >= admin.bus.head() => error_response(
            StatusCode::NOT_FOUND,
            format!(
                "no event at offset {offset}: the journal's offsets are below {}",
                admin.bus.head()
            ),
        ),
        BusError::NotDead { offset, consumer, .. } if replaying => error_response(
            StatusCode::CONFLICT,
            format!(
                "the event at offset {offset} is not a dead letter of consumer '{consumer}': it was handled, is \
                 being handled, or was already replayed or discarded (GET /admin/dead-letters lists the letters)"
            ),
        ),
        BusError::NotDead { offset, consumer, .. } => error_response(
            StatusCode::NOT_FOUND,
            format!("consumer '{consumer}' has no dead letter at offset {offset}"),
        ),
        other => {
            tracing::error!(error = %other, "admin: local bus operation failed");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the journal could not be read or written: {other}"),
            )
        }
    }
}

async fn list(State(admin): State<Admin>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&admin, &headers) {
        return *refused;
    }
    match admin.bus.dead_letters(&admin.consumer).await {
        Ok(letters) => Json(json!({
            "consumer": &*admin.consumer,
            "dead_letters": letters,
        }))
        .into_response(),
        Err(err) => failure(&admin, &err, false),
    }
}

async fn show(State(admin): State<Admin>, headers: HeaderMap, Path(raw): Path<String>) -> Response {
    if let Err(refused) = authorize(&admin, &headers) {
        return *refused;
    }
    let offset = match offset_of(&raw) {
        Ok(offset) => offset,
        Err(refused) => return *refused,
    };
    match admin.bus.dead_letter_at(&admin.consumer, offset).await {
        Ok(Some(letter)) => Json(letter).into_response(),
        Ok(None) => failure(
            &admin,
            &BusError::NotDead {
                path: admin.bus.path().to_owned(),
                consumer: admin.consumer.to_string(),
                offset,
            },
            false,
        ),
        Err(err) => failure(&admin, &err, false),
    }
}

async fn replay(State(admin): State<Admin>, headers: HeaderMap, Path(raw): Path<String>) -> Response {
    if let Err(refused) = authorize(&admin, &headers) {
        return *refused;
    }
    let offset = match offset_of(&raw) {
        Ok(offset) => offset,
        Err(refused) => return *refused,
    };
    match admin.bus.replay(&admin.consumer, offset).await {
        Ok(replayed) => {
            let at = replayed.offset;
            tracing::info!(consumer = %admin.consumer, replayed = offset, offset = at, "admin: dead letter replayed");
            Json(json!({"replayed": offset, "offset": at, "event_id": replayed.letter.event.event_id()}))
                .into_response()
        }
        Err(err) => failure(&admin, &err, true),
    }
}

async fn discard(State(admin): State<Admin>, headers: HeaderMap, Path(raw): Path<String>) -> Response {
    if let Err(refused) = authorize(&admin, &headers) {
        return *refused;
    }
    let offset = match offset_of(&raw) {
        Ok(offset) => offset,
        Err(refused) => return *refused,
    };
    match admin.bus.discard(&admin.consumer, offset).await {
        Ok(letter) => {
            tracing::info!(consumer = %admin.consumer, discarded = offset, "admin: dead letter discarded");
            Json(json!({"discarded": offset, "event_id": letter.event.event_id()})).into_response()
        }
        Err(err) => failure(&admin, &err, true),
    }
}
