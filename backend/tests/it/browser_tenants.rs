//! Several organizations in the browser (issue 14): a platform administrator creates a
//! second organization on the Organizations page, enters a value there, switches
//! between the two with the top bar's switcher (the URL's slug and the dashboard's
//! numbers follow), follows an old address to its page under `/o/{slug}/`, invites and
//! re-roles members on the Users page, and a viewer sees no save buttons. Screenshots
//! of the Organizations page, the Users page and the top bar with the switcher at
//! 1280×800 and 800×1100 land in `target/screenshots/tenants-*.png`.
//!
//! Skipped, with a note, when chromedriver or chromium is not installed.

use crate::browser_harness::*;
use serde_json::{json, Value};

/// The first organization (made by the migrations), where `QBR_AUTHORIZED_USERS` are admins.
const A: &str = "enersystems-llc";
const B: &str = "beta";

/// Waits until the page's path is `path`.
async fn wait_path(b: &Browser, path: &str) {
    b.wait_eq(
        &format!("the page at {path}"),
        "return location.pathname;",
        path,
    )
    .await;
}

/// `GET path` with the browser's session (`organization_id` as the SPA would send it).
async fn session_get(b: &Browser, path: &str) -> Value {
    b.wait_for(
        path,
        &format!(
            "return fetch({}, {{credentials: 'include'}}).then(r => r.json());",
            json!(path)
        ),
    )
    .await
}

