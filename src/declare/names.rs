//! Validated names. A name that reaches the model has already been checked against the
//! Kubernetes rule it must satisfy, so renderers never produce an object the API server rejects.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

use crate::error::Error;

/// The one DNS label rule (RFC 1123, as Kubernetes checks it): 1 to `max` lowercase
/// alphanumerics and `-`, starting and ending with an alphanumeric. Every kind of name below
/// (environment, namespace, version, secret, domain) is built on it.
pub fn is_dns_label(text: &str, max: usize) -> bool {
    !text.is_empty()
        && text.len() <= max
        && !text.starts_with('-')
        && !text.ends_with('-')
        && text.chars().all(|character| {
            character.is_ascii_lowercase() || character.is_ascii_digit() || character == '-'
        })
}

/// A DNS subdomain (RFC 1123) of at least two labels.
pub fn check_domain(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| is_dns_label(label, 63);
    if domain.len() > 240 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!(
            "domain `{domain}` is not a lowercase DNS name such as `dbos.example.com`"
        ));
    }
    // No top-level domain is numeric: `10.0.0.1` is an IP address, and `console.10.0.0.1` is a
    // name browsers and certificates refuse (#21).
    if labels
        .last()
        .is_some_and(|last| last.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!(
            "domain `{domain}` is an IP address; the hosts `console.<domain>` need a DNS name such as `dbos.example.com`"
        ));
    }
    Ok(())
}

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
    if !is_dns_label(text, max) {
        return Err(format!(
            "{kind} `{text}` is not a DNS-1123 label: use lowercase letters, digits and `-`, starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

/// Secret names become file names and Kubernetes names: the one rule is
/// [`crate::limits::check_secret_name`]; this gives its message the input error type.
pub fn check_secret_name(name: &str) -> Result<(), Error> {
    crate::limits::check_secret_name(name).map_err(Error::input)
}

/// A Kubernetes object name (DNS-1123 subdomain: at most 253 characters, dot-separated
/// labels): a GatewayClass, a Gateway, a listener, an IngressClass (#21). The message follows
/// `is not ...`-style wording after the caller's noun.
pub fn check_object_name(name: &str) -> Result<(), String> {
    if name.len() <= 253 && name.split('.').all(|label| is_dns_label(label, 63)) {
        return Ok(());
    }
    Err(format!(
        "`{}` is not a Kubernetes name: use lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit",
        name.escape_debug()
    ))
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, `-`, `_`, `.` starting and ending with an alphanumeric.
pub fn check_label_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|prefix| check_object_name(prefix).is_ok());
    if prefix_ok && is_label_value(name) && !name.is_empty() {
        return Ok(());
    }
    Err(format!(
        "`{}` is not a Kubernetes label key",
        key.escape_debug()
    ))
}

/// A label value: empty, or at most 63 alphanumerics, `-`, `_`, `.`, starting and ending with
/// an alphanumeric.
pub fn check_label_value(value: &str) -> Result<(), String> {
    if is_label_value(value) {
        return Ok(());
    }
    Err(format!(
        "`{}` is not a Kubernetes label value",
        value.escape_debug()
    ))
}

fn is_label_value(value: &str) -> bool {
    let edge_ok = |character: Option<char>| character.is_none_or(|c| c.is_ascii_alphanumeric());
    value.len() <= 63
        && edge_ok(value.chars().next())
        && edge_ok(value.chars().last())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
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
                // Checked inside the visitor, while the parser still stands on the scalar: an
                // error raised after `String::deserialize` returned would be placed at the
                // enclosing mapping (its first key's line) and lose the key's path.
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                        formatter.write_str(concat!("a ", $kind))
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        check_label($kind, text, $max).map_err(E::custom)?;
                        Ok($name(text.to_string()))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        // Editors see the rule the parser enforces (`crate::declare::schema`).
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
// The Argo CD AppProject `argocd.project`: its own kind, so a bad value is called a project.
label_newtype!(ProjectName, "Argo CD project", 63);
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

#[cfg(test)]
mod label_rule_tests {
    use super::*;

    #[test]
    fn one_label_rule_for_every_kind_of_name() {
        assert!(is_dns_label("prod-eu", 63));
        assert!(!is_dns_label("", 63));
        assert!(!is_dns_label("-prod", 63));
        assert!(!is_dns_label("Prod", 63));
        assert!(!is_dns_label("abc", 2));
        assert!(check_secret_name("conductor-db").is_ok());
        assert!(check_secret_name("a.b-c").is_ok());
        assert!(check_secret_name("").is_err());
        assert!(check_secret_name("a..b").is_err());
        assert!(check_domain("dbos.acme.com").is_ok());
        assert!(check_domain("bad").is_err());
        assert!(check_domain(&format!("{}.com", "a".repeat(64))).is_err());
    }
}
