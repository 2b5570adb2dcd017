//! A bounded fuzz of the dashboard: every form the pages render, posted by
//! a signed-in owner with random and hostile values, both as the page's
//! script posts it (asking for JSON) and as a browser without JavaScript
//! does; and every page opened with hostile query strings and ids. No
//! answer may be a 5xx, and a refused form writes nothing: every table of
//! the database is compared before and after it.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tillbridge_tests::{DEMO_EMAIL, DEMO_PASSWORD, Database, TestServer, browser_like_client, cli, sign_in};

/// Requests the form fuzz sends in all (a few per field of every form).
const FORM_REQUESTS: usize = 900;
/// Pages opened with hostile queries and path segments.
const PAGE_REQUESTS: usize = 200;

/// The pages whose forms are fuzzed, and which are opened with hostile queries.
const PAGES: &[&str] = &[
    "/products",
    "/products/1",
    "/products/1?delete=1",
    "/products/new",
    "/channels",
    "/channels/new",
    "/channels/new/vendure",
    "/channels/1",
    "/channels/1?disconnect=1",
    "/channels/1/force",
    "/orders",
    "/history",
    "/conflicts",
    "/import",
    "/settings",
    "/settings?remove_user=2",
    "/settings?revoke_token=1",
];

/// Forms that end the fuzz's own session or access when they succeed: posted
/// after every other form.
const LAST: &[&str] = &["disconnect", "delete", "remove", "change_role", "revoke"];

/// Values real users and attackers type.
fn hostile_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "",
        " ",
        "0",
        "-1",
        "1",
        "2",
        "999999999999",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999999999",
        "1.5",
        "-0.0",
        "1e308",
        "NaN",
        "true",
        "null",
        "[]",
        "{}",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\"; DROP TABLE products; --",
        "../../../etc/passwd",
        "%00",
        "a\u{0}b",
        "\r\nSet-Cookie: x=1",
        "\u{202e}evil",
        "😀🛒",
        "ｔｅｓｔ",
        "=HYPERLINK(\"http://evil.example\")",
        "http://169.254.169.254/latest/meta-data/",
        "javascript:alert(1)",
        "2026-02-30",
        "Pacific/Nowhere",
        "downtown",
        "sales_order",
        "owner",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    values.push("x".repeat(5_000));
    values.push("é".repeat(70_000));
    values
}

/// One form as a page renders it: where it posts and its fields' values.
#[derive(Debug, Clone)]
struct Form {
    action: String,
    method: String,
    fields: Vec<(String, String)>,
}

/// The value of `name` in one tag's attribute text, entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().last();
        let after = &rest[at + name.len()..];
        rest = after;
        if before.is_some_and(|c| !c.is_whitespace()) {
            continue;
        }
        if let Some(value) = after.strip_prefix("=\"") {
            return value.split_once('"').map(|(v, _)| decode(v));
        }
        if after.starts_with([' ', '>', '/']) || after.is_empty() {
            return Some(String::new());
        }
    }
    None
}

fn decode(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every opening `<name …>` tag in `html`: its attribute text and where it ends.
fn tags<'a>(html: &'a str, name: &str) -> Vec<(&'a str, usize)> {
    let open = format!("<{name}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = html[from..].find(&open) {
        let start = from + at + open.len();
        if !html[start..].starts_with([' ', '>', '/']) {
            from = start;
            continue;
        }
        let Some(end) = html[start..].find('>') else { break };
        found.push((&html[start..start + end], start + end + 1));
        from = start + end + 1;
    }
    found
}

/// The forms of a page with the values a person would post unchanged.
fn forms(html: &str) -> Vec<Form> {
    let mut out = Vec::new();
    for (tag, body_start) in tags(html, "form") {
        let body_end = html[body_start..]
            .find("</form>")
            .map_or(html.len(), |e| body_start + e);
        let body = &html[body_start..body_end];
        let mut fields = Vec::new();
        for (input, _) in tags(body, "input") {
            let (Some(name), kind) = (attr(input, "name"), attr(input, "type").unwrap_or_default()) else {
                continue;
            };
            match kind.as_str() {
                "checkbox" | "radio" if attr(input, "checked").is_none() => {}
                "checkbox" | "radio" => fields.push((name, attr(input, "value").unwrap_or_else(|| "on".into()))),
                "file" | "submit" => {}
                _ => fields.push((name, attr(input, "value").unwrap_or_default())),
            }
        }
        for (select, end) in tags(body, "select") {
            let Some(name) = attr(select, "name") else { continue };
            let options_end = body[end..].find("</select>").map_or(body.len(), |e| end + e);
            let options = tags(&body[end..options_end], "option");
            let chosen = options
                .iter()
                .find(|(o, _)| attr(o, "selected").is_some())
                .or(options.first())
                .and_then(|(o, _)| attr(o, "value"))
                .unwrap_or_default();
            fields.push((name, chosen));
        }
        for (area, end) in tags(body, "textarea") {
            if let Some(name) = attr(area, "name") {
                let text = body[end..].split("</textarea>").next().unwrap_or_default();
                fields.push((name, decode(text)));
            }
        }
        // The first named submit button says which action the form takes.
        if let Some((button, _)) = tags(body, "button")
            .into_iter()
            .find(|(b, _)| attr(b, "name").is_some() && attr(b, "type").is_none_or(|t| t == "submit"))
        {
            fields.push((
                attr(button, "name").unwrap_or_default(),
                attr(button, "value").unwrap_or_default(),
            ));
        }
        out.push(Form {
            action: attr(tag, "action").unwrap_or_default(),
            method: attr(tag, "method").unwrap_or_else(|| "get".into()).to_lowercase(),
            fields,
        });
    }
    out
}

