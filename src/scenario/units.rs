//! Sizes (`4GiB`, `512M`, `100MB`, plain bytes), rates (`100MB/s`) and durations (`8ms`,
//! `1h 30m`). Every parser returns the value or a message saying what is accepted.

use super::error::did_you_mean;

/// Size suffixes and their multipliers. `K M G T P E` are binary, as on the kernel command line;
/// `KB MB …` are decimal; `KiB MiB …` binary.
const SUFFIXES: &[(&str, u128)] = &[
    ("", 1),
    ("B", 1),
    ("K", 1 << 10),
    ("M", 1 << 20),
    ("G", 1 << 30),
    ("T", 1 << 40),
    ("P", 1 << 50),
    ("E", 1 << 60),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("TiB", 1 << 40),
    ("PiB", 1 << 50),
    ("EiB", 1 << 60),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("TB", 1_000_000_000_000),
    ("PB", 1_000_000_000_000_000),
    ("EB", 1_000_000_000_000_000_000),
];

/// What a size looks like, for messages.
pub const SIZE_HELP: &str =
    "a size such as `4GiB`, `512MiB`, `64M` (binary), `100MB` (decimal) or a plain integer of bytes";

/// What a rate looks like, for messages.
pub const RATE_HELP: &str = "a rate such as `100MB/s` or `80MiB/s`";

/// What a duration looks like, for messages.
pub const DURATION_HELP: &str = "a duration such as `8ms`, `30s`, `10min` or `1h 30m`";

/// What a percentage of memory looks like, for messages.
pub const PERCENT_HELP: &str =
    "a percentage of MemTotal (`machine.memory`) such as `90%` or `12.5%`";

/// `pct` percent (the text before `%`: digits, at most six decimals) of `total` bytes, rounded
/// down to a whole byte.
pub fn percent_of(pct: &str, total: u64) -> Result<u64, String> {
    let t = pct.trim();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(frac.is_empty() || digits(frac)) || frac.len() > 6 || whole.len() > 12 {
        return Err(format!(
            "`{pct}%` is not a percentage; expected {PERCENT_HELP}"
        ));
    }
    let scale = 10u128.pow(frac.len() as u32);
    let number: u128 = format!("{whole}{frac}")
        .parse()
        .map_err(|_| format!("`{pct}%` is not a percentage; expected {PERCENT_HELP}"))?;
    let bytes = u128::from(total) * number / (100 * scale);
    u64::try_from(bytes)
        .map_err(|_| format!("`{pct}%` of memory is more bytes than a size can hold"))
}

/// Parses a size in bytes. Decimal fractions are accepted when they make whole bytes
/// (`1.5GiB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, suffix) = (&t[..split], t[split..].trim());
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        let hint = if t.starts_with('-') {
            " (sizes cannot be negative)"
        } else {
            ""
        };
        return Err(format!(
            "`{text}` is not a size{hint}; expected {SIZE_HELP}"
        ));
    }
    let Some(&(_, mult)) = SUFFIXES.iter().find(|(s, _)| *s == suffix) else {
        let names = SUFFIXES.iter().map(|(s, _)| *s).filter(|s| !s.is_empty());
        let hint = did_you_mean(suffix, names)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return Err(format!(
            "`{text}` has an unknown unit `{suffix}`{hint}; units are B, KiB, MiB, GiB, TiB, PiB, EiB, \
             K, M, G, T (binary) and KB, MB, GB, TB (decimal)"
        ));
    };
    let number = number.replace('_', "");
    let (int, frac) = number.split_once('.').unwrap_or((&number, ""));
    if frac.contains('.') {
        return Err(format!("`{text}` is not a size; expected {SIZE_HELP}"));
    }
    let overflow = || format!("`{text}` is too large (the limit is 2^64-1 bytes, 16EiB)");
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| overflow())?
    };
    let mut bytes = int.checked_mul(mult).ok_or_else(overflow)?;
    if !frac.is_empty() {
        let digits = u32::try_from(frac.len()).map_err(|_| overflow())?;
        let scale = 10u128.checked_pow(digits).ok_or_else(overflow)?;
        let f: u128 = frac.parse().map_err(|_| overflow())?;
        let num = f.checked_mul(mult).ok_or_else(overflow)?;
        if num % scale != 0 {
            return Err(format!("`{text}` is not a whole number of bytes"));
        }
        bytes = bytes.checked_add(num / scale).ok_or_else(overflow)?;
    }
    u64::try_from(bytes).map_err(|_| overflow())
}

/// Parses a rate in bytes per second: a size followed by `/s`.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let Some(size) = t.strip_suffix("/s") else {
        return Err(format!(
            "`{text}` is not a rate; expected {RATE_HELP} (a size followed by `/s`)"
        ));
    };
    parse_size(size).map_err(|e| format!("{e} (in the rate `{text}`)"))
}

/// Parses a duration in nanoseconds (humantime syntax).
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); expected {DURATION_HELP}"))?;
    u64::try_from(d.as_nanos())
        .map_err(|_| format!("`{text}` is too long (the limit is about 584 years)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("4 GiB"), Ok(4 << 30));
        assert_eq!(parse_size("128M"), Ok(128 << 20));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1_000KB"), Ok(1_000_000));
        assert_eq!(
            parse_size("16EiB").unwrap_err(),
            "`16EiB` is too large (the limit is 2^64-1 bytes, 16EiB)"
        );
        assert!(parse_size("15EiB").is_ok());
    }

    #[test]
    fn bad_sizes() {
        assert!(parse_size("99999999999EiB")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("999999999999999999999999999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert!(parse_size("-1GiB").unwrap_err().contains("negative"));
        assert!(parse_size("GiB").unwrap_err().contains("not a size"));
        assert!(parse_size("1.1B").unwrap_err().contains("whole number"));
        assert!(parse_size("1.2.3G").is_err());
        let e = parse_size("4Gib").unwrap_err();
        assert!(
            e.contains("unknown unit `Gib`") && e.contains("did you mean `GiB`"),
            "{e}"
        );
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("100MB/s"), Ok(100_000_000));
        assert_eq!(parse_rate("80MiB/s"), Ok(80 << 20));
        assert_eq!(parse_rate("80 MiB/s"), Ok(80 << 20));
        assert!(parse_rate("80MiB")
            .unwrap_err()
            .contains("followed by `/s`"));
        assert!(parse_rate("99999999999EiB/s")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("8ms"), Ok(8_000_000));
        assert_eq!(parse_duration("10min"), Ok(600_000_000_000));
        assert_eq!(parse_duration("1h 30m"), Ok(5_400_000_000_000));
        assert!(parse_duration("8 parsecs").is_err());
        assert!(parse_duration("1000000years")
            .unwrap_err()
            .contains("too long"));
    }
}
