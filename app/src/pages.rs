mod channels;
mod conflicts;
mod history;
mod import;
mod misc;
mod new_product;
mod orders;
mod product;
mod products;

pub use channels::{ChannelSettingsPage, ChannelsPage, ConnectChannelPage, ConnectVendurePage, ForceSyncPage};
pub use conflicts::ConflictsPage;
pub use history::{HistoryPage, RunPage};
pub use import::ImportPage;
pub use misc::{ComingSoonPage, NotFoundPage};
pub use new_product::NewProductPage;
pub use orders::OrdersPage;
pub use product::ProductPage;
pub use products::ProductsPage;