/// The variations of one form: each field given each hostile value in
/// turn (sampled), a field left out, an unknown field, a field twice.
fn mutations(form: &Form, values: &[String], rng: &mut StdRng, budget: usize) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = vec![form.fields.clone(), Vec::new()];
    for i in 0..form.fields.len() {
        let mut without = form.fields.clone();
        without.remove(i);
        out.push(without);
        let mut twice = form.fields.clone();
        twice.push((
            form.fields[i].0.clone(),
            values.choose(rng).cloned().unwrap_or_default(),
        ));
        out.push(twice);
        for value in values {
            let mut changed = form.fields.clone();
            changed[i].1 = value.clone();
            out.push(changed);
        }
    }
    let mut junk = form.fields.clone();
    junk.push(("unexpected_field".into(), "1".into()));
    out.push(junk);
    // Every field hostile at once.
    for _ in 0..4 {
        out.push(
            form.fields
                .iter()
                .map(|(k, _)| (k.clone(), values.choose(rng).cloned().unwrap_or_default()))
                .collect(),
        );
    }
    let (keep, rest) = out.split_at_mut(2);
    rest.shuffle(rng);
    let mut chosen = keep.to_vec();
    chosen.extend(rest.iter().take(budget.saturating_sub(2)).cloned());
    chosen
}

/// Tables that change while nothing is asked: signed-in sessions.
const VOLATILE: &[&str] = &["sessions"];

async fn dump(db: &Database) -> BTreeMap<String, String> {
    let storage = db.storage().await;
    let tables = storage.dump_tables(VOLATILE).await.expect("dump the database");
    storage.close().await;
    tables
}

/// The database once the work a done request started (pushes to the
/// Sandbox store, their runs) is over: two reads a quarter second apart agree.
async fn settled(db: &Database) -> BTreeMap<String, String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut last = dump(db).await;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let now = dump(db).await;
        if (now == last && queues_empty(db).await) || std::time::Instant::now() > deadline {
            return now;
        }
        last = now;
    }
}

/// No quantity or product push waiting for any channel.
async fn queues_empty(db: &Database) -> bool {
    let storage = db.storage().await;
    let mut empty = true;
    for channel in storage.list_channels().await.expect("channels") {
        let waiting = storage.pending_pushes(channel.id).await.expect("pushes")
            + storage
                .pending_catalog_pushes(channel.id)
                .await
                .expect("product pushes");
        empty &= waiting == 0;
    }
    storage.close().await;
    empty
}

/// The tables whose rows differ.
fn changed(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> Vec<String> {
    after
        .iter()
        .filter(|(t, rows)| before.get(*t) != Some(rows))
        .map(|(t, _)| t.clone())
        .collect()
}

/// Fields as a failure message shows them: long values cut.
fn show(fields: &[(String, String)]) -> String {
    let cut: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| {
            let short: String = v.chars().take(60).collect();
            let more = v.chars().count().saturating_sub(60);
            (
                k.clone(),
                if more > 0 {
                    format!("{short}… ({more} more)")
                } else {
                    short
                },
            )
        })
        .collect();
    format!("{cut:?}")
}

/// The answer to a form post: refused or not, and what it was.
struct Answer {
    status: u16,
    refused: bool,
    shown: String,
}

async fn post(
    client: &reqwest::Client,
    server: &TestServer,
    form: &Form,
    fields: &[(String, String)],
    plain: bool,
) -> Answer {
    let accept = if plain {
        "text/html,application/xhtml+xml,*/*;q=0.8"
    } else {
        "application/json"
    };
    let response = client
        .post(server.url(&form.action))
        .header("accept", accept)
        .header("origin", server.base.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).expect("encode"))
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: String = response.text().await.unwrap_or_default().chars().take(300).collect();
    let refused = status >= 400 || location.contains("notice_error=1");
    Answer {
        status,
        refused,
        shown: format!("{status} {} {body}", location.chars().take(300).collect::<String>()),
    }
}

