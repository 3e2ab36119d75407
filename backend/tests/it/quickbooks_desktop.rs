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

// ---- A whole sync with the fake Web Connector and the test company's ledger --------

use qbr_shared::Month;
use serde_json::{json, Value};
use test_support::quickbooks::{FakeWebConnector, Ledger, LedgerFault, WcFaults, WcMethod};

/// Where the test company's accounts go with no mapping stored, written out here (not
/// taken from the product's rules) so the test can catch a wrong rule.
fn expected_metric(account: &str) -> Option<&'static str> {
    Some(match account {
        "Managed Services" | "Managed Services:Backup" | "Managed Services:Security" => "mrr",
        "Professional Services" => "nrr",
        "Hardware Sales" => "product_sales",
        "Interest Income" => "misc_revenue",
        "Cost of Goods Sold" | "Vendor Licenses" => "product_cogs",
        "Payroll Expenses:Wages" | "Payroll Expenses:Taxes" => "employee_expense",
        "Rent Expense"
        | "Meals & Entertainment"
        | "Utilities:Telecom:Internet"
        | "Utilities:Electricity"
        | "Office Supplies"
        | "Interest Expense" => "other_expenses",
        "Grant Income" => return None,
        other => panic!("the ledger has an account the test does not know: {other}"),
    })
}

/// Each month's expected value of each metric, summed from the ledger in cents.
fn expected(
    ledger: &Ledger,
    remap: &[(&str, Option<&'static str>)],
) -> Vec<(Month, &'static str, f64)> {
    let (first, last) = ledger.span().unwrap();
    let mut out = Vec::new();
    let mut m = first;
    while m <= last {
        let mut sums: std::collections::BTreeMap<&str, i64> = Default::default();
        for a in &ledger.accounts {
            let target = remap
                .iter()
                .find(|(name, _)| *name == a.full_name)
                .map_or_else(|| expected_metric(&a.full_name), |(_, t)| *t);
            if let Some(metric) = target {
                *sums.entry(metric).or_default() +=
                    (ledger.amount(&a.full_name, m) * 100.0).round() as i64;
            }
        }
        out.extend(sums.into_iter().map(|(k, c)| (m, k, c as f64 / 100.0)));
        m = m.next();
    }
    out
}

async fn monthly(app: &TestApp, month: Month) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/api/qbr/metrics/monthly?period={month}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["metrics"].as_array().unwrap().clone()
}

fn metric<'a>(values: &'a [Value], key: &str) -> Option<&'a Value> {
    values.iter().find(|v| v["metric_name"] == key)
}

async fn current_month(app: &TestApp) -> Month {
    let mut conn = app.db.conn().await;
    let org = backend::store::org::load(&mut conn, 1)
        .await
        .unwrap()
        .unwrap();
    org.current_month(chrono::Utc::now())
}

async fn sync(
    app: &TestApp,
    ledger: &Ledger,
    faults: WcFaults,
) -> test_support::quickbooks::WcSession {
    FakeWebConnector::new()
        .run(
            &app.url("/api/qbwc"),
            QBWC_USER,
            QBWC_PASSWORD,
            ledger,
            faults,
        )
        .await
}

