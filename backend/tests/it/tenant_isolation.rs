//! Row-level security, the wall behind the queries' own filters (docs/MULTITENANCY.md):
//! with two organizations' rows in the tables, a query that names no organization on
//! purpose sees only the entered one's, none without one, and cannot write another's;
//! the server's connections act as `qbr_app`, neither owner nor superuser; every
//! checkout enters an organization or leaves its last user's; a database owner that is
//! not a superuser migrates once an administrator granted it the role.
use crate::common::TestDb;
use backend::db::{self, tenant};
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::collections::BTreeSet;

/// The tables that carry `organization_id` but have no row-level security: the ones the
/// auth guard reads before it knows the organization (docs/MULTITENANCY.md).
const PLATFORM_TABLES: &[&str] = &["sessions", "memberships", "users"];

async fn exec(conn: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    #[diesel(sql_type = Integer)]
    organization_id: i32,
    #[diesel(sql_type = Text)]
    metric_name: String,
}

/// Every monthly value, with no filter on purpose: what row-level security lets through.
async fn all_values(conn: &mut AsyncPgConnection) -> Vec<Row> {
    diesel::sql_query("SELECT organization_id, metric_name FROM qbr_metrics_monthly ORDER BY 1, 2")
        .load(conn)
        .await
        .unwrap()
}

/// Inserts organization `id` (with a URL name where organizations have one).
async fn insert_organization(conn: &mut AsyncPgConnection, id: i32, name: &str) {
    #[derive(QueryableByName)]
    struct Has {
        #[diesel(sql_type = Bool)]
        slug: bool,
    }
    let has: Has = diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns \
          WHERE table_schema = current_schema() AND table_name = 'organization' \
            AND column_name = 'slug') AS slug",
    )
    .get_result(conn)
    .await
    .unwrap();
    let sql = if has.slug {
        format!("INSERT INTO organization (id, name, slug) VALUES ({id}, '{name}', 'org-{id}')")
    } else {
        format!("INSERT INTO organization (id, name) VALUES ({id}, '{name}')")
    };
    exec(conn, &sql).await;
}

