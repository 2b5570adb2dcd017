//! Connecting a Shopify channel and testing a channel's connection: shared
//! by the dashboard and the CLI, so both check the same things.

use crate::Error;
use crate::connector::shopify::{API_VERSION, ShopifySettings};
use crate::connector::{
    AnyConnector, Connector, ConnectorError, SetupError, ShopifyConnector, VendureConnector, VendureSettings,
};
use crate::domain::{BalanceRules, ChannelId, ChannelKind, DomainError, OutletId};
use crate::storage::NewChannel;
use crate::storage::Storage;
use crate::vault::{Vault, VaultError};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// A field the merchant typed is wrong; the message says which and why.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The shop did not answer, or refused the token.
    #[error("cannot reach {shop}: {source}")]
    Unreachable {
        shop: String,
        #[source]
        source: ConnectorError,
    },
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("cannot encrypt the access token: {0}")]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Storage(#[from] Error),
}

/// What a merchant gives to connect a Shopify store.
#[derive(Debug, Clone)]
pub struct ShopifyConnection {
    pub name: String,
    /// e.g. my-shop.myshopify.com (an https:// prefix or a trailing / is forgiven).
    pub shop_domain: String,
    /// Where the Admin API is served; `https://{domain}` when `None`.
    pub api_base_url: Option<String>,
    /// The Shopify location that receives this channel's stock, by name.
    pub location: String,
    pub outlets: Vec<OutletId>,
    pub order_outlet: OutletId,
    pub rules: BalanceRules,
    /// Order webhooks: where Tillbridge is reachable from the internet, and
    /// the app's client secret that signs deliveries. None: pulls only.
    pub webhooks: Option<WebhookSetup>,
}

#[derive(Debug, Clone)]
pub struct WebhookSetup {
    /// e.g. https://tillbridge.my-shop.example
    pub public_url: String,
    pub client_secret: String,
}

/// Where a channel's Shopify webhooks are delivered.
pub fn webhook_url(public_url: &str, channel: ChannelId) -> String {
    format!(
        "{}/webhooks/shopify/{}",
        public_url.trim().trim_end_matches('/'),
        channel.get()
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub id: ChannelId,
    pub shop_domain: String,
    pub location_name: String,
    /// A Vendure channel's webhook secret, shown once in its webhook address
    /// (`vendure_webhook_url`); only its hash is kept.
    pub webhook_secret: Option<String>,
}

/// A shop domain as Shopify writes it, from what a merchant pasted.
pub fn shop_domain(raw: &str) -> Result<String, DomainError> {
    let domain = raw
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':');
    if valid {
        Ok(domain)
    } else {
        Err(DomainError::new(
            "shop_domain",
            format!("{:?} is not a shop domain such as my-shop.myshopify.com", raw.trim()),
        ))
    }
}

/// At least one outlet, and every outlet named (the order outlet too) exists.
async fn check_outlets(storage: &Storage, outlets: &[OutletId], order_outlet: OutletId) -> Result<(), ConnectError> {
    let known = storage.list_outlets().await?;
    if outlets.is_empty() {
        return Err(DomainError::new("outlets", "tick at least one outlet whose stock this channel sells").into());
    }
    if let Some(unknown) = outlets
        .iter()
        .chain([&order_outlet])
        .find(|o| !known.iter().any(|k| k.id == **o))
    {
        return Err(DomainError::new("outlets", format!("there is no outlet {}", unknown.get())).into());
    }
    Ok(())
}

