use crate::helpers::spawn_app;

#[test]
fn the_openapi_document_describes_every_operation_and_each_one_exists() {
    let app = spawn_app();
    let reply = app.get("/api/v1/openapi.json");
    assert_eq!(reply.status, 200);
    let document = reply.body;
    assert_eq!(document["openapi"], "3.1.0");
    for operation in stammgast_http::api::openapi::operations() {
        let path = format!("/api/v1{}", operation.path);
        let described = &document["paths"][&path][operation.method];
        assert!(
            described.is_object(),
            "{} {path} is documented",
            operation.method
        );
        let concrete = path
            .replace("{id}", "0190c3a0-0000-7000-8000-000000000000")
            .replace("{code}", "ABCDEFGH")
            .replace("{slug}", "probe")
            .replace("{tag}", "probe")
            .replace("{channel}", "push");
        let answer = match operation.method {
            "get" => app.get(&concrete),
            "put" => app.put_as(&app.api_key, &concrete, "{}"),
            "delete" => app.delete_as(&app.api_key, &concrete),
            _ => app.post(&concrete, Some("probe"), "{}"),
        };
        assert!(
            !matches!(
                answer.body["code"].as_str(),
                Some("no_such_endpoint" | "method_not_allowed")
            ),
            "{} {path} is routed: {}",
            operation.method,
            answer.body
        );
    }
    let schemas = document["components"]["schemas"].as_object().unwrap();
    assert!(schemas.contains_key("PurchaseRequest") && schemas.contains_key("Problem"));
}

#[test]
fn unknown_endpoints_answer_with_a_problem() {
    let app = spawn_app();
    let reply = app.get("/api/v1/nothing-here");
    assert_eq!(reply.status, 404);
    assert_eq!(reply.content_type, "application/problem+json");
}

#[test]
fn health_and_readiness_answer() {
    let app = spawn_app();
    assert_eq!(app.get("/healthz").status, 200);
    assert_eq!(app.get("/readyz").body, "ready");
}
