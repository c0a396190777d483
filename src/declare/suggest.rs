//! "did you mean": the known field closest to a mistyped one. serde's `deny_unknown_fields`
//! message names the unknown key and lists the expected ones (`unknown field `replica`,
//! expected one of `image`, `replicas``); the suggestion is the expected key nearest by edit
//! distance, if it is near enough to be a typo.

/// `did you mean `KEY`?` for an unknown-field message, or `None`.
pub fn did_you_mean(message: &str) -> Option<String> {
    let (_, tail) = message.split_once("unknown field `")?;
    let (unknown, rest) = tail.split_once('`')?;
    let (_, expected) = rest.split_once("expected")?;
    let candidates = expected.split('`').skip(1).step_by(2);
    let (best, distance) = candidates
        .map(|candidate| (candidate, edit_distance(unknown, candidate)))
        .min_by_key(|(_, distance)| *distance)?;
    // One edit in a short key, about a third of a longer one: a typo, not another word.
    let allowed = (unknown.chars().count() / 3).max(1);
    (distance <= allowed).then(|| format!("did you mean `{best}`?"))
}

/// Levenshtein distance over characters (insert, delete, substitute each cost one).
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, a) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, b) in right.iter().enumerate() {
            let substitute = previous[j] + usize::from(a != *b);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_expected_field_is_suggested_only_when_it_is_a_typo() {
        let message =
            "conductor: unknown field `replica`, expected one of `image`, `replicas`, `resources`";
        assert_eq!(
            did_you_mean(message).as_deref(),
            Some("did you mean `replicas`?")
        );
        let far = "unknown field `colour`, expected `image` or `replicas`";
        assert_eq!(did_you_mean(far), None);
        assert_eq!(did_you_mean("missing field `domain`"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
