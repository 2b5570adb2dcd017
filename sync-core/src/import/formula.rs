//! Cells a spreadsheet would run as a formula. An exported cell starting
//! with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`,
//! which spreadsheets read as "this is text" — except a plain number such
//! as a stock count of `-3`, which stays a number. Reading a file takes the
//! `'` off again wherever the export put it, so an exported file reads back
//! unchanged: a cell whose text, after its leading `'`s, starts with one of
//! those characters loses exactly one `'`. (A value that itself starts with
//! `'=` is exported as `''=`, so it survives too.)

use std::borrow::Cow;

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when `text`, after any leading `'`s, starts like a formula.
fn quotable(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(TRIGGERS)
}

/// A plain decimal number, e.g. `-3`, `+12` or `-4.50`.
fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty()
        && !fraction.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.bytes().all(|b| b.is_ascii_digit())
}

/// `cell` as written to an exported file.
pub(crate) fn to_spreadsheet(cell: &str) -> Cow<'_, str> {
    if quotable(cell) && !is_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell as read from a file: the `'` an export added is taken off.
pub(crate) fn from_spreadsheet(cell: String) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if quotable(rest) => rest.to_owned(),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_cells_are_quoted_and_numbers_are_not() {
        assert_eq!(to_spreadsheet("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(to_spreadsheet("+1+cmd"), "'+1+cmd");
        assert_eq!(to_spreadsheet("-2+3"), "'-2+3");
        assert_eq!(to_spreadsheet("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(to_spreadsheet("\tx"), "'\tx");
        assert_eq!(to_spreadsheet("\rx"), "'\rx");
        assert_eq!(to_spreadsheet("'=x"), "''=x");
        for plain in ["-3", "+12", "-4.50", "0", "T-shirt", "", "it's"] {
            assert_eq!(to_spreadsheet(plain), plain);
        }
        for not_number in ["-", "-.5", "-1.", "--1", "-1e5"] {
            assert_eq!(to_spreadsheet(not_number), format!("'{not_number}"));
        }
    }

    #[test]
    fn what_the_export_writes_reads_back_as_it_was() {
        for cell in [
            "=1+1", "-3", "-2+3", "'=x", "''@y", "'plain", "it's", "plain", "", "'", "\tx",
        ] {
            assert_eq!(from_spreadsheet(to_spreadsheet(cell).into_owned()), cell, "{cell:?}");
        }
    }
}
