//! Orders pulled from channels, with what each did to stock.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

use crate::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    pub channel: String,
    pub number: String,
    pub status: String,
    /// Cancelled: it takes nothing from stock any more.
    pub cancelled: bool,
    pub total: String,
    pub placed_at: String,
    /// "2 × SKU" per line.
    pub lines: Vec<String>,
    /// What the order takes from stock now, e.g. "−3 at Downtown".
    pub effect: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersView {
    pub orders: Vec<OrderView>,
}

/// The newest orders of every channel.
#[server(endpoint = "list_orders", input = GetUrl)]
pub async fn list_orders() -> Result<OrdersView, AppError> {
    crate::api::ssr::require(sync_core::domain::Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let orders = services.history.recent_orders(200).await?;
    let zone = services.store.zone().await?;
    Ok(OrdersView {
        orders: orders.into_iter().map(|o| OrderView::new(o, zone)).collect(),
    })
}

#[cfg(feature = "ssr")]
impl OrderView {
    /// The order, its time in the store's time zone.
    fn new(s: sync_core::service::OrderSummary, zone: sync_core::domain::StoreZone) -> Self {
        use sync_core::domain::{Currency, Money};
        let o = s.order;
        OrderView {
            channel: s.channel,
            number: o.number,
            cancelled: o.status == "cancelled",
            status: o.status,
            total: Currency::parse(&o.currency)
                .map(|c| Money::new(o.total_minor, c).to_string())
                .unwrap_or_else(|_| format!("{} (minor units)", o.total_minor)),
            placed_at: zone.show(o.placed_at),
            lines: s
                .lines
                .iter()
                .filter(|l| l.quantity > 0)
                .map(|l| format!("{} × {}", l.quantity, l.sku))
                .collect(),
            effect: match s.taken {
                0 => "nothing taken from stock".into(),
                taken => format!("−{taken} at {}", s.outlet),
            },
        }
    }
}
