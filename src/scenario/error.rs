//! User-facing scenario errors: where (file, line, column, a caret excerpt), which dotted key,
//! what was found, what is accepted, and a "did you mean" hint.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// The text of a scenario file, shared by every node and error that points into it.
#[derive(Debug)]
pub struct Source {
    /// The path as the user wrote it.
    pub name: String,
    /// The file's text.
    pub text: String,
}

impl Source {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// The full text of the line holding `offset`, without its line ending.
    fn line_text(&self, offset: usize) -> &str {
        let offset = offset.min(self.text.len());
        let start = self.text[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = self.text[offset..]
            .find('\n')
            .map_or(self.text.len(), |i| offset + i);
        self.text[start..end].trim_end_matches('\r')
    }
}

/// Where a value came from.
#[derive(Clone, Debug)]
pub enum Loc {
    /// A byte range of the scenario file.
    File(Range<usize>),
    /// A value substituted from `[matrix]`: the range of that value in the file.
    Matrix {
        /// Byte range of the matrix value.
        span: Range<usize>,
        /// The axis (dotted path).
        axis: String,
    },
    /// A `--set PATH=VALUE` argument.
    Set(String),
    /// Another command-line argument, as written (`--vary task.db.size=1GiB`).
    Arg(String),
    /// Nowhere in particular (a default, or a table the file does not write).
    None,
}

impl Loc {
    /// A file location when there is a span.
    pub fn file(span: Option<Range<usize>>) -> Loc {
        span.map_or(Loc::None, Loc::File)
    }
}

/// One error in a scenario (always exit code 2). Boxed: errors are rare, `Result`s are everywhere.
#[derive(Debug)]
pub struct Diag(Box<DiagData>);

/// The content of a [`Diag`].
#[derive(Debug)]
pub struct DiagData {
    /// The file.
    pub source: Arc<Source>,
    /// Where in it (or on the command line).
    pub loc: Loc,
    /// The dotted key the error is about (empty: the file as a whole).
    pub key: String,
    /// What is wrong: what was found and what is accepted.
    pub message: String,
    /// A hint, usually "did you mean `…`?".
    pub help: Option<String>,
    /// The matrix cell being validated, when the error only shows in one cell.
    pub cell: Option<String>,
}

impl Diag {
    /// An error about `key` at `loc`.
    pub fn new(
        source: &Arc<Source>,
        loc: Loc,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Diag {
        Diag(Box::new(DiagData {
            source: Arc::clone(source),
            loc,
            key: key.into(),
            message: message.into(),
            help: None,
            cell: None,
        }))
    }

    /// Adds a hint.
    pub fn help(mut self, help: Option<String>) -> Diag {
        self.help = help;
        self
    }
}

impl std::ops::Deref for Diag {
    type Target = DiagData;
    fn deref(&self) -> &DiagData {
        &self.0
    }
}

impl std::ops::DerefMut for Diag {
    fn deref_mut(&mut self) -> &mut DiagData {
        &mut self.0
    }
}

impl std::error::Error for Diag {}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let src = &self.source;
        let span = match &self.loc {
            Loc::File(s) | Loc::Matrix { span: s, .. } => Some(s.clone()),
            Loc::Set(_) | Loc::Arg(_) | Loc::None => None,
        };
        match (&self.loc, &span) {
            (Loc::Set(arg), _) => write!(f, "{}: in `--set {arg}`", src.name)?,
            (Loc::Arg(arg), _) => write!(f, "{}: in `{arg}`", src.name)?,
            (_, Some(s)) => {
                let (line, col) = src.line_col(s.start);
                write!(f, "{}:{line}:{col}", src.name)?;
            }
            _ => write!(f, "{}", src.name)?,
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", elide(&self.key, MAX_KEY_CHARS))?;
        }
        write!(f, ": {}", elide(&self.message, MAX_MESSAGE_CHARS))?;
        if let Loc::Matrix { axis, .. } = &self.loc {
            write!(f, " (value of matrix axis `{axis}`")?;
            if let Some(cell) = &self.cell {
                write!(f, ", in cell `{cell}`")?;
            }
            write!(f, ")")?;
        } else if let Some(cell) = &self.cell {
            write!(f, " (in matrix cell `{cell}`)")?;
        }
        if let Some(s) = &span {
            let (line, col) = src.line_col(s.start);
            let text = src.line_text(s.start);
            let width = line.to_string().len();
            let rest = &text[text
                .char_indices()
                .nth(col - 1)
                .map_or(text.len(), |(i, _)| i)..];
            let in_line = s.end.saturating_sub(s.start).min(rest.len());
            let carets = rest[..in_line].chars().count().max(1);
            // A long line (a 10 MB value) is shown up to a little past its column, not whole.
            let shown = col - 1 + EXCERPT_CHARS;
            let (text, carets) = match text.char_indices().nth(shown) {
                Some((cut, _)) => (format!("{}…", &text[..cut]), carets.min(EXCERPT_CHARS)),
                None => (text.to_string(), carets),
            };
            write!(
                f,
                "\n{:width$} |\n{line} | {text}\n{:width$} | {}{}",
                "",
                "",
                " ".repeat(col - 1),
                "^".repeat(carets)
            )?;
        }
        if let Some(help) = &self.help {
            let width = span
                .as_ref()
                .map_or(0, |s| src.line_col(s.start).0.to_string().len());
            write!(f, "\n{:width$} = help: {help}", "")?;
        }
        Ok(())
    }
}

/// A message longer than this many characters is shown with its middle elided.
const MAX_MESSAGE_CHARS: usize = 1000;

/// A dotted key longer than this many characters is shown with its middle elided.
const MAX_KEY_CHARS: usize = 200;

/// Characters of a line shown past the error's column in an excerpt.
const EXCERPT_CHARS: usize = 80;

/// `s`, or its first and last `max / 2` characters around a note of how much was left out: a
/// message that quotes a 10 MB value says so once, not in full twice.
fn elide(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let n = s.chars().count();
    if n <= max {
        return s.into();
    }
    let head: String = s.chars().take(max / 2).collect();
    let tail: String = s.chars().skip(n - max / 2).collect();
    format!("{head}… ({} characters left out) …{tail}", n - max).into()
}

/// `did you mean `x`?` when some candidate is close to `found`. A long `found` (no name is
/// longer than 64 characters) has no near miss; comparing it would cost its length times each
/// candidate's.
pub fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    if found.len() > 64 {
        return None;
    }
    let lower = found.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// `a, b or c` with each item in backticks.
pub fn one_of<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => "nothing".into(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// A non-UTF-8 file: the position of the first bad byte.
pub fn utf8_error(name: &str, bytes: &[u8], err: &std::str::Utf8Error) -> String {
    let good = &bytes[..err.valid_up_to()];
    let text = std::str::from_utf8(good).unwrap_or_default();
    let src = Source {
        name: name.into(),
        text: text.into(),
    };
    let (line, col) = src.line_col(text.len());
    format!(
        "{name}:{line}:{col}: the file is not valid UTF-8 (byte 0x{:02x} at offset {}); scenario files must be UTF-8 text",
        bytes[err.valid_up_to()],
        err.valid_up_to()
    )
}

/// `a, b, c` with each item in backticks.
pub fn list_of<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    quoted.join(", ")
}
