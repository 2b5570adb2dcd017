//! Images as Vendure assets. Vendure takes uploads, not addresses
//! (`createAssets` is a GraphQL multipart request), so this connector
//! fetches each image itself, within a size and a time limit, and uploads
//! it. An image it cannot fetch, or that the store refuses, is reported
//! and left out; the rest of the product goes through.

use std::time::Duration;

use serde_json::{Value, json};

use super::{VendureConnector, error_text, id_of};
use crate::connector::{ConnectorError, FailedImage, ImageToList, http};

/// Largest image fetched: Vendure's own default upload limit.
pub(super) const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
/// How long one image may take to arrive.
const IMAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Images fetched at once.
const PARALLEL_FETCHES: usize = 4;

/// An image fetched and ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fetched {
    pub file_name: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
}

/// What uploading a product's images left.
#[derive(Debug, Default)]
pub(super) struct Uploaded {
    /// Asset ids in the product's order (images that failed left out).
    pub asset_ids: Vec<String>,
    pub failed: Vec<FailedImage>,
}

impl VendureConnector {
    /// Fetches and uploads `images`; Err only when the store cannot be
    /// reached (worth retrying the whole product), never for one image.
    pub(super) async fn upload_images(&self, images: &[ImageToList]) -> Result<Uploaded, ConnectorError> {
        let fetched = self.fetch_all(images).await;
        let mut out = Uploaded::default();
        for (image, fetched) in images.iter().zip(fetched) {
            let outcome = match fetched {
                Ok(file) => self.upload(&file).await?,
                Err(reason) => Err(reason),
            };
            match outcome {
                Ok(id) => out.asset_ids.push(id),
                Err(reason) => out.failed.push(FailedImage {
                    url: image.url.clone(),
                    reason,
                }),
            }
        }
        Ok(out)
    }

    /// Deletes assets a product no longer shows. Best effort: one still
    /// used elsewhere in the store is kept, and a failure only leaves an
    /// unused asset behind.
    pub(super) async fn delete_assets(&self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let answer = self
            .graphql(
                "mutation DeleteAssets($input: DeleteAssetsInput!) { deleteAssets(input: $input) { result message } }",
                json!({ "input": { "assetIds": ids, "force": false } }),
            )
            .await;
        match answer {
            Ok(d) if d["deleteAssets"]["result"] == "DELETED" => {}
            Ok(d) => tracing::info!(assets = ?ids, answer = %d, "old images left in Vendure"),
            Err(e) => tracing::warn!(assets = ?ids, error = %e, "old images left in Vendure"),
        }
    }

    /// Fetches every image, a few at a time; one result per image, in order.
    async fn fetch_all(&self, images: &[ImageToList]) -> Vec<Result<Fetched, String>> {
        let mut results: Vec<Option<Result<Fetched, String>>> = vec![None; images.len()];
        let mut running = tokio::task::JoinSet::new();
        for (i, image) in images.iter().enumerate() {
            if running.len() >= PARALLEL_FETCHES
                && let Some(Ok((at, r))) = running.join_next().await
            {
                results[at] = Some(r);
            }
            let (client, url) = (self.http.clone(), image.url.clone());
            running.spawn(async move { (i, fetch(&client, &url).await) });
        }
        while let Some(done) = running.join_next().await {
            if let Ok((at, r)) = done {
                results[at] = Some(r);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("the download stopped unexpectedly".into())))
            .collect()
    }

    /// Uploads one file: Ok(Ok(asset id)), or Ok(Err(why)) when the store
    /// refused this file.
    async fn upload(&self, file: &Fetched) -> Result<Result<String, String>, ConnectorError> {
        let boundary = format!("tillbridge-{:032x}", rand::random::<u128>());
        let operations = json!({
            "query": "mutation UploadImage($input: [CreateAssetInput!]!) {
                        createAssets(input: $input) {
                          __typename ... on Asset { id } ... on ErrorResult { message }
                        }
                      }",
            "variables": { "input": [{ "file": null }] },
        });
        let map = json!({ "0": ["variables.input.0.file"] });
        let body = multipart(&boundary, &operations, &map, file);
        let request = self
            .http
            .post(self.settings.endpoint())
            .timeout(IMAGE_TIMEOUT * 2)
            // Lets the upload through a store that turned Apollo's CSRF prevention on.
            .header("apollo-require-preflight", "true")
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        let (_, answer) = self.answer(request).await?;
        if let Some(errors) = answer["errors"].as_array().filter(|e| !e.is_empty()) {
            if errors.iter().any(|e| e["extensions"]["code"] == "FORBIDDEN") {
                return Err(ConnectorError::Unauthorized(error_text(errors)));
            }
            return Ok(Err(format!("the store refused it: {}", error_text(errors))));
        }
        let created = &answer["data"]["createAssets"][0];
        Ok(match id_of(&created["id"]) {
            Some(id) if created["__typename"] == "Asset" => Ok(id),
            _ => Err(format!(
                "the store refused it: {}",
                created["message"].as_str().unwrap_or("no asset was made")
            )),
        })
    }
}

