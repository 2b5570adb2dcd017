//! The orders pulled from channels, for a back office that syncs them
//! incrementally (seed 001's step 2): oldest change first, by when
//! Tillbridge recorded each order's latest change. A channel's own update
//! times can arrive late (a pull after Tillbridge was stopped), so they
//! would slip behind a back office's "updated since"; Tillbridge's own
//! record times do not.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::History;
use crate::Result;
use crate::domain::{DomainError, Timestamp};

pub use crate::storage::{FeedLine, FeedOrder};

/// The most orders in one page.
pub const MAX_ORDER_PAGE: u32 = 500;

/// Where the next page starts: just past this order, in feed order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderCursor {
    recorded_at: Timestamp,
    id: i64,
}

impl OrderCursor {
    /// Reads a cursor this service wrote; anything else is refused.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::new("after", "is not a cursor this API gave (use next_cursor as it is)");
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (micros, id) = text.split_once(':').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let at = chrono::DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
        Ok(Self {
            recorded_at: Timestamp::from(at),
            id,
        })
    }

    /// The opaque text form.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}",
            self.recorded_at.as_datetime().timestamp_micros(),
            self.id
        ))
    }
}

/// Which orders: those recorded at or after `updated_since`, past `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFeedQuery {
    pub updated_since: Option<Timestamp>,
    pub after: Option<OrderCursor>,
    /// 1 to `MAX_ORDER_PAGE`.
    pub limit: u32,
}

/// One page of the feed, and where the next starts when there is more.
#[derive(Debug, Clone)]
pub struct OrderFeedPage {
    pub orders: Vec<(FeedOrder, Vec<FeedLine>)>,
    pub next: Option<OrderCursor>,
}

impl FeedLine {
    /// The product's name and option values here ("Merino Tee - M / Black"),
    /// or none when the line's SKU is no variant's.
    pub fn title(&self) -> Option<String> {
        let name = self.product_name.as_ref()?;
        let values: Vec<&str> = [&self.option1_value, &self.option2_value, &self.option3_value]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        Some(if values.is_empty() {
            name.clone()
        } else {
            format!("{name} - {}", values.join(" / "))
        })
    }
}

impl History {
    /// A page of pulled orders, oldest recorded change first.
    pub async fn order_feed(&self, query: &OrderFeedQuery) -> Result<OrderFeedPage> {
        let limit = query.limit.clamp(1, MAX_ORDER_PAGE) as usize;
        let mut orders = self
            .core
            .storage
            .order_feed(
                query.updated_since,
                query.after.map(|c| (c.recorded_at, c.id)),
                limit as i64 + 1,
            )
            .await?;
        let more = orders.len() > limit;
        orders.truncate(limit);
        let next = more.then(|| orders.last()).flatten().map(|(o, _)| OrderCursor {
            recorded_at: o.recorded_at,
            id: o.id,
        });
        Ok(OrderFeedPage { orders, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_written_and_junk_is_refused() {
        let cursor = OrderCursor {
            recorded_at: Timestamp::now(),
            id: 42,
        };
        assert_eq!(OrderCursor::parse(&cursor.encode()), Ok(cursor));
        for junk in ["", "42", "not base64!", &URL_SAFE_NO_PAD.encode("x:1")] {
            assert!(OrderCursor::parse(junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn a_line_is_titled_by_its_product_and_option_values() {
        let line = FeedLine {
            order_id: 1,
            sku: "TEE-M-BLK".into(),
            quantity: 1,
            applied_quantity: 1,
            price_minor: 2900,
            product_name: Some("Merino Tee".into()),
            option1_value: Some("M".into()),
            option2_value: Some("Black".into()),
            option3_value: None,
        };
        assert_eq!(line.title().as_deref(), Some("Merino Tee - M / Black"));
        let unknown = FeedLine {
            product_name: None,
            ..line
        };
        assert_eq!(unknown.title(), None);
    }
}