#[tokio::test]
async fn dashboard_forms_and_pages_survive_hostile_input_and_a_refusal_writes_nothing() {
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    eprintln!("dashboard fuzz: seed {seed} (FUZZ_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);

    // A small store, so every table can be compared after every request.
    let db = Database::sqlite();
    let (ok, out, err) = cli(&db, &["demo", "--products", "6"], "").await;
    assert!(ok, "{out}{err}");
    // A second person and an API token, so the forms that remove them show.
    let (ok, out, err) = cli(
        &db,
        &["user", "add", "--email", "clerk@example.com", "--role", "viewer"],
        "clerk-password\n",
    )
    .await;
    assert!(ok, "{out}{err}");
    tillbridge_tests::api_token(&db, "viewer").await;
    let server = TestServer::start(&db, &["serve"]).await;
    let client = browser_like_client();
    sign_in(&server, &client, DEMO_EMAIL, DEMO_PASSWORD).await;
    tillbridge_tests::wait_for_startup_pulls(&db).await;

    // The forms as the pages render them.
    let mut all: Vec<Form> = Vec::new();
    for page in PAGES {
        let response = client.get(server.url(page)).send().await.expect("page");
        assert_eq!(response.status(), 200, "{page}");
        for form in forms(&response.text().await.expect("html")) {
            let known = all.iter().any(|f| f.action == form.action && f.method == form.method);
            if !known && !form.action.is_empty() {
                all.push(form);
            }
        }
    }
    let posts: Vec<Form> = {
        let (mut first, mut last): (Vec<Form>, Vec<Form>) = all
            .iter()
            .filter(|f| f.method == "post" && f.action.starts_with("/api/") && f.action != "/api/upload_file")
            .cloned()
            .partition(|f| !LAST.iter().any(|l| f.action.contains(l)));
        first.append(&mut last);
        first
    };
    let gets: Vec<Form> = all.iter().filter(|f| f.method == "get").cloned().collect();
    assert!(
        posts.len() >= 15,
        "the pages' forms were found: {:?}",
        posts.iter().map(|f| &f.action).collect::<Vec<_>>()
    );

    let values = hostile_values();
    let per_form = FORM_REQUESTS / posts.len();
    let (mut sent, mut refused, mut done) = (0usize, 0usize, 0usize);
    let mut before = settled(&db).await;
    for form in &posts {
        for fields in mutations(form, &values, &mut rng, per_form) {
            let plain = rng.gen_bool(0.5);
            let answer = post(&client, &server, form, &fields, plain).await;
            sent += 1;
            assert!(
                answer.status < 500,
                "{} with {} ({}) answered {}",
                form.action,
                show(&fields),
                if plain { "plain post" } else { "script" },
                answer.shown
            );
            let after = if answer.refused {
                dump(&db).await
            } else {
                settled(&db).await
            };
            if answer.refused {
                refused += 1;
                let written = changed(&before, &after);
                assert!(
                    written.is_empty(),
                    "{} refused {} ({}) but wrote to {written:?}",
                    form.action,
                    show(&fields),
                    answer.shown
                );
            } else {
                done += 1;
            }
            before = after;
        }
    }

    // Pages with hostile queries (the GET forms' fields among them) and ids.
    let mut opened = 0usize;
    for _ in 0..PAGE_REQUESTS {
        let page = *PAGES.choose(&mut rng).expect("pages");
        // What fits in an address a browser sends.
        let value = values
            .iter()
            .filter(|v| v.len() <= 5_000)
            .collect::<Vec<_>>()
            .choose(&mut rng)
            .map(|v| (*v).clone())
            .unwrap_or_default();
        let url = if rng.gen_bool(0.3) && page.matches('/').count() == 2 && page.ends_with('1') {
            // A hostile id in the path.
            let base = page.trim_end_matches('1');
            let escaped: String = serde_urlencoded::to_string([("x", &value)]).expect("encode")[2..].to_owned();
            format!("{base}{}", if escaped.is_empty() { "0".into() } else { escaped })
        } else {
            let names: Vec<String> = gets
                .iter()
                .flat_map(|f| f.fields.iter().map(|(k, _)| k.clone()))
                .chain(["page", "sort", "after", "id", "notice", "error_field", "notice_error"].map(String::from))
                .collect();
            let name = names.choose(&mut rng).cloned().unwrap_or_default();
            format!(
                "{page}?{}",
                serde_urlencoded::to_string([(name, value)]).expect("encode")
            )
        };
        let response = client.get(server.url(&url)).send().await.expect("page");
        let status = response.status().as_u16();
        assert!(
            status < 500,
            "GET {} answered {status}",
            url.chars().take(300).collect::<String>()
        );
        opened += 1;
    }
    let actions: Vec<&str> = posts.iter().map(|f| f.action.trim_start_matches("/api/")).collect();
    eprintln!(
        "dashboard fuzz: {sent} form posts over {} forms ({refused} refused, none writing; {done} done), \
         {opened} pages with hostile queries and ids: 0 answered 5xx. Forms: {}",
        posts.len(),
        actions.join(", ")
    );
    server.stop().await;
}
