mod misc;
mod product;
mod products;

pub use misc::{ComingSoonPage, NotFoundPage};
pub use product::ProductPage;
pub use products::ProductsPage;
