//! `productSet(input: {files: [FileSetInput!]})`: checking each file, then
//! making the product's media list from them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as J};

use super::model::{MediaImage, MediaJob, MediaState};
use crate::shopify::mutations::UserErr;
use crate::shopify::store::{Store, gid, parse_gid};
use crate::shopify::webhooks;

/// What one entry of `files` does.
#[derive(Debug, Clone)]
pub enum FilePlan {
    /// An existing file (by `id`), its `alt` updated when given.
    Keep { id: u64, alt: Option<String> },
    /// A new image downloaded from `source`.
    Create {
        source: String,
        alt: String,
        filename: String,
    },
    /// `duplicateResolutionMode: REPLACE` on a filename in use: that file
    /// gets the new source and is processed again.
    Replace {
        id: u64,
        source: String,
        alt: Option<String>,
    },
}

const ALT_LIMIT: usize = 512;

/// Checks `files`; pushes one user error per failing entry (the first check
/// it fails, as `fileCreate` answers) and returns the plans.
pub fn plan_files(store: &Store, files: &[J], errors: &mut Vec<UserErr>) -> Vec<FilePlan> {
    let mut plans = Vec::new();
    let mut ids = HashSet::new();
    let mut names: HashSet<String> = HashSet::new();
    for (i, file) in files.iter().enumerate() {
        let empty = Map::new();
        let file = file.as_object().unwrap_or(&empty);
        match plan_file(store, file, &mut ids, &mut names) {
            Ok(plan) => plans.push(plan),
            Err((leaf, message, code)) => errors.push(UserErr {
                field: Some(vec![
                    "input".to_owned(),
                    "files".to_owned(),
                    i.to_string(),
                    leaf.to_owned(),
                ]),
                message,
                code: Some(code.to_owned()),
            }),
        }
    }
    plans
}

type Refusal = (&'static str, String, &'static str);

fn text<'a>(file: &'a Map<String, J>, key: &str) -> Option<&'a str> {
    file.get(key).and_then(J::as_str)
}

