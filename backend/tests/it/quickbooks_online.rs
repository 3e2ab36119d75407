//! QuickBooks Online against a fake Intuit (`test_support::intuit`) over real HTTP, with
//! a real PostgreSQL and the real server: the connect flow through the endpoints (the
//! redirects followed by hand), tokens sealed at rest, a sync whose every revenue and
//! expense value is the ledger's sum under the default mappings (computed here, by
//! hand), SmartNumbers that follow, manual values kept, a 401 renewed once with the
//! rotated refresh token kept, a 429 retried, and failed syncs that change nothing.

use crate::common::{
    checksum, create_api_key, create_session, make_admin, test_auth_config, TestApp, TestDb,
    TEST_USER,
};
use backend::auth::Auth;
use backend::collect::quickbooks::online::{self, connect, SyncError};
use backend::collect::quickbooks::QuickBooksSettings;
use backend::config::hosting::Site;
use backend::config::Env;
use backend::http::AppState;
use backend::secrets::sealing::SecretKey;
use backend::server;
use backend::store::{metrics, org, quickbooks_online};
use chrono::{Datelike, NaiveDate};
use qbr_shared::collection::Trigger;
use qbr_shared::Month;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use test_support::intuit::{Books, FakeIntuit, Group, Posting, Sale, CLIENT_ID, REALM_ID};

const CALLBACK: &str = "/api/qbr/quickbooks/online/callback";
const MANUAL_MRR: f64 = 12345.0;
/// The month (index into the 13 months of a sync) with a manual `mrr`.
const MANUAL_AT: i32 = 10;
/// The month with income no default rule maps.
const GRANT_AT: i32 = 5;

/// Where each ledger account goes under the default mappings, by the README's rules.
const DEFAULT_TARGETS: [(&str, Option<&str>); 16] = [
    ("Managed Services", Some("mrr")),
    ("Managed Services:Backup", Some("mrr")),
    ("Managed Services:Security:EDR", Some("mrr")),
    ("Professional Services", Some("nrr")),
    ("Hardware Sales", Some("product_sales")),
    ("Annual Subscriptions", Some("orr")),
    ("Grant Income", None),
    ("Misc Income", Some("misc_revenue")),
    ("Cost of Goods Sold", Some("product_cogs")),
    ("Payroll Expenses", Some("employee_expense")),
    ("Payroll Expenses:Wages", Some("employee_expense")),
    (
        "Employee Benefits:Health Insurance",
        Some("employee_expense"),
    ),
    ("Rent or Lease", Some("other_expenses")),
    ("Office Expenses:Software", Some("other_expenses")),
    ("Interest Earned", Some("misc_revenue")),
    ("Depreciation", Some("other_expenses")),
];

const FED: [&str; 8] = [
    "nrr",
    "mrr",
    "orr",
    "product_sales",
    "misc_revenue",
    "employee_expense",
    "product_cogs",
    "other_expenses",
];
const INCOME_METRICS: [&str; 5] = ["nrr", "mrr", "orr", "product_sales", "misc_revenue"];

fn day(m: Month, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(m.year(), m.month(), d).unwrap()
}

