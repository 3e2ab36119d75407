//! QuickBooks Desktop through the Web Connector (issue 12): the SOAP service as the Web
//! Connector calls it — sign-in, tickets, malformed and hostile calls — and, with a
//! fake Web Connector and a test company's ledger, a 13-month sync stored exactly,
//! SmartNumbers following, mappings replayed, manual values kept, failures storing
//! nothing.

use crate::common::*;
use backend::collect::quickbooks::{hash_password, QuickBooksSettings, WebConnectorLogin};
use diesel_async::RunQueryDsl;

pub const QBWC_USER: &str = "qbr-books";
pub const QBWC_PASSWORD: &str = "correct horse battery staple";

/// Server settings with the Web Connector set up.
pub fn web_connector_extras() -> Extras {
    Extras {
        quickbooks: QuickBooksSettings {
            web_connector: Some(WebConnectorLogin {
                username: QBWC_USER.into(),
                password_hash: hash_password(QBWC_PASSWORD).unwrap(),
            }),
            ..QuickBooksSettings::default()
        },
        ..Extras::default()
    }
}

/// A SOAP 1.1 call as the Web Connector writes it.
fn envelope(method: &str, params: &[(&str, &str)]) -> String {
    let params: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<{k}>{}</{k}>",
                v.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body><{method} xmlns="http://developer.intuit.com/">{params}</{method}></soap:Body></soap:Envelope>"#
    )
}

