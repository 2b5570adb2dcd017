//! `tillbridge channel …`, `autosync` and `sync`: channels driven from scripts.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use sync_core::Services;
use sync_core::connect::{ShopifyConnection, VendureConnection, WebhookSetup, shop_domain, vendure_webhook_url};
use sync_core::domain::{BalanceRules, ChannelKind, ChannelOnlyPolicy, OutletCode, OutletId, Sku};
use sync_core::service::{NewChannel, RunTrigger, SyncRequest};
use sync_core::sync::ForceOptions;

use crate::config::GlobalArgs;

// Parsed once per run: the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Connect a channel.
    #[command(subcommand)]
    Add(AddChannel),
    /// List channels: kind, outlets, pending pushes, last push, failures in the last 24 h.
    List,
}

#[derive(Debug, Subcommand)]
pub enum AddChannel {
    /// A Shopify store. The Admin API access token is read from TILLBRIDGE_SHOPIFY_TOKEN or stdin, never a flag.
    Shopify(ShopifyArgs),
    /// A Sandbox store inside Tillbridge, to try syncing without any account.
    Sandbox(OutletArgs),
    /// A Vendure store. The Admin API key is read from TILLBRIDGE_VENDURE_API_KEY or stdin, never a flag.
    Vendure(Box<VendureArgs>),
}

#[derive(Debug, Args)]
pub struct VendureArgs {
    #[command(flatten)]
    outlets: OutletArgs,
    /// Where the store serves its APIs, e.g. https://shop.example (the Admin API is URL/admin-api).
    #[arg(long)]
    api_base_url: String,
    /// The Vendure stock location that holds this channel's stock, by name.
    #[arg(long)]
    stock_location: String,
    /// Where Tillbridge is reachable from the store: prints the address to give the store's
    /// order-webhook plugin (URL/webhooks/vendure/ID/SECRET, shown only then).
    #[arg(long, env = "TILLBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct OutletArgs {
    /// A name for the channel, unique.
    #[arg(long)]
    name: String,
    /// Outlets whose stock is combined for this channel (codes, comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    outlets: Vec<String>,
    /// The outlet that takes this channel's orders (default: the first of --outlets); always included.
    #[arg(long)]
    order_outlet: Option<String>,
    /// Units held back from the channel per variant.
    #[arg(long, default_value_t = 0)]
    safety_buffer: i64,
    /// Publish only this share of the balance, 0 to 100 (%).
    #[arg(long)]
    publish_percent: Option<i64>,
    /// Publish at most this many per variant.
    #[arg(long)]
    publish_max: Option<i64>,
    /// Publish 0 when the balance is at or below this.
    #[arg(long)]
    zero_at_or_below: Option<i64>,
}

impl OutletArgs {
    fn rules(&self) -> BalanceRules {
        BalanceRules {
            safety_buffer: self.safety_buffer,
            publish_percent: self.publish_percent,
            publish_max: self.publish_max,
            zero_at_or_below: self.zero_at_or_below,
        }
    }
}