/// Fetches one image: its bytes, a file name with an extension Vendure
/// recognises, and its MIME type. Err is the reason, in words.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<Fetched, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not an address: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("not an http:// or https:// address".into());
    }
    let mut response = client
        .get(parsed.clone())
        .timeout(IMAGE_TIMEOUT)
        .send()
        .await
        .map_err(|e| http::describe(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    if response.content_length().is_some_and(|n| n > MAX_IMAGE_BYTES as u64) {
        return Err(too_large());
    }
    let declared = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| http::describe(&e))? {
        if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.is_empty() {
        return Err("the address answered with an empty file".into());
    }
    let last = parsed
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    let (file_name, mime_type) = name_and_type(last, declared.as_deref())?;
    Ok(Fetched {
        file_name,
        mime_type,
        bytes,
    })
}

fn too_large() -> String {
    format!("larger than {} MB", MAX_IMAGE_BYTES / (1024 * 1024))
}

/// Image types by file extension.
const EXTENSIONS: [(&str, &str); 10] = [
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("svg", "image/svg+xml"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("bmp", "image/bmp"),
];

/// The upload's file name (plain characters, with an extension that says
/// what it is: Vendure checks the name, the declared type and the content)
/// and its MIME type, from the address's last segment and the declared
/// Content-Type.
fn name_and_type(last_segment: &str, declared: Option<&str>) -> Result<(String, String), String> {
    let mut name: String = last_segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches(|c| c == '.' || c == '-').to_owned();
    if name.is_empty() {
        name = "image".into();
    }
    let by_extension = name
        .rsplit_once('.')
        .and_then(|(_, ext)| EXTENSIONS.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)))
        .map(|(_, t)| *t);
    let mime = match declared {
        Some(t) if t.starts_with("image/") => t.to_owned(),
        Some(t) if t != "application/octet-stream" && t != "binary/octet-stream" => {
            return Err(format!("not an image: the address serves {t}"));
        }
        _ => by_extension
            .ok_or("not an image: the address names no image type")?
            .to_owned(),
    };
    if by_extension != Some(mime.as_str()) {
        let ext = EXTENSIONS
            .iter()
            .find(|(_, t)| *t == mime)
            .map(|(e, _)| *e)
            .unwrap_or_else(|| mime.trim_start_matches("image/"));
        let ext: String = ext.chars().filter(char::is_ascii_alphanumeric).collect();
        name = format!("{name}.{ext}");
    }
    Ok((name, mime))
}

/// A GraphQL multipart request (the spec `createAssets` follows): the
/// operation, the map of files to variables, then the file.
fn multipart(boundary: &str, operations: &Value, map: &Value, file: &Fetched) -> Vec<u8> {
    let mut body = Vec::with_capacity(file.bytes.len() + 1024);
    for (name, value) in [("operations", operations), ("map", map)] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    // The file name holds only plain characters (see `name_and_type`).
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
            file.file_name, file.mime_type
        )
        .as_bytes(),
    );
    body.extend_from_slice(&file.bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_say_what_the_image_is() {
        let t = |seg: &str, declared: Option<&str>| name_and_type(seg, declared);
        assert_eq!(
            t("red.png", Some("image/png")),
            Ok(("red.png".into(), "image/png".into()))
        );
        assert_eq!(
            t("red sock.JPG", None),
            Ok(("red-sock.JPG".into(), "image/jpeg".into()))
        );
        assert_eq!(
            t("", Some("image/webp")),
            Ok(("image.webp".into(), "image/webp".into()))
        );
        assert_eq!(
            t(
                "photo",
                Some("image/png; charset=binary".split(';').next().unwrap_or_default())
            ),
            Ok(("photo.png".into(), "image/png".into()))
        );
        // The declared type wins over a misleading extension.
        assert_eq!(
            t("x.png", Some("image/gif")),
            Ok(("x.png.gif".into(), "image/gif".into()))
        );
        assert_eq!(
            t("x.bin", Some("application/octet-stream")),
            Err("not an image: the address names no image type".into())
        );
        assert_eq!(
            t("x.png", Some("text/html")),
            Err("not an image: the address serves text/html".into())
        );
        assert_eq!(t("\"evil\r\n.gif", None), Ok(("evil--.gif".into(), "image/gif".into())));
    }

    #[test]
    fn the_upload_is_a_graphql_multipart_request() {
        let file = Fetched {
            file_name: "a.gif".into(),
            mime_type: "image/gif".into(),
            bytes: b"GIF89a".to_vec(),
        };
        let body = multipart("B", &json!({ "query": "q" }), &json!({ "0": ["v"] }), &file);
        let text = String::from_utf8(body).expect("text");
        assert_eq!(
            text,
            "--B\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"q\"}\r\n\
             --B\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{\"0\":[\"v\"]}\r\n\
             --B\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.gif\"\r\nContent-Type: image/gif\r\n\r\n\
             GIF89a\r\n--B--\r\n"
        );
    }
}
