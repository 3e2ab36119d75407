//! The words of access control, typed: roles, API-key scopes and audit actions. Their
//! JSON and database spellings are the names below. Also which role each API route
//! needs ([`required_role`]): the server enforces it, the OpenAPI document states it,
//! and the SPA hides what a role can't do.
use crate::words::words;

words! {
    /// A user's role in an organization (`memberships.role`).
    pub enum Role {
        /// Reads everything.
        Viewer = "viewer",
        /// Also enters, imports and re-collects data.
        Editor = "editor",
        /// Also changes settings, thresholds, members, API keys and QuickBooks.
        Admin = "admin",
    }
}

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Editor => 1,
            Role::Admin => 2,
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    /// What an API key of `scope` acts as: a read key reads, a write key edits (keys
    /// never administer: settings, members and keys need a person).
    pub fn of_key(scope: ApiKeyScope) -> Role {
        match scope {
            ApiKeyScope::Read => Role::Viewer,
            ApiKeyScope::Write => Role::Editor,
        }
    }
}

/// The role a request to the API path `path` (without the public path prefix) needs,
/// by method: reads need a membership (viewer), writes an editor, and the
/// organization's settings, thresholds, members, API keys and QuickBooks connection an
/// admin. Organizations themselves are the platform administrators'.
pub fn required_role(path: &str, write: bool) -> Role {
    const ADMIN_ALWAYS: &[&str] = &[
        "/api/admin/api-keys",
        "/api/qbr/users",
        "/api/qbr/quickbooks/online",
        "/api/qbr/quickbooks/qwc",
        // Recipients' addresses and webhooks, and who gets the report: admins only.
        "/api/qbr/settings/notifications",
        "/api/qbr/settings/report-delivery",
    ];
    const ADMIN_WRITES: &[&str] = &[
        "/api/qbr/thresholds",
        "/api/qbr/clients/thresholds",
        // The owners' targets.
        "/api/qbr/goals",
        "/api/qbr/quickbooks/mappings",
        "/api/qbr/settings",
    ];
    let under = |prefixes: &[&str]| {
        prefixes.iter().any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    };
    if under(ADMIN_ALWAYS) || (write && under(ADMIN_WRITES)) {
        Role::Admin
    } else if write {
        Role::Editor
    } else {
        Role::Viewer
    }
}

words! {
    /// What an API key may do: `read` (GET) or `write` (also POST/PUT/DELETE).
    pub enum ApiKeyScope {
        Read = "read",
        Write = "write",
    }
}

impl ApiKeyScope {
    /// The scopes stored with a key of this kind (a write key may also read).
    pub fn granted(self) -> Vec<ApiKeyScope> {
        match self {
            ApiKeyScope::Read => vec![ApiKeyScope::Read],
            ApiKeyScope::Write => vec![ApiKeyScope::Read, ApiKeyScope::Write],
        }
    }
}

