pub mod auto_sync_toggle;
pub mod layout;
pub mod notice;
pub mod toast;
