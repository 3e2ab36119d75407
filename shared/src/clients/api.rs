//! The request and response types of `/api/qbr/clients…`.
use super::{ClientMetric, ClientNumber, LinkStatus};
use crate::api::api_type;
use crate::api::DataSource;
use crate::thresholds::{Bands, Status};
use crate::Vendor;
use chrono::{DateTime, Utc};

api_type! {
    /// A company, organization or customer of a vendor, as collection saw it.
    pub struct VendorEntity {
        pub vendor: Vendor,
        /// The vendor's id of it (ConnectWise company id, NinjaOne organization id,
        /// QuickBooks customer list id).
        pub external_id: String,
        pub name: String,
        /// The client it counts for (none: unmatched or internal).
        pub client_id: Option<i64>,
        pub status: LinkStatus,
        /// Who confirmed or changed the link, and when.
        pub confirmed_by: Option<String>,
        pub confirmed_at: Option<DateTime<Utc>>,
        pub first_seen: DateTime<Utc>,
        pub last_seen: DateTime<Utc>,
    }
}

api_type! {
    /// A client of the MSP with the vendor entities linked to it.
    pub struct Client {
        pub id: i64,
        pub name: String,
        pub entities: Vec<VendorEntity>,
        /// Every link confirmed by a person.
        pub confirmed: bool,
        pub created_at: DateTime<Utc>,
    }
}

api_type! {
    /// `GET /api/qbr/clients`: every client, and the vendor entities that are no client
    /// (unmatched: listed until linked; internal: the organization's own).
    pub struct ClientsResponse {
        pub organization_id: i32,
        pub clients: Vec<Client>,
        pub unmatched: Vec<VendorEntity>,
        pub internal: Vec<VendorEntity>,
    }
}

api_type! {
    /// One change of `PUT /api/qbr/clients/matching`: link a vendor entity to a client
    /// (an existing one by `client_id`, or a new one named `new_client`), or leave it
    /// unlinked (neither). Every change is a person's: the link becomes confirmed.
    pub struct LinkChange {
        pub vendor: Vendor,
        #[cfg_attr(feature = "openapi", salvo(schema(max_length = 100)))]
        pub external_id: String,
        pub client_id: Option<i64>,
        #[cfg_attr(feature = "openapi", salvo(schema(max_length = 200)))]
        pub new_client: Option<String>,
    }
}

api_type! {
    /// `PUT /api/qbr/clients/matching` (editors): checked whole before anything changes.
    pub struct MatchingUpdate {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", salvo(schema(max_items = 1000)))]
        pub changes: Vec<LinkChange>,
        /// Confirm every proposed link as it stands.
        #[serde(default)]
        pub confirm_proposed: bool,
    }
}

api_type! {
    /// One input of one month.
    pub struct ClientInput {
        pub metric: ClientMetric,
        pub value: f64,
        /// `collected` (the sum over the client's linked entities) or `manual`/`imported`
        /// (typed in or imported for the client: never overwritten by collection).
        pub source: DataSource,
    }
}

api_type! {
    /// One number of a period, judged.
    pub struct ClientNumberValue {
        pub number: ClientNumber,
        pub value: Option<f64>,
        pub status: Status,
        /// The previous period's value (the change is `value - previous`).
        pub previous: Option<f64>,
    }
}

api_type! {
    /// A client's inputs and numbers of one period (a month, quarter or year).
    pub struct ClientPeriod {
        pub period: String,
        pub inputs: Vec<ClientInput>,
        pub numbers: Vec<ClientNumberValue>,
    }
}

api_type! {
    /// `GET /api/qbr/clients/{id}/metrics?from=&to=`: each month of the range, and
    /// the range's quarters.
    pub struct ClientMetricsResponse {
        pub organization_id: i32,
        pub client: Client,
        pub months: Vec<ClientPeriod>,
        pub quarters: Vec<ClientPeriod>,
        /// Labour cost of one service hour (the setting), if set.
        pub loaded_cost_per_hour: Option<f64>,
    }
}

api_type! {
    /// One client's row of a ranking, with its change since the previous period.
    pub struct ClientRow {
        pub client_id: i64,
        pub name: String,
        pub inputs: Vec<ClientInput>,
        pub numbers: Vec<ClientNumberValue>,
    }
}

api_type! {
    /// How the clients' inputs add up to the organization's: per metric that has an
    /// organization metric, the organization's value, the clients' sum, and what is
    /// neither (unmatched and internal entities' values, told apart).
    pub struct Reconciliation {
        pub metric: ClientMetric,
        pub organization: Option<f64>,
        pub clients: f64,
        pub unmatched: f64,
        pub internal: f64,
    }
}

api_type! {
    /// `GET /api/qbr/clients/ranking?period=&by=`: every client's row for the
    /// period, best first by `by` (clients without a value last), the totals row and
    /// the reconciliation with the organization's values.
    pub struct ClientRankingResponse {
        pub organization_id: i32,
        pub period: String,
        pub by: ClientNumber,
        pub rows: Vec<ClientRow>,
        pub totals: ClientRow,
        pub reconciliation: Vec<Reconciliation>,
    }
}

api_type! {
    /// `POST /api/qbr/clients/import`: what a per-client history file holds and, with
    /// `commit=true`, what was stored.
    pub struct ClientImportResponse {
        pub organization_id: i32,
        /// "csv" or "xlsx".
        pub format: String,
        pub committed: bool,
        /// Values read.
        pub rows: u32,
        pub created_count: u32,
        pub changed_count: u32,
        pub unchanged_count: u32,
        /// Clients the file names that did not exist (created with `create_clients=true`).
        pub new_clients: Vec<String>,
    }
}

api_type! {
    /// The bands of a per-client number: the default (no `client_id`, no author), the
    /// organization's for every client (no `client_id`), or one client's.
    pub struct ClientThreshold {
        pub number: ClientNumber,
        pub client_id: Option<i64>,
        pub bands: Bands,
        pub updated_by: Option<String>,
        pub updated_at: Option<DateTime<Utc>>,
    }
}

api_type! {
    /// `GET /api/qbr/clients/thresholds`: the built-in defaults and what the
    /// organization set over them. A client's number is judged by its own bands, else
    /// the organization's, else the default.
    pub struct ClientThresholdsResponse {
        pub organization_id: i32,
        pub defaults: Vec<ClientThreshold>,
        pub overrides: Vec<ClientThreshold>,
    }
}

api_type! {
    /// `PUT /api/qbr/clients/thresholds` (admins): set the bands of a number for every
    /// client (no `client_id`) or one client; `bands: null` removes them (back to the
    /// organization's or the default).
    pub struct ClientThresholdUpdate {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        pub client_id: Option<i64>,
        pub number: ClientNumber,
        pub bands: Option<Bands>,
    }
}

api_type! {
    /// `PUT /api/qbr/clients/{id}/values` (editors): type in a client's value of a month
    /// (it wins over the collected one and is never overwritten by collection), or
    /// remove it with `value: null` (the collected value shows again).
    pub struct ClientValueUpdate {
        /// Must be the request's organization when given.
        pub organization_id: Option<i32>,
        #[cfg_attr(feature = "openapi", salvo(schema(value_type = crate::Month)))]
        pub month: String,
        pub metric: ClientMetric,
        /// 0 or more, except `revenue`, which may be below zero (a credit memo larger
        /// than the month's billing).
        #[cfg_attr(feature = "openapi", salvo(schema(exclusive_minimum = -1e14, exclusive_maximum = 1e14)))]
        pub value: Option<f64>,
    }
}