fn plan_file(
    store: &Store,
    file: &Map<String, J>,
    ids: &mut HashSet<u64>,
    names: &mut HashSet<String>,
) -> Result<FilePlan, Refusal> {
    let alt = text(file, "alt").map(str::to_owned);
    let check_alt = || match &alt {
        Some(a) if a.chars().count() > ALT_LIMIT => Err((
            "alt",
            format!("The alt value exceeds the maximum limit of {ALT_LIMIT} characters."),
            "INVALID_INPUT",
        )),
        _ => Ok(()),
    };
    if let Some(raw) = text(file, "id") {
        let id = parse_gid(raw, "MediaImage")
            .filter(|id| store.media.contains_key(id))
            .ok_or_else(|| ("id", format!("File id {raw} does not exist."), "NOT_FOUND"))?;
        if !ids.insert(id) {
            return Err((
                "id",
                format!("File id {} is listed more than once.", gid("MediaImage", id)),
                "DUPLICATED_VALUE",
            ));
        }
        check_alt()?;
        return Ok(FilePlan::Keep { id, alt });
    }

    let source = text(file, "originalSource").unwrap_or_default().to_owned();
    let url = reqwest::Url::parse(&source)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
        .ok_or(("originalSource", "File URL is invalid".to_owned(), "INVALID_INPUT"))?;
    let last_segment = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default()
        .to_owned();
    let given_name = text(file, "filename").map(str::to_owned);
    if let (Some(name), Some(source_ext)) = (&given_name, extension(&last_segment))
        && extension(name) != Some(source_ext)
    {
        return Err((
            "filename",
            "Provided filename extension must match original source.".to_owned(),
            "INVALID_INPUT",
        ));
    }
    let content_type = text(file, "contentType");
    let mode = text(file, "duplicateResolutionMode").unwrap_or("APPEND_UUID");
    if mode == "REPLACE" {
        let Some(kind) = content_type else {
            return Err((
                "duplicateResolutionMode",
                "Duplicate resolution mode 'REPLACE' is not supported for 'MISSING' media type.".to_owned(),
                "INVALID_INPUT",
            ));
        };
        if kind == "IMAGE" && given_name.is_none() {
            return Err((
                "filename",
                "Missing filename argument when attempting to use REPLACE duplicate mode.".to_owned(),
                "INVALID_INPUT",
            ));
        }
    }
    if let Some(kind) = content_type.filter(|k| *k != "IMAGE") {
        return Err((
            "contentType",
            format!("contentType {kind} is not supported by this test server (only IMAGE)"),
            "INVALID_INPUT",
        ));
    }
    check_alt()?;

    let filename = given_name.unwrap_or_else(|| {
        if last_segment.is_empty() {
            "file".to_owned()
        } else {
            last_segment.clone()
        }
    });
    let in_use = store.media.values().find(|m| m.filename == filename).map(|m| m.id);
    let taken = in_use.is_some() || names.contains(&filename);
    let plan = match (mode, in_use) {
        ("REPLACE", Some(id)) => {
            if !ids.insert(id) {
                return Err((
                    "filename",
                    format!("File id {} is listed more than once.", gid("MediaImage", id)),
                    "DUPLICATED_VALUE",
                ));
            }
            FilePlan::Replace { id, source, alt }
        }
        ("RAISE_ERROR", _) if taken => {
            return Err((
                "filename",
                "The provided filename already exists.".to_owned(),
                "INVALID_INPUT",
            ));
        }
        ("APPEND_UUID", _) if taken => FilePlan::Create {
            source,
            alt: alt.unwrap_or_default(),
            filename: with_uuid(&filename),
        },
        _ => FilePlan::Create {
            source,
            alt: alt.unwrap_or_default(),
            filename,
        },
    };
    if let FilePlan::Create { filename, .. } = &plan {
        names.insert(filename.clone());
    }
    Ok(plan)
}

/// The extension of a file name (`None` without one).
pub fn extension(name: &str) -> Option<&str> {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext),
        _ => None,
    }
}

/// `name_<uuid>.ext`, as Shopify renames a file whose name is in use.
fn with_uuid(name: &str) -> String {
    let uuid = webhooks::uuid();
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}_{uuid}.{ext}"),
        _ => format!("{name}_{uuid}"),
    }
}

/// Makes the files of a successful `productSet` exist and returns the
/// product's new media list; new sources are queued for download.
pub fn apply_files(store: &mut Store, plans: Vec<FilePlan>, now: DateTime<Utc>) -> Vec<u64> {
    let mut media = Vec::with_capacity(plans.len());
    for plan in plans {
        match plan {
            FilePlan::Keep { id, alt } => {
                if let (Some(m), Some(alt)) = (store.media.get_mut(&id), alt) {
                    m.alt = alt;
                    m.updated_at = now;
                }
                media.push(id);
            }
            FilePlan::Create { source, alt, filename } => {
                let id = store.next_media_id();
                store.media.insert(
                    id,
                    MediaImage {
                        id,
                        alt,
                        source: source.clone(),
                        filename,
                        state: MediaState::Uploaded,
                        generation: 0,
                        created_at: now,
                        updated_at: now,
                    },
                );
                store.media_jobs.push(MediaJob {
                    media_id: id,
                    generation: 0,
                    source,
                });
                media.push(id);
            }
            FilePlan::Replace { id, source, alt } => {
                let Some(m) = store.media.get_mut(&id) else {
                    continue;
                };
                m.source = source.clone();
                m.state = MediaState::Uploaded;
                m.generation += 1;
                m.updated_at = now;
                if let Some(alt) = alt {
                    m.alt = alt;
                }
                let generation = m.generation;
                store.media_jobs.push(MediaJob {
                    media_id: id,
                    generation,
                    source,
                });
                media.push(id);
            }
        }
    }
    media
}
