//! The demo store: three outlets, about 500 products (about 1,600 SKUs)
//! with believable names, prices, barcodes and stock, a Sandbox channel and
//! an owner account. Deterministic, so screenshots and tests agree.

use std::collections::{HashMap, HashSet};

use crate::domain::{
    Actor, Barcode, ChannelId, ChannelKind, Currency, DomainError, Money, MovementReason, OutletCode, ProductId, Role,
    Sku, StockChange, Timestamp, VariantId,
};
use crate::storage::Storage;
use crate::storage::{NewChannel, NewMovement, NewProduct, NewVariant, Outlet, Pool, handle_for};
use crate::{Error, Result};

pub const DEMO_EMAIL: &str = "demo@tillbridge.test";
pub const DEMO_PASSWORD: &str = "tillbridge-demo";

/// What was loaded, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub outlets: usize,
    pub products: usize,
    pub variants: usize,
    /// Sync History item events.
    pub events: usize,
}

/// A small deterministic generator (SplitMix64), enough for sample data.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct Category {
    name: &'static str,
    code: &'static str,
    nouns: &'static [&'static str],
    /// Option name and its values; a product uses a leading subset of values.
    options: &'static [(&'static str, &'static [&'static str])],
    price_range: (i64, i64),
    weight_grams: i64,
}

const CATEGORIES: &[Category] = &[
    Category {
        name: "T-Shirts",
        code: "TEE",
        nouns: &["Crew Tee", "Pocket Tee", "V-Neck Tee", "Henley", "Long Sleeve Tee"],
        options: &[
            ("Size", &["S", "M", "L", "XL", "XXL", "XS"]),
            ("Colour", &["Black", "White", "Navy"]),
        ],
        price_range: (29, 69),
        weight_grams: 180,
    },
    Category {
        name: "Hoodies",
        code: "HOD",
        nouns: &["Hoodie", "Zip Hoodie", "Crew Sweat", "Fleece Pullover"],
        options: &[("Size", &["S", "M", "L", "XL", "XXL", "XS"])],
        price_range: (79, 149),
        weight_grams: 520,
    },
    Category {
        name: "Jeans",
        code: "JNS",
        nouns: &["Slim Jean", "Straight Jean", "Relaxed Jean", "Chino"],
        options: &[("Waist", &["30", "32", "34", "36", "28", "38"])],
        price_range: (89, 179),
        weight_grams: 650,
    },
    Category {
        name: "Footwear",
        code: "SHO",
        nouns: &["Runner", "Court Sneaker", "Trail Shoe", "Chelsea Boot", "Slide"],
        options: &[("Size", &["8", "9", "10", "11", "7", "12"])],
        price_range: (99, 249),
        weight_grams: 900,
    },
    Category {
        name: "Socks",
        code: "SCK",
        nouns: &["Crew Sock", "Hiking Sock", "Ankle Sock 3-Pack"],
        options: &[("Size", &["M", "L", "S"])],
        price_range: (12, 29),
        weight_grams: 80,
    },
    Category {
        name: "Headwear",
        code: "HAT",
        nouns: &["Beanie", "Cap", "Bucket Hat", "Sun Hat"],
        options: &[("Colour", &["Black", "Olive", "Sand", "Rust"])],
        price_range: (25, 59),
        weight_grams: 120,
    },
    Category {
        name: "Bags",
        code: "BAG",
        nouns: &["Backpack", "Tote", "Duffel", "Sling Bag", "Laptop Sleeve"],
        options: &[("Colour", &["Black", "Charcoal", "Tan"])],
        price_range: (49, 199),
        weight_grams: 800,
    },
    Category {
        name: "Kitchen",
        code: "KIT",
        nouns: &["Mug", "Pour-Over Set", "Travel Cup", "Tea Tin", "Cutting Board"],
        options: &[],
        price_range: (15, 89),
        weight_grams: 400,
    },
    Category {
        name: "Home",
        code: "HOM",
        nouns: &["Candle", "Throw Blanket", "Linen Cushion", "Ceramic Vase"],
        options: &[("Scent", &["Kawakawa", "Sea Salt", "Cedar", "Fig"])],
        price_range: (29, 129),
        weight_grams: 700,
    },
    Category {
        name: "Stationery",
        code: "STN",
        nouns: &["Notebook", "Dot Grid Journal", "Pen Set", "Weekly Planner"],
        options: &[],
        price_range: (9, 45),
        weight_grams: 250,
    },
    Category {
        name: "Outdoor",
        code: "OUT",
        nouns: &["Water Bottle", "Camp Mug", "Dry Bag", "Picnic Rug"],
        options: &[("Colour", &["Forest", "Sky", "Steel"]), ("Size", &["500 ml", "1 l"])],
        price_range: (19, 99),
        weight_grams: 450,
    },
];

const ADJECTIVES: &[&str] = &[
    "Classic", "Everyday", "Coastal", "Alpine", "Heritage", "Urban", "Trail", "Studio", "Weekend", "Summit", "Harbour",
    "Kauri", "Tussock", "Southern", "Drift", "Ridge",
];
const MATERIALS: &[&str] = &[
    "Merino",
    "Organic Cotton",
    "Linen",
    "Recycled",
    "Canvas",
    "Waxed",
    "Hemp",
    "Wool Blend",
    "",
];
const BRANDS: &[&str] = &[
    "Kōwhai & Co",
    "Northbound",
    "Tidewater",
    "Ironsand",
    "Fernleaf Goods",
    "Matai Supply",
    "Salt Road",
];
const SUPPLIERS: &[&str] = &["Pacific Wholesale Ltd", "Southern Cross Textiles", "Bay Trading Co"];

