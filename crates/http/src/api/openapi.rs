//! The OpenAPI 3.1 document at `/api/v1/openapi.json`, generated from the DTO types (their
//! JSON Schemas, via schemars) and the operation table below. A test walks the table
//! against the router, so every documented operation exists.

use super::dto::*;
use crate::problem::Problem;
use axum::routing::get;
use axum::{Json, Router};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};
use stammgast_app::App;
use stammgast_core::automation::journey::Journey;

pub fn router() -> Router<App> {
    Router::new().route("/openapi.json", get(|| async { Json(document()) }))
}

/// Whether an operation takes an `Idempotency-Key` header.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    None,
    Optional,
    Required,
}

pub struct Operation {
    pub method: &'static str,
    /// Relative to `/api/v1`.
    pub path: &'static str,
    pub summary: &'static str,
    pub key: KeyUse,
    pub status: u16,
    request: Option<fn(&mut SchemaGenerator) -> Schema>,
    response: fn(&mut SchemaGenerator) -> Schema,
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

macro_rules! op {
    ($method:literal, $path:literal, $summary:literal, $key:ident, $status:literal, none => $res:ty) => {
        Operation {
            method: $method,
            path: $path,
            summary: $summary,
            key: KeyUse::$key,
            status: $status,
            request: None,
            response: schema::<$res>,
        }
    };
    ($method:literal, $path:literal, $summary:literal, $key:ident, $status:literal, $req:ty => $res:ty) => {
        Operation {
            method: $method,
            path: $path,
            summary: $summary,
            key: KeyUse::$key,
            status: $status,
            request: Some(schema::<$req>),
            response: schema::<$res>,
        }
    };
}

pub fn operations() -> Vec<Operation> {
    vec![
        op!("post", "/members", "Enrol a member (sign-up bonus included)", Optional, 201, JoinMemberRequest => Joined),
        op!("get", "/members", "List members in join order (cursor pagination: cursor, limit)", None, 200, none => List<Member>),
        op!("get", "/members/{id}", "A member with balances and tier", None, 200, none => Member),
        op!("get", "/members/by-code/{code}", "Find a member by the code on their card", None, 200, none => Member),
        op!("get", "/members/{id}/events", "A member's purchases and visits, newest first", None, 200, none => List<HistoryEvent>),
        op!("get", "/members/{id}/ledger", "A member's ledger transfers, newest first", None, 200, none => List<LedgerEntry>),
        op!("post", "/members/{id}/adjustments", "Correct a balance by hand, with a reason (audited)", Required, 201, AdjustmentRequest => AdjustmentResult),
        op!("post", "/members/{id}/redemptions", "Redeem a reward: reserves its cost and issues a coupon", Required, 201, RedeemRequest => CouponResult),
        op!("get", "/members/{id}/coupons", "A member's coupons", None, 200, none => Vec<CouponResult>),
        op!("post", "/purchases", "Record a purchase: rules, ledger, stamp cards and tier in one step", Required, 201, PurchaseRequest => EventResult),
        op!("post", "/visits", "Record a visit", Required, 201, VisitRequest => EventResult),
        op!("post", "/events", "Record a custom event", Required, 201, CustomEventRequest => EventResult),
        op!("post", "/events:batch", "Record up to 10,000 events in one transaction", Optional, 200, BatchRequest => BatchResult),
        op!("post", "/events/{id}/void", "Void a transaction: takes back what it earned", Required, 200, VoidRequest => ReversalResult),
        op!("post", "/events/{id}/refunds", "Refund part of a purchase: takes back points in proportion", Required, 200, RefundRequest => ReversalResult),
        op!("post", "/coupons/{code}/redeem", "Use a coupon (exactly once; later attempts get 409)", Optional, 200, NoBody => CouponResult),
        op!("post", "/coupons/{code}/cancel", "Cancel a coupon and release its reserved cost", Optional, 200, NoBody => CouponResult),
        op!("get", "/audit", "The audit log: adjustments and erasures, newest first (scope ledger:adjust)", None, 200, none => List<AuditLine>),
        op!("get", "/reports/kpis", "The KPIs of a period (query: from, to, location_id), each with its formula and its value in the period before", None, 200, none => KpiReport),
        op!("post", "/surveys/nps", "Store a member's answer to the NPS survey (0–10 and a comment)", None, 201, SurveyAnswerRequest => SurveyAnswerRecorded),
        op!("get", "/segments", "The custom segments with their current sizes", None, 200, none => Vec<Segment>),
        op!("post", "/segments", "Create a custom segment from a filter expression (invalid filters get where and why)", None, 201, SegmentRequest => Segment),
        op!("post", "/segments:preview", "Whom a filter expression finds now: how many members and the first ten", None, 200, PreviewRequest => Preview),
        op!("put", "/segments/{slug}", "Change a custom segment's name or filter; its members are counted again at once", None, 200, SegmentRequest => Segment),
        op!("delete", "/segments/{slug}", "Delete a custom segment", None, 200, none => Deleted),
        op!("get", "/members/{id}/tags", "A member's tags", None, 200, none => Tags),
        op!("put", "/members/{id}/tags/{tag}", "Tag a member (tagging twice changes nothing)", None, 200, none => Tags),
        op!("delete", "/members/{id}/tags/{tag}", "Take a tag off a member", None, 200, none => Tags),
        op!("put", "/members/{id}/consents/{channel}", "Record a member's marketing consent on email, sms or push with its proof (by email it counts once confirmed from the mail this sends); the member's consents", None, 200, ConsentRequest => Vec<ConsentView>),
        op!("delete", "/members/{id}/consents/{channel}", "Withdraw a member's marketing consent on a channel; the member's consents", None, 200, none => Vec<ConsentView>),
        op!("get", "/journeys", "The journeys (automations) with each arm's members, returns and revenue and the uplift", None, 200, none => Vec<JourneyResults>),
        op!("post", "/journeys:from-template", "Set up a journey from one of the setup's templates; it starts paused", None, 201, FromTemplateRequest => Journey),
        op!("get", "/journeys/{slug}", "A journey and how it does", None, 200, none => JourneyResults),
        op!("put", "/journeys/{slug}", "Write or change a journey whole; `active` starts or pauses it", None, 200, Journey => JourneyResults),
        op!("get", "/journeys/{slug}/audience", "Whom the journey would write to now: how many members and the first ten", None, 200, none => Preview),
        op!("get", "/openapi.json", "This document", None, 200, none => Value),
    ]
}

pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| settings.definitions_path = "#/components/schemas/".into())
        .into_generator();
    let problem = generator.subschema_for::<Problem>();
    let mut paths = Map::new();
    for operation in operations() {
        let entry = paths
            .entry(format!("/api/v1{}", operation.path))
            .or_insert_with(|| json!({}));
        entry[operation.method] = describe(&operation, &mut generator, &problem);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Stammgast API",
            "version": "1",
            "description": "Loyalty programs for small businesses. Authenticate with `Authorization: Bearer <API key>`. \
                Every request that changes balances takes an `Idempotency-Key` header: a retry with the same key and body \
                returns the original result and changes nothing. Errors are RFC 9457 problem documents."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": generator.take_definitions(true),
        }
    })
}

