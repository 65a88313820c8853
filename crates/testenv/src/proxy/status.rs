//! Error responses shaped like the API server's own, so clients parse them as they would a real one.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use serde_json::json;

/// The body type of everything the fault proxy answers: its own errors or the upstream's stream.
pub(crate) type ProxyBody = BoxBody<Bytes, hyper::Error>;

/// A `Status` failure with `code`, the reason the API server gives that code, and `Retry-After`.
pub(crate) fn failure(code: u16, message: &str, retry_after_secs: Option<u64>) -> Response<ProxyBody> {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason(code),
        "code": code,
    });
    if let Some(secs) = retry_after_secs {
        body["details"] = json!({ "retryAfterSeconds": secs });
    }
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}).boxed());
    *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(secs) = retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// apimachinery's `StatusReason` for a code, as `NewGenericServerResponse` picks it ("" = unknown).
fn reason(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "",
    }
}
