//! The frame around every page: navigation, who is signed in, toasts.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use super::toast::ToastRegion;
use crate::api::session::current_user;

#[component]
pub fn AdminLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    // Effects never run on the server: this marks the page as hydrated,
    // which browser tests wait for before they click.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <div class="frame" data-hydrated=move || hydrated.get().to_string()>
            <header class="topbar">
                <a class="brand" href="/products">"Tillbridge"</a>
                <nav class="nav" aria-label="Main">
                    <A href="/products">"Products"</A>
                    <A href="/orders">"Orders"</A>
                    <A href="/channels">"Channels"</A>
                    <A href="/history">"Sync History"</A>
                    <A href="/conflicts">
                        "Conflicts"
                        <Suspense>
                            {move || Suspend::new(async move {
                                user.await.ok().filter(|u| u.open_conflicts > 0).map(|u| view! {
                                    <span class="count-badge" id="conflict-count">{u.open_conflicts}</span>
                                })
                            })}
                        </Suspense>
                    </A>
                    <A href="/import">"Import"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
                <div class="account">
                    <Suspense>
                        {move || Suspend::new(async move {
                            user.await.ok().map(|u| view! {
                                <span class="who">{u.email}" · "{u.role}</span>
                            })
                        })}
                    </Suspense>
                    <form method="post" action="/logout">
                        <button type="submit" class="link-button">"Sign out"</button>
                    </form>
                </div>
            </header>
            <main class="content">
                <Outlet/>
            </main>
            <ToastRegion/>
        </div>
    }
}