#[tokio::test]
async fn a_thirteen_month_sync_stores_every_month_exactly() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let current = current_month(&app).await;
    let ledger = Ledger::sample(current);
    // A value typed in by hand stays.
    let typed = json!({"period": current.add_months(-1).to_string(), "metrics": [
        {"metric_name": "mrr", "metric_value": 1234.5, "notes": "typed by the owner"}]});
    assert_eq!(app.post("/api/qbr/metrics/manual", &typed).await.0, 200);

    let session = sync(&app, &ledger, WcFaults::default()).await;
    assert_eq!(session.auth_status(), Some(""), "{:?}", session.calls);
    assert_eq!(session.percents().last(), Some(&100), "{:?}", session.calls);
    assert_eq!(session.methods().last(), Some(&WcMethod::CloseConnection));
    assert!(session
        .requests
        .iter()
        .any(|r| r.contains("ProfitAndLossStandard")));

    for (month, key, value) in expected(&ledger, &[]) {
        let values = monthly(&app, month).await;
        let got = metric(&values, key).unwrap_or_else(|| panic!("{month} {key} missing"));
        if key == "mrr" && month == current.add_months(-1) {
            assert_eq!(got["value"], 1234.5, "the typed value stays");
            assert_eq!(got["data_source"], "manual");
            continue;
        }
        assert_eq!(got["value"].as_f64(), Some(value), "{month} {key}: {got}");
        assert_eq!(got["data_source"], "collected", "{month} {key}");
        assert_eq!(got["vendor"], "QuickBooks", "{month} {key}");
        // Grant Income (unmapped) has an amount in two months: their income side is flagged.
        let grant = ledger.amount("Grant Income", month) != 0.0;
        let income = ["mrr", "nrr", "product_sales", "misc_revenue"].contains(&key);
        let flagged = got["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "unreconciled");
        assert_eq!(flagged, grant && income, "{month} {key}: {got}");
    }
    // Derived values and SmartNumbers follow the collected inputs.
    let month = current.add_months(-3);
    let values = monthly(&app, month).await;
    let revenue: f64 = expected(&ledger, &[])
        .iter()
        .filter(|(m, k, _)| {
            *m == month && ["mrr", "nrr", "orr", "product_sales", "misc_revenue"].contains(k)
        })
        .map(|(_, _, v)| v)
        .sum();
    let total = metric(&values, "total_revenue").unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!(
        (total - revenue).abs() < 0.005,
        "total_revenue {total} vs {revenue}"
    );
    let quarter = month.quarter();
    let (status, numbers) = app
        .get(&format!("/api/qbr/smartnumbers?period={quarter}"))
        .await;
    assert_eq!(status, 200, "{numbers}");

    // The status names the unmapped account and lists the sync.
    let (_, status) = app.get("/api/qbr/quickbooks/status").await;
    assert_eq!(
        status["data"]["unmapped_accounts"],
        json!(["Grant Income"]),
        "{status}"
    );
    assert_eq!(status["data"]["syncs"][0]["months"], 13, "{status}");
    assert_eq!(status["data"]["syncs"][0]["source"], "desktop");
    let (_, accounts) = app.get("/api/qbr/quickbooks/accounts").await;
    let list = accounts["data"]["accounts"].as_array().unwrap();
    assert_eq!(list.len(), ledger.accounts.len(), "{accounts}");
    let grant = list
        .iter()
        .find(|a| a["full_name"] == "Grant Income")
        .unwrap();
    assert_eq!(grant["mapped_by"], "none");
    let backup = list
        .iter()
        .find(|a| a["full_name"] == "Managed Services:Backup")
        .unwrap();
    assert_eq!(
        (backup["target"].clone(), backup["mapped_by"].clone()),
        (json!("mrr"), json!("default"))
    );
    // The run is in the collection log.
    let (_, log) = app.get("/api/qbr/collection/log").await;
    assert!(log.to_string().contains("web_connector"), "{log}");

    // A second sync of the same books changes nothing but the report kept.
    let before = checksum_values(&app).await;
    sync(&app, &ledger, WcFaults::default()).await;
    assert_eq!(checksum_values(&app).await, before);
}

