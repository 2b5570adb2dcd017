//! Resolving `Product.media` and the `MediaImage` objects under it.

use serde_json::{Map, Value as J};

use super::{Obj, R, id_matches, leaf_int, leaf_opt, leaf_str};
use crate::shopify::search::{self, Expr, Term};
use crate::shopify::store::{Product, SortVal, Store, gid, timestamp};

/// The rows of `Product.media(sortKey:, query:)` in ascending order.
pub fn product_media_rows(s: &Store, p: &Product, args: &Map<String, J>) -> Vec<(SortVal, u64, Obj)> {
    let expr = args.get("query").and_then(J::as_str).map_or(Expr::All, search::parse);
    let by_id = args.get("sortKey").and_then(J::as_str) == Some("ID");
    let mut rows: Vec<(SortVal, u64, Obj)> = p
        .media_ids
        .iter()
        .enumerate()
        .filter(|(_, id)| s.media.contains_key(id))
        .filter(|(_, id)| {
            expr.matches(&mut |t: &Term| match t.field.as_deref() {
                Some("media_type") => t.value.eq_ignore_ascii_case("IMAGE"),
                Some("id") => id_matches(t, **id),
                _ => true,
            })
        })
        .map(|(position, id)| {
            let key = if by_id { *id as i64 } else { position as i64 };
            (SortVal::Int(key), *id, Obj::MediaImage(*id))
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    rows
}

pub fn resolve(s: &Store, obj: &Obj, field: &str) -> R {
    let id = match obj {
        Obj::MediaImage(id)
        | Obj::Image(id)
        | Obj::MediaPreview(id)
        | Obj::MediaSource(id)
        | Obj::MediaError(id, _) => *id,
        _ => return R::Null,
    };
    let Some(m) = s.media.get(&id) else {
        return R::Null;
    };
    let ready = m.state.ready();
    match obj {
        Obj::MediaImage(_) => match field {
            "id" => leaf_str(gid("MediaImage", m.id)),
            "alt" => leaf_str(m.alt.clone()),
            "createdAt" => leaf_str(timestamp(&m.created_at)),
            "updatedAt" => leaf_str(timestamp(&m.updated_at)),
            "status" | "fileStatus" => leaf_str(m.state.status()),
            "mediaContentType" => leaf_str("IMAGE"),
            "mediaErrors" | "fileErrors" => {
                let kind = if field == "mediaErrors" {
                    "MediaError"
                } else {
                    "FileError"
                };
                R::List(
                    m.state
                        .failure()
                        .map(|_| R::Obj(Obj::MediaError(m.id, kind)))
                        .into_iter()
                        .collect(),
                )
            }
            "mediaWarnings" => R::List(Vec::new()),
            "mimeType" => leaf_opt(ready.map(|r| r.mime.to_owned())),
            "image" => ready.map_or(R::Null, |_| R::Obj(Obj::Image(m.id))),
            "preview" => R::Obj(Obj::MediaPreview(m.id)),
            "originalSource" => R::Obj(Obj::MediaSource(m.id)),
            _ => R::Null,
        },
        Obj::Image(_) => match (field, ready) {
            ("id", _) => leaf_str(gid("ImageSource", m.id)),
            ("altText", _) => leaf_str(m.alt.clone()),
            ("url", Some(r)) => leaf_str(r.url.clone()),
            ("width", Some(r)) => leaf_int(i64::from(r.width)),
            ("height", Some(r)) => leaf_int(i64::from(r.height)),
            _ => R::Null,
        },
        Obj::MediaPreview(_) => match field {
            "image" => ready.map_or(R::Null, |_| R::Obj(Obj::Image(m.id))),
            "status" => leaf_str(m.state.status()),
            _ => R::Null,
        },
        Obj::MediaSource(_) => match field {
            "url" => leaf_opt(ready.map(|r| r.url.clone())),
            "fileSize" => ready.map_or(R::Null, |r| leaf_int(r.bytes.len() as i64)),
            _ => R::Null,
        },
        Obj::MediaError(..) => match (field, m.state.failure()) {
            ("code", Some(f)) => leaf_str(f.code()),
            ("message", Some(f)) => leaf_str(f.message()),
            _ => R::Null,
        },
        _ => R::Null,
    }
}
