//! The demo store: three outlets, about 500 products (about 1,500 SKUs)
//! with believable names, prices, barcodes and stock, a Sandbox channel and
//! an owner account. Deterministic, so screenshots and tests agree.

use crate::domain::{
    Actor, Barcode, ChannelKind, Currency, DomainError, Money, MovementReason, OutletCode, Role, Sku, StockChange,
};
use crate::storage::{NewChannel, NewMovement, NewProduct, NewVariant};
use crate::{Error, Result, Storage};

pub const DEMO_EMAIL: &str = "demo@tillbridge.test";
pub const DEMO_PASSWORD: &str = "tillbridge-demo";

/// What was loaded, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub outlets: usize,
    pub products: usize,
    pub variants: usize,
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

fn demo_products(count: usize) -> Result<Vec<NewProduct>, DomainError> {
    let mut dice = Dice(20_261_125);
    let nzd = Currency::parse("NZD")?;
    let mut seen = std::collections::HashSet::new();
    let mut products = Vec::with_capacity(count);
    let mut barcode_seq = 1_000;
    while products.len() < count {
        let cat = dice.pick(CATEGORIES);
        let noun = dice.pick(cat.nouns);
        let name = match *dice.pick(MATERIALS) {
            "" => format!("{} {noun}", dice.pick(ADJECTIVES)),
            m => format!("{} {m} {noun}", dice.pick(ADJECTIVES)),
        };
        if !seen.insert(name.clone()) {
            continue;
        }
        let number = products.len() + 1;
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
        let variants = combos
            .into_iter()
            .map(|values| {
                barcode_seq += 1;
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
                    barcode: Some(Barcode::parse(&ean13(barcode_seq))?),
                    option_values: values,
                    price,
                    weight_grams: Some(cat.weight_grams),
                    dimensions_mm: Some([300, 250, 40]),
                })
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let brand = *dice.pick(BRANDS);
        products.push(NewProduct {
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
        });
    }
    Ok(products)
}

/// Loads the demo store into an empty database.
pub async fn load_demo(storage: &Storage) -> Result<DemoSummary> {
    if !storage.is_empty().await? {
        return Err(Error::Conflict(
            "the database already has products or outlets; the demo store loads only into an empty database".into(),
        ));
    }
    let outlet_specs = [
        ("downtown", "Downtown"),
        ("harbour", "Harbour"),
        ("warehouse", "Warehouse"),
    ];
    let mut outlets = Vec::new();
    for (code, name) in outlet_specs {
        outlets.push(storage.create_outlet(&OutletCode::parse(code)?, name).await?);
    }
    let products = demo_products(500)?;
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
            // Shops hold a few; the warehouse holds more; some sell out.
            let count = match (i, dice.below(10)) {
                (_, 0) => 0,
                (2, _) => 10 + dice.below(60) as i64,
                _ => dice.below(15) as i64,
            };
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
    storage
        .create_channel(&NewChannel {
            name: "Sandbox store".into(),
            kind: ChannelKind::Sandbox,
            order_outlet: Some(outlets[0].id),
            outlets: vec![outlets[0].id, outlets[2].id],
            ..NewChannel::default()
        })
        .await?;
    // After the channel exists, so turning it on queues their first push.
    storage.set_auto_sync(&syncing, true).await?;
    if storage
        .find_user_for_sign_in(&crate::domain::Email::parse(DEMO_EMAIL)?)
        .await?
        .is_none()
    {
        storage.add_user(DEMO_EMAIL, DEMO_PASSWORD, Role::Owner).await?;
    }
    Ok(DemoSummary {
        outlets: outlets.len(),
        products: products.len(),
        variants: skus.len(),
    })
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

    #[test]
    fn demo_barcodes_are_valid_ean13() {
        let code = ean13(1001);
        assert_eq!(code.len(), 13);
        assert_eq!(code, "9400000010015");
        assert!(Barcode::parse(&code).is_ok());
    }

    #[test]
    fn the_demo_catalog_has_about_500_products_and_1500_unique_skus() {
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
