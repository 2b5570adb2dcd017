//! End-to-end tests against the real binary: the JSON API, the pages and
//! sign-in over HTTP, the command line, and the dashboard in Chromium.

mod e2e {
    mod api;
    mod browser;
    mod catalog;
    mod cli;
    mod dashboard;
    mod fuzz;
    mod hardening;
    mod history_pages;
    mod hostile;
    mod import;
    mod layout;
    mod movements;
    mod navigation;
    mod orders;
    mod pages;
    mod products_api;
    mod settings;
    mod shopify_server;
    mod sync;
    mod unselling;
    mod vendure;
}
