//! What every handler shares: the site options, the sync core's services
//! and the database handle for health checks, the sign-in limiter and
//! the dashboard's page paths (where sign-in may send people next).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sync_core::{Database, Services};

use crate::web::next_page::PagePaths;
use crate::web::sign_in_limiter::SignInLimiter;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub database: Database,
    pub limiter: Arc<SignInLimiter>,
    pub pages: Arc<PagePaths>,
}
