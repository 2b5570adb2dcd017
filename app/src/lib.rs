//! Tillbridge's dashboard: the HTML shell, the route table, pages and the
//! server functions they call. Server function bodies only call sync-core.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use components::layout::AdminLayout;
use components::toast::provide_toasts;
use pages::ImportPage;
use pages::SettingsPage;
use pages::{
    ChannelSettingsPage, ChannelsPage, ConflictsPage, ConnectChannelPage, ConnectVendurePage, ForceSyncPage,
    HistoryPage, NewProductPage, NotFoundPage, OrdersPage, ProductPage, ProductsPage, RunPage,
};

pub use error::AppError;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_toasts();
    // Pages render on the server first and wait for their data (SsrMode::Async),
    // so every page is complete without JavaScript.
    view! {
        <Stylesheet id="leptos" href="/pkg/tillbridge.css"/>
        <Title formatter=|title: String| if title.is_empty() { "Tillbridge".to_owned() } else { format!("{title} · Tillbridge") }/>
        <Router>
            <Routes fallback=NotFoundPage>
                <ParentRoute path=path!("") view=AdminLayout>
                    <Route path=path!("") view=ProductsPage ssr=SsrMode::Async/>
                    <Route path=path!("products") view=ProductsPage ssr=SsrMode::Async/>
                    <Route path=path!("products/new") view=NewProductPage ssr=SsrMode::Async/>
                    <Route path=path!("products/:id") view=ProductPage ssr=SsrMode::Async/>
                    <Route path=path!("channels") view=ChannelsPage ssr=SsrMode::Async/>
                    <Route path=path!("channels/new") view=ConnectChannelPage ssr=SsrMode::Async/>
                    <Route path=path!("channels/new/vendure") view=ConnectVendurePage ssr=SsrMode::Async/>
                    <Route path=path!("channels/:id") view=ChannelSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("channels/:id/force") view=ForceSyncPage ssr=SsrMode::Async/>
                    <Route path=path!("orders") view=OrdersPage ssr=SsrMode::Async/>
                    <Route path=path!("history") view=HistoryPage ssr=SsrMode::Async/>
                    <Route path=path!("conflicts") view=ConflictsPage ssr=SsrMode::Async/>
                    <Route path=path!("history/runs/:id") view=RunPage ssr=SsrMode::Async/>
                    <Route path=path!("import") view=ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("settings") view=SettingsPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
