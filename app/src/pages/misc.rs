use leptos::prelude::*;
use leptos_meta::Title;

/// A page whose issue has not landed yet.
#[component]
pub fn ComingSoonPage(title: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <h1>{title}</h1>
        <p class="muted">"Coming soon."</p>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="content">
            <h1>"Page not found"</h1>
            <p><a href="/products">"Back to products"</a></p>
        </main>
    }
}
