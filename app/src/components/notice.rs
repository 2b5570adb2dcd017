//! Shows the confirmation a plain form POST carried back in the URL
//! (`?notice=…`, `&notice_error=1`) as a toast.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::toast::use_toasts;

#[component]
pub fn NoticeFromUrl() -> impl IntoView {
    let params = use_query_map();
    let toasts = use_toasts();
    Effect::new(move |_| {
        let params = params.read();
        if let Some(notice) = params.get("notice").filter(|n| !n.is_empty()) {
            toasts.show(notice, params.get("notice_error").is_some());
        }
    });
}
