//! Server functions, one module per area, and the views they return.

// A form's server function takes one argument per field of the form.
#![allow(clippy::too_many_arguments)]

pub mod channels;
pub mod conflicts;
pub mod history;
pub mod import;
pub mod orders;
pub mod products;
pub mod session;
pub mod settings;
#[cfg(feature = "ssr")]
pub mod ssr;
