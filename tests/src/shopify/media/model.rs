//! A `MediaImage` as the shop holds it, and its processing states.

use chrono::{DateTime, Utc};
use hyper::body::Bytes;

/// An image file of the shop, shown by the products listing it.
#[derive(Debug, Clone)]
pub struct MediaImage {
    pub id: u64,
    pub alt: String,
    /// The URL it was created from (`FileSetInput.originalSource`).
    pub source: String,
    /// Its name on the CDN; without an extension when neither the input nor
    /// the source had one (the downloaded format adds it).
    pub filename: String,
    pub state: MediaState,
    /// Bumped when the file gets a new source, so that an older download
    /// finishing late changes nothing.
    pub generation: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum MediaState {
    Uploaded,
    Processing,
    Ready(ReadyImage),
    Failed(MediaFailure),
}

impl MediaState {
    /// `MediaStatus` / `FileStatus`.
    pub fn status(&self) -> &'static str {
        match self {
            MediaState::Uploaded => "UPLOADED",
            MediaState::Processing => "PROCESSING",
            MediaState::Ready(_) => "READY",
            MediaState::Failed(_) => "FAILED",
        }
    }

    /// Whether processing is over (ready or failed).
    pub fn is_settled(&self) -> bool {
        matches!(self, MediaState::Ready(_) | MediaState::Failed(_))
    }

    pub fn ready(&self) -> Option<&ReadyImage> {
        match self {
            MediaState::Ready(r) => Some(r),
            _ => None,
        }
    }

    pub fn failure(&self) -> Option<MediaFailure> {
        match self {
            MediaState::Failed(f) => Some(*f),
            _ => None,
        }
    }
}

/// A downloaded, checked image as the CDN serves it.
#[derive(Debug, Clone)]
pub struct ReadyImage {
    /// `image.url`: `{server}/s/files/1/0000/0001/files/{filename}?v={time}`.
    pub url: String,
    /// The path part of `url`, which the server answers GETs on.
    pub path: String,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    pub bytes: Bytes,
}

/// Why processing failed, as a `MediaErrorCode` (the same value exists in
/// `FileErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFailure {
    /// The source could not be fetched: refused, unreachable, not 2xx, too
    /// slow, or an internal address.
    Download,
    /// The body claims an image type but isn't a readable image.
    Processing,
    /// The body is not an image format Shopify takes.
    UnsupportedType,
    /// Over 20 MB.
    TooLarge,
    /// Over 25 megapixels.
    Resolution,
}

impl MediaFailure {
    pub fn code(self) -> &'static str {
        match self {
            MediaFailure::Download => "IMAGE_DOWNLOAD_FAILURE",
            MediaFailure::Processing => "IMAGE_PROCESSING_FAILURE",
            MediaFailure::UnsupportedType => "UNSUPPORTED_IMAGE_FILE_TYPE",
            MediaFailure::TooLarge => "INVALID_IMAGE_FILE_SIZE",
            MediaFailure::Resolution => "INVALID_IMAGE_RESOLUTION",
        }
    }

    /// The code's documented description.
    pub fn message(self) -> &'static str {
        match self {
            MediaFailure::Download => "Media could not be processed because the image could not be downloaded.",
            MediaFailure::Processing => "Media could not be processed because the image could not be processed.",
            MediaFailure::UnsupportedType => {
                "Media could not be created because the image is an unsupported file type."
            }
            MediaFailure::TooLarge => "Media could not be created because the image size is too large.",
            MediaFailure::Resolution => {
                "Media could not be created because the image's resolution exceeds the max limit."
            }
        }
    }
}

/// A download to run once the mutation's answer is computed.
#[derive(Debug, Clone)]
pub struct MediaJob {
    pub media_id: u64,
    pub generation: u64,
    pub source: String,
}

/// A product image as the test shop holds it (see
/// [`ShopifyTestServer::product_images`](super::super::ShopifyTestServer::product_images)).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageInfo {
    /// The `MediaImage` GID.
    pub id: String,
    /// The `originalSource` it was created from.
    pub source: String,
    pub alt: String,
    /// `UPLOADED`, `PROCESSING`, `READY` or `FAILED`.
    pub status: String,
    /// `image.url` on the test server's CDN, once `READY`.
    pub url: Option<String>,
    /// The `MediaErrorCode` once `FAILED` (`IMAGE_DOWNLOAD_FAILURE`...).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

impl ImageInfo {
    pub fn of(m: &MediaImage) -> ImageInfo {
        ImageInfo {
            id: super::super::store::gid("MediaImage", m.id),
            source: m.source.clone(),
            alt: m.alt.clone(),
            status: m.state.status().to_owned(),
            url: m.state.ready().map(|r| r.url.clone()),
            error_code: m.state.failure().map(|f| f.code().to_owned()),
            error_message: m.state.failure().map(|f| f.message().to_owned()),
        }
    }
}
