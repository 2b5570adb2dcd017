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
    use sync_core::domain::{Currency, Money, Permission};
    crate::api::ssr::require(Permission::Read).await?;
    let services = crate::api::ssr::services()?;
    let outlets = services.catalog.outlets().await?;
    let channels = services.channels.list().await?;
    let orders = services.history.recent_orders(200).await?;
    Ok(OrdersView {
        orders: orders
            .into_iter()
            .map(|(o, lines)| {
                let channel = channels.iter().find(|c| c.id == o.channel_id);
                let outlet = channel
                    .and_then(|c| c.order_outlet_id)
                    .and_then(|id| outlets.iter().find(|x| x.id == id))
                    .map_or_else(|| "the order outlet".to_owned(), |x| x.name.clone());
                let taken: i64 = lines.iter().map(|l| l.applied_quantity).sum();
                let total = Currency::parse(&o.currency)
                    .map(|c| Money::new(o.total_minor, c).to_string())
                    .unwrap_or_else(|_| format!("{} (minor units)", o.total_minor));
                OrderView {
                    channel: channel.map(|c| c.name.clone()).unwrap_or_default(),
                    number: o.number,
                    cancelled: o.status == "cancelled",
                    status: o.status,
                    total,
                    placed_at: o.placed_at.to_string(),
                    lines: lines
                        .iter()
                        .filter(|l| l.quantity > 0)
                        .map(|l| format!("{} × {}", l.quantity, l.sku))
                        .collect(),
                    effect: if taken == 0 {
                        "nothing taken from stock".into()
                    } else {
                        format!("−{taken} at {outlet}")
                    },
                }
            })
            .collect(),
    })
}
