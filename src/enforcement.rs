//! Who must use two-factor authentication (SPEC §4). Off by default. When on:
//! no groups selected → everyone except members of excluded groups;
//! groups selected → members of those groups, and selected wins over excluded.

use serde::Serialize;

use crate::accounts::GroupName;
use crate::error::AppError;

/// Group names as given by an admin (form or API), checked.
pub fn group_names(list: Vec<String>) -> Result<Vec<String>, AppError> {
    list.into_iter()
        .map(|g| {
            g.parse::<GroupName>()
                .map(|g| g.to_string())
                .map_err(AppError::BadRequest)
        })
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Enforcement {
    pub enforced: bool,
    /// Groups 2FA is enforced for; empty means everyone.
    pub groups: Vec<String>,
    /// Groups exempt from enforcement (unless also in a selected group).
    pub excluded: Vec<String>,
}

impl Enforcement {
    /// Whether a member of `user_groups` must use 2FA.
    pub fn applies_to(&self, user_groups: &[String]) -> bool {
        if !self.enforced {
            return false;
        }
        let member_of = |list: &[String]| user_groups.iter().any(|g| list.contains(g));
        if self.groups.is_empty() {
            !member_of(&self.excluded)
        } else {
            member_of(&self.groups)
        }
    }

    /// The setting in words, as `twofold twofactorauth enforce` prints it.
    pub fn describe(&self) -> String {
        if !self.enforced {
            return "Two-factor authentication is not enforced.".into();
        }
        let mut out = if self.groups.is_empty() {
            "Two-factor authentication is enforced for all users".to_string()
        } else {
            format!(
                "Two-factor authentication is enforced for members of the group(s) {}",
                self.groups.join(", ")
            )
        };
        if !self.excluded.is_empty() {
            if self.groups.is_empty() {
                out.push_str(&format!(", except members of {}", self.excluded.join(", ")));
            } else {
                out.push_str(&format!(
                    "; {} excluded (a member of a selected group is still enforced)",
                    self.excluded.join(", ")
                ));
            }
        }
        out.push('.');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Enforcement;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// (enforced, selected groups, excluded groups, the user's groups, expected)
    type Case = (
        bool,
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        bool,
    );

    /// Every case of SPEC §4, one row each.
    #[test]
    fn every_enforcement_case() {
        let table: &[Case] = &[
            // Off: nobody, whatever the groups say.
            (false, &[], &[], &[], false),
            (false, &["staff"], &[], &["staff"], false),
            (false, &[], &["guests"], &[], false),
            // On, no groups selected: everyone…
            (true, &[], &[], &[], true),
            (true, &[], &[], &["staff"], true),
            // …except members of excluded groups.
            (true, &[], &["guests"], &["guests"], false),
            (true, &[], &["guests"], &["staff", "guests"], false),
            (true, &[], &["guests"], &["staff"], true),
            (true, &[], &["guests"], &[], true),
            // On, groups selected: only their members.
            (true, &["staff"], &[], &["staff"], true),
            (true, &["staff"], &[], &["other"], false),
            (true, &["staff"], &[], &[], false),
            (true, &["staff", "admins"], &[], &["admins"], true),
            // Selected and excluded: selected wins.
            (true, &["staff"], &["guests"], &["staff", "guests"], true),
            (true, &["staff"], &["guests"], &["guests"], false),
            (true, &["staff"], &["staff"], &["staff"], true),
            (true, &["staff"], &["guests"], &["other"], false),
        ];
        for (enforced, groups, excluded, user, want) in table {
            let e = Enforcement {
                enforced: *enforced,
                groups: v(groups),
                excluded: v(excluded),
            };
            assert_eq!(
                e.applies_to(&v(user)),
                *want,
                "{e:?} for a member of {user:?}"
            );
        }
    }

    #[test]
    fn described_in_words() {
        let e = Enforcement::default();
        assert_eq!(e.describe(), "Two-factor authentication is not enforced.");
        let e = Enforcement {
            enforced: true,
            groups: v(&[]),
            excluded: v(&["guests"]),
        };
        assert_eq!(
            e.describe(),
            "Two-factor authentication is enforced for all users, except members of guests."
        );
        let e = Enforcement {
            enforced: true,
            groups: v(&["staff"]),
            excluded: v(&[]),
        };
        assert!(e.describe().contains("members of the group(s) staff"));
    }
}
