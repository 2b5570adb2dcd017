//! What tests see of and do to the shop's product images, besides GraphQL.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::fetch::spawn_pending;
use super::model::{ImageInfo, MediaImage, MediaJob, MediaState};
use crate::shopify::ShopifyTestServer;
use crate::shopify::store::parse_gid;

impl ShopifyTestServer {
    /// A product's images in media order: source, alt, status, CDN URL once
    /// `READY`, error once `FAILED`. Empty for an unknown product.
    pub fn product_images(&self, product_gid: &str) -> Vec<ImageInfo> {
        let Some(id) = parse_gid(product_gid, "Product") else {
            return Vec::new();
        };
        let store = self.store();
        let Some(p) = store.products.get(&id) else {
            return Vec::new();
        };
        p.media_ids
            .iter()
            .filter_map(|m| store.media.get(m))
            .map(ImageInfo::of)
            .collect()
    }

    /// An image a merchant added in Shopify: appended to the product's media
    /// and processed like one given to `productSet` (downloaded from
    /// `source`). Returns the `MediaImage` GID. Call it inside a Tokio
    /// runtime.
    pub fn add_product_image(&self, product_gid: &str, source: &str, alt: &str) -> String {
        let id = parse_gid(product_gid, "Product").expect("a Product GID");
        {
            let mut store = self.store();
            assert!(store.products.contains_key(&id), "unknown product {product_gid}");
            let media = store.next_media_id();
            let now = Utc::now();
            let filename = source
                .split(['?', '#'])
                .next()
                .and_then(|s| s.rsplit('/').next())
                .filter(|s| !s.is_empty())
                .unwrap_or("file")
                .to_owned();
            store.media.insert(
                media,
                MediaImage {
                    id: media,
                    alt: alt.to_owned(),
                    source: source.to_owned(),
                    filename: format!("{media}-{filename}"),
                    state: MediaState::Uploaded,
                    generation: 0,
                    created_at: now,
                    updated_at: now,
                },
            );
            store.media_jobs.push(MediaJob {
                media_id: media,
                generation: 0,
                source: source.to_owned(),
            });
            if let Some(p) = store.products.get_mut(&id) {
                p.media_ids.push(media);
                p.updated_at = now;
            }
        }
        spawn_pending(&self.inner);
        self.product_images(product_gid).pop().map(|i| i.id).unwrap_or_default()
    }

    /// Waits until no image is `UPLOADED` or `PROCESSING`; `false` if that
    /// takes longer than `timeout`.
    pub async fn wait_for_media(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let busy = self.store().media.values().any(|m| !m.state.is_settled());
            if !busy {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How long a new image stays `UPLOADED`, and then `PROCESSING` after its
    /// download (default 50 ms each; Shopify takes seconds).
    pub fn set_media_processing_delay(&self, delay: Duration) {
        self.inner.media.set_delay(delay);
    }

    /// How long a source may take to answer before the image fails with
    /// `IMAGE_DOWNLOAD_FAILURE` (default 5 s).
    pub fn set_media_download_timeout(&self, timeout: Duration) {
        self.inner.media.set_timeout(timeout);
    }

    /// Shopify downloads images from the internet: a source on a loopback or
    /// private address fails with `IMAGE_DOWNLOAD_FAILURE` unless this is
    /// `true` (a test serving images on 127.0.0.1 needs it).
    pub fn allow_internal_media_sources(&self, allow: bool) {
        self.inner.media.set_allow_internal(allow);
    }
}
