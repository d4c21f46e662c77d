//! Readiness: `GET /ready` answers whether the process can do its work now,
//! where `GET /health` only says it is alive and serving.
//!
//! A [`Readiness`] holds named checks; each is a cheap function that reads
//! state the component keeps up to date (no I/O on the probe's path). The
//! route answers 200 when every check passes and 503 otherwise, with each
//! check's detail and, for a failing one, its reason:
//!
//! ```text
//! 200 {"status":"ready","checks":{"journal":{"status":"ok","write_errors":0}}}
//! 503 {"status":"not ready","checks":{"journal":{"status":"failing","reason":"…","since":"…"}}}
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use serde_json::{Map, Value, json};

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// Working; `detail` holds what the component reports (counters, positions).
    Ready {
        /// An object of extra fields, or `Value::Null` for none.
        detail: Value,
    },
    /// Not working now.
    Failing {
        /// Why, for an operator.
        reason: String,
        /// An object of extra fields (since when, counters), or `Value::Null`.
        detail: Value,
    },
}

impl Probe {
    /// Ready without detail.
    pub fn ready() -> Self {
        Probe::Ready { detail: Value::Null }
    }

    fn to_json(&self) -> Value {
        let (status, reason, detail) = match self {
            Probe::Ready { detail } => ("ok", None, detail),
            Probe::Failing { reason, detail } => ("failing", Some(reason), detail),
        };
        let mut out = Map::new();
        out.insert("status".into(), status.into());
        if let Some(reason) = reason {
            out.insert("reason".into(), reason.as_str().into());
        }
        if let Value::Object(fields) = detail {
            for (key, value) in fields {
                out.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        Value::Object(out)
    }
}

type Check = Arc<dyn Fn() -> Probe + Send + Sync>;

/// The named checks behind `GET /ready`; cheap to clone.
///
/// ```
/// use commerce_kit_core::server::{Probe, Readiness};
///
/// let readiness = Readiness::new().with_check("journal", || Probe::Failing {
///     reason: "disk full".into(),
///     detail: serde_json::Value::Null,
/// });
/// let (status, body) = readiness.evaluate();
/// assert_eq!(status, http::StatusCode::SERVICE_UNAVAILABLE);
/// assert_eq!(body["checks"]["journal"]["reason"], "disk full");
/// ```
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(String, Check)>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("checks", &self.checks.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .finish()
    }
}

impl Readiness {
    /// No checks: always ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a check under `name` (a later check with the same name replaces it).
    pub fn with_check(mut self, name: impl Into<String>, check: impl Fn() -> Probe + Send + Sync + 'static) -> Self {
        let name = name.into();
        self.checks.retain(|(existing, _)| *existing != name);
        self.checks.push((name, Arc::new(check)));
        self
    }

    /// Runs every check: 200 and `"ready"` when all pass, 503 and `"not ready"` otherwise.
    pub fn evaluate(&self) -> (StatusCode, Value) {
        let mut ready = true;
        let mut checks = Map::new();
        for (name, check) in &self.checks {
            let probe = check();
            ready &= matches!(probe, Probe::Ready { .. });
            checks.insert(name.clone(), probe.to_json());
        }
        let (status, word) = if ready {
            (StatusCode::OK, "ready")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "not ready")
        };
        (status, json!({"status": word, "checks": checks}))
    }

    /// `GET /ready` over these checks, to merge into an app's routes.
    pub fn router(self) -> Router {
        Router::new().route("/ready", get(ready)).with_state(self)
    }
}

async fn ready(State(readiness): State<Readiness>) -> Response {
    let (status, body) = readiness.evaluate();
    (status, axum::Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_check_passes() {
        let empty = Readiness::new();
        assert_eq!(
            empty.evaluate(),
            (StatusCode::OK, json!({"status": "ready", "checks": {}}))
        );

        let both = Readiness::new()
            .with_check("a", || Probe::Ready {
                detail: json!({"errors": 0}),
            })
            .with_check("b", || Probe::Failing {
                reason: "cannot write".into(),
                detail: json!({"since": "2026-12-05T00:00:00Z", "status": "ignored: the probe's own status wins"}),
            });
        let (status, body) = both.evaluate();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            json!({"status": "not ready", "checks": {
                "a": {"status": "ok", "errors": 0},
                "b": {"status": "failing", "reason": "cannot write", "since": "2026-12-05T00:00:00Z"},
            }})
        );
        let replaced = both.with_check("b", Probe::ready);
        assert_eq!(replaced.evaluate().0, StatusCode::OK);
    }
}