/// Organization 2 besides the seeded 1, and a value of each, written as the owner
/// (the tests' own connection is the superuser's: no row-level security).
async fn two_organizations(db: &TestDb) {
    let mut admin = db.conn().await;
    insert_organization(&mut admin, 2, "Peer Group B").await;
    exec(
        &mut admin,
        "INSERT INTO qbr_metrics_monthly \
         (organization_id, period, metric_name, metric_value, vendor_id, data_source) VALUES \
         (1, '2025-01', 'mrr', 100, 1, 'manual'), (1, '2025-01', 'nrr', 10, 1, 'manual'), \
         (2, '2025-01', 'mrr', 200, 1, 'manual')",
    )
    .await;
    exec(
        &mut admin,
        "INSERT INTO qbr_thresholds (organization_id, metric_name, green_min) VALUES (2, 'rhem', 1)",
    )
    .await;
    exec(
        &mut admin,
        "INSERT INTO audit_log (organization_id, actor, action) VALUES \
         (1, 'a@one', 'manual_entry'), (2, 'b@two', 'manual_entry'), (NULL, 'a@one', 'auth.sign_in')",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_without_its_filter_sees_only_the_entered_organization() {
    let db = TestDb::new().await;
    two_organizations(&db).await;
    let mut admin = db.conn().await;
    assert_eq!(all_values(&mut admin).await.len(), 3, "B's rows are there");

    let mut conn = db.pool.get().await.unwrap();
    tenant::enter(&mut conn, 1).await.unwrap();
    assert_eq!(tenant::current(&mut conn).await.unwrap(), Some(1));
    let seen = all_values(&mut conn).await;
    assert_eq!(
        seen,
        vec![
            Row {
                organization_id: 1,
                metric_name: "mrr".into()
            },
            Row {
                organization_id: 1,
                metric_name: "nrr".into()
            },
        ]
    );
    // Another table, and the audit log: the organization's entries and the server's.
    #[derive(QueryableByName)]
    struct Org {
        #[diesel(sql_type = Nullable<Integer>)]
        organization_id: Option<i32>,
    }
    let thresholds: Vec<Org> =
        diesel::sql_query("SELECT DISTINCT organization_id FROM qbr_thresholds")
            .load(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        thresholds
            .iter()
            .map(|r| r.organization_id)
            .collect::<Vec<_>>(),
        vec![Some(1)]
    );
    let audit: Vec<Org> = diesel::sql_query("SELECT organization_id FROM audit_log ORDER BY 1")
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        audit.iter().map(|r| r.organization_id).collect::<Vec<_>>(),
        vec![Some(1), None]
    );

    // Entered as B: B's, and never A's.
    tenant::enter(&mut conn, 2).await.unwrap();
    let seen = all_values(&mut conn).await;
    assert_eq!(
        seen,
        vec![Row {
            organization_id: 2,
            metric_name: "mrr".into()
        }]
    );
    // The store's own (filtered) query agrees, and asking it for A's rows finds none.
    let months = ["2025-01".parse().unwrap()];
    let own = backend::store::metrics::rows_for_months(&mut conn, 2, &months)
        .await
        .unwrap();
    assert_eq!(own.len(), 1);
    let other = backend::store::metrics::rows_for_months(&mut conn, 1, &months)
        .await
        .unwrap();
    assert!(other.is_empty(), "A's rows while entered as B: {other:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_organization_no_tenant_row_is_seen() {
    let db = TestDb::new().await;
    two_organizations(&db).await;
    let mut conn = db.pool.get().await.unwrap();
    assert_eq!(tenant::current(&mut conn).await.unwrap(), None);
    assert!(all_values(&mut conn).await.is_empty());
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    for table in [
        "qbr_thresholds",
        "qbr_smartnumbers",
        "api_keys",
        "qbwc_sessions",
    ] {
        let c: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(&mut conn)
            .await
            .unwrap();
        assert_eq!(c.n, 0, "{table}");
    }
    // Entered, then left: nothing again.
    tenant::enter(&mut conn, 1).await.unwrap();
    assert_eq!(all_values(&mut conn).await.len(), 2);
    tenant::leave(&mut conn).await.unwrap();
    assert!(all_values(&mut conn).await.is_empty());
    // Writing needs an organization too.
    let err = diesel::sql_query(
        "INSERT INTO qbr_metrics_monthly \
         (organization_id, period, metric_name, metric_value, vendor_id, data_source) \
         VALUES (1, '2025-02', 'mrr', 1, 1, 'manual')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_for_another_organization_fails() {
    let db = TestDb::new().await;
    two_organizations(&db).await;
    let mut conn = db.pool.get().await.unwrap();
    tenant::enter(&mut conn, 1).await.unwrap();

    let insert = diesel::sql_query(
        "INSERT INTO qbr_metrics_monthly \
         (organization_id, period, metric_name, metric_value, vendor_id, data_source) \
         VALUES (2, '2025-02', 'mrr', 1, 1, 'manual')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(
        insert.to_string().contains("row-level security"),
        "{insert}"
    );
    // Moving one of A's rows to B is a write for B.
    let moved = diesel::sql_query(
        "UPDATE qbr_metrics_monthly SET organization_id = 2 WHERE metric_name = 'nrr'",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(moved.to_string().contains("row-level security"), "{moved}");
    // B's rows can't be found to change or delete.
    let updated = diesel::sql_query("UPDATE qbr_metrics_monthly SET metric_value = 0")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(updated, 2, "A's two rows only");
    let deleted = diesel::sql_query("DELETE FROM qbr_metrics_monthly WHERE organization_id = 2")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(deleted, 0);
    // An audit entry for B is refused; the server's own (no organization) is not.
    let audit = diesel::sql_query(
        "INSERT INTO audit_log (organization_id, actor, action) VALUES (2, 'x', 'manual_entry')",
    )
    .execute(&mut conn)
    .await
    .unwrap_err();
    assert!(audit.to_string().contains("row-level security"), "{audit}");
    exec(
        &mut conn,
        "INSERT INTO audit_log (organization_id, actor, action) VALUES (NULL, 'x', 'auth.logout')",
    )
    .await;
    // The audit log is append-only for the application.
    let erase = diesel::sql_query("DELETE FROM audit_log")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(erase.to_string().contains("permission denied"), "{erase}");

    // A store function handed B's id while entered as A writes nothing of B's: refused.
    let write = backend::store::metrics::ValueWrite {
        metric: "mrr",
        value: 5.0,
        vendor_id: 1,
        source: qbr_shared::api::DataSource::Manual,
        flags: Vec::new(),
        notes: None,
        actor: "test",
        collected_at: None,
    };
    let month = "2025-03".parse().unwrap();
    assert!(
        backend::store::metrics::write_value(&mut conn, 2, month, &write)
            .await
            .is_err()
    );

    let mut admin = db.conn().await;
    let b: Vec<Row> = diesel::sql_query(
        "SELECT organization_id, metric_name FROM qbr_metrics_monthly WHERE organization_id = 2",
    )
    .load(&mut admin)
    .await
    .unwrap();
    assert_eq!(b.len(), 1, "B's value is untouched and alone: {b:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_enters_for_itself_only() {
    let db = TestDb::new().await;
    two_organizations(&db).await;
    let mut conn = db.pool.get().await.unwrap();
    tenant::enter(&mut conn, 1).await.unwrap();
    let inside = conn
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            tenant::enter_local(tx, 2).await?;
            let b = all_values(tx).await;
            // The write lock enters in the same statement.
            backend::store::lock_organization_writes(tx, 1).await?;
            let a = all_values(tx).await;
            Ok((b, a))
        })
        .await
        .unwrap();
    assert_eq!(inside.0.len(), 1);
    assert!(inside.0.iter().all(|r| r.organization_id == 2));
    assert_eq!(inside.1.len(), 2);
    assert!(inside.1.iter().all(|r| r.organization_id == 1));
    // After it, the connection's own organization again.
    assert_eq!(tenant::current(&mut conn).await.unwrap(), Some(1));
    // A transaction on a connection that entered none.
    let mut bare = db.pool.get().await.unwrap();
    let seen = bare
        .transaction::<_, diesel::result::Error, _>(async |tx| {
            tenant::enter_local(tx, 2).await?;
            Ok(all_values(tx).await)
        })
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(tenant::current(&mut bare).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_checkout_enters_or_leaves_whatever_the_last_user_entered() {
    let db = TestDb::new().await;
    two_organizations(&db).await;
    // One connection, used again and again.
    let pool = db::pool(&db.url, 1).unwrap();
    {
        let mut conn = tenant::checkout(&pool, 2).await.unwrap();
        assert_eq!(all_values(&mut conn).await.len(), 1);
    }
    // Straight from the pool it is as its last user left it (the pool runs no statement
    // at checkout): this is why nothing but `tenant` and the request's guarded
    // connection take one (`every_checkout_decides_its_organization`).
    {
        let mut raw = pool.get().await.unwrap();
        assert_eq!(tenant::current(&mut raw).await.unwrap(), Some(2));
    }
    {
        let mut conn = tenant::checkout_platform(&pool).await.unwrap();
        assert_eq!(tenant::current(&mut conn).await.unwrap(), None);
        assert!(all_values(&mut conn).await.is_empty());
    }
    {
        let mut conn = tenant::checkout(&pool, 2).await.unwrap();
        drop(conn);
        conn = tenant::checkout(&pool, 1).await.unwrap();
        assert_eq!(tenant::current(&mut conn).await.unwrap(), Some(1));
        assert!(all_values(&mut conn)
            .await
            .iter()
            .all(|r| r.organization_id == 1));
    }
    assert_eq!(pool.status().size, 1, "the same connection, reused");
}

/// Every `.rs` file under `dir`.
fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_checkout_decides_its_organization() {
    // A connection from `pool.get()` may still be in its last user's organization.
    // Only `db` (where `tenant::checkout` and `tenant::checkout_platform` enter or
    // leave one) and the request's connection (`http::context::conn`, entered by the
    // auth guard after its look-up of platform tables) take one that way.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let text: String = std::fs::read_to_string(&file)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let n = text.matches("pool.get()").count();
        if n > 0 && !rel.starts_with("db/") {
            found.push((rel, n));
        }
    }
    assert_eq!(found, vec![("http/context.rs".to_string(), 1)]);
}

#[derive(QueryableByName)]
struct Me {
    #[diesel(sql_type = Text)]
    current: String,
    #[diesel(sql_type = Text)]
    session: String,
    #[diesel(sql_type = Bool)]
    rolsuper: bool,
    #[diesel(sql_type = Bool)]
    rolbypassrls: bool,
    #[diesel(sql_type = BigInt)]
    owned: i64,
}

async fn me(conn: &mut AsyncPgConnection) -> Me {
    diesel::sql_query(
        "SELECT current_user::text AS current, session_user::text AS session, \
                r.rolsuper, r.rolbypassrls, \
                (SELECT count(*) FROM pg_tables t \
                  WHERE t.schemaname = current_schema() AND t.tableowner = current_user) AS owned \
           FROM pg_roles r WHERE r.rolname = current_user",
    )
    .get_result(conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_application_role_is_neither_owner_nor_superuser() {
    let db = TestDb::new().await;
    let mut conn = db.pool.get().await.unwrap();
    let me = me(&mut conn).await;
    assert_eq!(me.current, tenant::APP_ROLE);
    assert_eq!(
        me.session, "postgres",
        "the login user is the cluster's superuser"
    );
    assert!(!me.rolsuper && !me.rolbypassrls);
    assert_eq!(me.owned, 0, "qbr_app owns no table");
    // Nor may it change the schema.
    let ddl = diesel::sql_query("ALTER TABLE qbr_metrics_monthly DISABLE ROW LEVEL SECURITY")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(ddl.to_string().contains("must be owner"), "{ddl}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_tenant_table_has_row_level_security() {
    let db = TestDb::new().await;
    let mut admin = db.conn().await;
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        rls: bool,
        #[diesel(sql_type = Bool)]
        forced: bool,
        #[diesel(sql_type = BigInt)]
        policies: i64,
    }
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT c.relname::text AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, \
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
          WHERE n.nspname = current_schema() AND c.relkind = 'r' \
            AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                         AND a.attname = 'organization_id' AND NOT a.attisdropped) \
          ORDER BY 1",
    )
    .load(&mut admin)
    .await
    .unwrap();
    assert!(tables.len() >= 15, "{}", tables.len());
    for t in &tables {
        if PLATFORM_TABLES.contains(&t.name.as_str()) {
            continue;
        }
        assert!(
            t.rls && t.policies > 0,
            "{} has organization_id but no row-level security",
            t.name
        );
        // Not forced: the owner (migrations, SECURITY DEFINER look-ups) sees every row.
        assert!(!t.forced, "{}", t.name);
    }
}

/// `url` with another user and database (the cluster's socket and port kept).
fn url_as(url: &str, user: &str, database: &str) -> String {
    let rest = url.split_once('@').unwrap().1;
    let query = rest.split_once('?').unwrap().1;
    format!("postgres://{user}@/{database}?{query}")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_owner_that_is_no_superuser_migrates_once_granted_the_role() {
    let db = TestDb::new().await;
    let admin_url = url_as(&db.url, "postgres", "postgres");
    let mut admin = AsyncPgConnection::establish(&admin_url).await.unwrap();
    let owner = format!("qbr_owner_{}", std::process::id());
    let database = format!("{owner}_db");
    // As README's Production: `createuser qbr` and `createdb --owner qbr qbr`.
    exec(&mut admin, &format!("CREATE ROLE {owner} LOGIN")).await;
    exec(
        &mut admin,
        &format!("CREATE DATABASE {database} OWNER {owner}"),
    )
    .await;
    let url = url_as(&db.url, &owner, &database);

    // The role exists (the cluster's other databases made it), but the owner may not
    // grant it to itself: the migration stops and says what to run.
    let refused = db::run_migrations(&url).await.unwrap_err();
    let said = format!("{refused:#}");
    assert!(
        said.contains("not a member of the role qbr_app")
            && said.contains(&format!("GRANT qbr_app TO {owner}")),
        "{said}"
    );
    exec(&mut admin, &format!("GRANT qbr_app TO {owner}")).await;
    let applied = db::run_migrations(&url).await.unwrap();
    assert!(!applied.is_empty());

    // The owner itself sees every row; the server's connections act as qbr_app.
    let mut as_owner = AsyncPgConnection::establish(&url).await.unwrap();
    insert_organization(&mut as_owner, 2, "B").await;
    exec(
        &mut as_owner,
        "INSERT INTO qbr_metrics_monthly \
         (organization_id, period, metric_name, metric_value, vendor_id, data_source) VALUES \
         (1, '2025-01', 'mrr', 1, 1, 'manual'), (2, '2025-01', 'mrr', 2, 1, 'manual')",
    )
    .await;
    let pool = db::pool(&url, 2).unwrap();
    {
        let mut conn = pool.get().await.unwrap();
        let me = me(&mut conn).await;
        assert_eq!(
            (me.current.as_str(), me.session.as_str()),
            ("qbr_app", owner.as_str())
        );
        assert!(!me.rolsuper && !me.rolbypassrls);
        assert_eq!(me.owned, 0);
        assert!(all_values(&mut conn).await.is_empty());
        tenant::enter(&mut conn, 2).await.unwrap();
        let seen = all_values(&mut conn).await;
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].organization_id, 2);
        // The SECURITY DEFINER look-ups answer before any organization is entered.
        tenant::leave(&mut conn).await.unwrap();
        exec(
            &mut as_owner,
            "INSERT INTO api_keys (organization_id, name, key_prefix, key_hash, scopes, created_by) \
             VALUES (2, 'k', 'qbr_k', '\\x0102', '{read}', 'test')",
        )
        .await;
        let found = backend::store::api_keys::find_active_with_org(&mut conn, &[1u8, 2u8])
            .await
            .unwrap();
        let found = found.expect("the key, found by its hash");
        assert_eq!(found.key.organization_id, 2);
        assert_eq!(found.org.map(|o| o.name).as_deref(), Some("B"));
        let owned = all_values(&mut as_owner).await;
        assert_eq!(
            owned.len(),
            2,
            "the owner is not subject to row-level security"
        );
    }
    pool.close();
    drop(pool);
    drop(as_owner);
    exec(
        &mut admin,
        &format!("DROP DATABASE {database} WITH (FORCE)"),
    )
    .await;
    exec(&mut admin, &format!("DROP ROLE {owner}")).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_guard_enters_the_organization_of_the_request() {
    let app = crate::common::TestApp::spawn().await;
    two_organizations(&app.db).await;
    // The test user is a member of both.
    backend::service::tenants::bootstrap_admins(
        &mut app.db.conn().await,
        2,
        &[crate::common::TEST_USER.to_string()],
    )
    .await
    .unwrap();
    // (metric, value) of a month's stored values, as the API answers them.
    let values = |v: &serde_json::Value| -> BTreeSet<(String, i64)> {
        v["data"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["metric_name"].as_str().unwrap().to_string(),
                    m["value"].as_f64().unwrap() as i64,
                )
            })
            .collect()
    };
    let (status, one) = app.get("/api/qbr/metrics/monthly?period=2025-01").await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(
        values(&one),
        BTreeSet::from([("mrr".to_string(), 100), ("nrr".to_string(), 10)])
    );
    let (status, two) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&organization_id=2")
        .await;
    assert_eq!(status, 200, "{two}");
    assert_eq!(two["data"]["organization_id"], 2);
    assert_eq!(values(&two), BTreeSet::from([("mrr".to_string(), 200)]));
    // Back to the first, on whichever connection the pool hands out.
    for _ in 0..10 {
        let (status, again) = app.get("/api/qbr/metrics/monthly?period=2025-01").await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(values(&again), values(&one));
    }
    let (status, none) = app
        .get("/api/qbr/metrics/monthly?period=2025-01&organization_id=3")
        .await;
    assert_eq!(status, 403, "not a member: {none}");
}

/// The guard's key look-up reads the key through the index on its hash, also where
/// PostgreSQL's default costs would read a table of a few hundred keys whole (the
/// migration `api_key_lookup_by_index`): with 200 keys, no sequential scan.
#[tokio::test(flavor = "multi_thread")]
async fn the_key_look_up_uses_the_hash_index_among_many_keys() {
    let db = TestDb::new().await;
    let mut admin = db.conn().await;
    exec(
        &mut admin,
        "INSERT INTO api_keys (organization_id, name, key_prefix, key_hash, scopes, created_by) \
         SELECT 1, 'k' || g, 'qbr_k', decode(md5(g::text) || md5(g::text), 'hex'), '{read}', \
                'test' \
           FROM generate_series(1, 200) g",
    )
    .await;
    exec(&mut admin, "ANALYZE api_keys").await;
    #[derive(QueryableByName)]
    struct Scans {
        #[diesel(sql_type = BigInt)]
        seq_scan: i64,
        #[diesel(sql_type = BigInt)]
        idx_scan: i64,
    }
    let mut conn = tenant::checkout_platform(&db.pool).await.unwrap();
    #[derive(QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        hash: Vec<u8>,
    }
    let Hash { hash } = diesel::sql_query("SELECT decode(md5('7') || md5('7'), 'hex') AS hash")
        .get_result(&mut admin)
        .await
        .unwrap();
    // Scans counted in the current transaction: the look-up's own.
    let scans: Scans = conn
        .transaction::<_, diesel::result::Error, _>(async |conn| {
            // From the 6th call on a plan may be generic: look at both kinds.
            for _ in 0..7 {
                let found = backend::store::api_keys::find_active_with_org(conn, &hash).await?;
                assert_eq!(found.map(|f| f.key.name).as_deref(), Some("k7"));
            }
            diesel::sql_query(
                "SELECT coalesce(seq_scan, 0) AS seq_scan, coalesce(idx_scan, 0) AS idx_scan \
                   FROM pg_stat_xact_user_tables WHERE relname = 'api_keys'",
            )
            .get_result(conn)
            .await
        })
        .await
        .unwrap();
    assert_eq!(scans.seq_scan, 0, "no key read but the one looked up");
    assert_eq!(scans.idx_scan, 7);
}
