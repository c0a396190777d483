//! Plain-text tables for command output (`version list`, `secrets list`, `diff`): a leaf module,
//! so that any layer that prints a table can use it without reaching up into `commands`.

/// Left-aligned columns two spaces apart, no trailing spaces.
pub fn format_table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if column + 1 < N {
                let pad = widths[column] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_without_trailing_spaces() {
        let rows = [
            [
                "VERSION".to_string(),
                "IMAGE".to_string(),
                "ACTIVE".to_string(),
            ],
            [
                "v1".to_string(),
                "ghcr.io/acme/app:v1".to_string(),
                "no".to_string(),
            ],
        ];
        assert_eq!(
            format_table(&rows),
            "VERSION  IMAGE                ACTIVE\nv1       ghcr.io/acme/app:v1  no\n"
        );
    }
}
