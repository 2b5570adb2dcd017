//! `tillbridge product …`: products by one of their SKUs or their handle.

use anyhow::{anyhow, bail};
use clap::{ArgGroup, Args, Subcommand};
use sync_core::domain::{Actor, Sku};
use sync_core::service::{Catalog, Named, ProductDetail};

use crate::config::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Delete a product, named by one of its SKUs or by its handle: it leaves every list, its
    /// SKUs take no more stock movements, and every channel that lists it deletes it too.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("product").required(true).args(["sku", "handle"])))]
pub struct DeleteArgs {
    /// A SKU of the product's, exactly as stored (case counts).
    #[arg(long)]
    sku: Option<String>,
    /// The product's handle, e.g. merino-crew-tee.
    #[arg(long)]
    handle: Option<String>,
}

pub async fn run(global: &GlobalArgs, command: ProductCommand) -> anyhow::Result<()> {
    let services = global.services().await?;
    match command {
        ProductCommand::Delete(args) => {
            let product = find(&services.catalog, &args).await?;
            let name = services.catalog.delete_product(&Actor::System, product.id).await?;
            let skus: Vec<&str> = product.variants.iter().map(|v| v.sku.as_str()).collect();
            println!(
                "Deleted {name:?} (product {}, handle {}, {} variant{}: {}). Channels that list it delete it too.",
                product.id,
                product.handle,
                skus.len(),
                if skus.len() == 1 { "" } else { "s" },
                skus.join(", ")
            );
            Ok(())
        }
    }
}

/// The live product the arguments name, or why there is none.
async fn find(catalog: &Catalog, args: &DeleteArgs) -> anyhow::Result<ProductDetail> {
    match (&args.sku, &args.handle) {
        (Some(raw), _) => {
            let sku = Sku::parse(raw).map_err(|e| anyhow!("--sku: {}", e.message))?;
            match catalog.named_by_sku(&sku).await? {
                Named::Live(product) => Ok(*product),
                Named::Deleted => bail!("the SKU {sku} belongs to a product that is deleted already"),
                Named::Nothing => match catalog.named_by_handle(sku.as_str()).await? {
                    Named::Live(p) => bail!(
                        "no product has the SKU {sku}, but {:?} has it as its handle; to delete that product use --handle {}",
                        p.name,
                        p.handle
                    ),
                    _ => bail!("no product has the SKU {sku} (SKUs are matched exactly, case included)"),
                },
            }
        }
        (None, Some(handle)) => match catalog.named_by_handle(handle).await? {
            Named::Live(product) => Ok(*product),
            Named::Deleted => bail!("the product with the handle {:?} is deleted already", handle.trim()),
            Named::Nothing => {
                let as_sku = match Sku::parse(handle) {
                    Ok(sku) => catalog.named_by_sku(&sku).await?,
                    Err(_) => Named::Nothing,
                };
                match as_sku {
                    Named::Live(p) => bail!(
                        "no product has the handle {:?}, but it is a SKU of {:?} (handle {}); to delete that product use --sku {}",
                        handle.trim(),
                        p.name,
                        p.handle,
                        handle.trim()
                    ),
                    _ => bail!("no product has the handle {:?}", handle.trim()),
                }
            }
        },
        (None, None) => bail!("name the product with --sku or --handle"),
    }
}
