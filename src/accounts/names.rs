//! Validated names. A uid or group name is checked once, where it enters, and then
//! carried as its own type rather than as a bare string.

use std::fmt;
use std::str::FromStr;

fn check(kind: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 {
        return Err(format!("{kind} must be 1 to 64 characters"));
    }
    if s.starts_with('-') {
        return Err(format!("{kind} must not start with '-'"));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(format!(
            "{kind} may only contain letters, digits and . _ - @ (got {s:?})"
        ));
    }
    Ok(())
}

macro_rules! name_type {
    ($name:ident, $kind:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                check($kind, s).map(|()| Self(s.to_string()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(Uid, "user id");
name_type!(GroupName, "group name");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for ok in ["alice", "a.b-c_d", "bob@example.org", "X1"] {
            assert!(ok.parse::<Uid>().is_ok(), "{ok}");
        }
    }

    #[test]
    fn invalid_names() {
        let long = "a".repeat(65);
        for bad in ["", "-rf", "a b", "é", "a/b", "a;b", long.as_str()] {
            assert!(bad.parse::<Uid>().is_err(), "{bad:?}");
            assert!(bad.parse::<GroupName>().is_err(), "{bad:?}");
        }
    }
}
