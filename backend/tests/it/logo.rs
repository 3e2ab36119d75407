//! The MSP's logo for client reports (`/api/qbr/settings/logo`): uploaded by an admin,
//! read back byte for byte with its ETag, drawn in the client report (read back with
//! poppler's `pdfimages`), removed; bad files refused with a stable code and nothing
//! changed; editors can't upload and another organization never sees it.
use crate::common::*;
use crate::report_pdf::poppler;
use crate::tenants::signed_in;
use serde_json::{json, Value};

const LOGO: &str = "/api/qbr/settings/logo";

/// A `width`×`height` RGB PNG, encoded here (a stripe of colours, so it is no blank).
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let x = (i % width) * 255 / width.max(1);
            [0x1d, x as u8, 0x89]
        })
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Uploads `bytes` as `content_type` with the app's admin session.
pub(crate) async fn upload(app: &TestApp, content_type: &str, bytes: Vec<u8>) -> (u16, Value) {
    send(
        app.http
            .put(app.url(LOGO))
            .header("content-type", content_type)
            .body(bytes),
    )
    .await
}

/// A client of organization 1 with no data (its report has every section, empty).
async fn client(app: &TestApp) -> i64 {
    let mut conn = app.db.conn().await;
    backend::store::clients::create_client(&mut conn, 1, "Acme Dental", "test", chrono::Utc::now())
        .await
        .unwrap()
}

/// The images of the client report of 2025-Q1, as `(width, height)` (pdfimages -list).
async fn report_images(app: &TestApp, id: i64) -> Vec<(u32, u32)> {
    let res = app
        .http
        .get(app.url(&format!("/api/qbr/clients/{id}/report?period=2025-Q1")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.pdf");
    std::fs::write(&path, res.bytes().await.unwrap()).unwrap();
    let list = poppler("pdfimages", &["-list", path.to_str().unwrap()]);
    // Two header lines, then one line per image: page num type width height ...
    list.lines()
        .skip(2)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cols[2], "image", "{l}");
            (cols[3].parse().unwrap(), cols[4].parse().unwrap())
        })
        .collect()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    use diesel::sql_types::Text;
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        action: String,
    }
    let mut conn = app.db.conn().await;
    let rows: Vec<Row> =
        diesel::sql_query("SELECT action FROM audit_log WHERE action LIKE 'logo.%' ORDER BY id")
            .load(&mut conn)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.action).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_logo_is_uploaded_read_back_drawn_in_the_client_report_and_removed() {
    let app = TestApp::spawn().await;
    let id = client(&app).await;
    assert_eq!(report_images(&app, id).await, vec![], "no logo, no image");
    assert_error(&app.get(LOGO).await, 404, "NOT_FOUND");

    let image = png(64, 16);
    let (status, up) = upload(&app, "image/png", image.clone()).await;
    assert_eq!(status, 200, "{up}");
    let info = &up["data"];
    assert_eq!(info["content_type"], "image/png");
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(64), Some(16))
    );
    assert_eq!(info["bytes"].as_u64(), Some(image.len() as u64));
    let sha = info["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);

    // Read back: the same bytes and type, revalidated by ETag.
    let res = app.http.get(app.url(LOGO)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert_eq!(res.headers()["cache-control"], "private, no-cache");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, format!("\"{sha}\""));
    assert_eq!(res.bytes().await.unwrap().to_vec(), image);
    let res = app
        .http
        .get(app.url(LOGO))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());

    // The client report draws it: one image, of the uploaded size.
    assert_eq!(report_images(&app, id).await, vec![(64, 16)]);

    // Replaced by another, then removed: the report has none again.
    let (status, up) = upload(&app, "image/png", png(30, 30)).await;
    assert_eq!(status, 200, "{up}");
    assert_eq!(report_images(&app, id).await, vec![(30, 30)]);
    let removed = send(app.http.delete(app.url(LOGO))).await;
    assert_eq!(removed.0, 200, "{}", removed.1);
    assert_eq!(removed.1["data"]["width"], 30);
    assert_error(&app.get(LOGO).await, 404, "NOT_FOUND");
    assert_error(
        &send(app.http.delete(app.url(LOGO))).await,
        404,
        "NOT_FOUND",
    );
    assert_eq!(report_images(&app, id).await, vec![]);
    assert_eq!(
        audit_actions(&app).await,
        ["logo.update", "logo.update", "logo.remove"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_files_are_refused_with_a_stable_code_and_change_nothing() {
    let app = TestApp::spawn().await;
    let kept = png(8, 8);
    assert_eq!(upload(&app, "image/png", kept.clone()).await.0, 200);
    let before = checksum(&app.db).await;

    let good = png(40, 10);
    let truncated = good[..good.len() - 24].to_vec();
    let mut bad_crc = good.clone();
    bad_crc[32] ^= 0x55; // IHDR's CRC
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".to_vec();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "image/png",
            b"this is no image".to_vec(),
            400,
            "INVALID_IMAGE",
        ),
        ("image/png", truncated, 400, "INVALID_IMAGE"),
        ("image/png", bad_crc, 400, "INVALID_IMAGE"),
        ("image/png", Vec::new(), 400, "INVALID_IMAGE"),
        ("image/png", gif.clone(), 400, "INVALID_IMAGE"),
        ("image/gif", gif, 415, "INVALID_IMAGE"),
        (
            "image/jpeg",
            b"\xff\xd8\xff\xe0 cut short".to_vec(),
            400,
            "INVALID_IMAGE",
        ),
        ("image/png", png(4001, 2), 400, "INVALID_IMAGE"),
        ("application/json", b"{}".to_vec(), 415, "INVALID_IMAGE"),
        (
            "image/png",
            vec![0x89; 600 * 1024],
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ];
    for (content_type, bytes, status, code) in cases {
        let answer = upload(&app, content_type, bytes).await;
        assert_error(&answer, status, code);
    }
    assert_eq!(
        checksum(&app.db).await,
        before,
        "a refused upload changed something"
    );
    let res = app.http.get(app.url(LOGO)).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().to_vec(), kept);
}