fn describe(operation: &Operation, generator: &mut SchemaGenerator, problem: &Schema) -> Value {
    let mut parameters: Vec<Value> = path_parameters(operation.path)
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    if operation.key != KeyUse::None {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": operation.key == KeyUse::Required,
            "schema": {"type": "string", "maxLength": 255},
            "description": "Makes a retry safe: the same key with the same request returns the stored result."
        }));
    }
    if operation.method == "get" && PAGINATED.contains(&operation.path) {
        parameters.push(json!({"name": "cursor", "in": "query", "required": false, "schema": {"type": "string"}}));
        parameters.push(json!({"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 500}}));
    }
    if operation.path == "/reports/kpis" {
        for (name, required, format) in [
            ("from", true, "date"),
            ("to", true, "date"),
            ("location_id", false, "uuid"),
        ] {
            parameters.push(json!({"name": name, "in": "query", "required": required, "schema": {"type": "string", "format": format}}));
        }
    }
    let problem_response = json!({"description": "A problem document", "content": {"application/problem+json": {"schema": problem}}});
    let mut described = json!({
        "summary": operation.summary,
        "parameters": parameters,
        "responses": {
            operation.status.to_string(): {"description": "Success", "content": {"application/json": {"schema": (operation.response)(generator)}}},
            "4XX": problem_response,
        }
    });
    if let Some(request) = operation.request {
        described["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": request(generator)}}});
    }
    described
}

/// The lists that take `cursor` and `limit`.
const PAGINATED: [&str; 4] = [
    "/members",
    "/members/{id}/events",
    "/members/{id}/ledger",
    "/audit",
];

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}