/// The value of SmartNumber `key` for 2025-Q1 in organization `org`, formatted as
/// the card shows it (the API's unit and value).
async fn card_text_from_api(b: &Browser, org: i64, key: &str) -> String {
    let v = session_get(
        b,
        &format!("/api/qbr/smartnumbers?period=2025-Q1&organization_id={org}"),
    )
    .await;
    let n = v["data"]["smartnumbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == key)
        .cloned()
        .unwrap_or_else(|| panic!("no {key}: {v}"));
    let unit: qbr_shared::catalogue::Unit = serde_json::from_value(n["unit"].clone()).unwrap();
    qbr_shared::format::value(unit, n["value"].as_f64())
}

/// The options of the organization switcher: (slug, name), and the one chosen.
async fn switcher(b: &Browser) -> (Vec<(String, String)>, String) {
    let v = b
        .js("const s = document.querySelector('#org-switcher'); \
             return s ? [[...s.options].map(o => [o.value, o.textContent]), s.value] : null;")
        .await;
    if v.is_null() {
        return (vec![], String::new());
    }
    let options = v[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o[0].as_str().unwrap().to_string(),
                o[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (options, v[1].as_str().unwrap().to_string())
}

/// Saves `name` at both sizes (back at 1280×800 afterwards), checking at each that
/// the page fits its width.
async fn screenshots(b: &Browser, name: &str) {
    fits(b, &format!("{name} at 1280")).await;
    b.screenshot(&format!("tenants-{name}-1280x800")).await;
    b.resize(800, 1100).await;
    fits(b, &format!("{name} at 800")).await;
    b.screenshot(&format!("tenants-{name}-800x1100")).await;
    b.resize(1280, 800).await;
}

/// Nothing scrolls sideways: not the page, not a table; nothing sticks out of the top bar.
async fn fits(b: &Browser, at: &str) {
    let v = b
        .js("const t = document.querySelector('.topbar'); \
             const out = [...t.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > t.clientWidth + 1) \
               .map(e => e.className || e.tagName); \
             const wide = [...document.querySelectorAll('.table-scroll')].filter(e => e.scrollWidth > e.clientWidth) \
               .map(e => e.firstElementChild.id); \
             return [document.documentElement.scrollWidth <= window.innerWidth, out, wide];")
        .await;
    assert_eq!(v, json!([true, [], []]), "too wide: {at}");
}

#[tokio::test(flavor = "multi_thread")]
async fn organizations_switcher_users_and_roles() {
    if !browser_available() {
        return;
    }
    let server = Server::start().await;
    // Organization A (the first) has the worked example; B will have one value.
    server.load_reference().await;
    let b = Browser::start("America/Chicago").await;
    b.resize(1280, 800).await;
    server.sign_in(&b).await;

    // Signed in, the root goes to A's dashboard (the user's only organization yet):
    // its name, no switcher, the user's role.
    wait_path(&b, &format!("/o/{A}")).await;
    b.element(&card_value("rhem")).await;
    assert_eq!(b.text("[data-testid=org]").await, "Enersystems, LLC");
    assert_eq!(b.text("#org-role").await, "admin");
    assert_eq!(switcher(&b).await.0, vec![]);

    // The Organizations page, from the top bar (QBR_AUTHORIZED_USERS are platform
    // administrators): B made with the signed-in user as its first admin.
    b.click("a.organizations-link").await;
    wait_path(&b, "/admin/organizations").await;
    b.element(&format!("#organizations tr[data-slug={A}]"))
        .await;
    assert_eq!(
        b.js("return document.querySelector('#org-admin').value;")
            .await,
        E2E_USER,
        "the first admin is the user unless changed"
    );
    b.type_into("#org-name", "Beta Group").await;
    b.type_into("#org-slug", B).await;
    b.type_into("#org-timezone", "America/New_York").await;
    b.click("#org-create").await;
    b.wait_text("#organizations-notice", "Created Beta Group (beta).")
        .await;
    let row = format!("#organizations tr[data-slug={B}]");
    assert_eq!(
        b.text(&format!("{row} td.timezone")).await,
        "America/New_York"
    );
    assert_eq!(b.text(&format!("{row} .badge")).await, "active");
    // The user is B's admin: B is in the switcher at once, and a link opens it.
    b.wait_text(".open-created", "Open Beta Group").await;
    b.wait_for(
        "the switcher",
        "return document.querySelectorAll('#org-switcher option').length === 2;",
    )
    .await;
    screenshots(&b, "organizations").await;

    // Renamed: the switcher follows. Archived: gone from the switcher; restored: back.
    b.click(&format!("{row} .org-rename-btn")).await;
    b.type_into(&format!("{row} input.org-rename"), "Beta Peers\u{E007}")
        .await;
    b.wait_text("#organizations-notice", "Renamed to Beta Peers.")
        .await;
    b.wait_eq(
        "the switcher's new name",
        "const o = document.querySelector('#org-switcher option[value=beta]'); return o && o.textContent;",
        "Beta Peers",
    )
    .await;
    b.click(&format!("{row} .org-archive")).await;
    b.wait_text("#organizations-notice", "Archived Beta Peers.")
        .await;
    b.wait_text(&format!("{row} .badge"), "archived").await;
    b.wait_for(
        "no switcher",
        "return document.querySelector('#org-switcher') === null;",
    )
    .await;
    b.click(&format!("{row} .org-archive")).await;
    b.wait_text("#organizations-notice", "Restored Beta Peers.")
        .await;
    b.wait_for(
        "the switcher again",
        "return document.querySelectorAll('#org-switcher option').length === 2;",
    )
    .await;

    // Into B, through the switcher (a page of no organization: its dashboard).
    b.select("#org-switcher", B).await;
    wait_path(&b, &format!("/o/{B}")).await;
    let status = session_get(&b, "/api/auth/status").await;
    let id_of = |slug: &str| {
        status["data"]["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["slug"] == slug)
            .unwrap_or_else(|| panic!("{slug} not in {status}"))["id"]
            .as_i64()
            .unwrap()
    };
    let (a_id, b_id) = (id_of(A), id_of(B));
    assert_ne!(a_id, b_id);

    // A value entered in B (the Business Review table; B has no data yet).
    let a_before = stored(&server, "2025-03", "new_mrr").await;
    b.click(&format!("a.nav-link[href='/o/{B}/review']")).await;
    wait_path(&b, &format!("/o/{B}/review")).await;
    b.click("button#cell-new_mrr-2025-03").await;
    b.type_into("input#cell-new_mrr-2025-03", "2000\u{E007}")
        .await;
    assert!(
        b.text("#review-notice").await.starts_with("Saved"),
        "save failed"
    );
    // Stored in B, not in A (the test's key reads A).
    assert_eq!(
        stored(&server, "2025-03", "new_mrr").await,
        a_before,
        "A's value is untouched"
    );

    // B's dashboard shows B's numbers; its downloads name B.
    b.goto(&server.url(&format!("/o/{B}/dashboard/2025-Q1")))
        .await;
    let b_value = card_text_from_api(&b, b_id, "new_mrr_added").await;
    let a_value = card_text_from_api(&b, a_id, "new_mrr_added").await;
    assert_ne!(a_value, b_value, "the two organizations' data differ");
    b.wait_text(&card_value("new_mrr_added"), &b_value).await;
    assert_eq!(b.text(&card_value("rhem")).await, "N/A");
    assert_eq!(
        b.js("return new URL(document.querySelector('#report-pdf').href).searchParams.get('organization_id');")
            .await,
        b_id.to_string()
    );
    assert_eq!(switcher(&b).await.1, B);
    assert_eq!(b.text("#org-role").await, "admin");
    screenshots(&b, "topbar-switcher").await;

    // Switching keeps the page (same period, other slug) and shows A's numbers.
    b.select("#org-switcher", A).await;
    wait_path(&b, &format!("/o/{A}/dashboard/2025-Q1")).await;
    b.wait_text(&card_value("new_mrr_added"), &a_value).await;
    assert_eq!(b.text(&card_value("rhem")).await, "0.25 h (15 min)");
    assert_eq!(b.text("h1").await, "Enersystems, LLC · Q1 2025");
    assert_eq!(
        b.js("return new URL(document.querySelector('#report-pdf').href).searchParams.get('organization_id');")
            .await,
        a_id.to_string()
    );
    // And back: Back returns to B's page, the switcher with it.
    b.js("history.back();").await;
    wait_path(&b, &format!("/o/{B}/dashboard/2025-Q1")).await;
    b.wait_text(&card_value("new_mrr_added"), &b_value).await;
    assert_eq!(switcher(&b).await.1, B);

    // Old addresses go to the same page in the user's default organization, the query kept.
    let default = status["data"]["default_organization_id"].as_i64().unwrap();
    let default_slug = if default == a_id { A } else { B };
    b.goto(&server.url("/dashboard/2025-Q1?x=1")).await;
    wait_path(&b, &format!("/o/{default_slug}/dashboard/2025-Q1")).await;
    assert_eq!(
        b.js("return location.search;").await,
        "?x=1",
        "the query is kept"
    );
    b.goto(&server.url("/numbers/rhem/2025-Q1")).await;
    wait_path(&b, &format!("/o/{default_slug}/numbers/rhem/2025-Q1")).await;
    b.goto(&server.url("/no-such-page")).await;
    b.wait_text("#not-found h1", "Page not found").await;
    // An organization the user is not in: said so, with theirs.
    b.goto(&server.url("/o/nobody/trends")).await;
    assert!(b
        .text("#not-member")
        .await
        .contains("You have no role in “nobody”."));

    // The Users page of A: a viewer invited, a role changed, the last admin kept, a
    // member removed after a confirm step.
    b.goto(&server.url(&format!("/o/{A}/users"))).await;
    assert_eq!(b.text(".tabs .tab.active").await, "Users");
    assert_eq!(b.text("a.nav-link.active").await, "Settings");
    let member = |email: &str| format!("#members tr[data-email=\"{email}\"]");
    b.element(&member(E2E_USER)).await;
    for (email, role) in [
        ("viewer@example.com", "viewer"),
        ("ed@example.com", "viewer"),
    ] {
        b.type_into("#invite-email", email).await;
        b.select("#invite-role", role).await;
        b.click("#invite-submit").await;
        b.wait_text(
            "#users-notice",
            &format!("Invited {email} as {role}: they can sign in now."),
        )
        .await;
        b.element(&member(email)).await;
    }
    // Invited twice: the server's answer (409) is shown.
    b.type_into("#invite-email", "viewer@example.com").await;
    b.click("#invite-submit").await;
    b.wait_text(
        "#users-notice",
        "Not invited: viewer@example.com is already a member; change the role instead",
    )
    .await;
    let role_of = |email: &str| {
        format!(
            "const s = document.querySelector('{} select.member-role'); return s && s.value;",
            member(email).replace('\'', "\\'")
        )
    };
    b.select(
        &format!("{} select.member-role", member("ed@example.com")),
        "editor",
    )
    .await;
    b.wait_text("#users-notice", "ed@example.com is now editor.")
        .await;
    b.wait_eq("ed's role", &role_of("ed@example.com"), "editor")
        .await;
    // The only admin can't step down: refused, and the select shows admin again (at
    // once, so the option is clicked rather than waited for as `select` would).
    b.click(&format!(
        "{} select.member-role option[value=viewer]",
        member(E2E_USER)
    ))
    .await;
    b.wait_text(
        "#users-notice",
        &format!("{E2E_USER} keeps the role: An organization needs an admin: make someone else admin first"),
    )
    .await;
    b.wait_eq("my role", &role_of(E2E_USER), "admin").await;
    assert_eq!(b.text("#org-role").await, "admin");
    b.click(&format!("{} .member-remove", member("ed@example.com")))
        .await;
    screenshots(&b, "users-confirm").await;
    b.click(&format!(
        "{} .member-remove-confirm",
        member("ed@example.com")
    ))
    .await;
    b.wait_text("#users-notice", "Removed ed@example.com.")
        .await;
    b.wait_for(
        "ed's row to go",
        &format!(
            "return document.querySelector('{}') === null;",
            member("ed@example.com")
        ),
    )
    .await;
    // (Members are an admin's: asked with the browser's session, not the test's key.)
    let members = session_get(&b, &format!("/api/qbr/users?organization_id={a_id}")).await;
    assert_eq!(
        members["data"]["members"].as_array().map(|m| m
            .iter()
            .map(|m| (m["email"].clone(), m["role"].clone()))
            .collect::<Vec<_>>()),
        Some(vec![
            (json!(E2E_USER), json!("admin")),
            (json!("viewer@example.com"), json!("viewer"))
        ])
    );
    screenshots(&b, "users").await;

    // The viewer: A only (no switcher), read-only pages, no save buttons.
    b.goto(&server.url("/api/auth/dev/login?email=viewer@example.com"))
        .await;
    wait_path(&b, &format!("/o/{A}")).await;
    b.element(&card_value("rhem")).await;
    assert_eq!(b.text("#org-role").await, "viewer");
    assert_eq!(switcher(&b).await.0, vec![]);
    let nav = b
        .js("return [...document.querySelectorAll('a.nav-link')].map(a => a.textContent);")
        .await;
    assert_eq!(
        nav,
        json!(["Dashboard", "Review", "Clients", "Data", "Settings"]),
        "the groups; no Organizations"
    );
    let none = |css: &str| format!("return document.querySelector({}) === null;", json!(css));
    b.goto(&server.url(&format!("/o/{A}/entry"))).await;
    b.element("#f-employees").await;
    b.element("#role-note").await;
    assert_eq!(b.js(&none("#entry-save")).await, true);
    assert_eq!(
        b.js("return document.querySelector('#f-employees').matches(':disabled');")
            .await,
        true
    );
    screenshots(&b, "viewer-entry").await;
    b.goto(&server.url(&format!("/o/{A}/thresholds"))).await;
    b.element("#thresholds-table").await;
    assert_eq!(b.js(&none("#th-save-all, [id^=th-save-]")).await, true);
    assert_eq!(
        b.js("return document.querySelector('#th-rhem-1').readOnly;")
            .await,
        true
    );
    b.goto(&server.url(&format!("/o/{A}/review"))).await;
    b.element(".review td").await;
    b.element("#role-note").await;
    assert_eq!(b.js(&none("button.cell-btn")).await, true);
    b.goto(&server.url(&format!("/o/{A}/import"))).await;
    b.element("#role-note").await;
    assert_eq!(
        b.js(&none("#import-preview-btn, #import-commit-btn")).await,
        true
    );
    // Settings: only what a viewer may read (the organization's settings, read only,
    // and QuickBooks), without an admin's buttons.
    b.click(&format!("a.nav-link[href='/o/{A}/settings']"))
        .await;
    wait_path(&b, &format!("/o/{A}/settings")).await;
    b.element("#settings-form").await;
    b.element("#role-note").await;
    assert_eq!(b.js(&none("#settings-save")).await, true);
    assert_eq!(
        b.js("return [...document.querySelectorAll('.tabs .tab')].map(t => t.textContent);")
            .await,
        json!(["Organization", "QuickBooks"])
    );
    b.click(".tabs a.tab[href$='/settings/quickbooks']").await;
    wait_path(&b, &format!("/o/{A}/settings/quickbooks")).await;
    b.element("#qb-empty").await;
    assert_eq!(b.js(&none("#qb-qwc, #qb-backfill, #qb-save")).await, true);
    b.close().await;
}
