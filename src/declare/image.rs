//! Container image references, as the declarations name them (`conductor.image`,
//! `console.image`, `app.migrate.image`, each version's `image`), checked against the grammar
//! of the distribution project (github.com/distribution/reference, `reference.go`), which
//! containerd, Docker and the kubelet's pulls follow:
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain "/"] path-component ["/" path-component]*   (at most 255 chars)
//! domain           := host [":" port-number]
//! host             := domain-component ["." domain-component]* | "[" IPv6address "]"
//! domain-component := /[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]/
//! path-component   := /[a-z0-9]+/ [ separator /[a-z0-9]+/ ]*
//! separator        := /[_.]|__|[-]+/
//! tag              := /[\w][\w.-]{0,127}/
//! digest           := algorithm ":" /[0-9a-fA-F]{32,}/
//! algorithm        := /[A-Za-z][A-Za-z0-9]*/ [ /[+._-]/ /[A-Za-z][A-Za-z0-9]*/ ]*
//! ```
//!
//! ASCII only: `é` is refused anywhere in a reference.

/// The longest name (registry and repository) the grammar allows.
pub const NAME_MAX: usize = 255;

/// A container image reference such as `ghcr.io/acme/app:v1` or `app@sha256:<64 hex>`.
pub fn check_image(image: &str) -> Result<(), String> {
    match reference_problem(image) {
        None => Ok(()),
        Some(problem) => Err(format!(
            "image `{image}` is not a valid image reference such as `ghcr.io/acme/app:v1`: {problem}"
        )),
    }
}

/// What is wrong with `image`, per the grammar above.
fn reference_problem(image: &str) -> Option<String> {
    if image.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(character) = image
        .chars()
        .find(|character| !character.is_ascii_graphic())
    {
        return Some(format!(
            "{character:?} is not allowed (printable ASCII only, no spaces)"
        ));
    }
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    if let Some(problem) = digest.and_then(digest_problem) {
        return Some(problem);
    }
    // A `:` after the last `/` starts the tag; one before it belongs to a registry port.
    let (name, tag) = match rest.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    if let Some(problem) = tag.and_then(tag_problem) {
        return Some(problem);
    }
    name_problem(name)
}

fn name_problem(name: &str) -> Option<String> {
    if name.len() > NAME_MAX {
        return Some(format!(
            "the name is {} characters long; the limit is {NAME_MAX}",
            name.len()
        ));
    }
    let mut components: Vec<&str> = name.split('/').collect();
    // The first component is a registry when a path follows it and it is not a path component
    // itself (`localhost:5000`, `ghcr.io`); otherwise it is part of the path (`acme/app`).
    if components.len() > 1 && !is_path_component(components[0]) {
        if !is_domain(components[0]) {
            return Some(format!(
                "`{}` is neither a registry host[:port] nor a lowercase path component",
                components[0]
            ));
        }
        components.remove(0);
    }
    components
        .iter()
        .find(|component| !is_path_component(component))
        .map(|component| {
            format!(
                "the repository component `{component}` must be lowercase letters and digits, separated by `.`, `_`, `__` or `-`"
            )
        })
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn is_path_component(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alphanumeric = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    if bytes.is_empty()
        || !alphanumeric(bytes[0])
        || !alphanumeric(*bytes.last().expect("not empty"))
    {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alphanumeric(bytes[index]) {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && !alphanumeric(bytes[index]) {
            index += 1;
        }
        let separator = &text[start..index];
        let dashes = separator.bytes().all(|byte| byte == b'-');
        if !(matches!(separator, "." | "_" | "__") || dashes) {
            return false;
        }
    }
    true
}

/// `host[:port]`, the host a DNS name, an IPv4 address or a bracketed IPv6 address.
fn is_domain(text: &str) -> bool {
    let (host, port) = if let Some(after) = text.strip_prefix('[') {
        match after.split_once(']') {
            Some((address, tail)) => {
                let ipv6 = !address.is_empty()
                    && address
                        .chars()
                        .all(|character| character.is_ascii_hexdigit() || character == ':');
                if !ipv6 {
                    return false;
                }
                match tail {
                    "" => return true,
                    _ => match tail.strip_prefix(':') {
                        Some(port) => ("ipv6", Some(port)),
                        None => return false,
                    },
                }
            }
            None => return false,
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    let component_ok = |component: &str| {
        !component.is_empty()
            && !component.starts_with('-')
            && !component.ends_with('-')
            && component
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    };
    port_ok && host.split('.').all(component_ok)
}

fn tag_problem(tag: &str) -> Option<String> {
    let word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && word(tag.as_bytes()[0])
        && tag
            .bytes()
            .all(|byte| word(byte) || byte == b'.' || byte == b'-');
    (!ok).then(|| {
        format!(
            "the tag `{tag}` must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        )
    })
}

fn digest_problem(digest: &str) -> Option<String> {
    let problem = || {
        Some(format!(
            "the digest `{digest}` must be ALGORITHM:HEX with at least 32 hex digits, such as `sha256:` and 64 hex digits"
        ))
    };
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return problem();
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|component| {
        let mut bytes = component.bytes();
        bytes
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
            && bytes.all(|byte| byte.is_ascii_alphanumeric())
    });
    let hex_ok = hex.len() >= 32 && hex.bytes().all(|byte| byte.is_ascii_hexdigit());
    if algorithm_ok && hex_ok {
        None
    } else {
        problem()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn references_of_the_distribution_grammar_are_accepted() {
        for good in [
            "app:v1",
            "dbosdev/conductor:latest",
            "ghcr.io/acme/app:v1",
            "localhost:5000/app:v1",
            "localhost/app",
            "registry.example.com:443/team/sub/app:1.2.3-rc_1",
            "[::1]:5000/app:v1",
            "acme/my__app/a-b--c.d:V1",
            &format!("ghcr.io/acme/app@{DIGEST}"),
            &format!("ghcr.io/acme/app:v1@{DIGEST}"),
            &format!("app:{}", "t".repeat(128)),
            "My-Registry.io/app:v1",
        ] {
            assert_eq!(check_image(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn references_outside_the_grammar_are_refused_with_the_reason() {
        for (bad, reason) in [
            ("", "empty"),
            ("ghcr.io/acme/app:vé", "'é'"),
            ("ghcr.io/acmé/app:v1", "'é'"),
            ("ghcr.io/acme/app :v1", "' '"),
            ("Bad/Image:v1", "`Image`"),
            ("ghcr.io/Acme/app:v1", "`Acme`"),
            ("app:.v1", "the tag `.v1`"),
            (&format!("app:{}", "t".repeat(129)), "1 to 128"),
            ("app:", "the tag ``"),
            ("app@sha256:abc", "at least 32 hex"),
            ("app@sha256", "ALGORITHM:HEX"),
            ("acme/-app:v1", "`-app`"),
            ("acme/app./x:v1", "`app.`"),
            ("acme/a...b:v1", "`a...b`"),
            ("bad_host:5000/app", "`bad_host:5000`"),
            ("host:50a0/app", "`host:50a0`"),
            (&format!("{}:v1", "a".repeat(256)), "the limit is 255"),
        ] {
            let message = check_image(bad).expect_err(bad);
            assert!(message.contains(reason), "{bad}: {message}");
        }
    }
}
