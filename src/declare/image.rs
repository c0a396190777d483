//! Container image references, as the declarations name them (`conductor.image`,
//! `console.image`, `app.migrate.image`, each version's `image`).

/// Container image references: no spaces, no uppercase in the repository part, not empty.
pub fn check_image(image: &str) -> Result<(), String> {
    let repository = image.split(['@']).next().unwrap_or("");
    let repository = match repository.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => repository,
    };
    if image.is_empty()
        || image
            .chars()
            .any(|character| character.is_whitespace() || character.is_control())
        || repository.is_empty()
        || repository
            .chars()
            .any(|character| character.is_ascii_uppercase())
    {
        return Err(format!(
            "image `{image}` is not a valid image reference such as `ghcr.io/acme/app:v1`"
        ));
    }
    Ok(())
}
