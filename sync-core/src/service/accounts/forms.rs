//! The Settings page's "Add user" and "Create API token" forms, read whole:
//! every field's problem comes back at once, not one per try.

use crate::auth::validate_password;
use crate::domain::{DomainError, Email, Role};

/// A user to add: a valid email, a long enough password, a role.
pub struct NewUser {
    pub email: Email,
    password: String,
    pub role: Role,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("password", &"***")
            .field("role", &self.role)
            .finish()
    }
}

impl NewUser {
    pub fn parse(email: &str, password: &str, role: &str) -> Result<Self, Vec<DomainError>> {
        let email = match email.trim() {
            "" => Err(DomainError::new("email", "enter the person's email address")),
            typed => Email::parse(typed),
        };
        let password = match password {
            "" => Err(DomainError::new(
                "password",
                "enter a password of at least 8 characters",
            )),
            typed => validate_password(typed).map(|()| typed.to_owned()),
        };
        let role = parse_role(role);
        match (email, password, role) {
            (Ok(email), Ok(password), Ok(role)) => Ok(Self { email, password, role }),
            (email, password, role) => Err([email.err(), password.err(), role.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }

    pub(super) fn password(&self) -> &str {
        &self.password
    }
}

/// An API token to create: a name that says which system holds it, a role.
#[derive(Debug)]
pub struct NewToken {
    pub name: String,
    pub role: Role,
}

/// Longest token name, as the storage keeps it.
const MAX_TOKEN_NAME: usize = 100;

impl NewToken {
    pub fn parse(name: &str, role: &str) -> Result<Self, Vec<DomainError>> {
        let name = match name.trim() {
            "" => Err(DomainError::new(
                "name",
                "give the token a name that says who uses it, for example Till 1",
            )),
            long if long.chars().count() > MAX_TOKEN_NAME => Err(DomainError::new(
                "name",
                format!("a token name is at most {MAX_TOKEN_NAME} characters"),
            )),
            typed => Ok(typed.to_owned()),
        };
        match (name, parse_role(role)) {
            (Ok(name), Ok(role)) => Ok(Self { name, role }),
            (name, role) => Err([name.err(), role.err()].into_iter().flatten().collect()),
        }
    }
}

fn parse_role(raw: &str) -> Result<Role, DomainError> {
    match raw.trim() {
        "" => Err(DomainError::new("role", "choose a role: owner, manager or viewer")),
        typed => Role::parse(typed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(problems: Vec<DomainError>) -> Vec<&'static str> {
        problems.into_iter().map(|p| p.field).collect()
    }

    #[test]
    fn every_problem_of_a_new_user_comes_back_at_once() {
        let problems = NewUser::parse(" ", "short", "").expect_err("refused");
        assert_eq!(fields(problems), ["email", "password", "role"]);
        let user = NewUser::parse(" Mia@Shop.Example ", "long enough", "manager").expect("a user");
        assert_eq!((user.email.as_str(), user.role), ("mia@shop.example", Role::Manager));
        assert!(
            !format!("{user:?}").contains("long enough"),
            "the password stays out of logs"
        );
    }

    #[test]
    fn a_token_needs_a_name_and_a_role() {
        assert_eq!(
            fields(NewToken::parse("", "boss").expect_err("refused")),
            ["name", "role"]
        );
        let token = NewToken::parse(" Till 1 ", "viewer").expect("a token");
        assert_eq!((token.name.as_str(), token.role), ("Till 1", Role::Viewer));
    }
}
