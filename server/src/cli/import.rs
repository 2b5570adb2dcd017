//! `tillbridge import …`, `export` and `feed …`: stock and catalog files and
//! inventory feeds from scripts. Without `--apply` an import prints its
//! preview; with it, the file is applied whole or not at all.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use sync_core::domain::{Actor, MovementReason, OutletCode};
use sync_core::import::{ApplyOutcome, CatalogChange, ImportPreview, StockFileOptions, StockLine, StockMode};
use sync_core::service::{NewFeed, RunTrigger};

use crate::config::GlobalArgs;

/// Changes printed in a preview before "… and N more".
const SHOWN: usize = 20;

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Stock counts or adjustments: columns sku, outlet, and count, delta or quantity (with --mode); optionally reference and note.
    Stock(StockArgs),
    /// Products and variants, one row per variant (the format `tillbridge export` writes); creates and updates, never deletes.
    Catalog(CatalogArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Mode {
    Count,
    Delta,
}

impl From<Mode> for StockMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Count => StockMode::Count,
            Mode::Delta => StockMode::Delta,
        }
    }
}

#[derive(Debug, Args)]
pub struct StockArgs {
    /// The CSV file, or - for standard input.
    file: PathBuf,
    /// Apply the file; without it only the preview is printed.
    #[arg(long)]
    apply: bool,
    /// What a quantity column holds: counts (on hand) or deltas (adjustments).
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// The outlet (code) of rows without one, or of a file without an outlet column.
    #[arg(long)]
    outlet: Option<String>,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// The CSV file, or - for standard input.
    file: PathBuf,
    /// Apply the file; without it only the preview is printed.
    #[arg(long)]
    apply: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write the CSV, or - for standard output.
    file: PathBuf,
    /// Write stock per SKU and outlet (sku,outlet,count) instead of the catalog.
    #[arg(long)]
    stock: bool,
}

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Add an inventory feed: a URL serving a CSV of one outlet's stock (sku and count, delta or quantity).
    Add(FeedArgs),
    /// Fetch a feed now and apply it; exits non-zero when the fetch failed (nothing is changed then).
    Run {
        #[arg(long)]
        name: String,
    },
    /// List the feeds with their last fetch.
    List,
}

