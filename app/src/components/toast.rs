//! Confirmations in the lower-left corner, as merchants know them (seed 003).

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub message: String,
    pub is_error: bool,
}

#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
}

impl Toasts {
    pub fn show(&self, message: impl Into<String>, is_error: bool) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast {
                id,
                message: message.into(),
                is_error,
            })
        });
        let items = self.items;
        set_timeout(
            move || items.update(|items| items.retain(|t| t.id != id)),
            std::time::Duration::from_secs(5),
        );
    }
}

pub fn provide_toasts() {
    provide_context(Toasts {
        items: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(0),
    });
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class=if toast.is_error { "toast toast-error" } else { "toast" }>{toast.message}</div>
            </For>
        </div>
    }
}
