//! The terminal conventions every command shares, set once from the global flags: `-q/--quiet`
//! (no summaries, no notes), `-v/--verbose` (every name of a long list), and colour of the
//! `error:`/`warning:`/`note:`/`hint:` prefixes. Colour follows `--color auto|always|never`;
//! `auto` colours a stream only when it is a terminal and `NO_COLOR` is unset or empty
//! (no-color.org: a command-line flag overrides the variable, so `--color always` wins). A
//! stream that is not a terminal gets the same bytes as before this module existed.
//! Bottom layer: imports nothing of the crate.

use std::io::IsTerminal as _;
use std::sync::OnceLock;

/// `--color WHEN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, Default)]
struct Settings {
    quiet: bool,
    verbose: bool,
    color_stdout: bool,
    color_stderr: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Which stream a line goes to (each is a terminal or not on its own).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Sets the conventions for this process; the first call wins (tests call `run` many times).
pub fn init(quiet: bool, verbose: bool, color: ColorChoice) {
    let no_color = crate::env_vars::get_non_empty(crate::env_vars::NO_COLOR).is_some();
    let wanted = |terminal: bool| match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color,
    };
    let _ = SETTINGS.set(Settings {
        quiet,
        verbose,
        color_stdout: wanted(std::io::stdout().is_terminal()),
        color_stderr: wanted(std::io::stderr().is_terminal()),
    });
}

fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

pub fn quiet() -> bool {
    settings().quiet
}

pub fn verbose() -> bool {
    settings().verbose
}

fn colored(stream: Stream) -> bool {
    let settings = settings();
    match stream {
        Stream::Stdout => settings.color_stdout,
        Stream::Stderr => settings.color_stderr,
    }
}

/// SGR codes of each prefix: bold red, bold yellow, bold cyan, bold green.
const PREFIXES: [(&str, &str); 5] = [
    ("error:", "1;31"),
    ("warning:", "1;33"),
    ("note:", "1;36"),
    ("hint:", "1;32"),
    ("ok:", "1;32"),
];

/// `text` with the known prefix at the start of each line (after its indentation) coloured,
/// when `stream` is coloured; otherwise `text` unchanged.
pub fn paint(stream: Stream, text: &str) -> String {
    if !colored(stream) {
        return text.to_string();
    }
    text.split_inclusive('\n')
        .map(paint_line)
        .collect::<Vec<_>>()
        .concat()
}

/// A prefix counts at the start of the line (after its indentation) or right after a leading
/// `FILE: ` (a `check` finding: `environments/prod/env.yaml: warning: ...`).
fn paint_line(line: &str) -> String {
    let body = line.trim_start_matches(' ');
    let lead = match body.split_once(": ") {
        Some((file, rest)) if !file.contains(' ') && starts_with_prefix(rest) => file.len() + 2,
        _ => 0,
    };
    let start = line.len() - body.len() + lead;
    let (head, tail) = line.split_at(start);
    for (prefix, code) in PREFIXES {
        if let Some(rest) = tail.strip_prefix(prefix) {
            return format!("{head}\x1b[{code}m{prefix}\x1b[0m{rest}");
        }
    }
    line.to_string()
}

fn starts_with_prefix(text: &str) -> bool {
    PREFIXES.iter().any(|(prefix, _)| text.starts_with(prefix))
}

/// A summary line on stdout ("sealed …", "unchanged …"); silenced by `--quiet`.
pub fn summary(text: &str) {
    if !quiet() {
        println!("{}", paint(Stream::Stdout, text));
    }
}

/// A `note:` (or other informational) line on stderr; silenced by `--quiet`.
pub fn note(text: &str) {
    if !quiet() {
        eprintln!("{}", paint(Stream::Stderr, text));
    }
}

/// An `error:`/`warning:` line on stderr: never silenced.
pub fn warn(text: &str) {
    eprintln!("{}", paint(Stream::Stderr, text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_gets_its_own_prefix_coloured_and_the_rest_is_kept() {
        let text = "error: bad\n  hint: do this\nplain\n";
        let painted = text
            .split_inclusive('\n')
            .map(paint_line)
            .collect::<String>();
        assert_eq!(
            painted,
            "\x1b[1;31merror:\x1b[0m bad\n  \x1b[1;32mhint:\x1b[0m do this\nplain\n"
        );
    }

    #[test]
    fn without_init_nothing_is_coloured() {
        assert_eq!(paint(Stream::Stderr, "error: x"), "error: x");
        let finding = paint_line("environments/prod/env.yaml: warning: unpinned\n");
        assert_eq!(
            finding,
            "environments/prod/env.yaml: \x1b[1;33mwarning:\x1b[0m unpinned\n"
        );
        assert_eq!(
            paint_line("a message: with warning: inside"),
            "a message: with warning: inside"
        );
    }
}
