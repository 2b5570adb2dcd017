//! The one error type every server function returns. Internal details stay
//! in the server log; the browser gets a message a merchant can act on.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Please sign in again.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found.")]
    NotFound(String),
    /// A value that fails a rule: which field, and why.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Several fields refused at once: (field, why), in the form's order.
    #[error("{}", fields_message(.0))]
    Fields(Vec<(String, String)>),
    #[error("{0}")]
    Conflict(String),
    #[error("Something went wrong on our side (reference {0}). Please try again.")]
    Internal(String),
    #[error("Could not reach Tillbridge: {0}")]
    Transport(String),
}

impl AppError {
    /// What to tell the person: a refusal's message without its field name.
    pub fn message(&self) -> String {
        match self {
            AppError::Invalid { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// The form field at fault, if a field is (the first, of several).
    pub fn field(&self) -> &str {
        match self {
            AppError::Invalid { field, .. } => field,
            AppError::Fields(fields) => fields.first().map_or("", |(f, _)| f),
            _ => "",
        }
    }

    /// Why `field` was refused, if it was.
    pub fn message_for(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid { field: f, message } => (f == field).then(|| message.clone()),
            AppError::Fields(fields) => fields.iter().find(|(f, _)| f == field).map(|(_, m)| m.clone()),
            _ => None,
        }
    }
}

fn fields_message(fields: &[(String, String)]) -> String {
    match fields.len() {
        1 => fields[0].1.clone(),
        n => format!("{n} fields need correcting: see the messages next to them."),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The form's fields could not be read as the function's
            // arguments (one missing, or not a number): the sender's mistake,
            // refused with 400 naming the field, before anything runs.
            ServerFnErrorErr::Args(reason) => {
                let error = unreadable_fields(&reason);
                #[cfg(feature = "ssr")]
                crate::api::ssr::set_status_code(http::StatusCode::BAD_REQUEST);
                error
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

/// A refusal for fields serde could not read, naming the field its message
/// quotes (`missing field `mode``).
fn unreadable_fields(reason: &str) -> AppError {
    let field = reason.split('`').nth(1).unwrap_or_default().to_owned();
    let message = match reason.strip_prefix("missing field ") {
        Some(_) if !field.is_empty() => format!("{field} is missing"),
        _ => format!("the form's fields could not be read: {reason}"),
    };
    AppError::Invalid { field, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(
            unreadable_fields("missing field `mode`"),
            AppError::Invalid {
                field: "mode".into(),
                message: "mode is missing".into()
            }
        );
        assert_eq!(unreadable_fields("invalid digit found in string").field(), "");
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;
    use sync_core::Error;

    impl AppError {
        pub fn status(&self) -> http::StatusCode {
            use http::StatusCode;
            match self {
                AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::Invalid { .. } | AppError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Internal(_) | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
    }

    impl From<Error> for AppError {
        fn from(e: Error) -> Self {
            let app = match e {
                Error::Invalid(d) => AppError::Invalid {
                    field: d.field.to_owned(),
                    message: d.message,
                },
                Error::NotFound(what) => AppError::NotFound(what),
                Error::Conflict(msg) => AppError::Conflict(msg),
                other => {
                    let reference = format!("{:08x}", rand_reference());
                    tracing::error!(error.reference = %reference, error.cause_chain = ?other, "server function failed");
                    AppError::Internal(reference)
                }
            };
            crate::api::ssr::set_status(&app);
            app
        }
    }

    /// A short reference to quote to support; unique enough to find the log line.
    fn rand_reference() -> u32 {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(std::time::SystemTime::now()) as u32
    }
}