words! {
    /// What an audit-log entry records (`audit_log.action`).
    pub enum AuditAction {
        SignIn = "auth.sign_in",
        /// An email that is not on the allow-list tried to sign in.
        SignInDenied = "auth.sign_in_denied",
        /// Microsoft sign-in failed (state, token exchange, Graph).
        SignInFailed = "auth.sign_in_failed",
        Logout = "auth.logout",
        SessionExpired = "auth.session_expired",
        ApiKeyCreate = "api_key.create",
        ApiKeyRevoke = "api_key.revoke",
        ManualEntry = "metrics.manual_entry",
        Recollect = "metrics.recollect",
        Import = "metrics.import",
        ThresholdsUpdate = "thresholds.update",
        /// QuickBooks accounts were mapped to other metrics.
        QuickBooksMappings = "quickbooks.mappings",
        /// More QuickBooks history was asked for.
        QuickBooksBackfill = "quickbooks.backfill",
        /// A QuickBooks Online company was connected (Intuit's consent came back).
        QuickBooksOnlineConnect = "quickbooks.online_connect",
        /// The QuickBooks Online company was disconnected (its tokens deleted).
        QuickBooksOnlineDisconnect = "quickbooks.online_disconnect",
        /// `qbr serve --demo` loaded the synthetic organization.
        DemoLoad = "demo.load",
        /// An organization was created, renamed, archived or restored.
        OrganizationCreate = "organization.create",
        OrganizationUpdate = "organization.update",
        /// A user was given a role in an organization, got another one, or lost it.
        MemberAdd = "member.add",
        MemberRoleChange = "member.role_change",
        MemberRemove = "member.remove",
        /// A vendor's credentials of the organization were stored or removed (the audit
        /// entry names the variables, never their values).
        VendorSettingsUpdate = "vendor_settings.update",
        VendorSettingsRemove = "vendor_settings.remove",
        /// The organization's settings changed (name, time zone, working hours,
        /// excluded device organizations, collection schedule).
        SettingsUpdate = "settings.update",
        /// The notification recipients and their events were replaced (webhook URLs
        /// are recorded by their hint only).
        NotificationsUpdate = "notifications.update",
        /// "Send a test now": a test message to every recipient.
        NotificationsTest = "notifications.test",
        /// The report delivery schedule or its recipients changed.
        ReportDeliveryUpdate = "report_delivery.update",
        /// "Send a test now": the report mailed outside its schedule.
        ReportDeliveryTest = "report_delivery.test",
        /// Vendor entities were linked to clients (or unlinked) on the matching page.
        ClientsMatch = "clients.match",
        /// Per-client history was imported from a file.
        ClientsImport = "clients.import",
        /// The bands of a per-client number were set or removed.
        ClientThresholdsUpdate = "client_thresholds.update",
        /// A client's monthly value was typed in (or removed).
        ClientValueUpdate = "client_value.update",
        /// A goal on a SmartNumber was set, changed or removed.
        GoalsUpdate = "goals.update",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_what_routes_need() {
        assert!(Role::Admin.allows(Role::Editor) && Role::Editor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Editor) && !Role::Editor.allows(Role::Admin));
        assert_eq!(Role::of_key(ApiKeyScope::Write), Role::Editor);
        assert_eq!(required_role("/api/qbr/smartnumbers", false), Role::Viewer);
        assert_eq!(required_role("/api/qbr/metrics/manual", true), Role::Editor);
        assert_eq!(required_role("/api/qbr/thresholds", false), Role::Viewer);
        assert_eq!(required_role("/api/qbr/thresholds", true), Role::Admin);
        assert_eq!(required_role("/api/admin/api-keys/3", true), Role::Admin);
        assert_eq!(required_role("/api/admin/api-keys", false), Role::Admin);
        assert_eq!(required_role("/api/qbr/users/7", true), Role::Admin);
        assert_eq!(required_role("/api/qbr/usersx", false), Role::Viewer);
        assert_eq!(
            required_role("/api/qbr/quickbooks/status", false),
            Role::Viewer
        );
        assert_eq!(
            required_role("/api/qbr/quickbooks/backfill", true),
            Role::Editor
        );
        for path in [
            "/api/qbr/settings/notifications",
            "/api/qbr/settings/notifications/test",
            "/api/qbr/settings/report-delivery",
            "/api/qbr/settings/report-delivery/test",
        ] {
            assert_eq!(required_role(path, false), Role::Admin, "{path}");
            assert_eq!(required_role(path, true), Role::Admin, "{path}");
        }
        assert_eq!(required_role("/api/qbr/settings", true), Role::Admin);
    }

    #[test]
    fn a_write_key_may_also_read() {
        assert_eq!(ApiKeyScope::Write.granted(), ApiKeyScope::ALL.to_vec());
        assert_eq!(ApiKeyScope::parse("admin"), None);
        assert_eq!(AuditAction::SignInFailed.as_str(), "auth.sign_in_failed");
        assert_eq!(
            serde_json::from_str::<ApiKeyScope>("\"write\"").ok(),
            Some(ApiKeyScope::Write)
        );
    }
}