/// Checks the token against the shop, finds the location, then stores the
/// channel with the token sealed. Nothing is stored when any step fails.
pub async fn connect_shopify(
    storage: &Storage,
    vault: &Vault,
    conn: &ShopifyConnection,
    token: &str,
) -> Result<Connected, ConnectError> {
    if conn.name.trim().is_empty() {
        return Err(DomainError::new("name", "give the channel a name").into());
    }
    let domain = shop_domain(&conn.shop_domain)?;
    let base = match conn.api_base_url.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) if b.starts_with("https://") || b.starts_with("http://") => b.trim_end_matches('/').to_owned(),
        Some(_) => {
            return Err(DomainError::new(
                "api_base_url",
                "must start with https:// (or http:// for a local test server)",
            )
            .into());
        }
        None => format!("https://{domain}"),
    };
    check_outlets(storage, &conn.outlets, conn.order_outlet).await?;
    let token = token.trim();
    if token.is_empty() {
        return Err(DomainError::new("token", "paste the Admin API access token").into());
    }
    if conn.location.trim().is_empty() {
        return Err(DomainError::new("location", "name the Shopify location that receives stock").into());
    }
    let locations = ShopifyConnector::locations(&base, API_VERSION, token)
        .await
        .map_err(|source| ConnectError::Unreachable {
            shop: domain.clone(),
            source,
        })?;
    let Some(location) = locations
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(conn.location.trim()))
    else {
        let names: Vec<&str> = locations.iter().map(|l| l.name.as_str()).collect();
        return Err(DomainError::new(
            "location",
            format!(
                "the shop has no active location named {:?}; it has: {}",
                conn.location.trim(),
                names.join(", ")
            ),
        )
        .into());
    };
    let settings = ShopifySettings {
        shop_domain: domain.clone(),
        api_base_url: base,
        api_version: API_VERSION.to_owned(),
        location_id: location.id.clone(),
        location_name: location.name.clone(),
        read_all_orders: false,
    };
    if let Some(w) = &conn.webhooks {
        let url = w.public_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
            return Err(DomainError::new(
                "public_url",
                format!("{url:?} is not an address such as https://tillbridge.my-shop.example"),
            )
            .into());
        }
        if w.client_secret.trim().is_empty() {
            return Err(
                DomainError::new("client_secret", "paste the app's client secret, which signs webhooks").into(),
            );
        }
    }
    let id = storage
        .create_channel(&NewChannel {
            name: conn.name.trim().to_owned(),
            kind: ChannelKind::Shopify,
            order_outlet: Some(conn.order_outlet),
            outlets: conn.outlets.clone(),
            settings: serde_json::to_value(&settings).map_err(|e| DomainError::new("settings", e.to_string()))?,
            credentials: Some(vault.seal(token)?),
            rules: conn.rules,
        })
        .await?;
    if let Some(w) = &conn.webhooks {
        // Registered after the channel exists (its id is in the address);
        // a refusal removes the channel again, so nothing is half-made.
        let registered = async {
            storage
                .set_webhook_secret(id, &vault.seal(w.client_secret.trim())?)
                .await?;
            let config = storage
                .channel(id)
                .await?
                .ok_or_else(|| Error::NotFound(format!("channel {}", id.get())))?;
            let connector = AnyConnector::for_channel(storage, vault, &config)?;
            connector
                .register_order_webhooks(&webhook_url(&w.public_url, id))
                .await
                .map_err(|source| ConnectError::Unreachable {
                    shop: domain.clone(),
                    source,
                })
        }
        .await;
        if let Err(e) = registered {
            storage.delete_channel(id).await?;
            return Err(e);
        }
    }
    Ok(Connected {
        id,
        shop_domain: domain,
        location_name: location.name.clone(),
        webhook_secret: None,
    })
}

/// What a merchant gives to connect a Vendure store.
#[derive(Debug, Clone)]
pub struct VendureConnection {
    pub name: String,
    /// Where the store serves its APIs, e.g. https://shop.example (the
    /// Admin API is at /admin-api under it).
    pub api_base_url: String,
    /// The Vendure stock location that holds this channel's stock, by name.
    pub stock_location: String,
    pub outlets: Vec<OutletId>,
    pub order_outlet: OutletId,
    pub rules: BalanceRules,
}

