//! Who may do what (SPEC section 7): admins everything, users usage and status, strangers
//! nothing (their refusal shows their user id so an admin can add them). Changing actions are
//! admin-only and private-chat-only.

use std::collections::HashSet;

use crate::chat::transport::{ChatKind, UserId};

/// A user's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// In `CODEX_PROFILER_ADMINS`.
    Admin,
    /// In `CODEX_PROFILER_USERS`.
    User,
    /// Anyone else.
    Stranger,
}

impl Role {
    /// The word templates use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
            Role::Stranger => "stranger",
        }
    }
}

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Viewing: usage, status, help.
    View,
    /// Changing: login, finish, device login, order, retire, delete, restore.
    Change,
    /// Viewing what only admins see (backups, layers, doctor), in any chat.
    AdminView,
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not on any list.
    Stranger,
    /// A user asking for an admin action.
    AdminOnly,
    /// An admin action asked in a group.
    PrivateOnly,
}

/// The two id lists.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    admins: HashSet<UserId>,
    users: HashSet<UserId>,
}

impl Permissions {
    /// From the configured lists.
    pub fn new(admins: HashSet<UserId>, users: HashSet<UserId>) -> Permissions {
        Permissions { admins, users }
    }

    /// The admins, in id order.
    pub fn admins(&self) -> Vec<UserId> {
        let mut ids: Vec<UserId> = self.admins.iter().copied().collect();
        ids.sort();
        ids
    }

    /// A user's role (an admin listed as user too is an admin).
    pub fn role(&self, user: UserId) -> Role {
        if self.admins.contains(&user) {
            Role::Admin
        } else if self.users.contains(&user) {
            Role::User
        } else {
            Role::Stranger
        }
    }

    /// Whether `user` may do something needing `need` in a chat of `kind`.
    pub fn check(&self, user: UserId, kind: ChatKind, need: Need) -> Result<Role, Refusal> {
        Permissions::check_role(self.role(user), kind, need)
    }

    /// Whether someone of `role` (from these lists, or vouched for by the transport) may do
    /// something needing `need` in a chat of `kind`.
    pub fn check_role(role: Role, kind: ChatKind, need: Need) -> Result<Role, Refusal> {
        match (role, need) {
            (Role::Stranger, _) => Err(Refusal::Stranger),
            (_, Need::View) => Ok(role),
            (Role::User, Need::AdminView) => Err(Refusal::AdminOnly),
            (Role::Admin, Need::AdminView) => Ok(role),
            (Role::User, Need::Change) => Err(Refusal::AdminOnly),
            (Role::Admin, Need::Change) if kind != ChatKind::Private => Err(Refusal::PrivateOnly),
            (Role::Admin, Need::Change) => Ok(role),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms() -> Permissions {
        Permissions::new(
            [UserId(1)].into_iter().collect(),
            [UserId(2), UserId(1)].into_iter().collect(),
        )
    }

    #[test]
    fn roles() {
        let p = perms();
        assert_eq!(p.role(UserId(1)), Role::Admin);
        assert_eq!(p.role(UserId(2)), Role::User);
        assert_eq!(p.role(UserId(3)), Role::Stranger);
    }

    #[test]
    fn checks() {
        let p = perms();
        use ChatKind::*;
        assert_eq!(p.check(UserId(1), Private, Need::Change), Ok(Role::Admin));
        assert_eq!(
            p.check(UserId(1), Group, Need::Change),
            Err(Refusal::PrivateOnly)
        );
        assert_eq!(p.check(UserId(1), Group, Need::View), Ok(Role::Admin));
        assert_eq!(p.check(UserId(2), Group, Need::View), Ok(Role::User));
        assert_eq!(
            p.check(UserId(2), Private, Need::Change),
            Err(Refusal::AdminOnly)
        );
        assert_eq!(
            p.check(UserId(3), Private, Need::View),
            Err(Refusal::Stranger)
        );
        assert_eq!(
            p.check(UserId(3), Private, Need::Change),
            Err(Refusal::Stranger)
        );
        assert_eq!(p.check(UserId(1), Group, Need::AdminView), Ok(Role::Admin));
        assert_eq!(
            p.check(UserId(2), Private, Need::AdminView),
            Err(Refusal::AdminOnly)
        );
        assert_eq!(
            p.check(UserId(3), Private, Need::AdminView),
            Err(Refusal::Stranger)
        );
    }
}
