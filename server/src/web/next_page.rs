//! Where signing in sends people next: only to one of the dashboard's own
//! pages, so a crafted sign-in link cannot send them to another site.

/// Where signing in goes when `next` is missing or not one of our pages.
pub const PRODUCTS: &str = "/products";

/// The dashboard's page paths, taken from the app's route table
/// (`/products/{id}` matches `/products/3`).
#[derive(Debug, Clone)]
pub struct PagePaths(Vec<Vec<Segment>>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
}

impl PagePaths {
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            patterns
                .into_iter()
                .map(|pattern| {
                    segments(pattern)
                        .map(|s| {
                            if s.starts_with('{') {
                                Segment::Param
                            } else {
                                Segment::Literal(s.to_owned())
                            }
                        })
                        .collect()
                })
                .collect(),
        )
    }

    /// `wanted` if it is one of our pages, else the products page.
    pub fn next<'a>(&self, wanted: Option<&'a str>) -> &'a str {
        match wanted {
            Some(w) if self.is_page(w) => w,
            _ => PRODUCTS,
        }
    }

    /// A path that starts with a single `/`, holds only printable ASCII
    /// (no control characters, spaces or backslashes, also once
    /// percent-decoded), never `//`, and names one of our pages; then an
    /// optional query. Anything else could leave the site or break the
    /// `Location` header.
    fn is_page(&self, wanted: &str) -> bool {
        if !wanted.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
            return false;
        }
        let path = wanted.split(['?', '#']).next().unwrap_or_default();
        let Some(decoded) = percent_decode(path) else {
            return false;
        };
        if !decoded.starts_with('/') || decoded.contains("//") || decoded.chars().any(|c| c.is_control() || c == '\\') {
            return false;
        }
        let wanted: Vec<&str> = segments(&decoded).collect();
        self.0.iter().any(|page| {
            page.len() == wanted.len()
                && page.iter().zip(&wanted).all(|(segment, part)| match segment {
                    Segment::Literal(literal) => literal == part,
                    Segment::Param => !part.is_empty(),
                })
        })
    }
}

/// `/products/{id}` → `products`, `{id}`; `/` → nothing.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    rest.split('/').filter(move |_| !rest.is_empty())
}

/// Decodes `%XX` escapes; None for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pages() -> PagePaths {
        PagePaths::new([
            "/",
            "/products",
            "/products/new",
            "/products/{id}",
            "/history/runs/{id}",
        ])
    }

    #[test]
    fn our_pages_are_followed_with_their_query() {
        let pages = pages();
        for ours in [
            "/",
            "/products",
            "/products/3",
            "/products/new",
            "/history/runs/12",
            "/products?q=sock&page=2",
        ] {
            assert_eq!(pages.next(Some(ours)), ours);
        }
    }

    #[test]
    fn anything_else_goes_to_the_products_page() {
        let pages = pages();
        for hostile in [
            "//evil.example",
            "https://evil.example",
            "/%09/evil.example",
            "/\t/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "/products\r\nSet-Cookie: x=1",
            "/products%0d%0aSet-Cookie:x",
            "/products/",
            "/products/3/edit",
            "/login",
            "/products/%zz",
            "/products/caf\u{e9}",
            "evil.example",
            "",
        ] {
            assert_eq!(pages.next(Some(hostile)), PRODUCTS, "{hostile:?}");
        }
        assert_eq!(pages.next(None), PRODUCTS);
    }
}