#[derive(Debug, Args)]
pub struct ShopifyArgs {
    #[command(flatten)]
    outlets: OutletArgs,
    /// The shop's domain, e.g. my-shop.myshopify.com.
    #[arg(long)]
    shop_domain: String,
    /// Where the Admin API is served (default: https://DOMAIN).
    #[arg(long)]
    api_base_url: Option<String>,
    /// The Shopify location that receives this channel's stock, by name.
    #[arg(long)]
    location: String,
    /// Where Tillbridge is reachable from the internet: order webhooks are registered at
    /// URL/webhooks/shopify/ID. The app's client secret, which signs them, is read from
    /// TILLBRIDGE_SHOPIFY_CLIENT_SECRET or the line of stdin after the token.
    #[arg(long, env = "TILLBRIDGE_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Args)]
pub struct AutosyncArgs {
    state: OnOff,
    /// Every product.
    #[arg(long, conflicts_with = "sku", required_unless_present = "sku")]
    all: bool,
    /// The products these SKUs belong to.
    #[arg(long, num_args = 1..)]
    sku: Vec<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SyncKind {
    /// New products and pending quantities.
    Standard,
    /// Every Auto Sync quantity, overwriting the channel's figures.
    Force,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The channel's name.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    channel: Option<String>,
    /// Every channel, one after the other.
    #[arg(long)]
    all: bool,
    #[arg(long, value_enum, default_value = "standard")]
    kind: SyncKind,
    /// Force sync: what to do with products found only in the channel.
    #[arg(long, value_enum, default_value = "keep")]
    channel_only: ChannelOnly,
    /// Force sync: forget the channel mapping first and relink by SKU ("Clear all data and sync").
    #[arg(long)]
    clear: bool,
    /// Force sync: print what it would change, and change nothing.
    #[arg(long)]
    preview: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelOnly {
    Keep,
    Unpublish,
    Delete,
}

pub async fn run(global: &GlobalArgs, command: ChannelCommand) -> anyhow::Result<()> {
    match command {
        ChannelCommand::Add(AddChannel::Sandbox(args)) => {
            let services = global.services().await?;
            let (order_outlet, outlets) = resolve_outlets(&services, &args).await?;
            let id = services
                .channels
                .create(&NewChannel {
                    name: args.name.clone(),
                    kind: ChannelKind::Sandbox,
                    order_outlet: Some(order_outlet),
                    outlets,
                    rules: args.rules(),
                    ..NewChannel::default()
                })
                .await?;
            println!("Added Sandbox channel {:?} (id {id}).", args.name);
            Ok(())
        }
        ChannelCommand::Add(AddChannel::Shopify(args)) => add_shopify(global, args).await,
        ChannelCommand::Add(AddChannel::Vendure(args)) => add_vendure(global, *args).await,
        ChannelCommand::List => list(global).await,
    }
}

async fn resolve_outlets(services: &Services, args: &OutletArgs) -> anyhow::Result<(OutletId, Vec<OutletId>)> {
    let known = services.catalog.outlets().await?;
    if known.is_empty() {
        bail!("there are no outlets yet; load the demo (tillbridge demo) or create outlets first");
    }
    let find = |code: &str| -> anyhow::Result<OutletId> {
        let code = OutletCode::parse(code).map_err(|e| anyhow::anyhow!("{}", e.message))?;
        known.iter().find(|o| o.code == code).map(|o| o.id).with_context(|| {
            let codes: Vec<String> = known.iter().map(|o| o.code.to_string()).collect();
            format!("no outlet has the code {code}; known outlets: {}", codes.join(", "))
        })
    };
    let outlets = if args.outlets.is_empty() {
        known.iter().map(|o| o.id).collect()
    } else {
        args.outlets
            .iter()
            .map(|c| find(c.trim()))
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let order_outlet = match &args.order_outlet {
        Some(code) => find(code)?,
        None => outlets[0],
    };
    Ok((order_outlet, outlets))
}

/// A secret from the environment variable `env`, or the next line of stdin.
fn read_secret(env: &str, what: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(env)
        && !value.trim().is_empty()
    {
        return Ok(value.trim().to_owned());
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("{what}: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from stdin"))?;
    let value = line.trim().to_owned();
    if value.is_empty() {
        bail!("no {what}: set {env} or pipe it on stdin");
    }
    Ok(value)
}

async fn add_shopify(global: &GlobalArgs, args: ShopifyArgs) -> anyhow::Result<()> {
    let services = global.services().await?;
    // Check the flags before asking for the token.
    let domain = shop_domain(&args.shop_domain).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let (order_outlet, outlets) = resolve_outlets(&services, &args.outlets).await?;
    let token = read_secret("TILLBRIDGE_SHOPIFY_TOKEN", "Shopify Admin API access token")?;
    let webhooks = match &args.public_url {
        Some(url) => Some(WebhookSetup {
            public_url: url.clone(),
            client_secret: read_secret("TILLBRIDGE_SHOPIFY_CLIENT_SECRET", "Shopify app client secret")?,
        }),
        None => None,
    };
    let connection = ShopifyConnection {
        name: args.outlets.name.clone(),
        shop_domain: domain,
        api_base_url: args.api_base_url.clone(),
        location: args.location.clone(),
        outlets,
        order_outlet,
        rules: args.outlets.rules(),
        webhooks,
    };
    let connected = services.channels.connect_shopify(&connection, &token).await?;
    println!(
        "Added Shopify channel {:?} (id {}) for {}, stock at location {:?}.",
        args.outlets.name, connected.id, connected.shop_domain, connected.location_name
    );
    Ok(())
}

async fn add_vendure(global: &GlobalArgs, args: VendureArgs) -> anyhow::Result<()> {
    let services = global.services().await?;
    // Check the flags before asking for the key.
    let (order_outlet, outlets) = resolve_outlets(&services, &args.outlets).await?;
    let api_key = read_secret("TILLBRIDGE_VENDURE_API_KEY", "Vendure Admin API key")?;
    let connection = VendureConnection {
        name: args.outlets.name.clone(),
        api_base_url: args.api_base_url.clone(),
        stock_location: args.stock_location.clone(),
        outlets,
        order_outlet,
        rules: args.outlets.rules(),
    };
    let connected = services.channels.connect_vendure(&connection, &api_key).await?;
    println!(
        "Added Vendure channel {:?} (id {}) for {}, stock at location {:?}.",
        args.outlets.name, connected.id, connected.shop_domain, connected.location_name
    );
    if let (Some(url), Some(secret)) = (&args.public_url, &connected.webhook_secret) {
        println!(
            "Order webhooks: set VENDURE_ORDER_WEBHOOK_URL={} for the store's order-webhook plugin \
             (the address holds a secret, shown only now).",
            vendure_webhook_url(url, connected.id, secret)
        );
    }
    Ok(())
}

async fn list(global: &GlobalArgs) -> anyhow::Result<()> {
    let services = global.services().await?;
    println!(
        "{:<24} {:<8} {:<28} {:>8} {:<24} {:>9}",
        "NAME", "KIND", "OUTLETS", "PENDING", "LAST PUSH", "FAILED 24H"
    );
    for h in services.channels.health().await? {
        let codes: Vec<String> = h.outlets.iter().map(|o| o.code.to_string()).collect();
        println!(
            "{:<24} {:<8} {:<28} {:>8} {:<24} {:>9}",
            h.channel.name,
            h.channel.kind,
            codes.join(","),
            h.pending,
            h.channel
                .last_push_at
                .map_or_else(|| "never".to_owned(), |t| t.to_string()),
            h.failures_24h
        );
    }
    Ok(())
}

pub async fn autosync(global: &GlobalArgs, args: AutosyncArgs) -> anyhow::Result<()> {
    let services = global.services().await?;
    let ids = if args.all {
        services.catalog.all_product_ids().await?
    } else {
        let skus = args
            .sku
            .iter()
            .map(|s| Sku::parse(s).map_err(|e| anyhow::anyhow!("{}", e.message)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (ids, unknown) = services.catalog.product_ids_for_skus(&skus).await?;
        if !unknown.is_empty() {
            let list: Vec<&str> = unknown.iter().map(Sku::as_str).collect();
            bail!("unknown SKU(s): {}; nothing changed", list.join(", "));
        }
        ids
    };
    let on = matches!(args.state, OnOff::On);
    let change = services.catalog.set_auto_sync(&ids, on).await?;
    let state = if on { "on" } else { "off" };
    println!(
        "Auto Sync turned {state} for {} products; {} quantities queued.",
        change.changed, change.queued
    );
    Ok(())
}

pub async fn sync(global: &GlobalArgs, args: SyncArgs) -> anyhow::Result<()> {
    let services = global.services().await?;
    let force = matches!(args.kind, SyncKind::Force);
    if (args.clear || args.preview) && !force {
        bail!("--clear and --preview go with --kind force");
    }
    let channels = match &args.channel {
        Some(name) => vec![
            services
                .channels
                .by_name(name)
                .await?
                .with_context(|| format!("no channel is named {name:?}"))?,
        ],
        None => services.channels.configs().await?,
    };
    let options = ForceOptions {
        channel_only: match args.channel_only {
            ChannelOnly::Keep => ChannelOnlyPolicy::Keep,
            ChannelOnly::Unpublish => ChannelOnlyPolicy::Unpublish,
            ChannelOnly::Delete => ChannelOnlyPolicy::Delete,
        },
        clear_first: args.clear,
    };
    if args.preview {
        for config in &channels {
            let preview = services.channels.force_preview(config).await?;
            println!("{}: {}", config.name, preview.describe(options.channel_only));
            for p in &preview.channel_only {
                println!("  only in the channel: {} ({})", p.title, p.skus.join(", "));
            }
        }
        return Ok(());
    }
    let request = if force {
        SyncRequest::Force(options)
    } else {
        SyncRequest::Standard
    };
    let mut ok = true;
    for outcome in services
        .channels
        .run(&channels, request, RunTrigger::Cli.into())
        .await?
    {
        if outcome.pulled.is_some() {
            println!("{}", outcome.pull_log());
        }
        println!("{}", outcome.pushed.log());
        ok &= outcome.ok();
    }
    if !ok {
        bail!("some items failed; see the lines above and the Sync History");
    }
    Ok(())
}
