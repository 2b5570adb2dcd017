//! Shows the confirmation a plain form POST carried back in the URL
//! (`?notice=…`, `&notice_error=1`) as a toast.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::toast::use_toasts;

/// Without JavaScript (and until the page has it) the notice is a banner
/// on the page; once the page runs, a toast, as every other confirmation.
#[component]
pub fn NoticeFromUrl() -> impl IntoView {
    let params = use_query_map();
    let toasts = use_toasts();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| {
        hydrated.set(true);
        let params = params.read();
        if let Some(notice) = params.get("notice").filter(|n| !n.is_empty()) {
            toasts.show(notice, params.get("notice_error").is_some());
        }
    });
    move || {
        if hydrated.get() {
            return None;
        }
        let params = params.read();
        let notice = params.get("notice").filter(|n| !n.is_empty())?;
        let error = params.get("notice_error").is_some();
        Some(view! {
            <p class=if error { "notice-banner notice-error" } else { "notice-banner" } id="notice" role=if error { "alert" } else { "status" }>
                {notice}
            </p>
        })
    }
}

/// Shows what a form's server action answered as a toast (its refusal in
/// red) and counts its successes: a resource that reads the count is read
/// again after each, while a refused form keeps what was typed.
#[derive(Clone, Copy)]
pub struct ToastResult(RwSignal<u32>);

impl ToastResult {
    pub fn new<T, S>(value: S, message: impl Fn(&T) -> String + Send + Sync + 'static) -> Self
    where
        T: Clone + Send + Sync + 'static,
        S: Get<Value = Option<Result<T, crate::AppError>>> + Send + Sync + 'static,
    {
        let successes = RwSignal::new(0u32);
        let toasts = use_toasts();
        Effect::new(move |_| match value.get() {
            Some(Ok(done)) => {
                toasts.show(message(&done), false);
                successes.update(|n| *n += 1);
            }
            Some(Err(e)) => toasts.show(e.message(), true),
            None => {}
        });
        Self(successes)
    }

    pub fn get(&self) -> u32 {
        self.0.get()
    }
}

/// Shows a form's refusal as a toast; its success navigates, with a notice.
pub fn toast_refusals<T, S>(value: S)
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, crate::AppError>>> + Send + Sync + 'static,
{
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Err(e)) = value.get() {
            toasts.show(e.message(), true);
        }
    });
}

/// A form's refusal next to the field it names: the one its server action
/// just answered (with JavaScript), or the one the URL carries
/// (`error_field`, a plain form post without it).
pub fn field_error(
    refused: impl Fn() -> Option<crate::AppError> + Send + Sync + 'static,
    field: &'static str,
) -> impl IntoView {
    let params = use_query_map();
    move || {
        let message = match refused() {
            Some(e) => e.message_for(field),
            None => {
                let params = params.read();
                // Several refusals come back as `error.<field>=why` each.
                params.get(&format!("error.{field}")).or_else(|| {
                    (params.get("error_field").as_deref() == Some(field))
                        .then(|| params.get("notice").unwrap_or_default())
                })
            }
        };
        message.map(|m| view! { <span class="field-error" role="alert" id=format!("{field}-error")>{m}</span> })
    }
}
