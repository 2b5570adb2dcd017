//! The frame around every page: a skip link, the navigation (a menu on a
//! phone), who is signed in, toasts.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_location;

use super::toast::ToastRegion;
use crate::api::session::current_user;

#[component]
pub fn AdminLayout() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    // Effects never run on the server: this marks the page as hydrated,
    // which browser tests wait for before they click, and which lets the
    // phone layout fold the navigation into its menu (without JavaScript
    // the links stay shown, wrapped).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let menu_open = RwSignal::new(false);
    let main_ref = NodeRef::<leptos::html::Main>::new();
    // A link followed from the open menu closes it.
    let location = use_location();
    Effect::new(move |_| {
        location.pathname.track();
        location.search.track();
        menu_open.set(false);
    });
    view! {
        <div class="frame" class:menu-open=move || menu_open.get() data-hydrated=move || hydrated.get().to_string()>
            // The router would take "#main" for a navigation: the focus is moved here.
            <a class="skip-link" href="#main" on:click=move |ev| {
                ev.prevent_default();
                if let Some(main) = main_ref.get() {
                    let _ = main.focus();
                }
            }>"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/products">"Tillbridge"</a>
                <button
                    type="button"
                    class="menu-button"
                    aria-controls="main-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <span class="menu-icon" aria-hidden="true"></span>
                    "Menu"
                </button>
                <nav class="nav" id="main-nav" aria-label="Main">
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
            // The skip link's target; focusable so the next Tab starts inside.
            <main class="content" id="main" tabindex="-1" node_ref=main_ref>
                <Outlet/>
            </main>
            <ToastRegion/>
        </div>
    }
}
