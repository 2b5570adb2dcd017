//! `tillbridge outlet …`: the shops and warehouses stock is kept for, e.g.
//! to create them in a new database before restoring a stock backup.

use clap::Subcommand;
use sync_core::domain::OutletCode;

use crate::config::GlobalArgs;

#[derive(Debug, Subcommand)]
pub enum OutletCommand {
    /// Add an outlet.
    Add {
        /// The short code files and the API name it by, e.g. downtown.
        #[arg(long)]
        code: String,
        /// The name people see, e.g. "Downtown store".
        #[arg(long)]
        name: String,
    },
    /// List the outlets: code and name.
    List,
}

pub async fn run(global: &GlobalArgs, command: OutletCommand) -> anyhow::Result<()> {
    let services = global.services().await?;
    match command {
        OutletCommand::Add { code, name } => {
            let code = OutletCode::parse(&code).map_err(|e| anyhow::anyhow!("--code: {}", e.message))?;
            let outlet = services.catalog.create_outlet(&code, &name).await?;
            println!("Added the outlet {} ({}).", outlet.code, outlet.name);
        }
        OutletCommand::List => {
            for o in services.catalog.outlets().await? {
                println!("{}\t{}", o.code, o.name);
            }
        }
    }
    Ok(())
}
