//! Reading a CSV file people made: a size limit, a byte-order mark, CRLF,
//! quoted fields with commas and newlines, blank lines, a `;` delimiter
//! (Excel in many locales), text that is not UTF-8, and the file's own line
//! numbers for every record, header = line 1.

use super::{MAX_FILE_BYTES, MAX_ROWS, RowError};

/// One data record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub line: u64,
    pub fields: Vec<String>,
}

impl Record {
    /// The trimmed value in column `i`, empty when the record is short.
    pub fn get(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.fields.get(i)).map_or("", |v| v.trim())
    }

    /// The untrimmed value (for free text such as a description).
    pub fn raw(&self, i: Option<usize>) -> &str {
        i.and_then(|i| self.fields.get(i)).map_or("", String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    /// Column names, trimmed and lower-cased.
    pub header: Vec<String>,
    pub records: Vec<Record>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Checks the header against the columns a format knows: each missing,
    /// unknown or repeated column is named, with the ones expected.
    pub fn check_columns(
        &self,
        known: impl Fn(&str) -> bool,
        missing: &[&str],
        expected: &str,
    ) -> Result<(), RowError> {
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing column(s) {}", missing.join(", ")));
        }
        let unknown: Vec<String> = self
            .header
            .iter()
            .filter(|h| !known(h))
            .map(|h| {
                if h.is_empty() {
                    "(a column without a name)".to_owned()
                } else {
                    format!("{h:?}")
                }
            })
            .collect();
        if !unknown.is_empty() {
            problems.push(format!("unknown column(s) {}", unknown.join(", ")));
        }
        let mut seen = std::collections::HashSet::new();
        for h in &self.header {
            if !seen.insert(h) {
                problems.push(format!("the column {h:?} appears twice"));
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(RowError::new(
            1,
            format!("{}; the columns are {expected}", problems.join("; ")),
        ))
    }
}

/// Reads `bytes` as CSV. A problem with the file as a whole (too large,
/// not CSV, no header) is one error; problems with single records come back
/// beside the records that read well.
pub(crate) fn read_table(bytes: &[u8]) -> Result<(Table, Vec<RowError>), RowError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(RowError::new(
            1,
            format!(
                "the file is {:.1} MB; the limit is {} MB, so split it",
                bytes.len() as f64 / 1_048_576.0,
                MAX_FILE_BYTES / 1_048_576
            ),
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(RowError::new(
            1,
            "the file is UTF-16 text; save it as \"CSV UTF-8\" and upload it again",
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(RowError::new(1, "the file is empty"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let mut header: Option<Vec<String>> = None;
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut lines = LineCounter::new(bytes);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(1, |p| p.line());
                return Err(RowError::new(line, format!("this is not readable CSV: {e}")));
            }
        }
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let fields = match decode(&record) {
            Ok(f) => f,
            Err(reason) if header.is_none() => return Err(RowError::new(line, reason)),
            Err(reason) => {
                errors.push(RowError::new(line, reason));
                continue;
            }
        };
        let Some(names) = &header else {
            let mut names: Vec<String> = fields.iter().map(|f| f.trim().to_lowercase()).collect();
            // A trailing delimiter on every line (some spreadsheets) is no column.
            while names.last().is_some_and(String::is_empty) {
                names.pop();
            }
            header = Some(names);
            continue;
        };
        let extra = fields.iter().skip(names.len()).any(|f| !f.trim().is_empty());
        if fields.len() < names.len() || extra {
            errors.push(RowError::new(
                line,
                format!(
                    "has {} values where the header has {} columns{}",
                    fields.iter().rposition(|f| !f.trim().is_empty()).map_or(0, |i| i + 1),
                    names.len(),
                    if extra {
                        " (a value with a comma in it needs \"quotes\")"
                    } else {
                        ""
                    }
                ),
            ));
            continue;
        }
        records.push(Record { line, fields });
        if records.len() > MAX_ROWS {
            return Err(RowError::new(
                line,
                format!("the file has more than {MAX_ROWS} rows; split it"),
            ));
        }
    }
    let Some(header) = header else {
        return Err(RowError::new(1, "the file is empty"));
    };
    Ok((Table { header, records }, errors))
}

/// Line numbers from byte offsets. The reader's own count lags a line
/// behind records that follow a CRLF, and a record's offset may point at
/// the line ends (or blank lines) before it, so those are stepped over.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line of the first byte at or after `offset` that is not a line end.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut start = (offset as usize).max(self.offset).min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        self.line += self.bytes[self.offset..start].iter().filter(|b| **b == b'\n').count() as u64;
        self.offset = start;
        self.line
    }
}

/// `;` or a tab when the first line uses it and no comma; else `,`.
fn delimiter(bytes: &[u8]) -> u8 {
    let first = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |d: u8| first.iter().filter(|b| **b == d).count();
    match (count(b','), count(b';'), count(b'\t')) {
        (0, s, t) if s > 0 && s >= t => b';',
        (0, _, t) if t > 0 => b'\t',
        _ => b',',
    }
}

fn decode(record: &csv::ByteRecord) -> Result<Vec<String>, String> {
    record
        .iter()
        .enumerate()
        .map(|(i, f)| {
            String::from_utf8(f.to_vec())
                .map(super::formula::from_spreadsheet)
                .map_err(|e| {
                    let bad = f.get(e.utf8_error().valid_up_to()).copied().unwrap_or_default();
                    format!(
                        "is not UTF-8 text (byte 0x{bad:02X} in value {}); save the file as \"CSV UTF-8\"",
                        i + 1
                    )
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> (Table, Vec<RowError>) {
        read_table(text).expect("readable")
    }

    #[test]
    fn line_numbers_are_the_file_s_own_across_crlf_blank_lines_and_quoted_newlines() {
        let (t, errors) = read(b"\xEF\xBB\xBFsku,Note\r\nA,\"one, two\"\r\n\r\nB,\"multi\r\nline\"\r\n,\r\nC,x\r\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(t.header, ["sku", "note"]);
        let lines: Vec<u64> = t.records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 7]);
        assert_eq!(t.records[0].get(Some(1)), "one, two");
        assert_eq!(t.records[1].raw(Some(1)), "multi\r\nline");
    }

    #[test]
    fn records_of_the_wrong_width_are_refused_with_a_hint() {
        let (t, errors) = read(b"sku,outlet,count\nA,downtown\nB,downtown,5,extra\nC,downtown,5,\n");
        assert_eq!(t.records.len(), 1);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].reason.contains("2 values where the header has 3"),
            "{errors:?}"
        );
        assert!(errors[1].reason.contains("quotes"), "{errors:?}");
    }

    #[test]
    fn text_that_is_not_utf8_is_named_by_line() {
        let (_, errors) = read(b"sku,name\nA,caf\xE9\n");
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].reason.contains("0xE9") && errors[0].reason.contains("UTF-8"),
            "{errors:?}"
        );
        assert!(read_table(b"\xFF\xFEs\0k\0u\0").unwrap_err().reason.contains("UTF-16"));
    }

    #[test]
    fn semicolons_and_tabs_are_recognised() {
        assert_eq!(read(b"sku;count\nA;1\n").0.records[0].get(Some(1)), "1");
        assert_eq!(read(b"sku\tcount\nA\t1\n").0.records[0].get(Some(1)), "1");
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        assert!(read_table(b"").unwrap_err().reason.contains("empty"));
        assert!(read_table(b" \r\n\n").unwrap_err().reason.contains("empty"));
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(read_table(&big).unwrap_err().reason.contains("limit"));
    }

    #[test]
    fn unknown_and_repeated_columns_are_named() {
        let (t, _) = read(b"sku,qty,sku\n");
        let e = t.check_columns(|c| c == "sku", &[], "sku").unwrap_err();
        assert!(
            e.reason.contains("\"qty\"") && e.reason.contains("appears twice"),
            "{e:?}"
        );
    }
}
