//! API errors: `{"error": {"code": "...", "message": "..."}}` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sync_core::service::FieldProblem;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    problems: Vec<FieldProblem>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `invalid_parameter`.
    pub code: String,
    /// What is wrong, for a person.
    pub message: String,
    /// For a refused body: every field at fault, by its path in the body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ProblemJson>,
}

/// A refused field of a request body.
#[derive(Serialize, ToSchema)]
pub struct ProblemJson {
    /// Its path in the body, e.g. `variants[2].price`.
    pub path: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// A 422 naming every field at fault; the message lists them too.
    pub fn invalid_fields(code: &'static str, problems: Vec<FieldProblem>) -> Self {
        let listed: Vec<String> = problems.iter().map(FieldProblem::to_string).collect();
        let message = format!(
            "{} problem{}, so nothing was written: {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            listed.join("; ")
        );
        Self {
            problems,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
        }
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn bad_parameter(name: &str, message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
            format!("query parameter `{name}`: {message}"),
        )
    }
}

impl From<sync_core::Error> for ApiError {
    fn from(e: sync_core::Error) -> Self {
        use sync_core::Error;
        match e {
            Error::Invalid(d) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", d.to_string()),
            Error::NotFound(what) => Self::not_found(format!("{what} not found")),
            Error::Conflict(msg) => Self::new(StatusCode::CONFLICT, "conflict", msg),
            other => {
                tracing::error!(error.cause_chain = ?other, "API request failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                problems: self
                    .problems
                    .into_iter()
                    .map(|p| ProblemJson {
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}