#[tokio::test]
async fn sales_by_customer_become_each_clients_revenue() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let current = current_month(&app).await;
    let ledger = Ledger::sample(current);
    // A client already known by another spelling: the books' "Acme Dental" joins it.
    let acme = {
        let mut conn = app.db.conn().await;
        backend::store::clients::create_client(
            &mut conn,
            1,
            "Acme Dental, LLC",
            "test",
            chrono::Utc::now(),
        )
        .await
        .unwrap()
    };
    let session = sync(&app, &ledger, WcFaults::default()).await;
    assert_eq!(session.percents().last(), Some(&100), "{:?}", session.calls);
    assert!(session
        .requests
        .iter()
        .any(|r| r.contains("<GeneralSummaryReportType>SalesByCustomerSummary<")));

    let (status, body) = app.get("/api/qbr/clients").await;
    assert_eq!(status, 200, "{body}");
    let clients = body["data"]["clients"].as_array().unwrap();
    let names: Vec<&str> = clients.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| n.starts_with("Acme")).count(),
        1,
        "no second Acme: {names:?}"
    );
    assert!(names.contains(&"Blue Sky Partners Inc."), "{names:?}");
    let (from, to) = (current.add_months(-12), current);
    let (status, body) = app
        .get(&format!(
            "/api/qbr/clients/{acme}/metrics?from={from}&to={to}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    for (i, row) in body["data"]["months"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let month = from.add_months(i32::try_from(i).unwrap());
        let want: f64 = ledger
            .sales
            .iter()
            .filter(|s| Month::from_date(s.date) == month && s.customer.starts_with("Acme Dental"))
            .map(|s| s.amount)
            .sum();
        let got = row["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["metric"] == "revenue")
            .and_then(|i| i["value"].as_f64());
        assert!(
            got.is_some_and(|g| (g - want).abs() < 0.005),
            "{month}: {got:?} against {want}"
        );
    }
    // A credit memo larger than the month's billing makes a negative month, kept as is.
    let blue = clients
        .iter()
        .find(|c| c["name"] == "Blue Sky Partners Inc.")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let m = current.add_months(-6);
    let (_, body) = app
        .get(&format!("/api/qbr/clients/{blue}/metrics?from={m}&to={m}"))
        .await;
    let revenue = body["data"]["months"][0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metric"] == "revenue")
        .and_then(|i| i["value"].as_f64());
    assert_eq!(revenue, Some(-111.67), "{body}");
}

/// A checksum of the stored values only (the audit and collection log move on).
async fn checksum_values(app: &TestApp) -> String {
    let mut conn = app.db.conn().await;
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sum: String,
    }
    let row: Sum = diesel::sql_query(
        "SELECT md5(coalesce(string_agg(period || metric_name || metric_value::text || data_source || array_to_string(flags, ','), '|' ORDER BY period, metric_name), '')) AS sum FROM qbr_metrics_monthly",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    row.sum
}

#[tokio::test]
async fn a_mapping_change_rederives_the_months_from_the_stored_reports() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let current = current_month(&app).await;
    let ledger = Ledger::sample(current);
    sync(&app, &ledger, WcFaults::default()).await;

    // Grant Income → nrr; Managed Services:Security (and nothing else) → orr.
    let body = json!({"mappings": [
        {"account": "Grant Income", "metric": "nrr"},
        {"account": "Managed Services:Security", "metric": "orr"},
    ]});
    let res = app
        .http
        .put(app.url("/api/qbr/quickbooks/mappings"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        answer["data"]["remapped_months"].as_array().unwrap().len(),
        13,
        "{answer}"
    );
    let remap = [
        ("Grant Income", Some("nrr")),
        ("Managed Services:Security", Some("orr")),
    ];
    for (month, key, value) in expected(&ledger, &remap) {
        let values = monthly(&app, month).await;
        let got = metric(&values, key).unwrap_or_else(|| panic!("{month} {key} missing"));
        assert_eq!(got["value"].as_f64(), Some(value), "{month} {key}: {got}");
        assert!(
            !got["flags"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "unreconciled"),
            "every income account is mapped now: {month} {key} {got}"
        );
    }
    // Ignoring needs a reason; a bad change changes nothing.
    let before = checksum(&app.db).await;
    for bad in [
        json!({"mappings": [{"account": "Grant Income", "metric": "ignore"}]}),
        json!({"mappings": [{"account": "No Such Account", "metric": "mrr"}]}),
        json!({"mappings": [{"account": "Grant Income", "metric": "total_revenue"}]}),
        json!({"mappings": []}),
    ] {
        let res = app
            .http
            .put(app.url("/api/qbr/quickbooks/mappings"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{bad}: {}", res.status());
    }
    assert_eq!(checksum(&app.db).await, before);
    // Removing the own mapping puts the default rule back.
    let back = json!({"mappings": [{"account": "Managed Services:Security", "metric": null}]});
    let res = app
        .http
        .put(app.url("/api/qbr/quickbooks/mappings"))
        .json(&back)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let month = current.add_months(-4);
    let values = monthly(&app, month).await;
    let orr = metric(&values, "orr").unwrap();
    assert_eq!(
        orr["value"].as_f64(),
        Some(0.0),
        "no account feeds orr any more: {orr}"
    );
    let (_, audit) = app.get("/api/qbr/audit").await;
    assert!(audit.to_string().contains("quickbooks.mappings"), "{audit}");
}

#[tokio::test]
async fn a_failed_session_stores_nothing_and_says_why() {
    let app = TestApp::spawn_with_extras(web_connector_extras()).await;
    let current = current_month(&app).await;
    let before = checksum(&app.db).await;

    // QuickBooks answers the report with an error.
    let ledger = Ledger::sample(current);
    let faults = WcFaults {
        quickbooks_error_at: Some((
            1,
            LedgerFault::error(3120, "Object specified in the request cannot be found."),
        )),
        ..WcFaults::default()
    };
    let session = sync(&app, &ledger, faults).await;
    assert!(
        session.percents().iter().any(|p| *p < 0),
        "{:?}",
        session.calls
    );
    assert!(
        session.last_error().is_some_and(|e| e.contains("3120")),
        "{:?}",
        session.last_error()
    );
    // The Web Connector can't reach QuickBooks mid-way.
    let faults = WcFaults {
        connection_error_at: Some(1),
        ..WcFaults::default()
    };
    let session = sync(&app, &ledger, faults).await;
    assert!(
        session.methods().contains(&WcMethod::ConnectionError),
        "{:?}",
        session.methods()
    );
    // A wrong password.
    let faults = WcFaults {
        wrong_password: true,
        ..WcFaults::default()
    };
    let session = sync(&app, &ledger, faults).await;
    assert_eq!(session.auth_status(), Some("nvu"));
    // A ticket from another (closed) session.
    let first = sync(
        &app,
        &Ledger {
            fault: Some(LedgerFault::error(3120, "no")),
            ..Ledger::sample(current)
        },
        WcFaults::default(),
    )
    .await;
    let stale = first.ticket().unwrap().to_string();
    let faults = WcFaults {
        stale_ticket: Some(stale),
        ..WcFaults::default()
    };
    let session = sync(&app, &ledger, faults).await;
    assert_ne!(session.percents().last(), Some(&100), "{:?}", session.calls);

    // Nothing stored; the status says the last error.
    let (_, status) = app.get("/api/qbr/quickbooks/status").await;
    assert!(status["data"]["last_error"].as_str().is_some(), "{status}");
    assert_eq!(status["data"]["syncs"], json!([]), "{status}");
    assert_eq!(checksum(&app.db).await, before);
}