/// The company's books: 13 months ending with `current`, nested accounts, a parent with
/// postings of its own, refunds (one making a month's NRR negative), income no rule
/// maps, months where an account has nothing.
fn ledger(current: Month) -> Books {
    let mut postings = Vec::new();
    let mut post = |m: Month, d: u32, group: Group, account: &str, amount: f64| {
        postings.push(Posting {
            date: day(m, d),
            group,
            account: account.into(),
            amount,
        })
    };
    for i in 0..13 {
        let m = current.add_months(i - 12);
        let f = f64::from(i);
        post(m, 15, Group::Income, "Managed Services", 5000.0 + 100.0 * f);
        post(m, 15, Group::Income, "Managed Services:Backup", 400.0);
        if i % 2 == 0 {
            post(m, 15, Group::Income, "Managed Services:Security:EDR", 250.0);
        }
        if i != 7 {
            post(
                m,
                12,
                Group::Income,
                "Professional Services",
                1200.0 + 50.0 * f,
            );
        }
        if i == 4 {
            post(m, 20, Group::Income, "Professional Services", -300.0);
        }
        if i == 7 {
            post(m, 20, Group::Income, "Professional Services", -150.0);
        }
        if i % 3 == 0 {
            post(m, 10, Group::Income, "Hardware Sales", 800.0);
            post(m, 10, Group::Cogs, "Cost of Goods Sold", 450.0);
        }
        if i == 2 || i == 8 {
            post(m, 1, Group::Income, "Annual Subscriptions", 1200.0);
        }
        if i == GRANT_AT {
            post(m, 28, Group::Income, "Grant Income", 500.0);
        }
        if i == 9 {
            post(m, 9, Group::Income, "Misc Income", 25.0);
        }
        post(m, 1, Group::Expenses, "Payroll Expenses", 300.0);
        post(m, 1, Group::Expenses, "Payroll Expenses:Wages", 4000.0);
        post(
            m,
            1,
            Group::Expenses,
            "Employee Benefits:Health Insurance",
            600.0,
        );
        post(m, 1, Group::Expenses, "Rent or Lease", 1500.0);
        post(m, 5, Group::Expenses, "Office Expenses:Software", 200.0);
        if i == 3 {
            post(m, 6, Group::Expenses, "Office Expenses:Software", -50.0);
        }
        post(m, 28, Group::OtherIncome, "Interest Earned", 3.17);
        post(m, 28, Group::OtherExpenses, "Depreciation", 100.0);
    }
    Books {
        postings,
        sales: sales(current),
        active_employees: 7,
        inactive_employees: 2,
    }
}

/// Sales by customer over the same 13 months: a customer every month, one whose job
/// (a sub-customer) bills every third month, and a credit memo.
fn sales(current: Month) -> Vec<Sale> {
    let mut out = Vec::new();
    let mut sale = |m: Month, d: u32, customer: &str, amount: f64| {
        out.push(Sale {
            date: day(m, d),
            customer: customer.into(),
            amount,
        })
    };
    for i in 0..13 {
        let m = current.add_months(i - 12);
        let f = f64::from(i);
        sale(m, 1, "Acme Dental, LLC", 1500.0 + 10.0 * f);
        sale(m, 2, "Blue Sky", 800.25);
        if i % 3 == 0 {
            sale(m, 20, "Blue Sky:Server move", 333.33);
        }
        if i == 4 {
            sale(m, 25, "Acme Dental, LLC", -200.0);
        }
    }
    out
}

fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Each month's value of every fed metric: the sum of its accounts' postings.
fn expected(books: &Books) -> BTreeMap<(Month, &'static str), f64> {
    let targets: HashMap<&str, Option<&str>> = DEFAULT_TARGETS.into_iter().collect();
    let mut out = BTreeMap::new();
    for p in &books.postings {
        let target = targets
            .get(p.account.as_str())
            .unwrap_or_else(|| panic!("{} has no expected target", p.account));
        let Some(metric) = *target else { continue };
        let metric: &'static str = FED.into_iter().find(|m| *m == metric).unwrap();
        *out.entry((Month::from_date(p.date), metric)).or_insert(0.0) += p.amount;
    }
    out.values_mut().for_each(|v| *v = cents(*v));
    out
}

/// The server with QuickBooks Online pointed at `fake`, signed-in clients, the settings.
struct Qbo {
    app: TestApp,
    fake: FakeIntuit,
    settings: QuickBooksSettings,
    key: SecretKey,
    /// `QBR_SECRET_KEY` as given to the server.
    key_b64: String,
    /// Signed in as the test user; follows no redirects.
    browser: reqwest::Client,
    current: Month,
}