/// Checks the API key against the store, finds the stock location, then
/// stores the channel with the key sealed. Nothing is stored when a step fails.
pub async fn connect_vendure(
    storage: &Storage,
    vault: &Vault,
    conn: &VendureConnection,
    api_key: &str,
) -> Result<Connected, ConnectError> {
    if conn.name.trim().is_empty() {
        return Err(DomainError::new("name", "give the channel a name").into());
    }
    let base = conn
        .api_base_url
        .trim()
        .trim_end_matches('/')
        .trim_end_matches("/admin-api")
        .to_owned();
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
        return Err(DomainError::new(
            "api_base_url",
            format!("{base:?} is not an address such as https://shop.example"),
        )
        .into());
    }
    check_outlets(storage, &conn.outlets, conn.order_outlet).await?;
    let api_key = api_key.trim();
    if api_key.is_empty() {
        return Err(DomainError::new("api_key", "paste the Vendure API key").into());
    }
    if conn.stock_location.trim().is_empty() {
        return Err(DomainError::new("stock_location", "name the Vendure stock location that receives stock").into());
    }
    let locations = VendureConnector::stock_locations(&base, api_key)
        .await
        .map_err(|source| ConnectError::Unreachable {
            shop: base.clone(),
            source,
        })?;
    let Some(location) = locations
        .iter()
        .find(|l| l.name.eq_ignore_ascii_case(conn.stock_location.trim()))
    else {
        let names: Vec<&str> = locations.iter().map(|l| l.name.as_str()).collect();
        return Err(DomainError::new(
            "stock_location",
            format!(
                "the store has no stock location named {:?}; it has: {}",
                conn.stock_location.trim(),
                names.join(", ")
            ),
        )
        .into());
    };
    let settings = VendureSettings {
        api_base_url: base.clone(),
        stock_location_id: location.id.clone(),
        stock_location_name: location.name.clone(),
    };
    let id = storage
        .create_channel(&NewChannel {
            name: conn.name.trim().to_owned(),
            kind: ChannelKind::Vendure,
            order_outlet: Some(conn.order_outlet),
            outlets: conn.outlets.clone(),
            settings: serde_json::to_value(&settings).map_err(|e| DomainError::new("settings", e.to_string()))?,
            credentials: Some(vault.seal(api_key)?),
            rules: conn.rules,
        })
        .await?;
    let (secret, stored) = crate::webhook::new_vendure_secret();
    if let Err(e) = storage.set_webhook_secret(id, &stored).await {
        storage.delete_channel(id).await?;
        return Err(e.into());
    }
    Ok(Connected {
        id,
        shop_domain: base,
        location_name: location.name.clone(),
        webhook_secret: Some(secret),
    })
}

/// Where a Vendure store's order-webhook plugin posts a channel's order
/// events: the address carries the channel's webhook secret, as Vendure
/// signs nothing.
pub fn vendure_webhook_url(public_url: &str, channel: ChannelId, secret: &str) -> String {
    format!(
        "{}/webhooks/vendure/{}/{secret}",
        public_url.trim().trim_end_matches('/'),
        channel.get()
    )
}

/// Asks the channel whether its stored credentials still work, and says
/// what it found.
pub async fn test_connection(storage: &Storage, vault: &Vault, channel: ChannelId) -> Result<String, ConnectError> {
    let Some(config) = storage.channel(channel).await? else {
        return Err(Error::NotFound(format!("channel {}", channel.get())).into());
    };
    match AnyConnector::for_channel(storage, vault, &config)? {
        AnyConnector::Sandbox(_) => Ok(format!(
            "{} is the built-in Sandbox store; it is always reachable",
            config.name
        )),
        AnyConnector::Vendure(_) => {
            let settings: VendureSettings =
                serde_json::from_str(&config.settings).map_err(|e| DomainError::new("settings", e.to_string()))?;
            let key = vault.open(config.credentials.as_deref().unwrap_or_default())?;
            let locations = VendureConnector::stock_locations(&settings.api_base_url, &key)
                .await
                .map_err(|source| ConnectError::Unreachable {
                    shop: settings.api_base_url.clone(),
                    source,
                })?;
            let found = locations.iter().any(|l| l.id == settings.stock_location_id);
            Ok(if found {
                format!(
                    "Connected to {}: the API key works and stock goes to {:?}",
                    settings.api_base_url, settings.stock_location_name
                )
            } else {
                format!(
                    "Connected to {}, but the stock location {:?} is gone; reconnect with another location",
                    settings.api_base_url, settings.stock_location_name
                )
            })
        }
        AnyConnector::Shopify(_) => {
            let settings: ShopifySettings =
                serde_json::from_str(&config.settings).map_err(|e| DomainError::new("settings", e.to_string()))?;
            let sealed = config.credentials.as_deref().unwrap_or_default();
            let token = vault.open(sealed)?;
            let locations = ShopifyConnector::locations(&settings.api_base_url, &settings.api_version, &token)
                .await
                .map_err(|source| ConnectError::Unreachable {
                    shop: settings.shop_domain.clone(),
                    source,
                })?;
            let found = locations.iter().any(|l| l.id == settings.location_id);
            Ok(if found {
                format!(
                    "Connected to {}: the token works and stock goes to {:?}",
                    settings.shop_domain, settings.location_name
                )
            } else {
                format!(
                    "Connected to {}, but the location {:?} is gone or inactive; reconnect with another location",
                    settings.shop_domain, settings.location_name
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domains_are_forgiven_their_decoration_but_not_their_absence() {
        assert_eq!(
            shop_domain(" https://My-Shop.myshopify.com/ ").unwrap(),
            "my-shop.myshopify.com"
        );
        for bad in ["", "my shop", "https://", "shop/admin", "localhost"] {
            assert_eq!(shop_domain(bad).unwrap_err().field, "shop_domain", "{bad}");
        }
    }
}
