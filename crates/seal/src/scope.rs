//! Sealing scopes and the RSA-OAEP label each one implies.
//!
//! The scope decides how far a sealed value may travel: the controller passes a label to
//! RSA-OAEP that is `namespace/name` (strict), `namespace` (namespace-wide) or empty
//! (cluster-wide), so a value sealed under one label does not decrypt under another. Upstream
//! (`EncryptionLabel` and `SecretScope` in `sealedsecret_expansion.go`) reads the scope from two
//! annotations, checking cluster-wide before namespace-wide, and only the exact string `"true"`
//! counts; anything else means strict. `UpdateScopeAnnotations` there first removes both
//! annotations and then sets the one that matches the scope (none for strict); we do the same in
//! [`Scope::apply_to_annotations`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Annotation that marks a secret (and its SealedSecret) as namespace-wide.
pub const NAMESPACE_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/namespace-wide";
/// Annotation that marks a secret (and its SealedSecret) as cluster-wide.
pub const CLUSTER_WIDE_ANNOTATION: &str = "sealedsecrets.bitnami.com/cluster-wide";
/// Annotations written by `kubectl apply` and kubecfg that hold a full copy of the object —
/// for a Secret, its plaintext. Upstream strips both from the template before sealing.
pub const LAST_APPLIED_ANNOTATIONS: [&str; 2] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubecfg.ksonnet.io/last-applied-configuration",
];

/// How far a sealed value may move: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// Bound to one namespace and one name (the default).
    #[default]
    Strict,
    /// Bound to one namespace; the secret may be renamed.
    NamespaceWide,
    /// May be unsealed under any name in any namespace.
    ClusterWide,
}

/// The scope string was not one of `strict`, `namespace-wide`, `cluster-wide`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sealing scope `{0}`: must be one of `strict`, `namespace-wide`, `cluster-wide`")]
pub struct ScopeParseError(pub String);

impl ScopeParseError {
    /// How to fix the input.
    pub fn hint(&self) -> Option<String> {
        Some("pass `--scope strict`, `--scope namespace-wide` or `--scope cluster-wide`".into())
    }
}

impl Scope {
    /// All scopes, strictest first.
    pub const ALL: [Scope; 3] = [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide];

    /// The name used on the command line and in messages.
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }

    /// The RSA-OAEP label for a value of a secret called `name` in `namespace` under this scope.
    pub fn label(&self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The scope that a set of annotations declares: cluster-wide wins over namespace-wide, and
    /// only the value `"true"` counts.
    pub fn from_annotations(annotations: &BTreeMap<String, String>) -> Scope {
        if annotations.get(CLUSTER_WIDE_ANNOTATION).map(String::as_str) == Some("true") {
            Scope::ClusterWide
        } else if annotations
            .get(NAMESPACE_WIDE_ANNOTATION)
            .map(String::as_str)
            == Some("true")
        {
            Scope::NamespaceWide
        } else {
            Scope::Strict
        }
    }

    /// Rewrites `annotations` so that they declare exactly this scope: both scope annotations
    /// are removed, then the one for this scope (none for strict) is set to `"true"`.
    pub fn apply_to_annotations(&self, annotations: &mut BTreeMap<String, String>) {
        annotations.remove(NAMESPACE_WIDE_ANNOTATION);
        annotations.remove(CLUSTER_WIDE_ANNOTATION);
        match self {
            Scope::Strict => {}
            Scope::NamespaceWide => {
                annotations.insert(NAMESPACE_WIDE_ANNOTATION.into(), "true".into());
            }
            Scope::ClusterWide => {
                annotations.insert(CLUSTER_WIDE_ANNOTATION.into(), "true".into());
            }
        }
    }

    /// The annotation that declares this scope, if any.
    pub fn annotation(&self) -> Option<&'static str> {
        match self {
            Scope::Strict => None,
            Scope::NamespaceWide => Some(NAMESPACE_WIDE_ANNOTATION),
            Scope::ClusterWide => Some(CLUSTER_WIDE_ANNOTATION),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = ScopeParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(Scope::Strict),
            "namespace-wide" => Ok(Scope::NamespaceWide),
            "cluster-wide" => Ok(Scope::ClusterWide),
            other => Err(ScopeParseError(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annos(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_match_upstream_encryption_label() {
        assert_eq!(Scope::Strict.label("ns", "n"), b"ns/n");
        assert_eq!(Scope::NamespaceWide.label("ns", "n"), b"ns");
        assert_eq!(Scope::ClusterWide.label("ns", "n"), b"");
    }

    #[test]
    fn parse_and_display_round_trip() {
        for s in Scope::ALL {
            assert_eq!(s.to_string().parse::<Scope>().unwrap(), s);
        }
        let err = "Strict".parse::<Scope>().unwrap_err();
        assert!(err.to_string().contains("`Strict`"));
        assert!(err.hint().is_some());
    }

    #[test]
    fn scope_from_annotations() {
        assert_eq!(Scope::from_annotations(&annos(&[])), Scope::Strict);
        assert_eq!(
            Scope::from_annotations(&annos(&[(NAMESPACE_WIDE_ANNOTATION, "true")])),
            Scope::NamespaceWide
        );
        assert_eq!(
            Scope::from_annotations(&annos(&[
                (NAMESPACE_WIDE_ANNOTATION, "true"),
                (CLUSTER_WIDE_ANNOTATION, "true")
            ])),
            Scope::ClusterWide
        );
        // Only "true" counts, as upstream.
        assert_eq!(
            Scope::from_annotations(&annos(&[(CLUSTER_WIDE_ANNOTATION, "True")])),
            Scope::Strict
        );
    }

    #[test]
    fn apply_replaces_existing_scope_annotations() {
        let mut a = annos(&[(CLUSTER_WIDE_ANNOTATION, "true"), ("other", "x")]);
        Scope::NamespaceWide.apply_to_annotations(&mut a);
        assert_eq!(
            a,
            annos(&[(NAMESPACE_WIDE_ANNOTATION, "true"), ("other", "x")])
        );
        Scope::Strict.apply_to_annotations(&mut a);
        assert_eq!(a, annos(&[("other", "x")]));
    }
}
