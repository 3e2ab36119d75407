//! What the migrations seed and allow agrees with the code: the seeded thresholds are
//! `shared::thresholds::default_bands`, the `vendor` rows are `shared::Vendor`'s, and
//! every CHECK constraint on a word column allows exactly the words of its typed enum;
//! `src/schema.rs` declares the migrated tables' primary keys and columns.
use crate::common::TestDb;
use backend::store::thresholds;
use diesel::sql_types::{Integer, Text};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use qbr_shared::api::DataSource;
use qbr_shared::api::PaperSize;
use qbr_shared::collection::{RunStatus, Trigger};
use qbr_shared::notify::{Channel, DeliveryStatus, NotifyEvent, ReportKind};
use qbr_shared::smartnumbers::SMARTNUMBERS;
use qbr_shared::thresholds::default_bands;
use qbr_shared::vendor::MANUAL_VENDOR_ID;
use qbr_shared::Vendor;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread")]
async fn seeded_thresholds_are_the_default_bands() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let stored = thresholds::bands_by_key(&mut conn, 1).await.unwrap();
    for def in SMARTNUMBERS {
        assert_eq!(
            stored.get(def.key).copied(),
            default_bands(def.key),
            "{}",
            def.key
        );
    }
    assert!(stored.keys().all(|k| default_bands(k).is_some()));
}

#[derive(QueryableByName)]
struct VendorRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    name: String,
}

#[tokio::test(flavor = "multi_thread")]
async fn vendor_rows_are_the_vendor_model() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let rows: Vec<VendorRow> = diesel::sql_query("SELECT id, name FROM vendor ORDER BY id")
        .load(&mut conn)
        .await
        .unwrap();
    let stored: BTreeSet<(i32, String)> = rows.into_iter().map(|r| (r.id, r.name)).collect();
    let mut expected: BTreeSet<(i32, String)> = Vendor::ALL
        .iter()
        .map(|v| (v.id(), v.label().to_string()))
        .collect();
    expected.insert((MANUAL_VENDOR_ID, "manual".to_string()));
    assert_eq!(stored, expected);
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    definition: String,
}

/// The quoted words a CHECK constraint on `table.column` allows.
async fn allowed_words(db: &TestDb, table: &str, column: &str) -> BTreeSet<String> {
    let mut conn = db.conn().await;
    let checks: Vec<Check> = diesel::sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         WHERE c.contype = 'c' AND t.relname = $1",
    )
    .bind::<Text, _>(table)
    .load(&mut conn)
    .await
    .unwrap();
    let check = checks
        .iter()
        .find(|c| {
            c.definition.contains(&format!("({column})"))
                || c.definition.contains(&format!("(({column})"))
        })
        .unwrap_or_else(|| panic!("no CHECK on {table}.{column}"));
    check
        .definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn words(all: impl IntoIterator<Item = &'static str>) -> BTreeSet<String> {
    all.into_iter().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_constraints_allow_exactly_the_typed_words() {
    let db = TestDb::new().await;
    assert_eq!(
        allowed_words(&db, "qbr_collection_log", "status").await,
        words(RunStatus::ALL.iter().map(|s| s.as_str()))
    );
    assert_eq!(
        allowed_words(&db, "qbr_collection_log", "trigger").await,
        words(Trigger::ALL.iter().map(|s| s.as_str()))
    );
    assert_eq!(
        allowed_words(&db, "qbr_metrics_monthly", "data_source").await,
        words(DataSource::ALL.iter().map(|s| s.as_str()))
    );
    let events = words(NotifyEvent::WORDS.iter().copied());
    for (table, column, expected) in [
        (
            "notification_log",
            "channel",
            words(Channel::WORDS.iter().copied()),
        ),
        ("notification_log", "event", events.clone()),
        ("notification_events", "event", events.clone()),
        (
            "notification_log",
            "status",
            words(DeliveryStatus::WORDS.iter().copied()),
        ),
        (
            "report_deliveries",
            "status",
            words(DeliveryStatus::WORDS.iter().copied()),
        ),
        (
            "report_deliveries",
            "kind",
            words(ReportKind::WORDS.iter().copied()),
        ),
        (
            "report_delivery_settings",
            "paper",
            words(PaperSize::WORDS.iter().copied()),
        ),
    ] {
        assert_eq!(
            allowed_words(&db, table, column).await,
            expected,
            "{table}.{column}"
        );
    }
    // A recipient's events: an array contained in the words.
    let mut conn = db.conn().await;
    let checks: Vec<Check> = diesel::sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         WHERE c.contype = 'c' AND t.relname = 'notification_recipients'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let check = checks
        .iter()
        .find(|c| c.definition.contains("events <@"))
        .expect("a CHECK on notification_recipients.events");
    let allowed: BTreeSet<String> = check
        .definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert_eq!(allowed, events);
}

/// A `diesel::table!` of `src/schema.rs`: its name, primary key and columns (name,
/// nullable).
type Declared = (String, Vec<String>, Vec<(String, bool)>);

/// Each `diesel::table!` of `src/schema.rs`.
fn declared_tables() -> Vec<Declared> {
    let text = include_str!("../../src/schema.rs");
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "diesel::table! {" {
            continue;
        }
        let head = lines.next().unwrap().trim();
        let (name, rest) = head.split_once(" (").unwrap();
        let key: Vec<String> = rest
            .split_once(')')
            .unwrap()
            .0
            .split(',')
            .map(|k| k.trim().to_string())
            .collect();
        let mut columns = Vec::new();
        for line in lines.by_ref() {
            let line = line.trim();
            if line == "}" {
                break;
            }
            if let Some((column, ty)) = line.split_once(" -> ") {
                columns.push((column.to_string(), ty.starts_with("Nullable<")));
            }
        }
        out.push((name.to_string(), key, columns));
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_declares_the_migrated_keys_and_columns() {
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = Text)]
        column: String,
    }
    #[derive(QueryableByName)]
    struct Column {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        nullable: bool,
    }
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    let declared = declared_tables();
    assert!(declared.len() >= 18, "{}", declared.len());
    for (table, key, columns) in declared {
        let stored_key: Vec<Key> = diesel::sql_query(
            "SELECT a.attname::text AS column \
               FROM pg_constraint c \
               JOIN unnest(c.conkey) WITH ORDINALITY k(attnum, n) ON true \
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
              WHERE c.contype = 'p' AND c.conrelid = $1::regclass ORDER BY k.n",
        )
        .bind::<Text, _>(&table)
        .load(&mut conn)
        .await
        .unwrap();
        let stored_key: Vec<String> = stored_key.into_iter().map(|k| k.column).collect();
        assert_eq!(stored_key, key, "primary key of {table}");
        let stored: Vec<Column> = diesel::sql_query(
            "SELECT a.attname::text AS name, NOT a.attnotnull AS nullable FROM pg_attribute a \
              WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped \
              ORDER BY a.attnum",
        )
        .bind::<Text, _>(&table)
        .load(&mut conn)
        .await
        .unwrap();
        let stored: BTreeSet<(String, bool)> =
            stored.into_iter().map(|c| (c.name, c.nullable)).collect();
        let columns: BTreeSet<(String, bool)> = columns.into_iter().collect();
        assert_eq!(stored, columns, "columns of {table}");
    }
}
