//! Validated names. A name that reaches the model has already been checked against the
//! Kubernetes rule it must satisfy, so renderers never produce an object the API server rejects.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::error::Error;

/// RFC 1123 label as Kubernetes checks it: lowercase alphanumerics and `-`, starting and ending
/// with an alphanumeric, at most `max` characters.
fn check_label(kind: &str, text: &str, max: usize) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("{kind} must not be empty"));
    }
    if text.len() > max {
        return Err(format!(
            "{kind} `{text}` is {} characters long; the limit is {max}",
            text.len()
        ));
    }
    let valid_characters = text.chars().all(|character| {
        character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
    });
    let edges_ok = !text.starts_with('-') && !text.ends_with('-');
    if !valid_characters || !edges_ok {
        return Err(format!(
            "{kind} `{text}` is not a DNS-1123 label: use lowercase letters, digits and `-`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

macro_rules! label_newtype {
    ($name:ident, $kind:literal, $max:expr) => {
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn new(text: &str) -> Result<Self, Error> {
                check_label($kind, text, $max).map_err(Error::input)?;
                Ok(Self(text.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                check_label($kind, &text, $max).map_err(serde::de::Error::custom)?;
                Ok(Self(text))
            }
        }

        // Editors see the rule the parser enforces (`crate::spec::schema`).
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": concat!("A DNS-1123 label (", $kind, "): lowercase letters, digits and `-`, starting and ending with a letter or digit"),
                    "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                    "minLength": 1,
                    "maxLength": $max,
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

// An environment name becomes a directory and an Argo CD Application `dbos-<env>`.
label_newtype!(EnvName, "environment name", 58);
label_newtype!(Namespace, "namespace", 63);
// A version becomes the Deployment `dbos-app-<v>` (a 63-character label) and a label value.
label_newtype!(VersionName, "version name", 54);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_dns_1123() {
        assert!(EnvName::new("prod").is_ok());
        assert!(EnvName::new("prod-eu-1").is_ok());
        for bad in [
            "",
            "Prod",
            "-prod",
            "prod-",
            "prod_eu",
            "pr.od",
            &"a".repeat(59),
        ] {
            assert!(EnvName::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(VersionName::new(&"v".repeat(54)).is_ok());
        assert!(VersionName::new(&"v".repeat(55)).is_err());
        let message = VersionName::new("V1").unwrap_err().to_string();
        assert!(
            message.contains("`V1`") && message.contains("DNS-1123"),
            "{message}"
        );
    }
}
