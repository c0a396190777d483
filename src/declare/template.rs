//! The text templates `init` writes (`templates/*.tmpl`, embedded at build time): plain files
//! with `{{name}}` placeholders, so the commented starter file can be read and edited as the
//! file it becomes, not as a Rust string literal.

/// The env.yaml `init env` writes.
pub const ENV_YAML: &str = include_str!("templates/env.yaml.tmpl");

/// `template` with each `{{name}}` replaced by its value. Every placeholder must be given and
/// every value used: a mismatch is a programming error, caught by the tests (it panics only in
/// debug builds; a release build leaves the placeholder visible).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        let name = &after[..end];
        match values.iter().find(|(key, _)| *key == name) {
            Some((_, value)) => text.push_str(value),
            None => {
                debug_assert!(false, "template placeholder `{name}` has no value");
                text.push_str(&rest[start..start + 4 + end]);
            }
        }
        rest = &after[end + 2..];
    }
    text.push_str(rest);
    debug_assert!(
        values
            .iter()
            .all(|(key, _)| template.contains(&format!("{{{{{key}}}}}"))),
        "a value is given for a placeholder the template does not have"
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_each_placeholder_once_and_keeps_the_rest() {
        let text = fill("a: {{a}}\n{{b}}c: 1\n", &[("a", "x"), ("b", "")]);
        assert_eq!(text, "a: x\nc: 1\n");
    }

    #[test]
    #[should_panic(expected = "has no value")]
    fn a_placeholder_without_a_value_is_a_bug() {
        fill("{{missing}}", &[]);
    }
}