async fn soap(app: &TestApp, method: &str, body: String) -> (u16, String) {
    let res = app
        .anon
        .post(app.url("/api/qbwc"))
        .header("content-type", "text/xml; charset=utf-8")
        .header(
            "soapaction",
            format!("\"http://developer.intuit.com/{method}\""),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

async fn call(app: &TestApp, method: &str, params: &[(&str, &str)]) -> (u16, String) {
    soap(app, method, envelope(method, params)).await
}

/// The text of every `<string>` of an answer.
fn strings(xml: &str) -> Vec<String> {
    xml.split("<string>")
        .skip(1)
        .filter_map(|s| s.split("</string>").next())
        .map(str::to_string)
        .collect()
}

/// The text of the first `<{method}Result>`.
fn result(xml: &str, method: &str) -> String {
    let open = format!("<{method}Result>");
    xml.split(&open)
        .nth(1)
        .and_then(|s| s.split(&format!("</{method}Result>")).next())
        .unwrap_or("<none>")
        .to_string()
}

#[tokio::test]
async fn the_soap_service_signs_in_only_the_web_connector_user() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let (status, wsdl) = send_get(&app, "/api/qbwc?wsdl").await;
    assert_eq!(status, 200);
    for op in [
        "serverVersion",
        "clientVersion",
        "authenticate",
        "sendRequestXML",
        "receiveResponseXML",
        "connectionError",
        "getLastError",
        "closeConnection",
    ] {
        assert!(
            wsdl.contains(&format!(r#"soapAction="http://developer.intuit.com/{op}""#)),
            "{op} missing from the WSDL"
        );
    }
    let (status, answer) = call(&app, "serverVersion", &[]).await;
    assert_eq!(status, 200, "{answer}");
    assert!(result(&answer, "serverVersion").starts_with("QBR Dashboard"));
    let (_, answer) = call(&app, "clientVersion", &[("strVersion", "2.3.0.36")]).await;
    assert_eq!(
        result(&answer, "clientVersion"),
        "",
        "every 2.x client is accepted"
    );

    for (user, password) in [
        (QBWC_USER, "wrong password"),
        ("someone-else", QBWC_PASSWORD),
        ("", ""),
    ] {
        let (status, answer) = call(
            &app,
            "authenticate",
            &[("strUserName", user), ("strPassword", password)],
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            strings(&answer),
            vec!["".to_string(), "nvu".into()],
            "{user}"
        );
    }
    let (_, answer) = call(
        &app,
        "authenticate",
        &[("strUserName", QBWC_USER), ("strPassword", QBWC_PASSWORD)],
    )
    .await;
    let got = strings(&answer);
    assert_eq!(got.len(), 2, "{answer}");
    assert!(got[0].len() >= 32, "a ticket: {answer}");
    assert_eq!(got[1], "", "work to do, in the open company file");

    // A ticket nobody issued gets nothing.
    let (_, answer) = call(
        &app,
        "sendRequestXML",
        &[
            ("ticket", "forged"),
            ("strCompanyFileName", "C:\\books.qbw"),
        ],
    )
    .await;
    assert_eq!(result(&answer, "sendRequestXML"), "");
    let (_, answer) = call(
        &app,
        "receiveResponseXML",
        &[
            ("ticket", "forged"),
            ("response", "<QBXML/>"),
            ("hresult", ""),
            ("message", ""),
        ],
    )
    .await;
    assert_eq!(result(&answer, "receiveResponseXML"), "-1");
    let (_, answer) = call(&app, "getLastError", &[("ticket", "forged")]).await;
    assert!(result(&answer, "getLastError").contains("Unknown or expired"));
}

#[tokio::test]
async fn without_settings_nobody_signs_in() {
    let app = TestApp::spawn().await;
    let (status, answer) = call(
        &app,
        "authenticate",
        &[("strUserName", QBWC_USER), ("strPassword", QBWC_PASSWORD)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(strings(&answer), vec!["".to_string(), "nvu".into()]);
}

#[tokio::test]
async fn an_idle_ticket_expires() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let (_, answer) = call(
        &app,
        "authenticate",
        &[("strUserName", QBWC_USER), ("strPassword", QBWC_PASSWORD)],
    )
    .await;
    let ticket = strings(&answer)[0].clone();
    let (_, first) = call(&app, "sendRequestXML", &[("ticket", &ticket)]).await;
    assert!(
        result(&first, "sendRequestXML").contains("QBXML"),
        "{first}"
    );
    // The session has been idle for longer than its 30 minutes.
    let mut conn = app.db.conn().await;
    diesel::sql_query("UPDATE qbwc_sessions SET last_seen_at = now() - interval '31 minutes'")
        .execute(&mut conn)
        .await
        .unwrap();
    let (_, next) = call(&app, "sendRequestXML", &[("ticket", &ticket)]).await;
    assert_eq!(result(&next, "sendRequestXML"), "", "{next}");
}

#[tokio::test]
async fn malformed_hostile_and_huge_calls_are_refused_and_change_nothing() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let before = checksum(&app.db).await;
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><authenticate xmlns="http://developer.intuit.com/"><strUserName>&lol2;</strUserName><strPassword>x</strPassword></authenticate></soap:Body></soap:Envelope>"#;
    for (what, body, status) in [
        ("not XML", "this is not xml".to_string(), 400),
        (
            "unclosed",
            "<soap:Envelope><soap:Body><authenticate>".to_string(),
            400,
        ),
        ("an entity bomb", bomb.to_string(), 400),
        ("an unknown method", envelope("dropTables", &[]), 400),
        (
            "a missing parameter",
            envelope("authenticate", &[("strUserName", QBWC_USER)]),
            400,
        ),
    ] {
        let (got, answer) = soap(&app, "authenticate", body).await;
        assert_eq!(got, status, "{what}: {answer}");
        assert!(
            answer.contains("<faultcode>soap:Client</faultcode>"),
            "{what}: {answer}"
        );
    }
    let huge = envelope(
        "receiveResponseXML",
        &[("ticket", "t"), ("response", &"x".repeat(30 * 1024 * 1024))],
    );
    let (got, answer) = soap(&app, "receiveResponseXML", huge).await;
    assert_eq!(got, 413, "{answer}");
    assert_eq!(checksum(&app.db).await, before);
}

async fn send_get(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.anon.get(app.url(path)).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}