async fn spawn(books: impl FnOnce(Month) -> Books) -> Qbo {
    use salvo::conn::Acceptor;
    use salvo::prelude::*;
    let db = TestDb::new().await;
    let current = {
        let mut conn = db.conn().await;
        let org = org::load(&mut conn, 1).await.unwrap().unwrap();
        org.current_month(chrono::Utc::now())
    };
    let fake = FakeIntuit::start(books(current)).await;
    let acceptor = TcpListener::new("127.0.0.1:0").bind().await;
    let port = acceptor.holdings()[0]
        .local_addr
        .clone()
        .into_std()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let key = SecretKey::random_base64();
    let mut env: Vec<(&str, String)> = fake.env();
    env.push(("QBR_SECRET_KEY", key.clone()));
    env.push(("API_BASE_URL", base.clone()));
    env.push(("QUICKBOOKS_COUNT_EMPLOYEES", "true".into()));
    let mut settings = QuickBooksSettings::from_env(&Env::from_pairs(env)).unwrap();
    let online = settings.online.as_mut().unwrap();
    online.http.min_delay = Duration::from_millis(10);
    online.http.max_delay = Duration::from_millis(50);
    let auth = Auth::new(test_auth_config()).unwrap();
    let mut state = AppState::new(db.pool.clone(), 1);
    state.quickbooks = Arc::new(settings.clone());
    let service = server::service(state, auth.clone(), &Site::at_root("/nonexistent"));
    tokio::spawn(async move { Server::new(acceptor).serve(service).await });
    make_admin(&db, TEST_USER).await;
    let token = create_session(&db, TEST_USER, 8).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", format!("qbr_session={token}").parse().unwrap());
    headers.insert("origin", base.parse().unwrap());
    let client = |redirects: bool| {
        reqwest::Client::builder()
            .default_headers(headers.clone())
            .redirect(if redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            })
            .build()
            .unwrap()
    };
    let app = TestApp {
        db,
        base,
        http: client(true),
        anon: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        auth,
    };
    Qbo {
        browser: client(false),
        app,
        fake,
        settings,
        key: SecretKey::from_base64(&key).unwrap(),
        key_b64: key,
        current,
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

impl Qbo {
    fn month(&self, i: i32) -> Month {
        self.current.add_months(i - 12)
    }

    /// Connect → Intuit's consent page → callback, each redirect followed by hand;
    /// returns the callback URL Intuit sent the browser to.
    async fn connect(&self) -> String {
        let res = self
            .browser
            .get(self.app.url("/api/qbr/quickbooks/online/connect"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302, "{:?}", res.text().await);
        let to_intuit = location(&res);
        assert!(
            to_intuit.starts_with(&format!("{}/connect/oauth2?", self.fake.url)),
            "{to_intuit}"
        );
        let asked: HashMap<String, String> = reqwest::Url::parse(&to_intuit)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(asked["client_id"], CLIENT_ID);
        assert_eq!(asked["response_type"], "code");
        assert_eq!(asked["scope"], "com.intuit.quickbooks.accounting");
        assert_eq!(asked["redirect_uri"], self.app.url(CALLBACK));
        assert_eq!(asked["state"].len(), 43, "a 256-bit state");
        let res = self.app.anon.get(&to_intuit).send().await.unwrap();
        assert_eq!(res.status(), 302);
        let back = location(&res);
        assert!(back.starts_with(&self.app.url(CALLBACK)), "{back}");
        // The callback is public: Intuit's redirect may arrive without the session.
        let res = self.app.anon.get(&back).send().await.unwrap();
        assert_eq!(res.status(), 302, "{:?}", res.text().await);
        assert_eq!(
            location(&res),
            "/o/enersystems-llc/settings/quickbooks",
            "the organization that started the connect"
        );
        back
    }

    async fn sync(&self) -> Result<backend::collect::run::RunReport, SyncError> {
        let org = {
            let mut conn = self.app.db.conn().await;
            org::load(&mut conn, 1).await.unwrap().unwrap()
        };
        online::sync(&self.app.db.pool, &self.settings, &org, Trigger::Cli).await
    }

    async fn status(&self) -> Value {
        let (status, body) = self.app.get("/api/qbr/quickbooks/status").await;
        assert_eq!(status, 200, "{body}");
        body["data"].clone()
    }

    /// The stored tokens, opened with the key.
    async fn stored_tokens(&self) -> backend::collect::quickbooks::online::client::Tokens {
        let mut conn = self.app.db.conn().await;
        let row = quickbooks_online::connection(&mut conn, 1)
            .await
            .unwrap()
            .expect("connected");
        connect::open(&self.key, &row).unwrap()
    }

    /// (value, data_source, flags) of each stored value of month `i`.
    async fn stored(&self, i: i32) -> HashMap<String, (f64, String, Vec<String>)> {
        let mut conn = self.app.db.conn().await;
        metrics::rows_for_months(&mut conn, 1, &[self.month(i)])
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                let v = (r.value(), r.data_source.clone(), r.flags.clone());
                (r.metric_name, v)
            })
            .collect()
    }
}

