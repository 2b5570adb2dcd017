use super::{ApiTokenId, ChannelId, DomainError, UserId};
use serde::{Deserialize, Serialize};

/// What a user or API token may do. Owners manage users, channels and
/// credentials; managers products, stock and syncs; viewers only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Manager,
    Owner,
}

/// A capability a request needs; checked against the caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    Read,
    /// Products, stock, auto sync, running syncs.
    WriteCatalog,
    /// Users, channels and their credentials.
    Administer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Manager, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| DomainError::new("role", format!("{raw:?} is not a role: use owner, manager or viewer")))
    }

    pub fn allows(self, permission: Permission) -> bool {
        match permission {
            Permission::Read => true,
            Permission::WriteCatalog => self >= Role::Manager,
            Permission::Administer => self == Role::Owner,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who caused a change, recorded with every movement and history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Actor {
    User { id: UserId, email: String },
    Api { token: ApiTokenId, name: String },
    System,
    Channel(ChannelId),
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::User { .. } => "user",
            Actor::Api { .. } => "api",
            Actor::System => "system",
            Actor::Channel(_) => "channel",
        }
    }

    /// A human-readable label for history tables.
    pub fn label(&self) -> String {
        match self {
            Actor::User { email, .. } => email.clone(),
            Actor::Api { name, .. } => format!("API token {name}"),
            Actor::System => "Tillbridge".into(),
            Actor::Channel(id) => format!("channel {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_text() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(
            Role::parse("admin")
                .unwrap_err()
                .message
                .contains("owner, manager or viewer")
        );
    }

    #[test]
    fn viewers_read_managers_write_owners_administer() {
        assert!(Role::Viewer.allows(Permission::Read));
        assert!(!Role::Viewer.allows(Permission::WriteCatalog));
        assert!(Role::Manager.allows(Permission::WriteCatalog));
        assert!(!Role::Manager.allows(Permission::Administer));
        assert!(Role::Owner.allows(Permission::Administer));
    }
}
