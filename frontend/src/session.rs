//! What pages may read, as two contexts the layout provides: [`Account`] (who is
//! signed in, in which organizations, with which roles) on every signed-in page, and
//! [`Session`] (the organization of the URL, the user's role there, its periods) on
//! every page of an organization.
use qbr_shared::access::{required_role, Role};
use qbr_shared::api::{AuthStatus, OrganizationRole, PeriodsResponse};
use std::rc::Rc;
use yew::Callback;

/// Who is signed in: `GET /api/auth/status`.
#[derive(Clone, PartialEq)]
pub struct Account {
    pub status: Rc<AuthStatus>,
    /// Asks the server again (after an organization was created or renamed, or the
    /// user's own role changed): the switcher and the roles follow.
    pub reload: Callback<()>,
}

impl Account {
    /// The organization old addresses (without `/o/{slug}`) go to.
    pub fn default_org(&self) -> Option<&OrganizationRole> {
        let s = &self.status;
        s.default_organization_id
            .and_then(|id| s.organizations.iter().find(|o| o.id == id))
            .or(s.organizations.first())
    }

    /// The user's organization with this slug.
    pub fn org(&self, slug: &str) -> Option<&OrganizationRole> {
        self.status.organizations.iter().find(|o| o.slug == slug)
    }
}

/// The organization a page shows.
#[derive(Clone, PartialEq)]
pub struct Session {
    /// Its slug, name, id and the user's role there.
    pub org: OrganizationRole,
    pub periods: Rc<PeriodsResponse>,
    pub dark: bool,
}

impl Session {
    /// The default period of the dashboard: the current quarter when it has data,
    /// else the newest quarter (or month) with data.
    pub fn default_period(&self) -> String {
        let p = &self.periods;
        if p.quarters.contains(&p.current_quarter) {
            p.current_quarter.clone()
        } else {
            p.quarters
                .first()
                .or(p.months.first())
                .cloned()
                .unwrap_or_else(|| p.current_quarter.clone())
        }
    }

    /// The slug, for links to this organization's pages.
    pub fn slug(&self) -> String {
        self.org.slug.clone()
    }

    /// Whether the user's role here may read the API path `path` (`api::USERS`...).
    /// Pages hide what it can't do by the server's own rule
    /// ([`required_role`]); the server refuses it anyway.
    pub fn may_read(&self, path: &str) -> bool {
        may(self.org.role, path, false)
    }

    /// Whether the user's role here may write to the API path `path`.
    pub fn may_write(&self, path: &str) -> bool {
        may(self.org.role, path, true)
    }
}

/// Whether `role` may call `path` (a write when `write`).
pub fn may(role: Role, path: &str, write: bool) -> bool {
    role.allows(required_role(path, write))
}
