//! Server-side helpers for server functions: the services from context and
//! the signed-in user, checked against the permission a function needs.

use axum::Extension;
use leptos::prelude::*;
use sync_core::Storage;
use sync_core::domain::{Permission, Role};
use sync_core::storage::User;

use crate::AppError;

/// The storage service the server put into context.
pub fn storage() -> Result<Storage, AppError> {
    use_context::<Storage>().ok_or_else(|| {
        tracing::error!("storage missing from server function context");
        AppError::Internal("no-storage".into())
    })
}

/// The signed-in user (set by the server's auth layer), or Unauthenticated.
pub async fn current_user() -> Result<User, AppError> {
    match leptos_axum::extract::<Option<Extension<User>>>().await {
        Ok(Some(Extension(user))) => Ok(user),
        _ => fail(AppError::Unauthenticated),
    }
}

/// The signed-in user, if their role allows `permission`.
pub async fn require(permission: Permission) -> Result<User, AppError> {
    let user = current_user().await?;
    if user.role.allows(permission) {
        return Ok(user);
    }
    let message = match (user.role, permission) {
        (Role::Viewer, _) => "Your account can view but not change anything. Ask an owner for the manager role.",
        _ => "Only an owner can do this.",
    };
    fail(AppError::Forbidden(message.into()))
}

/// Sets the response status to match `error`.
pub fn set_status(error: &AppError) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
}

pub fn fail<T>(error: AppError) -> Result<T, AppError> {
    set_status(&error);
    Err(error)
}

/// Tells the sync workers that new pushes are queued.
pub fn wake_workers() {
    if let Some(waker) = use_context::<sync_core::sync::Waker>() {
        waker.wake();
    }
}

/// A domain rule's refusal, as a field error for the form.
pub fn invalid(e: sync_core::domain::DomainError) -> AppError {
    let error = AppError::Invalid {
        field: e.field.to_owned(),
        message: e.message,
    };
    set_status(&error);
    error
}