/// Tables whose rows contain `needle`, as text or as the hex of a bytea.
async fn tables_containing(db: &TestDb, needle: &str) -> Vec<String> {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await;
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    assert!(tables
        .iter()
        .any(|t| t.name == "quickbooks_online_connections"));
    let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
    let mut out = Vec::new();
    for t in tables {
        let q = format!(
            "SELECT count(*) AS n FROM \"{}\" t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
            t.name
        );
        let c: Count = diesel::sql_query(q)
            .bind::<Text, _>(needle)
            .bind::<Text, _>(&hex)
            .get_result(&mut conn)
            .await
            .unwrap();
        if c.n > 0 {
            out.push(t.name);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn connecting_keeps_sealed_tokens_and_the_status_says_so() {
    let q = spawn(ledger).await;
    let before = q.status().await;
    assert_eq!(before["online_configured"], true);
    assert_eq!(before["online_connected"], false);
    assert_eq!(before["online_realm_id"], Value::Null);

    let callback = q.connect().await;
    let after = q.status().await;
    assert_eq!(after["online_connected"], true, "{after}");
    assert_eq!(after["online_realm_id"], REALM_ID);
    assert_eq!(after["online_last_error"], Value::Null);
    assert_eq!(q.fake.counters.code_exchanges.load(Ordering::SeqCst), 1);

    // Sealed: the tokens open with the key, and no table holds their text.
    let tokens = q.stored_tokens().await;
    assert_eq!(
        Some(tokens.refresh_token.clone()),
        q.fake.current_refresh_token()
    );
    let issued = q.fake.issued_tokens();
    assert!(issued.contains(&tokens.access_token));
    for token in &issued {
        assert_eq!(
            tables_containing(&q.app.db, token).await,
            Vec::<String>::new(),
            "a token in clear"
        );
    }
    let audited = audit_count(&q.app.db, "quickbooks.online_connect", REALM_ID).await;
    assert_eq!(audited, 1);

    // The state is good once.
    let again = q.app.anon.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), 400);
    assert!(again.text().await.unwrap().contains("expired"));
    assert_eq!(q.fake.counters.code_exchanges.load(Ordering::SeqCst), 1);
    // A state that did not start here.
    let forged = q
        .app
        .anon
        .get(
            q.app
                .url(&format!("{CALLBACK}?code=x&state=forged&realmId=1")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
}

/// Audit entries of `action` by the test user on `target`.
async fn audit_count(db: &TestDb, action: &str, target: &str) -> i64 {
    use diesel::sql_types::{BigInt, Text};
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await;
    diesel::sql_query(
        "SELECT count(*) AS n FROM audit_log WHERE action = $1 AND actor = 'local' AND target = $2",
    )
    .bind::<Text, _>(action)
    .bind::<Text, _>(target)
    .get_result::<Count>(&mut conn)
    .await
    .unwrap()
    .n
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_signed_in_user_connects_and_a_declined_consent_connects_nothing() {
    let q = spawn(ledger).await;
    let anonymous = q
        .app
        .anon
        .get(q.app.url("/api/qbr/quickbooks/online/connect"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let key = create_api_key(&q.app.db, "robot", "write").await;
    let with_key = q
        .app
        .anon
        .get(q.app.url("/api/qbr/quickbooks/online/connect"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(with_key.status(), 403, "an API key may not connect");

    q.fake.faults.deny_consent.store(true, Ordering::SeqCst);
    let res = q
        .browser
        .get(q.app.url("/api/qbr/quickbooks/online/connect"))
        .send()
        .await
        .unwrap();
    let res = q.app.anon.get(location(&res)).send().await.unwrap();
    let page = q.app.anon.get(location(&res)).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.text().await.unwrap().contains("declined"));
    assert_eq!(q.status().await["online_connected"], false);

    // Connected, then disconnected: the tokens are gone.
    q.connect().await;
    let res = q
        .app
        .http
        .post(q.app.url("/api/qbr/quickbooks/online/disconnect"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(q.status().await["online_connected"], false);
    assert_eq!(
        audit_count(&q.app.db, "quickbooks.online_disconnect", REALM_ID).await,
        1
    );
    let mut conn = q.app.db.conn().await;
    assert!(quickbooks_online::connection(&mut conn, 1)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(q.sync().await, Err(SyncError::NotConnected)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_stores_every_month_as_the_ledger_says() {
    let q = spawn(ledger).await;
    let manual_month = q.month(MANUAL_AT).to_string();
    let (status, body) = q
        .app
        .post(
            "/api/qbr/metrics/manual",
            &json!({"period": manual_month, "metrics": [{"metric_name": "mrr", "metric_value": MANUAL_MRR}]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    q.connect().await;
    let report = q.sync().await.unwrap();
    assert_eq!(report.months.len(), 13);

    // Intuit was asked for the current month and the 12 before, by month, accrual.
    let asked = q.fake.last_report_query.lock().unwrap().clone();
    assert_eq!(asked["start_date"], q.month(0).first_day().to_string());
    let last_day = q.current.next().first_day().pred_opt().unwrap();
    assert_eq!(asked["end_date"], last_day.to_string());
    assert_eq!(asked["summarize_column_by"], "Month");
    assert_eq!(asked["accounting_method"], "Accrual");
    assert_eq!(asked["minorversion"], "75");

    let expected = expected(&q.fake.books.lock().unwrap());
    for i in 0..13 {
        let month = q.month(i);
        let stored = q.stored(i).await;
        for metric in FED {
            let (value, source, flags) = stored
                .get(metric)
                .unwrap_or_else(|| panic!("{month} {metric} missing"));
            if i == MANUAL_AT && metric == "mrr" {
                assert_eq!(
                    (*value, source.as_str()),
                    (MANUAL_MRR, "manual"),
                    "manual kept"
                );
                continue;
            }
            let want = expected.get(&(month, metric)).copied().unwrap_or(0.0);
            assert!(
                (value - want).abs() < 0.005,
                "{month} {metric}: stored {value}, the ledger says {want}"
            );
            assert_eq!(source, "collected", "{month} {metric}");
            let unreconciled = flags.iter().any(|f| f == "unreconciled");
            assert_eq!(
                unreconciled,
                i == GRANT_AT && INCOME_METRICS.contains(&metric),
                "{month} {metric}: {flags:?}"
            );
        }
    }
    // A refund month, and one whose NRR is nothing but a refund.
    assert_eq!(expected[&(q.month(4), "nrr")], 1100.0);
    assert_eq!(expected[&(q.month(7), "nrr")], -150.0);
    let now = q.stored(12).await;
    assert_eq!(now["employees"].0, 7.0, "active employees only");

    // Derived values and SmartNumbers follow.
    let i = 6;
    let e = |m: &str| expected.get(&(q.month(i), m)).copied().unwrap_or(0.0);
    let services = e("nrr") + e("mrr");
    let total: f64 = INCOME_METRICS.iter().map(|m| e(m)).sum();
    assert!((q.stored(i).await["total_revenue"].0 - total).abs() < 0.005);
    let (status, body) = q
        .app
        .get(&format!("/api/qbr/smartnumbers?period={}", q.month(i)))
        .await;
    assert_eq!(status, 200, "{body}");
    let number = |key: &str| {
        body["data"]["smartnumbers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["key"] == key)
            .and_then(|n| n["value"].as_f64())
            .unwrap_or_else(|| panic!("{key} in {body}"))
    };
    assert!((number("revenue_from_services_pct") - services / total).abs() < 1e-4);
    assert!((number("services_from_mrr_pct") - e("mrr") / services).abs() < 1e-4);

    let status = q.status().await;
    assert_eq!(status["syncs"][0]["source"], "online");
    assert_eq!(status["syncs"][0]["months"], 13);
    assert_eq!(status["unmapped_accounts"], json!(["Grant Income"]));
    assert_eq!(status["online_last_error"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_gives_each_customer_its_revenue_with_its_jobs() {
    let q = spawn(ledger).await;
    q.connect().await;
    q.sync().await.unwrap();
    // Without a PSA the books' customers are the clients.
    let (status, body) = q.app.get("/api/qbr/clients").await;
    assert_eq!(status, 200, "{body}");
    let clients = body["data"]["clients"].as_array().unwrap().clone();
    let id_of = |name: &str| {
        clients
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {body}"))["id"]
            .as_i64()
            .unwrap()
    };
    let sales = q.fake.books.lock().unwrap().sales.clone();
    for name in ["Acme Dental, LLC", "Blue Sky"] {
        let id = id_of(name);
        let (from, to) = (q.month(0), q.month(12));
        let (status, body) = q
            .app
            .get(&format!(
                "/api/qbr/clients/{id}/metrics?from={from}&to={to}"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        let months = body["data"]["months"].as_array().unwrap();
        assert_eq!(months.len(), 13);
        for (i, row) in months.iter().enumerate() {
            let month = q.month(i32::try_from(i).unwrap());
            let want: f64 = sales
                .iter()
                .filter(|s| Month::from_date(s.date) == month)
                .filter(|s| s.customer.split(':').next() == Some(name))
                .map(|s| s.amount)
                .sum();
            let revenue = row["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["metric"] == "revenue")
                .unwrap_or_else(|| panic!("{name} {month}: {row}"));
            assert!(
                (revenue["value"].as_f64().unwrap() - want).abs() < 0.005,
                "{name} {month}: {revenue} against {want}"
            );
            assert_eq!(revenue["source"], "collected");
        }
    }
    // The job bills in month 0: Blue Sky's revenue that month has it, and the credit
    // memo of month 4 is off Acme's.
    assert!(sales.iter().any(|s| s.customer == "Blue Sky:Server move"));
    let (status, body) = q
        .app
        .get(&format!(
            "/api/qbr/clients/{}/metrics?from={m}&to={m}",
            id_of("Acme Dental, LLC"),
            m = q.month(4)
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let acme4 = body["data"]["months"][0]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metric"] == "revenue")
        .unwrap()["value"]
        .as_f64()
        .unwrap();
    assert!((acme4 - 1340.0).abs() < 0.005, "{acme4}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_renewed_once_and_the_rotated_refresh_token_kept() {
    let q = spawn(ledger).await;
    q.connect().await;
    let first = q.stored_tokens().await;
    q.fake.faults.expire_next.store(1, Ordering::SeqCst);
    q.sync().await.unwrap();
    assert_eq!(q.fake.counters.unauthorized.load(Ordering::SeqCst), 1);
    assert_eq!(q.fake.counters.refreshes.load(Ordering::SeqCst), 1);
    let renewed = q.stored_tokens().await;
    assert_ne!(renewed.refresh_token, first.refresh_token, "rotated");
    assert_eq!(
        Some(renewed.refresh_token.clone()),
        q.fake.current_refresh_token()
    );
    assert!(q
        .fake
        .retired_refresh_tokens()
        .contains(&first.refresh_token));
    assert_ne!(renewed.access_token, first.access_token);

    // The kept tokens serve the next sync as they are, and renew again when refused.
    q.sync().await.unwrap();
    assert_eq!(q.fake.counters.refreshes.load(Ordering::SeqCst), 1);
    q.fake.faults.expire_next.store(1, Ordering::SeqCst);
    q.sync().await.unwrap();
    assert_eq!(q.fake.counters.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(
        Some(q.stored_tokens().await.refresh_token),
        q.fake.current_refresh_token()
    );
    // Renewed tokens are sealed like the first ones.
    let issued = q.fake.issued_tokens();
    assert_eq!(issued.len(), 6, "three grants of two tokens");
    for token in &issued {
        assert_eq!(
            tables_containing(&q.app.db, token).await,
            Vec::<String>::new()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_call_is_retried() {
    let q = spawn(ledger).await;
    q.connect().await;
    q.fake.faults.rate_limit_next.store(1, Ordering::SeqCst);
    let report = q.sync().await.unwrap();
    assert!(report.values_written > 0);
    assert_eq!(q.fake.counters.rate_limited.load(Ordering::SeqCst), 1);
    assert_eq!(
        q.fake.counters.api_calls.load(Ordering::SeqCst),
        4,
        "the profit and loss twice (429, then 200), the sales by customer and the employee count"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_sync_changes_nothing_and_says_why() {
    let q = spawn(ledger).await;
    assert!(matches!(q.sync().await, Err(SyncError::NotConnected)));
    q.connect().await;
    q.sync().await.unwrap();
    // The books change, but Intuit fails: nothing of it is stored.
    q.fake.books.lock().unwrap().postings.push(Posting {
        date: day(q.current, 2),
        group: Group::Income,
        account: "Managed Services".into(),
        amount: 999.0,
    });
    let before = checksum(&q.app.db).await;
    q.fake.faults.fail_api.store(true, Ordering::SeqCst);
    let err = q.sync().await.unwrap_err();
    assert!(matches!(err, SyncError::Failed(_)), "{err}");
    assert_eq!(checksum(&q.app.db).await, before);
    let status = q.status().await;
    assert!(
        status["online_last_error"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{status}"
    );

    // Access refused even after a renewal: connect again; still nothing stored.
    q.fake.faults.fail_api.store(false, Ordering::SeqCst);
    q.fake.faults.expire_next.store(2, Ordering::SeqCst);
    let err = q.sync().await.unwrap_err();
    assert!(matches!(err, SyncError::Reconnect(_)), "{err}");
    assert_eq!(checksum(&q.app.db).await, before);
    assert!(q.status().await["online_last_error"]
        .as_str()
        .is_some_and(|e| e.contains("connect QuickBooks Online again")));

    // Once Intuit answers, the change arrives and the error is cleared.
    q.sync().await.unwrap();
    assert_ne!(checksum(&q.app.db).await, before);
    assert_eq!(q.status().await["online_last_error"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledger_months_are_the_reports_months() {
    // The fake's report for the range has one column per month, in order.
    let current: Month = "2025-03".parse().unwrap();
    let books = ledger(current);
    let r = test_support::intuit::profit_and_loss(
        &books,
        current.add_months(-12).first_day(),
        day(current, 31),
        "Accrual",
    );
    let parsed = backend::collect::quickbooks::online::report::parse(&r.to_string()).unwrap();
    assert_eq!(parsed.months.len(), 13);
    assert_eq!(parsed.months[0], current.add_months(-12));
    assert_eq!(parsed.months[12].first_day().month(), 3);
    let names: Vec<&str> = parsed
        .accounts
        .iter()
        .map(|a| a.full_name.as_str())
        .collect();
    for (account, _) in DEFAULT_TARGETS {
        assert!(names.contains(&account), "{account} in {names:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_syncs_the_connected_company() {
    let q = spawn(ledger).await;
    let qbr = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_qbr"));
        cmd.args(["quickbooks", "sync-online"])
            .env("DATABASE_URL", &q.app.db.url)
            .env("RUST_LOG", "error")
            .env("QBR_SECRET_KEY", &q.key_b64)
            .env("API_BASE_URL", &q.app.base)
            .envs(q.fake.env())
            .stdin(std::process::Stdio::null());
        cmd
    };
    let run =
        |mut cmd: std::process::Command| tokio::task::spawn_blocking(move || cmd.output().unwrap());
    let out = run(qbr()).await.unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no QuickBooks Online company is connected"),
        "{stderr}"
    );

    q.connect().await;
    let before = checksum(&q.app.db).await;
    let out = run(qbr()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let months = format!("{} to {}", q.month(0), q.current);
    assert!(
        stdout.contains(&months) && stdout.contains("values written"),
        "{stdout}"
    );
    assert_ne!(checksum(&q.app.db).await, before);
    assert_eq!(q.status().await["syncs"][0]["source"], "online");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_nightly_schedule_syncs_a_connected_company_without_other_vendors() {
    use backend::collect::{schedule, CollectorConfig};
    let q = spawn(ledger).await;
    let env = Env::from_pairs([
        ("COLLECTOR_ENABLED", "true"),
        ("COLLECTOR_CRON", "*/2 * * * * *"),
    ]);
    let cfg = || CollectorConfig::from_env(&env).unwrap();
    assert!(cfg().vendors.is_empty());
    // Without QuickBooks Online set up there is nothing to run.
    let none = schedule::start_with_quickbooks(q.app.db.pool.clone(), cfg(), Arc::default(), 1)
        .await
        .unwrap();
    assert!(none.is_none());

    q.connect().await;
    let books = Arc::new(q.settings.clone());
    let running = schedule::start_with_quickbooks(q.app.db.pool.clone(), cfg(), books, 1)
        .await
        .unwrap()
        .expect("started for QuickBooks Online");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut conn = q.app.db.conn().await;
        let log = backend::store::collection::latest(&mut conn, 1, 10)
            .await
            .unwrap();
        if log
            .iter()
            .any(|r| r.trigger == "schedule" && r.status == "success")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no scheduled sync: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    running.shutdown().await;
    assert_eq!(q.status().await["syncs"][0]["source"], "online");
}
