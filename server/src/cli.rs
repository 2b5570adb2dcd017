//! The command line: a thin layer over sync-core, like the pages.

mod channel;
mod import;
mod outlet;
mod product;

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::{Parser, Subcommand};
use sync_core::domain::{ApiTokenId, Role};

use crate::config::{GlobalArgs, ServeArgs};

#[derive(Debug, Parser)]
#[command(
    name = "tillbridge",
    version,
    about = "Keeps every web sales channel in step with your products and multi-outlet stock."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Log more detail.
    #[arg(long, short, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web dashboard, the API and the sync workers (the default).
    Serve(ServeArgs),
    /// Create or update the database schema, then exit.
    Migrate,
    /// Manage dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for point-of-sale and back-office systems.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Load the demo store (outlets, ~500 products, a Sandbox channel, a demo owner) into an empty database.
    Demo(DemoArgs),
    /// Connect and list web channels.
    #[command(subcommand)]
    Channel(channel::ChannelCommand),
    /// Turn Auto Sync on or off for all products or for the products of some SKUs.
    Autosync(channel::AutosyncArgs),
    /// Sync now: push to one channel (or all) and print the run's log. Exits non-zero when items failed.
    Sync(channel::SyncArgs),
    /// Preview or apply a stock or catalog CSV file, all or nothing.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Write the whole catalog (or, with --stock, stock per outlet) as CSV: the backup to keep before a force sync.
    Export(import::ExportArgs),
    /// Inventory feeds: a URL serving a CSV of one outlet's stock, fetched on a schedule.
    #[command(subcommand)]
    Feed(import::FeedCommand),
    /// Add and list outlets (shops and warehouses).
    #[command(subcommand)]
    Outlet(outlet::OutletCommand),
    /// Delete a product by one of its SKUs or its handle.
    #[command(subcommand)]
    Product(product::ProductCommand),
}

/// Sizes for a large demo store (benchmarks); without them, the classic 500 products.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Load this many products instead of 500, all with Auto Sync off (1 to 1,000,000).
    #[arg(long)]
    products: Option<u64>,
    /// Also load this many Sync History item events over the last 30 days (1 to 20,000,000).
    #[arg(long)]
    events: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is asked for, or read from the first line of stdin.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Remove a user; their sessions end at once. The last owner cannot be removed.
    Remove {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it once; only its hash is stored.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List the live API tokens: id, role, name and last use.
    List,
    /// Revoke an API token by its id (see `token list`): the API refuses it from the next request on.
    Revoke { id: ApiTokenId },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).map_err(|e| e.message)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command.unwrap_or(Command::Serve(ServeArgs {
        bind: std::env::var("TILLBRIDGE_BIND")
            .ok()
            .map(|b| {
                b.parse()
                    .context("TILLBRIDGE_BIND is not an address like 127.0.0.1:3000")
            })
            .transpose()?
            .unwrap_or_else(|| ([127, 0, 0, 1], 3000).into()),
        demo: false,
        public_url: std::env::var("TILLBRIDGE_PUBLIC_URL").ok(),
    })) {
        Command::Serve(args) => crate::web::serve(&global, args).await,
        Command::Migrate => {
            global.database().await?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::User(UserCommand::Add { email, role }) => {
            let services = global.services().await?;
            let password = read_password()?;
            let user = services.accounts.add_user(&email, &password, role).await?;
            println!("Added {} as {}.", user.email, user.role);
            Ok(())
        }
        Command::User(UserCommand::Remove { email }) => {
            let services = global.services().await?;
            let user = services.accounts.remove_user_by_email(&email).await?;
            println!("Removed {} ({}).", user.email, user.role);
            Ok(())
        }
        Command::Token(TokenCommand::List) => {
            let services = global.services().await?;
            for token in services.accounts.tokens().await? {
                let used = token
                    .last_used_at
                    .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
                println!("{}\t{}\t{}\t{used}", token.id, token.role, token.name);
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let services = global.services().await?;
            let token = services.accounts.revoke_token(id).await?;
            println!("Revoked API token {} ({:?}, {}).", token.id, token.name, token.role);
            Ok(())
        }
        Command::Token(TokenCommand::Create { name, role }) => {
            let services = global.services().await?;
            let issued = services.accounts.issue_token(&name, role).await?;
            println!("{}", issued.secret);
            eprintln!(
                "API token {} {:?} ({}) created. Copy it now: it is not shown again.",
                issued.token.id, issued.token.name, issued.token.role
            );
            Ok(())
        }
        Command::Channel(command) => channel::run(&global, command).await,
        Command::Autosync(args) => channel::autosync(&global, args).await,
        Command::Sync(args) => channel::sync(&global, args).await,
        Command::Import(command) => import::import(&global, command).await,
        Command::Export(args) => import::export(&global, args).await,
        Command::Feed(command) => import::feed(&global, command).await,
        Command::Outlet(command) => outlet::run(&global, command).await,
        Command::Product(command) => product::run(&global, command).await,
        Command::Demo(args) => {
            // Checked before the database is opened, so a bad size changes nothing.
            let size = sync_core::demo::DemoSize::new(args.products, args.events)?;
            let summary = global.database().await?.load_demo_with(size).await?;
            let events = match summary.events {
                0 => String::new(),
                n => format!(", {n} Sync History events"),
            };
            println!(
                "Loaded the demo store: {} outlets, {} products, {} SKUs{events}. Sign in as {} with the password {}.",
                summary.outlets,
                summary.products,
                summary.variants,
                sync_core::demo::DEMO_EMAIL,
                sync_core::demo::DEMO_PASSWORD
            );
            Ok(())
        }
    }
}

/// Asks for a password on a terminal, or reads the first line of piped stdin.
pub(crate) fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password (at least 8 characters; input is shown): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        anyhow::bail!("no password given: type it, or pipe it on stdin");
    }
    Ok(password)
}