#[tokio::test(flavor = "multi_thread")]
async fn editors_cannot_upload_and_another_organization_never_sees_it() {
    let app = TestApp::spawn().await;
    let image = png(20, 10);
    assert_eq!(upload(&app, "image/png", image.clone()).await.0, 200);

    // A write key edits but never administers; a read key reads the logo.
    let writer = create_api_key(&app.db, "sync", "write").await;
    let reader = create_api_key(&app.db, "reader", "read").await;
    let before = checksum(&app.db).await;
    let r = send(
        app.anon
            .put(app.url(LOGO))
            .header("x-api-key", &writer)
            .header("content-type", "image/png")
            .body(png(5, 5)),
    )
    .await;
    assert_error(&r, 403, "FORBIDDEN");
    let r = send(app.anon.delete(app.url(LOGO)).header("x-api-key", &writer)).await;
    assert_error(&r, 403, "FORBIDDEN");
    let res = app
        .anon
        .get(app.url(LOGO))
        .header("x-api-key", &reader)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), image);
    assert_eq!(checksum(&app.db).await, before);

    // Organization B has no logo of its own and can't name A's.
    let (status, b) = app
        .post(
            "/api/admin/organizations",
            &json!({"name": "Beta MSP", "slug": "beta", "admin_email": "bob@beta.example"}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    let b = b["data"]["id"].as_i64().unwrap();
    let bob = signed_in(&app, "bob@beta.example").await;
    let r = send(bob.get(app.url(&format!("{LOGO}?organization_id={b}")))).await;
    assert_error(&r, 404, "NOT_FOUND");
    let r = send(bob.get(app.url(&format!("{LOGO}?organization_id=1")))).await;
    assert_error(&r, 403, "FORBIDDEN");
    let r = send(bob.delete(app.url(&format!("{LOGO}?organization_id=1")))).await;
    assert_error(&r, 403, "FORBIDDEN");
    // B's own logo is B's: A's stays as it was.
    let r = send(
        bob.put(app.url(&format!("{LOGO}?organization_id={b}")))
            .header("content-type", "image/png")
            .body(png(6, 3)),
    )
    .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let res = app.http.get(app.url(LOGO)).send().await.unwrap();
    assert_eq!(res.bytes().await.unwrap().to_vec(), image);
}