#[derive(Debug, Args)]
pub struct FeedArgs {
    /// A name for the feed, unique.
    #[arg(long)]
    name: String,
    /// The feed's address (http:// or https://).
    #[arg(long)]
    url: String,
    /// The outlet (code) whose stock the feed sets.
    #[arg(long)]
    outlet: String,
    /// Fetch every this many minutes while `tillbridge serve` runs; without it, only on request.
    #[arg(long)]
    every: Option<i64>,
    /// What a quantity column holds.
    #[arg(long, value_enum, default_value = "count")]
    mode: Mode,
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn file_label(path: &Path) -> String {
    match path.file_name() {
        Some(name) if path.as_os_str() != "-" => name.to_string_lossy().into_owned(),
        _ => "standard input".to_owned(),
    }
}

fn cli_actor() -> Actor {
    Actor::System
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Prints a preview's figures and bad rows; the caller prints the changes.
fn print_summary<C>(label: &str, preview: &ImportPreview<C>, applied: bool) {
    println!(
        "{label}: {}; {} {}, {} already as the file says, {}.",
        plural(preview.rows, "row", "rows"),
        plural(preview.changes.len(), "change", "changes"),
        if applied { "applied" } else { "to apply" },
        preview.unchanged,
        plural(preview.errors.len(), "bad row", "bad rows"),
    );
    if !preview.errors.is_empty() {
        eprintln!("Bad rows (nothing was applied):");
        for e in &preview.errors {
            eprintln!("  {e}");
        }
    }
}

fn stock_line(c: &StockLine) -> String {
    let change = match c.change {
        sync_core::domain::StockChange::Count(n) => format!("count {n}"),
        sync_core::domain::StockChange::Delta(d) => format!("{d:+}"),
    };
    format!(
        "line {}: {} at {}: {} → {} ({change})",
        c.line, c.sku, c.outlet, c.before, c.after
    )
}

fn catalog_line(c: &CatalogChange) -> String {
    format!(
        "line {}: {} {:?}: {}",
        c.line,
        if c.created { "create" } else { "update" },
        c.handle,
        c.details.join("; ")
    )
}

fn print_changes<C>(changes: &[C], line: impl Fn(&C) -> String) {
    for c in changes.iter().take(SHOWN) {
        println!("  {}", line(c));
    }
    if changes.len() > SHOWN {
        println!("  … and {} more", changes.len() - SHOWN);
    }
}

pub async fn import(global: &GlobalArgs, command: ImportCommand) -> anyhow::Result<()> {
    let services = global.services().await?;
    match command {
        ImportCommand::Stock(args) => {
            let bytes = read_input(&args.file)?;
            let label = file_label(&args.file);
            let options = StockFileOptions {
                mode: args.mode.map(StockMode::from),
                outlet: args
                    .outlet
                    .as_deref()
                    .map(OutletCode::parse)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("--outlet: {}", e.message))?,
                reason: MovementReason::FileUpload,
                reference: format!("file {label}"),
            };
            let (preview, applied) = if args.apply {
                match services.files.apply_stock(&cli_actor(), &bytes, &options, None).await? {
                    ApplyOutcome::Applied { preview, .. } => (preview, true),
                    ApplyOutcome::Refused(preview) => (preview, false),
                }
            } else {
                (services.files.preview_stock(&bytes, &options).await?, false)
            };
            print_summary(&label, &preview, applied);
            print_changes(&preview.changes, stock_line);
            finish(&preview, args.apply)
        }
        ImportCommand::Catalog(args) => {
            let bytes = read_input(&args.file)?;
            let label = file_label(&args.file);
            let (preview, applied) = if args.apply {
                match services.files.apply_catalog(&bytes).await? {
                    ApplyOutcome::Applied { preview, .. } => (preview, true),
                    ApplyOutcome::Refused(preview) => (preview, false),
                }
            } else {
                (services.files.preview_catalog(&bytes).await?, false)
            };
            print_summary(&label, &preview, applied);
            print_changes(&preview.changes, catalog_line);
            finish(&preview, args.apply)
        }
    }
}

/// Bad rows make the command fail, with or without --apply.
fn finish<C>(preview: &ImportPreview<C>, apply: bool) -> anyhow::Result<()> {
    if !preview.is_clean() {
        bail!(
            "{}; nothing was applied",
            plural(preview.errors.len(), "bad row", "bad rows")
        );
    }
    if !apply && !preview.changes.is_empty() {
        println!("Nothing applied yet: run again with --apply.");
    }
    Ok(())
}

pub async fn export(global: &GlobalArgs, args: ExportArgs) -> anyhow::Result<()> {
    let services = global.services().await?;
    let bytes = if args.stock {
        services.files.export_stock().await?
    } else {
        services.files.export_catalog().await?
    };
    if args.file.as_os_str() == "-" {
        std::io::stdout()
            .write_all(&bytes)
            .context("cannot write to standard output")?;
        return Ok(());
    }
    std::fs::write(&args.file, &bytes).with_context(|| format!("cannot write {}", args.file.display()))?;
    eprintln!(
        "Wrote {} to {}.",
        if args.stock { "stock" } else { "the catalog" },
        args.file.display()
    );
    Ok(())
}

pub async fn feed(global: &GlobalArgs, command: FeedCommand) -> anyhow::Result<()> {
    let services = global.services().await?;
    match command {
        FeedCommand::Add(args) => {
            let code = OutletCode::parse(&args.outlet).map_err(|e| anyhow::anyhow!("--outlet: {}", e.message))?;
            let outlets = services.catalog.outlets().await?;
            let Some(outlet) = outlets.iter().find(|o| o.code == code) else {
                let codes: Vec<&str> = outlets.iter().map(|o| o.code.as_str()).collect();
                bail!("no outlet has the code {code}; the outlets are {}", codes.join(", "));
            };
            services
                .files
                .add_feed(&NewFeed {
                    name: args.name.clone(),
                    url: args.url.clone(),
                    outlet: outlet.id,
                    mode: StockMode::from(args.mode).as_str().to_owned(),
                    schedule_minutes: args.every,
                })
                .await?;
            match args.every {
                Some(m) => println!(
                    "Added the feed {:?} for {}: fetched every {m} minutes while Tillbridge serves.",
                    args.name, outlet.name
                ),
                None => println!(
                    "Added the feed {:?} for {}: fetch it with `tillbridge feed run --name {:?}` or on the Import page.",
                    args.name, outlet.name, args.name
                ),
            }
            Ok(())
        }
        FeedCommand::Run { name } => {
            let feed = services
                .files
                .feed_by_name(&name)
                .await?
                .with_context(|| format!("no feed is named {name:?}"))?;
            let run = services.files.fetch_feed(&feed, RunTrigger::Cli, &cli_actor()).await?;
            println!("{}", run.message);
            if !run.succeeded {
                bail!(
                    "the feed failed; see the line above and the Sync History (run {})",
                    run.run
                );
            }
            Ok(())
        }
        FeedCommand::List => {
            println!("name\toutlet\tmode\tevery\tlast fetched\tlast status\turl");
            for f in services.files.feeds().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    f.name,
                    f.outlet_code,
                    f.mode,
                    f.schedule_minutes
                        .map_or_else(|| "on request".to_owned(), |m| format!("{m} min")),
                    f.last_fetched_at.map_or_else(|| "never".to_owned(), |t| t.to_string()),
                    f.last_status.as_deref().unwrap_or("-"),
                    f.url
                );
            }
            Ok(())
        }
    }
}
