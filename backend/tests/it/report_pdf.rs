//! The printable QBR report, read back with poppler's tools (pdfinfo, pdftotext,
//! pdftoppm): paper size and page count, the worked example's numbers and the quarter's
//! review columns in the text, ink on the rendered pages, and clear errors.

use crate::common::*;
use qbr_shared::catalogue::metric_def;
use qbr_shared::format;
use qbr_shared::reference::WORKED_EXAMPLE;
use qbr_shared::smartnumbers::smartnumber_def;
use std::path::Path;
use std::process::Command;

/// Runs a poppler tool; fails the test with a clear message if it is not installed.
pub(crate) fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} not runnable ({e}): install poppler-utils (scripts/install-deps.sh does)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn download(app: &TestApp, query: &str) -> reqwest::Response {
    app.http
        .get(app.url(&format!("/api/qbr/report?{query}")))
        .send()
        .await
        .unwrap()
}

/// Saves a downloaded report and returns its path.
async fn fetch_pdf(app: &TestApp, query: &str, dir: &Path, name: &str) -> std::path::PathBuf {
    let res = download(app, query).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

/// Share of pixels darker than light grey in a binary PGM (P5) image, above the
/// footer (the bottom tenth), so that a page with only its footer counts as blank.
fn ink_share(pgm: &[u8]) -> f64 {
    // Header: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !pgm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..i]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = &pgm[i + 1..i + 1 + w * (h * 9 / 10)];
    let dark = pixels.iter().filter(|&&p| p < 200).count();
    dark as f64 / pixels.len() as f64
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_shows_the_worked_example_on_letter_and_a4() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let before = checksum(&app.db).await;
    let dir = tempfile::tempdir().unwrap();

    let res = download(&app, "period=2025-Q1").await;
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"qbr-2025-Q1.pdf\""
    );
    let letter = fetch_pdf(&app, "period=2025-Q1", dir.path(), "letter.pdf").await;
    let a4 = fetch_pdf(
        &app,
        "period=2025-Q1&paper=a4&tz=Asia/Tokyo",
        dir.path(),
        "a4.pdf",
    )
    .await;

    // QBR_TEST_KEEP_REPORT=DIR keeps the reports to look at.
    if let Ok(keep) = std::env::var("QBR_TEST_KEEP_REPORT") {
        std::fs::copy(&letter, Path::new(&keep).join("worked-example-letter.pdf")).unwrap();
        std::fs::copy(&a4, Path::new(&keep).join("worked-example-a4.pdf")).unwrap();
    }
    let info = poppler("pdfinfo", &[letter.to_str().unwrap()]);
    assert!(info.contains("612 x 792 pts (letter)"), "{info}");
    assert!(
        info.contains("Title:           Quarterly Business Review Q1 2025"),
        "{info}"
    );
    let info = poppler("pdfinfo", &[a4.to_str().unwrap()]);
    assert!(info.contains("595.28 x 841.89 pts (A4)"), "{info}");
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Summary, review columns, and 18 charts over at least two pages.
    assert!((4..=6).contains(&pages), "{pages} pages");

    // The outline (bookmarks) points at the three parts.
    let raw = String::from_utf8_lossy(&std::fs::read(&a4).unwrap()).into_owned();
    assert!(raw.contains("/Outlines"), "no outline");
    assert!(
        raw.contains("/Title(SmartNumbers)"),
        "no SmartNumbers bookmark"
    );

    let text = poppler("pdftotext", &["-layout", a4.to_str().unwrap(), "-"]);
    assert!(text.contains("Quarterly Business Review"));
    assert!(text.contains("January – March 2025"), "quarter span");
    assert!(text.contains("JST"), "generation time in the asked zone");
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    // The first section: the quarter in words with its health score, as the API says.
    let (_, summary) = app.get("/api/qbr/summary?period=2025-Q1").await;
    let score = summary["data"]["health"]["score"].as_f64().unwrap();
    assert!(
        text.contains(&format!("Summary · health score {score:.0} of 100")),
        "{text}"
    );
    let first = summary["data"]["summary"]["sentences"][0].as_str().unwrap();
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(first), "'{first}' not in the report");
    // Every SmartNumber's value, formatted as the dashboard formats it.
    for (key, q1, _) in WORKED_EXAMPLE {
        let def = smartnumber_def(key).unwrap();
        let shown = format::value(def.unit, Some(*q1));
        assert!(text.contains(&shown), "{key}: '{shown}' not in the report");
    }
    // Statuses against the seeded thresholds, and the count summary.
    assert!(text.contains("Red") && text.contains("Yellow") && text.contains("Green"));
    // The review columns: month headers and a quarter total computed from the inputs.
    for month in ["Jan 2025", "Feb 2025", "Mar 2025"] {
        assert!(text.contains(month), "{month}");
    }
    let created: f64 = reference_inputs()
        .iter()
        .flat_map(|b| b["metrics"].as_array().unwrap().clone())
        .filter(|m| m["metric_name"] == "reactive_tickets_created")
        .map(|m| m["metric_value"].as_f64().unwrap())
        .sum();
    let def = metric_def("reactive_tickets_created").unwrap();
    let total = format::value(def.unit, Some(created));
    let row = text
        .lines()
        .find(|l| l.contains("# of Reactive Tickets Created"))
        .expect("review row");
    assert!(
        row.trim_end().ends_with(&total),
        "{row} should end with {total}"
    );
    // Trend pages.
    assert!(text.contains("Trends · last 8 quarters"));

    // Every page has ink on it (nothing blank, nothing failed to draw).
    let prefix = dir.path().join("page");
    poppler(
        "pdftoppm",
        &[
            "-gray",
            "-r",
            "30",
            a4.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let mut rendered = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "pgm") {
            let share = ink_share(&std::fs::read(&path).unwrap());
            assert!(
                share > 0.002,
                "{} is nearly blank ({share})",
                path.display()
            );
            rendered += 1;
        }
    }
    assert_eq!(rendered, pages);

    // Reading a report writes nothing.
    assert_eq!(checksum(&app.db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_report_requests_get_clear_errors() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            let res = download(app, q).await;
            let status = res.status().as_u16();
            (status, res.json::<serde_json::Value>().await.unwrap())
        }
    };
    assert_error(&get("period=2025-01").await, 400, "INVALID_PERIOD");
    assert_error(&get("period=2025-Q5").await, 400, "INVALID_PERIOD");
    assert_error(
        &get("period=2025-Q1&paper=legal").await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(
        &get("period=2025-Q1&format=docx").await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(
        &get("period=2025-Q1&tz=Mars/Olympus").await,
        400,
        "INVALID_PARAMETER",
    );
    assert_error(&get("period=2019-Q1").await, 404, "NO_DATA");
    // Without a period: the latest quarter with data.
    let res = download(&app, "").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"qbr-2025-Q1.pdf\""
    );
    // Signed out: nothing.
    let res = app
        .anon
        .get(app.url("/api/qbr/report?period=2025-Q1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
