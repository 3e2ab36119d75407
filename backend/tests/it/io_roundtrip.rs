//! Import and export (issue 6): export → import changes nothing; a workbook with the
//! 2025 Q1 reference inputs imports to the worked example's SmartNumbers; malformed
//! files fail clearly and write nothing; manual values need `overwrite=true`.

use crate::common::*;
use qbr_shared::catalogue::metric_def;
use qbr_shared::workbook::MONTH_HEADERS;
use serde_json::Value;

const BOUNDARY: &str = "qbr-test-boundary-7d1e";

fn multipart(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn import(app: &TestApp, query: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
    app.post_raw(
        &format!("/api/qbr/import?{query}"),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
        multipart(name, bytes),
    )
    .await
}

async fn download(app: &TestApp, query: &str) -> (String, String, Vec<u8>) {
    let res = app
        .http
        .get(app.url(&format!("/api/qbr/export?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ctype, disp) = (header("content-type"), header("content-disposition"));
    (ctype, disp, res.bytes().await.unwrap().to_vec())
}

/// The reference inputs as (period, metric, value).
fn reference_triples() -> Vec<(String, String, f64)> {
    let mut out = Vec::new();
    for body in reference_inputs() {
        let period = body["period"].as_str().unwrap().to_string();
        for m in body["metrics"].as_array().unwrap() {
            out.push((
                period.clone(),
                m["metric_name"].as_str().unwrap().to_string(),
                m["metric_value"].as_f64().unwrap(),
            ));
        }
    }
    out
}

fn reference_workbook() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("2025").unwrap();
    ws.write_string(0, 0, "Monthly Business Review 2025")
        .unwrap();
    for (i, h) in MONTH_HEADERS.iter().enumerate() {
        ws.write_string(1, i as u16 + 1, *h).unwrap();
    }
    ws.write_string(1, 13, "Total").unwrap();
    ws.write_string(2, 0, "Operations").unwrap();
    let mut rows: Vec<String> = Vec::new();
    for (period, metric, value) in reference_triples() {
        let label = metric_def(&metric).unwrap().label;
        let r = match rows.iter().position(|l| l == label) {
            Some(r) => r,
            None => {
                rows.push(label.to_string());
                rows.len() - 1
            }
        } as u32
            + 3;
        ws.write_string(r, 0, label).unwrap();
        let month: u16 = period[5..].parse().unwrap();
        ws.write_number(r, month, value).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn export_downloads_and_round_trips_with_zero_changes() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;

    let (ctype, disp, csv) = download(&app, "format=csv&from=2025-01&to=2025-12").await;
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert!(
        disp.starts_with("attachment;") && disp.contains(".csv"),
        "{disp}"
    );
    let text = String::from_utf8(csv.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("period,metric,value,data_source,notes"));
    let mut exported: Vec<(String, String, f64)> = lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            assert_eq!(c[3], "manual", "{l}");
            (c[0].to_string(), c[1].to_string(), c[2].parse().unwrap())
        })
        .collect();
    let mut expected = reference_triples();
    exported.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    assert_eq!(
        exported, expected,
        "the CSV holds exactly the stored inputs"
    );

    let (ctype, disp, xlsx) = download(&app, "format=xlsx&from=2025-01&to=2025-12").await;
    assert_eq!(
        ctype,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(disp.contains(".xlsx"), "{disp}");
    assert!(xlsx.starts_with(b"PK"));

    for (name, bytes) in [("export.csv", &csv), ("export.xlsx", &xlsx)] {
        for commit in ["false", "true"] {
            let (status, body) = import(&app, &format!("commit={commit}"), name, bytes).await;
            assert_eq!(status, 200, "{name}: {body}");
            let d = &body["data"];
            assert_eq!(d["created_count"], 0, "{name}: {d}");
            assert_eq!(d["changed_count"], 0, "{name}: {d}");
            assert_eq!(d["skipped_count"], 0, "{name}: {d}");
            assert_eq!(
                d["unchanged_count"].as_u64().unwrap() as usize,
                expected.len(),
                "{name}"
            );
            assert_eq!(d["total_mismatches"], Value::Array(vec![]), "{name}: {d}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_workbook_imports_to_the_worked_example() {
    let app = TestApp::spawn().await;
    let book = reference_workbook();
    let before = checksum(&app.db).await;
    let (status, body) = import(&app, "", "mbr.xlsx", &book).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["committed"], false);
    let n = reference_triples().len() as u64;
    assert_eq!(body["data"]["created_count"].as_u64(), Some(n), "{body}");
    assert_eq!(checksum(&app.db).await, before, "a dry run writes nothing");

    let (status, body) = import(&app, "commit=true", "mbr.xlsx", &book).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["created_count"].as_u64(), Some(n));
    let (status, body) = app.get("/api/qbr/smartnumbers?period=2025-Q1").await;
    assert_eq!(status, 200, "{body}");
    let rhem = body["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "rhem")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!(((rhem - 0.253692) / 0.253692).abs() < 5e-5, "rhem {rhem}");
    let (_, monthly) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=reactive_tickets_created")
        .await;
    assert_eq!(monthly["data"]["metrics"][0]["data_source"], "imported");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_files_fail_clearly_and_change_nothing() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let before = checksum(&app.db).await;

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("book.xlsx", b"this is not a workbook".to_vec(), "not a workbook"),
        (
            "data.csv",
            b"period,metric,value,notes\n2025-04,reactive_tickets_created,lots,\n".to_vec(),
            "not a number",
        ),
        (
            "data.csv",
            b"period,metric,value,notes\n2025-04,mrr,100,\n2025-04,Monthly Recurring Revenue,200,\n"
                .to_vec(),
            "duplicated row",
        ),
        (
            "data.csv",
            b"period,metric,value,notes\n2025-04,Number of Unicorns,1,\n".to_vec(),
            "Unknown metric label",
        ),
        ("random.bin", vec![0xff, 0xfe, 0x00, 0x12], "neither a workbook"),
    ];
    for (name, bytes, needle) in cases {
        for commit in ["false", "true"] {
            let resp = import(&app, &format!("commit={commit}"), name, &bytes).await;
            assert_error(&resp, 400, "INVALID_BODY");
            let msg = resp.1["error"]["message"].as_str().unwrap_or_default();
            assert!(msg.contains(needle), "{name}: {msg}");
        }
    }
    // Text in a number cell of a workbook: sheet, row and column are named.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Monthly Business Review 2025")
        .unwrap();
    for (i, h) in MONTH_HEADERS.iter().enumerate() {
        ws.write_string(1, i as u16 + 1, *h).unwrap();
    }
    ws.write_string(2, 0, "# of Reactive Tickets Created")
        .unwrap();
    ws.write_string(2, 4, "n/a").unwrap();
    ws.write_string(3, 0, "Unicorn Revenue").unwrap();
    let book = wb.save_to_buffer().unwrap();
    let resp = import(&app, "commit=true", "book.xlsx", &book).await;
    assert_error(&resp, 400, "INVALID_BODY");
    let msg = resp.1["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("row 3, column E") && msg.contains("not a number"),
        "{msg}"
    );
    assert!(msg.contains("Unknown label 'Unicorn Revenue'"), "{msg}");

    // Wrong year: the title and the sheet's name disagree.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("2024").unwrap();
    ws.write_string(0, 0, "Monthly Business Review 2025")
        .unwrap();
    for (i, h) in MONTH_HEADERS.iter().enumerate() {
        ws.write_string(1, i as u16 + 1, *h).unwrap();
    }
    ws.write_string(2, 0, "# of Reactive Tickets Created")
        .unwrap();
    ws.write_number(2, 1, 5.0).unwrap();
    let book = wb.save_to_buffer().unwrap();
    let resp = import(&app, "commit=true", "book.xlsx", &book).await;
    assert_error(&resp, 400, "INVALID_BODY");
    let msg = resp.1["error"]["message"].as_str().unwrap();
    assert!(msg.contains("Wrong year"), "{msg}");

    // A zip bomb: 101 MiB of zeros packed into a few hundred KiB.
    let bomb = zeros_zip(101);
    assert!(bomb.len() < 2 * 1024 * 1024);
    let resp = import(&app, "commit=true", "bomb.xlsx", &bomb).await;
    assert_error(&resp, 400, "INVALID_BODY");
    let msg = resp.1["error"]["message"].as_str().unwrap();
    assert!(msg.contains("zip bomb"), "{msg}");

    // A zip bomb that lies: its headers declare 1,000 bytes, the deflate stream
    // unpacks to 150 MiB.
    let liar = lying_zip(150, 1_000);
    let resp = import(&app, "commit=true", "liar.xlsx", &liar).await;
    assert_error(&resp, 400, "INVALID_BODY");
    let msg = resp.1["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("not a readable workbook") && msg.contains("declared"),
        "{msg}"
    );
    // Sizes declared truthfully but over the cap are refused before unpacking.
    let declared_big = lying_zip(1, 150 * 1024 * 1024);
    let resp = import(&app, "commit=false", "big.xlsx", &declared_big).await;
    assert_error(&resp, 400, "INVALID_BODY");
    let msg = resp.1["error"]["message"].as_str().unwrap();
    assert!(msg.contains("zip bomb"), "{msg}");

    // 30 MB upload.
    let big = vec![b'a'; 30 * 1024 * 1024];
    let resp = import(&app, "commit=true", "big.csv", &big).await;
    assert_error(&resp, 413, "PAYLOAD_TOO_LARGE");

    assert_eq!(checksum(&app.db).await, before, "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn manual_values_are_kept_unless_overwrite() {
    let app = TestApp::spawn().await;
    load_reference(&app).await;
    let csv = b"period,metric,value,notes\n2025-01,reactive_tickets_created,999,from the old sheet\n2025-06,mrr,12345,\n";
    let before = checksum(&app.db).await;
    let (status, body) = import(&app, "commit=false", "in.csv", csv).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["skipped_count"], 1, "{d}");
    assert_eq!(d["created_count"], 1, "{d}");
    let skipped = d["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "skipped")
        .unwrap();
    assert_eq!(skipped["old_value"], 354.0);
    assert_eq!(skipped["old_source"], "manual");
    assert_eq!(checksum(&app.db).await, before);

    let (status, body) = import(&app, "commit=true", "in.csv", csv).await;
    assert_eq!(status, 200, "{body}");
    let (_, m) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=reactive_tickets_created")
        .await;
    assert_eq!(
        m["data"]["metrics"][0]["value"], 354.0,
        "kept without overwrite"
    );

    let (status, body) = import(&app, "commit=true&overwrite=true", "in.csv", csv).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["changed_count"], 1, "{body}");
    let (_, m) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&metric_name=reactive_tickets_created")
        .await;
    assert_eq!(m["data"]["metrics"][0]["value"], 999.0);
    assert_eq!(m["data"]["metrics"][0]["data_source"], "imported");
    assert_eq!(m["data"]["metrics"][0]["notes"], "from the old sheet");
}

/// A one-part archive holding `mib` MiB of zeros (deflated: a few hundred KiB).
fn zeros_zip(mib: usize) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    z.start_file(
        "xl/worksheets/sheet1.xml",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..mib {
        std::io::Write::write_all(&mut z, &zeros).unwrap();
    }
    z.finish().unwrap().into_inner()
}

/// A one-part archive holding `mib` MiB of zeros whose local header and central
/// directory record both declare `declared` unpacked bytes (APPNOTE 4.3.7 and 4.3.12:
/// the uncompressed size is at offset 22 of the local header, 24 of the central one).
fn lying_zip(mib: usize, declared: u32) -> Vec<u8> {
    let mut bytes = zeros_zip(mib);
    let patch = |bytes: &mut Vec<u8>, signature: [u8; 4], offset: usize| {
        let at = bytes
            .windows(4)
            .position(|w| w == signature)
            .expect("header signature");
        bytes[at + offset..at + offset + 4].copy_from_slice(&declared.to_le_bytes());
    };
    patch(&mut bytes, [0x50, 0x4b, 0x03, 0x04], 22);
    patch(&mut bytes, [0x50, 0x4b, 0x01, 0x02], 24);
    bytes
}
