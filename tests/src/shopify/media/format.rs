//! Recognising the image formats Shopify takes (PNG, JPEG, GIF, WebP) and
//! reading their size from the header; and a PNG writer for tests.

/// A recognised image: its MIME type, file extension and size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageFormat {
    pub mime: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// What a downloaded body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageFormat),
    /// The signature of a known format, but no readable size.
    Broken,
    Unknown,
}

pub fn sniff(bytes: &[u8]) -> Sniffed {
    let found = |mime, extension, size: Option<(u32, u32)>| match size {
        Some((width, height)) if width > 0 && height > 0 => Sniffed::Image(ImageFormat {
            mime,
            extension,
            width,
            height,
        }),
        _ => Sniffed::Broken,
    };
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        found("image/png", "png", png_size(bytes))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        found("image/jpeg", "jpg", jpeg_size(bytes))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        found("image/gif", "gif", gif_size(bytes))
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        found("image/webp", "webp", webp_size(bytes))
    } else {
        Sniffed::Unknown
    }
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?])))
}

fn le16(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from(*b.get(at)?) | (u32::from(*b.get(at + 1)?) << 8) | (u32::from(*b.get(at + 2)?) << 16))
}

/// The IHDR chunk comes first.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be32(b, 16)?, be32(b, 20)?))
}

fn gif_size(b: &[u8]) -> Option<(u32, u32)> {
    Some((le16(b, 6)?, le16(b, 8)?))
}

/// Walks the markers up to the first start-of-frame.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        while *b.get(at)? != 0xFF {
            at += 1;
        }
        while *b.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at)?;
        at += 1;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                return Some((be16(b, at + 5)?, be16(b, at + 3)?));
            }
            _ => at += be16(b, at)? as usize,
        }
    }
}

/// Lossy (`VP8 `), lossless (`VP8L`) and extended (`VP8X`) WebP.
fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => Some((le16(b, 26)? & 0x3FFF, le16(b, 28)? & 0x3FFF)),
        b"VP8L" => {
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

/// A valid grey PNG of `width` x `height` pixels, for tests that serve
/// images for the shop to download.
pub fn sample_png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        raw.extend((0..width).map(|x| ((x + y) % 256) as u8));
    }
    // zlib stream of stored (uncompressed) deflate blocks.
    let mut zlib = vec![0x78, 0x01];
    let mut blocks = raw.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        zlib.extend([1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(block) = blocks.next() {
        zlib.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend(block);
    }
    zlib.extend(adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]); // 8-bit greyscale, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        png.extend((data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend(kind);
        png.extend(&data);
        let crc = crc32(&png[start..]);
        png.extend(crc.to_be_bytes());
    }
    png
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_png_reads_back_with_its_size() {
        let png = sample_png(3, 2);
        assert_eq!(
            sniff(&png),
            Sniffed::Image(ImageFormat {
                mime: "image/png",
                extension: "png",
                width: 3,
                height: 2
            })
        );
        // The CRC of IEND is fixed by the format.
        assert!(png.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]));
    }

    #[test]
    fn gif_jpeg_and_webp_sizes_come_from_their_headers() {
        let gif = b"GIF89a\x0a\x00\x14\x00rest";
        assert!(matches!(sniff(gif), Sniffed::Image(f) if (f.width, f.height) == (10, 20)));
        // SOI, an APP0 segment of 4 bytes, then SOF0 with height 7, width 9.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x07, 0x00, 0x09,
        ];
        assert!(matches!(sniff(&jpeg), Sniffed::Image(f) if (f.width, f.height) == (9, 7)));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend([0x63, 0, 0, 0x31, 0, 0]); // 100 x 50
        assert!(matches!(sniff(&webp), Sniffed::Image(f) if (f.width, f.height) == (100, 50)));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nshort"), Sniffed::Broken);
        assert_eq!(sniff(b"<html></html>"), Sniffed::Unknown);
    }
}
