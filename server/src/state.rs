//! What every handler shares: the site options, the sync core's services
//! and the database handle for health checks, and the sign-in throttle.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sync_core::{Database, Services};

use crate::web::throttle::SignInThrottle;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub database: Database,
    pub throttle: Arc<SignInThrottle>,
}