/// A valid EAN-13 for the sequence number `n` (GS1 check digit).
fn ean13(n: u64) -> String {
    let body = format!("94{:010}", n % 10_000_000_000);
    let sum: u32 = body
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Draws of a random name before an already used one is taken with a number
/// after it. The first 500 products always find a fresh name well within
/// this, so the classic demo is the same as ever.
const NAME_DRAWS: usize = 8;

/// The demo catalogue, one product at a time, always in the same order.
struct Catalog {
    dice: Dice,
    nzd: Currency,
    /// How often each drawn name has been used.
    names: HashMap<String, u32>,
    barcode_seq: u64,
    made: usize,
}

impl Catalog {
    fn new() -> Result<Self, DomainError> {
        Ok(Self {
            dice: Dice(20_261_125),
            nzd: Currency::parse("NZD")?,
            names: HashMap::new(),
            barcode_seq: 1_000,
            made: 0,
        })
    }

    fn next_product(&mut self) -> Result<NewProduct, DomainError> {
        let dice = &mut self.dice;
        let mut drawn = None;
        for _ in 0..NAME_DRAWS {
            let cat = dice.pick(CATEGORIES);
            let noun = dice.pick(cat.nouns);
            let name = match *dice.pick(MATERIALS) {
                "" => format!("{} {noun}", dice.pick(ADJECTIVES)),
                m => format!("{} {m} {noun}", dice.pick(ADJECTIVES)),
            };
            let fresh = !self.names.contains_key(&name);
            drawn = Some((cat, name));
            if fresh {
                break;
            }
        }
        let Some((cat, base)) = drawn else {
            return Err(DomainError::new("name", "no product name was drawn"));
        };
        let uses = self.names.entry(base.clone()).or_insert(0);
        *uses += 1;
        // Past a few thousand products the word lists run out: "Alpine Cap 2".
        let name = if *uses == 1 { base } else { format!("{base} {uses}") };
        self.made += 1;
        let number = self.made;
        let nzd = self.nzd;
        let (lo, hi) = cat.price_range;
        let dollars = lo + dice.below((hi - lo + 1) as u64) as i64;
        let cents = *dice.pick(&[0, 0, 50, 90, 99]);
        let price = Money::new(dollars * 100 + cents, nzd);
        // 1 to 6 variants: a leading subset of each option's values.
        let mut combos: Vec<Vec<String>> = vec![vec![]];
        for (_, values) in cat.options {
            let take = 2 + dice.below(values.len().min(6) as u64 - 1) as usize;
            combos = combos
                .into_iter()
                .flat_map(|prefix| {
                    values[..take]
                        .iter()
                        .map(move |v| [prefix.clone(), vec![(*v).to_owned()]].concat())
                })
                .collect();
        }
        combos.truncate(6);
        let barcode_seq = &mut self.barcode_seq;
        let variants = combos
            .into_iter()
            .map(|values| {
                *barcode_seq += 1;
                let suffix: String = values
                    .iter()
                    .map(|v| {
                        v.chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .take(3)
                            .collect::<String>()
                            .to_uppercase()
                    })
                    .collect::<Vec<_>>()
                    .join("-");
                let sku = if suffix.is_empty() {
                    format!("{}-{number:04}", cat.code)
                } else {
                    format!("{}-{number:04}-{suffix}", cat.code)
                };
                Ok(NewVariant {
                    sku: Sku::parse(&sku)?,
                    barcode: Some(Barcode::parse(&ean13(*barcode_seq))?),
                    option_values: values,
                    price,
                    weight_grams: Some(cat.weight_grams),
                    dimensions_mm: Some([300, 250, 40]),
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let brand = *dice.pick(BRANDS);
        Ok(NewProduct {
            description: format!("{name} by {brand}. Designed in Aotearoa, made to last."),
            brand: brand.to_owned(),
            category: cat.name.to_owned(),
            option_names: cat.options.iter().map(|(n, _)| (*n).to_owned()).collect(),
            active: dice.below(20) != 0,
            supplier: (*dice.pick(SUPPLIERS)).to_owned(),
            supplier_code: format!("SUP-{number:05}"),
            supplier_price: Some(Money::new(price.minor * 45 / 100, nzd)),
            reorder_point: Some(5),
            reorder_quantity: Some(24),
            tax_class: "GST 15%".into(),
            tags: vec![cat.name.to_lowercase(), brand.to_lowercase()],
            image_urls: vec![],
            variants,
            name,
        })
    }
}

fn demo_products(count: usize) -> Result<Vec<NewProduct>, DomainError> {
    let mut catalog = Catalog::new()?;
    (0..count).map(|_| catalog.next_product()).collect()
}

/// Opening stock at the `outlet_index`th outlet: shops hold a few, the
/// warehouse (the third) holds more, and some sell out.
fn opening_count(dice: &mut Dice, outlet_index: usize) -> i64 {
    match (outlet_index, dice.below(10)) {
        (_, 0) => 0,
        (2, _) => 10 + dice.below(60) as i64,
        _ => dice.below(15) as i64,
    }
}

/// Products in the classic demo store.
const CLASSIC_PRODUCTS: usize = 500;

/// How big a demo store to load: the classic one (no sizes), or one of a
/// given number of products and Sync History events, for benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoSize {
    products: Option<usize>,
    events: Option<usize>,
}

impl DemoSize {
    pub const MAX_PRODUCTS: u64 = 1_000_000;
    pub const MAX_EVENTS: u64 = 20_000_000;

    /// Checks the sizes asked for; `None` keeps that part as the classic demo has it.
    pub fn new(products: Option<u64>, events: Option<u64>) -> Result<Self, DomainError> {
        let check = |field: &'static str, value: Option<u64>, max: u64| match value {
            None => Ok(None),
            Some(n) if (1..=max).contains(&n) => Ok(Some(n as usize)),
            Some(n) => Err(DomainError::new(
                field,
                format!("the demo store takes 1 to {} {field}, not {n}", grouped(max)),
            )),
        };
        Ok(Self {
            products: check("products", products, Self::MAX_PRODUCTS)?,
            events: check("events", events, Self::MAX_EVENTS)?,
        })
    }
}

/// 1000000 → "1,000,000".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn ensure_empty(storage: &Storage) -> Result<()> {
    if !storage.is_empty().await? {
        return Err(Error::Conflict(
            "the database already has products or outlets; the demo store loads only into an empty database".into(),
        ));
    }
    Ok(())
}

async fn create_outlets(storage: &Storage) -> Result<Vec<Outlet>> {
    let outlet_specs = [
        ("downtown", "Downtown"),
        ("harbour", "Harbour"),
        ("warehouse", "Warehouse"),
    ];
    let mut outlets = Vec::new();
    for (code, name) in outlet_specs {
        outlets.push(storage.create_outlet(&OutletCode::parse(code)?, name).await?);
    }
    Ok(outlets)
}

async fn create_sandbox(storage: &Storage, outlets: &[Outlet]) -> Result<ChannelId> {
    storage
        .create_channel(&NewChannel {
            name: "Sandbox store".into(),
            kind: ChannelKind::Sandbox,
            order_outlet: Some(outlets[0].id),
            outlets: vec![outlets[0].id, outlets[2].id],
            ..NewChannel::default()
        })
        .await
}

async fn add_demo_owner(storage: &Storage) -> Result<()> {
    if storage
        .find_user_for_sign_in(&crate::domain::Email::parse(DEMO_EMAIL)?)
        .await?
        .is_none()
    {
        storage.add_user(DEMO_EMAIL, DEMO_PASSWORD, Role::Owner).await?;
    }
    Ok(())
}

/// Loads the classic demo store into an empty database.
pub async fn load_demo(storage: &Storage) -> Result<DemoSummary> {
    ensure_empty(storage).await?;
    let outlets = create_outlets(storage).await?;
    let products = demo_products(CLASSIC_PRODUCTS)?;
    storage.create_products(&products).await?;
    let skus: Vec<Sku> = products
        .iter()
        .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
        .collect();
    let ids = storage.variant_ids_by_sku(&skus).await?;
    let mut dice = Dice(7);
    let mut movements = Vec::with_capacity(skus.len() * outlets.len());
    for sku in &skus {
        let Some(variant_id) = ids.get(sku.as_str()).copied() else {
            continue;
        };
        for (i, outlet) in outlets.iter().enumerate() {
            let count = opening_count(&mut dice, i);
            movements.push(NewMovement {
                variant_id,
                outlet_id: outlet.id,
                change: StockChange::count(count)?,
                reason: MovementReason::ManualAdjustment,
                reference: "opening stock".into(),
                note: "demo store".into(),
            });
        }
    }
    storage.record_movements(&Actor::System, &movements).await?;
    // A third of the catalogue syncs from the start, so the Sandbox store
    // fills and follows stock changes as soon as the demo runs.
    let ids = storage.all_product_ids().await?;
    let syncing: Vec<_> = ids.iter().copied().filter(|id| id.get() % 3 == 0).collect();
    create_sandbox(storage, &outlets).await?;
    // After the channel exists, so turning it on queues their first push.
    storage.set_auto_sync(&syncing, true).await?;
    add_demo_owner(storage).await?;
    Ok(DemoSummary {
        outlets: outlets.len(),
        products: products.len(),
        variants: skus.len(),
        events: 0,
    })
}

/// Loads a demo store of `size` into an empty database: the classic one
/// when no size is given. A sized store is written with set-based inserts
/// in one transaction; its products start with Auto Sync off, so it starts
/// quiet, and its Sync History holds `events` item events of the last 30 days.
pub async fn load_demo_with(storage: &Storage, size: DemoSize) -> Result<DemoSummary> {
    if size == DemoSize::default() {
        return load_demo(storage).await;
    }
    let products = size.products.unwrap_or(CLASSIC_PRODUCTS);
    let events = size.events.unwrap_or(0);
    ensure_empty(storage).await?;
    let outlets = create_outlets(storage).await?;
    let channel = create_sandbox(storage, &outlets).await?;
    let mut load = Loader::begin(storage).await?;
    let variants = load_catalog(&mut load, &outlets, products).await?;
    load_history(&mut load, channel, &variants, events).await?;
    load.finish().await?;
    add_demo_owner(storage).await?;
    // PostgreSQL's autovacuum would soon gather statistics and mark the pages
    // visible; do it now, so the store behaves as it will. SQLite is left as
    // the app leaves it: without statistics, which its planner then relies on.
    if let Pool::Postgres(pool) = &storage.pool {
        sqlx::raw_sql("VACUUM ANALYZE").execute(pool).await?;
    }
    Ok(DemoSummary {
        outlets: outlets.len(),
        products,
        variants: variants.len(),
        events,
    })
}

/// Products per round of inserts (about 3 variants and 9 stock rows each).
const PRODUCTS_PER_ROUND: usize = 2_000;

/// Writes `count` products with their variants, opening stock per outlet and
/// its ledger rows; returns every variant with its product.
async fn load_catalog(load: &mut Loader, outlets: &[Outlet], count: usize) -> Result<Vec<(ProductId, VariantId)>> {
    let now = Timestamp::now();
    let mut catalog = Catalog::new()?;
    let mut stock_dice = Dice(7);
    let mut handles: HashSet<String> = HashSet::new();
    let mut next_product = load.next_id("products").await?;
    let mut next_variant = load.next_id("variants").await?;
    let mut variants = Vec::with_capacity(count * 3);
    let mut made = 0;
    while made < count {
        let round = PRODUCTS_PER_ROUND.min(count - made);
        let batch = (0..round)
            .map(|_| catalog.next_product())
            .collect::<Result<Vec<_>, _>>()?;
        made += round;
        let ids: Vec<i64> = (next_product..next_product + round as i64).collect();
        next_product += round as i64;
        // Handles as create_products makes them: the name's words, numbered when taken.
        let batch_handles = batch
            .iter()
            .map(|p| {
                let base = handle_for(&p.name);
                let mut handle = base.clone();
                let mut n = 1;
                while !handles.insert(handle.clone()) {
                    n += 1;
                    handle = format!("{base}-{n}");
                }
                handle
            })
            .collect();
        let text = |f: fn(&NewProduct) -> String| batch.iter().map(f).collect::<Vec<_>>();
        let option = |i: usize| Values::OptText(batch.iter().map(|p| p.option_names.get(i).cloned()).collect());
        load.insert(
            Rows::new("products")
                .column("id", Values::Int(ids.clone()))
                .column("name", Values::Text(text(|p| p.name.trim().to_owned())))
                .column("handle", Values::Text(batch_handles))
                .column("description", Values::Text(text(|p| p.description.clone())))
                .column("brand", Values::Text(text(|p| p.brand.trim().to_owned())))
                .column("category", Values::Text(text(|p| p.category.trim().to_owned())))
                .column("option1_name", option(0))
                .column("option2_name", option(1))
                .column("option3_name", option(2))
                .column("active", Values::Bool(batch.iter().map(|p| p.active).collect()))
                .column("auto_sync", Values::Literal("FALSE"))
                .column("supplier", Values::Text(text(|p| p.supplier.clone())))
                .column("supplier_code", Values::Text(text(|p| p.supplier_code.clone())))
                .column(
                    "supplier_price_minor",
                    Values::OptInt(batch.iter().map(|p| p.supplier_price.map(|m| m.minor)).collect()),
                )
                .column(
                    "supplier_price_currency",
                    Values::OptText(
                        batch
                            .iter()
                            .map(|p| p.supplier_price.map(|m| m.currency.as_str().to_owned()))
                            .collect(),
                    ),
                )
                .column(
                    "reorder_point",
                    Values::OptInt(batch.iter().map(|p| p.reorder_point).collect()),
                )
                .column(
                    "reorder_quantity",
                    Values::OptInt(batch.iter().map(|p| p.reorder_quantity).collect()),
                )
                .column("tax_class", Values::Text(text(|p| p.tax_class.clone())))
                .column("tags", Values::Text(text(|p| p.tags.join(", "))))
                .column("created_at", Values::Instant(now))
                .column("updated_at", Values::Instant(now)),
        )
        .await?;

        let rows: Vec<(i64, i64, &NewVariant)> = batch
            .iter()
            .zip(&ids)
            .flat_map(|(p, id)| p.variants.iter().enumerate().map(move |(i, v)| (*id, i as i64, v)))
            .collect();
        let variant_ids: Vec<i64> = (next_variant..next_variant + rows.len() as i64).collect();
        next_variant += rows.len() as i64;
        let ints = |f: fn(&(i64, i64, &NewVariant)) -> i64| Values::Int(rows.iter().map(f).collect());
        let opt_ints = |f: fn(&NewVariant) -> Option<i64>| Values::OptInt(rows.iter().map(|r| f(r.2)).collect());
        let option = |i: usize| Values::OptText(rows.iter().map(|r| r.2.option_values.get(i).cloned()).collect());
        load.insert(
            Rows::new("variants")
                .column("id", Values::Int(variant_ids.clone()))
                .column("product_id", ints(|r| r.0))
                .column(
                    "sku",
                    Values::Text(rows.iter().map(|r| r.2.sku.as_str().to_owned()).collect()),
                )
                .column(
                    "barcode",
                    Values::OptText(
                        rows.iter()
                            .map(|r| r.2.barcode.as_ref().map(|b| b.as_str().to_owned()))
                            .collect(),
                    ),
                )
                .column("option1_value", option(0))
                .column("option2_value", option(1))
                .column("option3_value", option(2))
                .column("price_minor", ints(|r| r.2.price.minor))
                .column(
                    "price_currency",
                    Values::Text(rows.iter().map(|r| r.2.price.currency.as_str().to_owned()).collect()),
                )
                .column("weight_grams", opt_ints(|v| v.weight_grams))
                .column("length_mm", opt_ints(|v| v.dimensions_mm.map(|d| d[0])))
                .column("width_mm", opt_ints(|v| v.dimensions_mm.map(|d| d[1])))
                .column("height_mm", opt_ints(|v| v.dimensions_mm.map(|d| d[2])))
                .column("position", ints(|r| r.1))
                .column("created_at", Values::Instant(now))
                .column("updated_at", Values::Instant(now)),
        )
        .await?;

        // Opening stock: a count per variant and outlet, in the ledger and in the levels.
        let mut stock_variants = Vec::with_capacity(variant_ids.len() * outlets.len());
        let mut stock_outlets = Vec::with_capacity(stock_variants.capacity());
        let mut counts = Vec::with_capacity(stock_variants.capacity());
        for (variant, (product, _, _)) in variant_ids.iter().zip(&rows) {
            variants.push((ProductId::new(*product), VariantId::new(*variant)));
            for (i, outlet) in outlets.iter().enumerate() {
                stock_variants.push(*variant);
                stock_outlets.push(outlet.id.get());
                counts.push(opening_count(&mut stock_dice, i));
            }
        }
        load.insert(
            Rows::new("stock_levels")
                .column("variant_id", Values::Int(stock_variants.clone()))
                .column("outlet_id", Values::Int(stock_outlets.clone()))
                .column("on_hand", Values::Int(counts.clone()))
                .column("committed", Values::Literal("0"))
                .column("updated_at", Values::Instant(now)),
        )
        .await?;
        load.insert(
            Rows::new("stock_movements")
                .column("variant_id", Values::Int(stock_variants))
                .column("outlet_id", Values::Int(stock_outlets))
                .column("change_kind", Values::Literal("'count'"))
                .column("amount", Values::Int(counts.clone()))
                .column("applied_delta", Values::Int(counts.clone()))
                .column("on_hand_after", Values::Int(counts))
                .column("reason", Values::Literal("'manual_adjustment'"))
                .column("reference", Values::Literal("'opening stock'"))
                .column("note", Values::Literal("'demo store'"))
                .column("actor_kind", Values::Literal("'system'"))
                .column("actor_label", Values::Literal("'Tillbridge'"))
                .column("created_at", Values::Instant(now)),
        )
        .await?;
    }
    load.advance_sequence("products").await?;
    load.advance_sequence("variants").await?;
    Ok(variants)
}

/// Runs per round of inserts, with their item events.
const RUNS_PER_ROUND: usize = 2_000;

/// What a failed push says, as the connectors word it.
const TRANSIENT_ERRORS: &[&str] = &[
    "the channel did not answer properly: timed out after 30 s",
    "the channel did not answer properly: 502 Bad Gateway",
    "the channel asked us to slow down",
];
const PERMANENT_ERRORS: &[&str] = &[
    "the channel refused the request: the item is not stocked at this location",
    "the channel refused the request: quantity is over the channel's limit",
];

/// Writes `count` item events in sync runs of the Sandbox channel, spread
/// over the last 30 days: mostly pushes that succeeded, some runs with a
/// few failures, a few that failed outright.
async fn load_history(
    load: &mut Loader,
    channel: ChannelId,
    variants: &[(ProductId, VariantId)],
    count: usize,
) -> Result<()> {
    if count == 0 || variants.is_empty() {
        return Ok(());
    }
    let mut dice = Dice(30);
    // Run sizes first, so the runs can be spaced evenly over the 30 days.
    let mut sizes = Vec::new();
    let mut left = count;
    while left > 0 {
        // Most runs follow a few stock changes; now and then a big batch.
        let size = if dice.below(20) == 0 {
            100 + dice.below(151)
        } else {
            1 + dice.below(30)
        } as usize;
        sizes.push(size.min(left));
        left -= size.min(left);
    }
    let span = chrono::TimeDelta::days(30);
    let start = chrono::Utc::now() - span;
    let slot_micros = (span.num_microseconds().unwrap_or(i64::MAX) / sizes.len() as i64).max(1);
    let mut next_run = load.next_id("sync_runs").await?;
    for (round, round_sizes) in sizes.chunks(RUNS_PER_ROUND).enumerate() {
        let mut runs = RunColumns::default();
        let mut events = EventColumns::default();
        for (i, size) in round_sizes.iter().copied().enumerate() {
            let index = (round * RUNS_PER_ROUND + i) as i64;
            let run_id = next_run;
            next_run += 1;
            let started = start
                + chrono::TimeDelta::microseconds(
                    index * slot_micros + dice.below((slot_micros / 2).max(1) as u64) as i64,
                );
            let (kind, trigger, actor) = match dice.below(100) {
                0..=89 => ("auto", "stock_change", "Auto Sync"),
                90..=95 => ("standard", "schedule", "schedule"),
                96..=98 => ("force", "button", DEMO_EMAIL),
                _ => ("sync_all", "button", DEMO_EMAIL),
            };
            // 94 % of runs push everything; 4 % lose a few items; 2 % fail outright.
            let outcome = dice.below(100);
            let outright = (outcome >= 98).then(|| *dice.pick(TRANSIENT_ERRORS));
            let failing = match outcome {
                0..=93 => 0,
                94..=97 => 1 + dice.below((size as u64 / 5).max(1)) as usize,
                _ => size,
            };
            let (mut pushed, mut dead, mut retry) = (0, 0, 0);
            for item in 0..size {
                let (product, variant) = *dice.pick(variants);
                let at = started + chrono::TimeDelta::milliseconds(40 * item as i64 + 15);
                let before = dice.below(60) as i64;
                let after = (before + dice.below(9) as i64 - 3).max(0);
                let fails = item < failing;
                let error = match (fails, outright) {
                    (false, _) => None,
                    (true, Some(e)) => Some(e),
                    (true, None) if dice.below(3) == 0 => Some(*dice.pick(PERMANENT_ERRORS)),
                    (true, None) => Some(*dice.pick(TRANSIENT_ERRORS)),
                };
                match error {
                    None => pushed += 1,
                    Some(e) if PERMANENT_ERRORS.contains(&e) => dead += 1,
                    Some(_) => retry += 1,
                }
                // A product's first push creates it in the channel; the rest set quantities.
                let creates = error.is_none() && dice.below(50) == 0;
                events.push(EventRow {
                    run: run_id,
                    product: product.get(),
                    variant: variant.get(),
                    action: if creates { "create product" } else { "quantity" },
                    before: (!creates).then(|| before.to_string()),
                    after: (!creates).then(|| after.to_string()),
                    result: if error.is_some() { "failed" } else { "succeeded" },
                    error,
                    attempt: if error.is_some() { 1 + dice.below(3) as i64 } else { 1 },
                    actor,
                    at: Timestamp::from(at),
                });
            }
            let failed = dead + retry;
            runs.push(RunRow {
                id: run_id,
                kind,
                trigger,
                actor,
                status: match (pushed, failed) {
                    (_, 0) => "succeeded",
                    (0, _) => "failed",
                    _ => "partially_failed",
                },
                started: Timestamp::from(started),
                finished: Timestamp::from(started + chrono::TimeDelta::milliseconds(40 * size as i64 + 120)),
                succeeded: pushed,
                failed,
                log: format!("{pushed} quantities pushed, {dead} failed, {retry} to retry"),
            });
        }
        load.insert(runs.into_rows(channel)).await?;
        load.insert(events.into_rows(channel)).await?;
    }
    load.advance_sequence("sync_runs").await?;
    Ok(())
}

struct RunRow {
    id: i64,
    kind: &'static str,
    trigger: &'static str,
    actor: &'static str,
    status: &'static str,
    started: Timestamp,
    finished: Timestamp,
    succeeded: i64,
    failed: i64,
    log: String,
}

#[derive(Default)]
struct RunColumns(Vec<RunRow>);

impl RunColumns {
    fn push(&mut self, row: RunRow) {
        self.0.push(row);
    }

    fn into_rows(self, channel: ChannelId) -> Rows {
        let rows = self.0;
        let text = |f: fn(&RunRow) -> &str| Values::Text(rows.iter().map(|r| f(r).to_owned()).collect());
        let int = |f: fn(&RunRow) -> i64| Values::Int(rows.iter().map(f).collect());
        let time = |f: fn(&RunRow) -> Timestamp| Values::Time(rows.iter().map(f).collect());
        Rows::new("sync_runs")
            .column("id", int(|r| r.id))
            .column("channel_id", Values::Number(channel.get()))
            .column("kind", text(|r| r.kind))
            .column("trigger", text(|r| r.trigger))
            .column("actor_label", text(|r| r.actor))
            .column("status", text(|r| r.status))
            .column("started_at", time(|r| r.started))
            .column("finished_at", time(|r| r.finished))
            .column("items_total", int(|r| r.succeeded + r.failed))
            .column("items_succeeded", int(|r| r.succeeded))
            .column("items_failed", int(|r| r.failed))
            .column("log", text(|r| r.log.as_str()))
    }
}

struct EventRow {
    run: i64,
    product: i64,
    variant: i64,
    action: &'static str,
    before: Option<String>,
    after: Option<String>,
    result: &'static str,
    error: Option<&'static str>,
    attempt: i64,
    actor: &'static str,
    at: Timestamp,
}

#[derive(Default)]
struct EventColumns(Vec<EventRow>);

impl EventColumns {
    fn push(&mut self, row: EventRow) {
        self.0.push(row);
    }

    fn into_rows(self, channel: ChannelId) -> Rows {
        let rows = self.0;
        let text = |f: fn(&EventRow) -> &str| Values::Text(rows.iter().map(|r| f(r).to_owned()).collect());
        let int = |f: fn(&EventRow) -> i64| Values::Int(rows.iter().map(f).collect());
        Rows::new("sync_events")
            .column("run_id", int(|r| r.run))
            .column("channel_id", Values::Number(channel.get()))
            .column("product_id", int(|r| r.product))
            .column("variant_id", int(|r| r.variant))
            .column("action", text(|r| r.action))
            .column(
                "before_value",
                Values::OptText(rows.iter().map(|r| r.before.clone()).collect()),
            )
            .column(
                "after_value",
                Values::OptText(rows.iter().map(|r| r.after.clone()).collect()),
            )
            .column("result", text(|r| r.result))
            .column(
                "error",
                Values::OptText(rows.iter().map(|r| r.error.map(str::to_owned)).collect()),
            )
            .column("attempt", int(|r| r.attempt))
            .column("actor_label", text(|r| r.actor))
            .column("created_at", Values::Time(rows.iter().map(|r| r.at).collect()))
    }
}

/// One column of rows to insert.
enum Values {
    Int(Vec<i64>),
    OptInt(Vec<Option<i64>>),
    Text(Vec<String>),
    OptText(Vec<Option<String>>),
    Bool(Vec<bool>),
    Time(Vec<Timestamp>),
    /// The same SQL literal in every row.
    Literal(&'static str),
    /// The same instant in every row.
    Instant(Timestamp),
    /// The same number in every row.
    Number(i64),
}

impl Values {
    fn len(&self) -> Option<usize> {
        match self {
            Values::Int(v) => Some(v.len()),
            Values::OptInt(v) => Some(v.len()),
            Values::Text(v) => Some(v.len()),
            Values::OptText(v) => Some(v.len()),
            Values::Bool(v) => Some(v.len()),
            Values::Time(v) => Some(v.len()),
            Values::Literal(_) | Values::Instant(_) | Values::Number(_) => None,
        }
    }

    /// The PostgreSQL array type of a per-row column.
    fn pg_array(&self) -> &'static str {
        match self {
            Values::Int(_) | Values::OptInt(_) | Values::Number(_) => "BIGINT[]",
            Values::Text(_) | Values::OptText(_) | Values::Literal(_) => "TEXT[]",
            Values::Bool(_) => "BOOLEAN[]",
            Values::Time(_) | Values::Instant(_) => "TIMESTAMPTZ[]",
        }
    }
}

/// Rows for one table, column by column.
struct Rows {
    table: &'static str,
    columns: Vec<(&'static str, Values)>,
}

impl Rows {
    fn new(table: &'static str) -> Self {
        Self {
            table,
            columns: Vec::new(),
        }
    }

    fn column(mut self, name: &'static str, values: Values) -> Self {
        self.columns.push((name, values));
        self
    }

    fn len(&self) -> usize {
        self.columns.iter().find_map(|(_, v)| v.len()).unwrap_or(0)
    }

    fn names(&self) -> String {
        self.columns.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    }
}

/// Rows per INSERT … VALUES on SQLite (its limit is 32,766 parameters).
const SQLITE_ROWS_PER_STATEMENT: usize = 500;
/// Rows per INSERT … SELECT FROM UNNEST on PostgreSQL: one array per column.
const PG_ROWS_PER_STATEMENT: usize = 10_000;

/// One transaction for a bulk load, with each engine's fastest set-based
/// INSERT: many rows per VALUES on SQLite, one array per column on PostgreSQL.
enum Loader {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Loader {
    async fn begin(storage: &Storage) -> Result<Self> {
        Ok(match &storage.pool {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                // Keeps the big tables' index pages in memory during the load (256 MB).
                sqlx::query("PRAGMA cache_size = -262144").execute(&mut *tx).await?;
                Loader::Sqlite(tx)
            }
            Pool::Postgres(pool) => Loader::Postgres(pool.begin().await?),
        })
    }

    /// The first free id of `table`; loaded rows get theirs from here, so
    /// rows that point to them need no round trip.
    async fn next_id(&mut self, table: &str) -> Result<i64> {
        let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {table}");
        Ok(match self {
            Loader::Sqlite(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
            Loader::Postgres(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
        })
    }

    /// Moves PostgreSQL's id sequence past the ids set by hand.
    async fn advance_sequence(&mut self, table: &str) -> Result<()> {
        if let Loader::Postgres(tx) = self {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
            sqlx::query(&sql).execute(&mut **tx).await?;
        }
        Ok(())
    }

    async fn insert(&mut self, rows: Rows) -> Result<()> {
        match self {
            Loader::Sqlite(tx) => insert_sqlite(tx, &rows).await?,
            Loader::Postgres(tx) => insert_postgres(tx, &rows).await?,
        }
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        match self {
            Loader::Sqlite(mut tx) => {
                sqlx::query("PRAGMA cache_size = -2000").execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Loader::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

async fn insert_sqlite(tx: &mut sqlx::SqliteConnection, rows: &Rows) -> Result<(), sqlx::Error> {
    // Anonymous `?` placeholders: SQLite looks a numbered `$N` up by name at
    // every bind, which costs quadratic time in a statement of thousands.
    let tuple = rows
        .columns
        .iter()
        .map(|(_, values)| match values {
            Values::Literal(sql) => sql,
            _ => "?",
        })
        .collect::<Vec<_>>()
        .join(", ");
    let total = rows.len();
    let mut start = 0;
    while start < total {
        let n = SQLITE_ROWS_PER_STATEMENT.min(total - start);
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {}",
            rows.table,
            rows.names(),
            vec![format!("({tuple})"); n].join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in start..start + n {
            for (_, values) in &rows.columns {
                q = match values {
                    Values::Int(v) => q.bind(v[r]),
                    Values::OptInt(v) => q.bind(v[r]),
                    Values::Text(v) => q.bind(v[r].as_str()),
                    Values::OptText(v) => q.bind(v[r].as_deref()),
                    Values::Bool(v) => q.bind(v[r]),
                    Values::Time(v) => q.bind(v[r]),
                    Values::Instant(t) => q.bind(*t),
                    Values::Number(n) => q.bind(*n),
                    Values::Literal(_) => q,
                };
            }
        }
        q.execute(&mut *tx).await?;
        start += n;
    }
    Ok(())
}

async fn insert_postgres(tx: &mut sqlx::PgConnection, rows: &Rows) -> Result<(), sqlx::Error> {
    let total = rows.len();
    let mut start = 0;
    while start < total {
        let end = (start + PG_ROWS_PER_STATEMENT).min(total);
        let mut select = Vec::new();
        let mut arrays = Vec::new();
        let mut param = 0;
        for (_, values) in &rows.columns {
            match values {
                Values::Literal(sql) => select.push((*sql).to_owned()),
                Values::Instant(_) | Values::Number(_) => {
                    param += 1;
                    let ty = values.pg_array().trim_end_matches("[]");
                    select.push(format!("CAST(${param} AS {ty})"));
                }
                _ => {
                    param += 1;
                    select.push(format!("u.c{param}"));
                    arrays.push((param, values.pg_array()));
                }
            }
        }
        let unnest = arrays
            .iter()
            .map(|(p, ty)| format!("CAST(${p} AS {ty})"))
            .collect::<Vec<_>>()
            .join(", ");
        let aliases = arrays
            .iter()
            .map(|(p, _)| format!("c{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM UNNEST({unnest}) AS u({aliases})",
            rows.table,
            rows.names(),
            select.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (_, values) in &rows.columns {
            q = match values {
                Values::Int(v) => q.bind(&v[start..end]),
                Values::OptInt(v) => q.bind(&v[start..end]),
                Values::Text(v) => q.bind(&v[start..end]),
                Values::OptText(v) => q.bind(&v[start..end]),
                Values::Bool(v) => q.bind(&v[start..end]),
                Values::Time(v) => q.bind(v[start..end].iter().map(Timestamp::as_datetime).collect::<Vec<_>>()),
                Values::Instant(t) => q.bind(*t),
                Values::Number(n) => q.bind(*n),
                Values::Literal(_) => q,
            };
        }
        q.execute(&mut *tx).await?;
        start = end;
    }
    Ok(())
}

/// Whether the demo account still exists (the sign-in page hints it then).
pub async fn demo_account_exists(storage: &Storage) -> Result<bool> {
    Ok(storage
        .find_user_for_sign_in(&crate::domain::Email::parse(DEMO_EMAIL)?)
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn the_classic_demo_catalog_is_the_same_as_ever() {
        // Screenshots, tests and benchmarks name its products and SKUs.
        let mut digest = sha2::Sha256::new();
        for p in demo_products(CLASSIC_PRODUCTS).expect("valid demo data") {
            digest.update(format!(
                "{}|{}|{}|{}|{}\n",
                p.name, p.brand, p.category, p.active, p.supplier
            ));
            for v in &p.variants {
                let barcode = v.barcode.as_ref().map(|b| b.as_str().to_owned()).unwrap_or_default();
                digest.update(format!("{}|{barcode}|{}|{:?}\n", v.sku, v.price.minor, v.option_values));
            }
        }
        assert_eq!(
            hex::encode(digest.finalize()),
            "83c4af7adfccb85348e20a98b6d332f75750d004e3ad65061ca2f4088cc90173"
        );
    }

    #[test]
    fn demo_sizes_are_checked() {
        assert_eq!(DemoSize::new(None, None), Ok(DemoSize::default()));
        assert!(DemoSize::new(Some(100_000), Some(1_000_000)).is_ok());
        for (products, events) in [
            (Some(0), None),
            (Some(1_000_001), None),
            (None, Some(0)),
            (None, Some(u64::MAX)),
        ] {
            let e = DemoSize::new(products, events).expect_err("refused");
            assert!(e.message.starts_with("the demo store takes 1 to "), "{e}");
        }
        assert_eq!(
            DemoSize::new(Some(0), None).expect_err("refused").to_string(),
            "products: the demo store takes 1 to 1,000,000 products, not 0"
        );
    }

    #[test]
    fn a_large_catalog_keeps_names_skus_and_handles_unique() {
        let products = demo_products(12_000).expect("valid demo data");
        let names: HashSet<_> = products.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), products.len(), "names are unique past the word lists");
        let handles: HashSet<_> = products.iter().map(|p| handle_for(&p.name)).collect();
        assert_eq!(handles.len(), products.len());
        let skus: HashSet<_> = products
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
            .collect();
        assert_eq!(skus.len(), products.iter().map(|p| p.variants.len()).sum::<usize>());
    }

    #[test]
    fn demo_barcodes_are_valid_ean13() {
        let code = ean13(1001);
        assert_eq!(code.len(), 13);
        assert_eq!(code, "9400000010015");
        assert!(Barcode::parse(&code).is_ok());
    }

    #[test]
    fn the_demo_catalog_has_about_500_products_and_1600_unique_skus() {
        let products = demo_products(500).expect("valid demo data");
        assert_eq!(products.len(), 500);
        let skus: std::collections::HashSet<_> = products
            .iter()
            .flat_map(|p| p.variants.iter().map(|v| v.sku.clone()))
            .collect();
        let variants: usize = products.iter().map(|p| p.variants.len()).sum();
        assert_eq!(skus.len(), variants, "SKUs are unique");
        assert!((1_300..=1_700).contains(&variants), "{variants} variants");
        assert!(products.iter().all(|p| (1..=6).contains(&p.variants.len())));
    }
}
