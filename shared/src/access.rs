//! The words of access control, typed: API-key scopes and audit actions. Their JSON
//! and database spellings are the names below.
use crate::words::words;

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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
