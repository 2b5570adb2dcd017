//! Product images: the `files` of `productSet` (`FileSetInput`), the
//! `MediaImage` objects they make, and the processing Shopify does after it
//! has answered: the image is downloaded from `originalSource`, checked and
//! served from the CDN (`READY`), or the media ends `FAILED` with a
//! `MediaError`.
//!
//! As Shopify documents and captured answers show:
//! - `files` is a list field of `productSet`: the files given become the
//!   product's media in that order, media left out are detached, and without
//!   `files` the media are left alone;
//! - a new image is answered `UPLOADED` with `image: null` and `mimeType:
//!   null`, reads then see `PROCESSING`, and only later `READY` (with
//!   `image.url` on the CDN) or `FAILED` (`IMAGE_DOWNLOAD_FAILURE` when the
//!   source can't be fetched, the enum's documented sentence as `message`);
//!   the mutation itself succeeds either way;
//! - the file-input checks of `fileCreate`, with its captured messages: `File
//!   URL is invalid` for anything but an `http(s)` URL (a `data:` URL
//!   included), `Provided filename extension must match original source.`
//!   (case-sensitive), the two `REPLACE` refusals, first failing check only.
//!
//! Choices where the documentation is silent:
//! - in `productSet` those checks are `ProductSetUserError`s on
//!   `["input", "files", "<i>", field]` with code `INVALID_INPUT`
//!   (`FilesErrorCode` values are not `ProductSetUserErrorCode`s);
//! - an `id` must name a file of the shop (`File id … does not exist.`,
//!   `NOT_FOUND`); it keeps that file as it is, only `alt` is updated (a
//!   `fileUpdate` with a new `originalSource` leaves a ready image's
//!   `image.url` unchanged too); the same id twice is refused
//!   (`DUPLICATED_VALUE`);
//! - Shopify downloads from the internet, so a source on a loopback or
//!   private address fails like an unreachable one unless the test allows it
//!   ([`ShopifyTestServer::allow_internal_media_sources`]);
//! - only images are modelled: a `contentType` other than `IMAGE` is refused;
//!   PNG, JPEG, GIF and WebP bodies become `READY`, another body
//!   `UNSUPPORTED_IMAGE_FILE_TYPE` (`IMAGE_PROCESSING_FAILURE` when it claims
//!   an image type it isn't), over 20 MB `INVALID_IMAGE_FILE_SIZE`, over 25
//!   megapixels `INVALID_IMAGE_RESOLUTION` (Shopify's published limits);
//! - detached media stay files of the shop (`node(id:)` still finds them).
//!
//! [`ShopifyTestServer::allow_internal_media_sources`]: super::ShopifyTestServer::allow_internal_media_sources

mod fetch;
mod files;
mod format;
mod inspect;
mod model;

pub use fetch::{MediaSettings, serve_file, spawn_pending};
pub use files::{apply_files, plan_files};
pub use format::sample_png;
pub use model::{ImageInfo, MediaImage, MediaJob};
