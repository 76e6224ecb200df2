//! JWT authentication on HTTP routes: every algorithm, every way a token can be wrong, key sets
//! served (and rotated, broken, slowed down) by a real loopback HTTP server, the identity API
//! Gateway verified, and arbitrary `Authorization` values.

#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, EncodingKey, Header};
use lift::auth::{Algorithm, Auth, AuthError, AuthLayer, Jwks, JwtVerifier, Key, MAX_TOKEN_LEN};
use lift::{App, Json, Lift};
use lift_testing::{events, TestClient};
use proptest::prelude::*;
use serde_json::{json, Value};

const SECRET: &[u8] = b"an HMAC secret that is long enough for HS512 too, 64 bytes long!";

macro_rules! pem {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jwt/", $name))
    };
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "exp": now() + 600, "iat": now(), "scope": "read write", "tenant_id": "acme"})
}

fn sign(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

/// Every algorithm, its signing key and the matching verification key.
fn keys() -> Vec<(Algorithm, EncodingKey, Key)> {
    let hmac = |alg| {
        (
            alg,
            EncodingKey::from_secret(SECRET).unwrap(),
            Key::hmac(SECRET, &[alg]).unwrap(),
        )
    };
    let rsa = |alg| {
        (
            alg,
            EncodingKey::from_rsa_pem(pem!("rsa1.pem")).unwrap(),
            Key::rsa_pem(pem!("rsa1.pub.pem"), &[alg]).unwrap(),
        )
    };
    vec![
        hmac(Algorithm::HS256),
        hmac(Algorithm::HS384),
        hmac(Algorithm::HS512),
        rsa(Algorithm::RS256),
        rsa(Algorithm::RS384),
        rsa(Algorithm::RS512),
        rsa(Algorithm::PS256),
        rsa(Algorithm::PS384),
        rsa(Algorithm::PS512),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(pem!("ec256-1.pem")).unwrap(),
            Key::ec_pem(pem!("ec256-1.pub.pem"), &[Algorithm::ES256]).unwrap(),
        ),
        (
            Algorithm::ES384,
            EncodingKey::from_ec_pem(pem!("ec384.pem")).unwrap(),
            Key::ec_pem(pem!("ec384.pub.pem"), &[Algorithm::ES384]).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(pem!("ed25519.pem")).unwrap(),
            Key::ed_pem(pem!("ed25519.pub.pem")).unwrap(),
        ),
    ]
}

async fn me(auth: Auth) -> Json<Value> {
    Json(json!({"sub": auth.subject, "scopes": auth.scopes, "tenant": auth.claims.get("tenant_id")}))
}

fn app(layer: AuthLayer) -> Lift {
    App::new()
        .route("/me", get(me).route_layer(layer.clone()))
        .route("/admin", get(me).route_layer(layer.require_scope("admin")))
        .route("/my/path", get(me).route_layer(AuthLayer::api_gateway()))
        .route("/hello/{name}", get(me).post(me).route_layer(AuthLayer::api_gateway()))
        .build()
}

/// Status, JSON body and `WWW-Authenticate` of a v2 request to `path` with `authorization`.
async fn call(lift: &Lift, path: &str, authorization: Option<&str>) -> (u16, Value, Option<String>) {
    let mut ev = events::apigw_v2("GET", path);
    if let Some(a) = authorization {
        ev = ev.header("Authorization", a);
    }
    let out = TestClient::new(lift.clone()).invoke_json(ev.build()).await;
    let body = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    let challenge = out["headers"]["www-authenticate"].as_str().map(str::to_owned);
    (out["statusCode"].as_u64().unwrap_or(0) as u16, body, challenge)
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn every_algorithm_verifies_with_its_key_alone_and_among_others() {
    let mut all = JwtVerifier::builder();
    for (alg, enc, key) in keys() {
        let token = sign(alg, &enc, None, &claims("user-1"));
        let one = JwtVerifier::builder().key(key.clone()).build().unwrap();
        let lift = app(AuthLayer::new(one));
        let (status, body, _) = call(&lift, "/me", Some(&format!("Bearer {token}"))).await;
        assert_eq!(status, 200, "{alg:?}: {body}");
        assert_eq!(body["sub"], "user-1");
        assert_eq!(body["scopes"], json!(["read", "write"]));
        assert_eq!(body["tenant"], "acme", "every verified claim is kept");
        all = all.key(key.with_kid(format!("{alg:?}")));
    }
    // Many keys, chosen by `kid`.
    let lift = app(AuthLayer::new(all.build().unwrap()));
    for (alg, enc, _) in keys() {
        let token = sign(alg, &enc, Some(&format!("{alg:?}")), &claims("user-2"));
        let (status, body, _) = call(&lift, "/me", Some(&format!("Bearer {token}"))).await;
        assert_eq!((status, body["sub"].as_str()), (200, Some("user-2")), "{alg:?}");
    }
}

fn hs256_verifier() -> JwtVerifier {
    JwtVerifier::builder()
        .key(Key::hmac(SECRET, &[Algorithm::HS256]).unwrap())
        .issuer("https://issuer.example")
        .audience("api")
        .leeway(Duration::from_secs(60))
        .require_claim("tenant_id")
        .build()
        .unwrap()
}

fn good_claims() -> Value {
    json!({"sub": "u", "exp": now() + 600, "iss": "https://issuer.example", "aud": "api", "tenant_id": "t"})
}

fn with(mut c: Value, k: &str, v: Value) -> Value {
    c[k] = v;
    c
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn each_bad_token_gets_its_documented_answer() {
    let lift = app(AuthLayer::new(hs256_verifier()));
    let hs = EncodingKey::from_secret(SECRET).unwrap();
    let good = sign(Algorithm::HS256, &hs, None, &good_claims());
    let rsa_priv = EncodingKey::from_rsa_pem(pem!("rsa1.pem")).unwrap();
    let other_secret = EncodingKey::from_secret(b"another secret entirely, also long enough").unwrap();
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&good_claims().to_string())
    );
    let none_sig = format!("{none}c2ln");
    let huge_header = format!(
        "{}.{}.c2ln",
        b64(&format!(
            r#"{{"alg":"HS256","x":{}1{}}}"#,
            "[".repeat(2000),
            "]".repeat(2000)
        )),
        b64("{}")
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("good", good.clone(), ""),
        (
            "expired",
            sign(
                Algorithm::HS256,
                &hs,
                None,
                &with(good_claims(), "exp", json!(now() - 3600)),
            ),
            "expired_token",
        ),
        (
            "expired within the leeway",
            sign(
                Algorithm::HS256,
                &hs,
                None,
                &with(good_claims(), "exp", json!(now() - 30)),
            ),
            "",
        ),
        (
            "not yet valid",
            sign(
                Algorithm::HS256,
                &hs,
                None,
                &with(good_claims(), "nbf", json!(now() + 3600)),
            ),
            "token_not_yet_valid",
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                &hs,
                None,
                &with(good_claims(), "iss", json!("https://evil.example")),
            ),
            "invalid_issuer",
        ),
        (
            "wrong audience",
            sign(Algorithm::HS256, &hs, None, &with(good_claims(), "aud", json!("other"))),
            "invalid_audience",
        ),
        (
            "missing required claim",
            sign(
                Algorithm::HS256,
                &hs,
                None,
                &json!({"sub": "u", "exp": now() + 600, "iss": "https://issuer.example", "aud": "api"}),
            ),
            "missing_claim",
        ),
        (
            "no exp",
            sign(
                Algorithm::HS256,
                &hs,
                None,
                &json!({"sub": "u", "iss": "https://issuer.example", "aud": "api", "tenant_id": "t"}),
            ),
            "missing_claim",
        ),
        (
            "wrong key",
            sign(Algorithm::HS256, &other_secret, None, &good_claims()),
            "invalid_signature",
        ),
        (
            "other algorithm",
            sign(Algorithm::HS512, &hs, None, &good_claims()),
            "unsupported_algorithm",
        ),
        (
            "RS256 against an HMAC key",
            sign(Algorithm::RS256, &rsa_priv, None, &good_claims()),
            "unsupported_algorithm",
        ),
        ("alg none, no signature", none, "unsupported_algorithm"),
        ("alg none, a signature", none_sig, "unsupported_algorithm"),
        // Cut inside a base64 quantum: not base64 any more.
        (
            "truncated signature, 6 characters",
            good[..good.len() - 6].to_owned(),
            "invalid_token",
        ),
        // Cut to 40 characters, whole base64 quanta: a shorter signature.
        (
            "truncated signature, 3 characters",
            good[..good.len() - 3].to_owned(),
            "invalid_signature",
        ),
        (
            "no signature",
            good[..good.rfind('.').unwrap() + 1].to_owned(),
            "invalid_signature",
        ),
        (
            "two segments",
            good.rsplit_once('.').unwrap().0.to_owned(),
            "invalid_token",
        ),
        ("four segments", format!("{good}.x"), "invalid_token"),
        // The signature is checked over the raw segments before the payload is decoded.
        (
            "payload not base64",
            format!("{}.%%%.c2ln", b64(r#"{"alg":"HS256"}"#)),
            "invalid_signature",
        ),
        ("not base64 at all", "@@@.###.$$$".to_owned(), "invalid_token"),
        ("header not base64", "e30$.e30.e30".to_owned(), "invalid_token"),
        (
            "header not JSON",
            format!("{}.e30.c2ln", b64("not json")),
            "invalid_token",
        ),
        ("huge nested header JSON", huge_header, "invalid_token"),
        (
            "oversized",
            format!("{}.{}.{}", "a".repeat(MAX_TOKEN_LEN), "b", "c"),
            "token_too_large",
        ),
        ("empty", String::new(), "missing_token"),
    ];
    for (what, token, want) in cases {
        let (status, body, challenge) = call(&lift, "/me", Some(&format!("Bearer {token}"))).await;
        if want.is_empty() {
            assert_eq!(status, 200, "{what}: {body}");
            continue;
        }
        assert_eq!((status, code(&body)), (401, want), "{what}: {body}");
        let expected = if want == "missing_token" {
            "Bearer"
        } else {
            "Bearer error=\"invalid_token\""
        };
        assert_eq!(challenge.as_deref(), Some(expected), "{what}");
    }
    let (status, body, challenge) = call(&lift, "/me", None).await;
    assert_eq!(
        (status, code(&body), challenge.as_deref()),
        (401, "missing_token", Some("Bearer"))
    );
}

#[tokio::test]
async fn an_hmac_token_signed_with_the_rsa_public_key_is_refused() {
    // The classic algorithm confusion: the attacker knows the public key and uses its bytes as
    // an HMAC secret.
    let verifier = JwtVerifier::builder()
        .key(Key::rsa_pem(pem!("rsa1.pub.pem"), &[Algorithm::RS256]).unwrap())
        .build()
        .unwrap();
    let forged_with = EncodingKey::from_secret(pem!("rsa1.pub.pem")).unwrap();
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let forged = sign(alg, &forged_with, None, &claims("attacker"));
        assert_eq!(
            verifier.verify(&forged).await,
            Err(AuthError::UnsupportedAlgorithm),
            "{alg:?}"
        );
    }
    // And a key cannot be configured for it either.
    assert!(Key::rsa_pem(pem!("rsa1.pub.pem"), &[Algorithm::HS256]).is_err());
    let real = sign(
        Algorithm::RS256,
        &EncodingKey::from_rsa_pem(pem!("rsa1.pem")).unwrap(),
        None,
        &claims("u"),
    );
    assert_eq!(verifier.verify(&real).await.map(|p| p.subject), Ok("u".to_owned()));
}

#[tokio::test]
async fn scopes_required_by_a_route_are_403_insufficient_scope() {
    let lift = app(AuthLayer::new(hs256_verifier()));
    let hs = EncodingKey::from_secret(SECRET).unwrap();
    let reader = sign(
        Algorithm::HS256,
        &hs,
        None,
        &with(good_claims(), "scope", json!("read")),
    );
    let (status, body, challenge) = call(&lift, "/admin", Some(&format!("Bearer {reader}"))).await;
    assert_eq!((status, code(&body)), (403, "insufficient_scope"));
    assert_eq!(
        challenge.as_deref(),
        Some("Bearer error=\"insufficient_scope\", scope=\"admin\"")
    );
    let admin = sign(
        Algorithm::HS256,
        &hs,
        None,
        &with(good_claims(), "roles", json!(["admin"])),
    );
    let (status, body, _) = call(&lift, "/admin", Some(&format!("bearer {admin}"))).await;
    assert_eq!((status, body["sub"].as_str()), (200, Some("u")));
}

#[tokio::test]
async fn a_cookie_carries_the_token_when_configured() {
    let lift = App::new()
        .route(
            "/me",
            get(me).route_layer(AuthLayer::new(hs256_verifier()).cookie("session")),
        )
        .build();
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).unwrap(),
        None,
        &good_claims(),
    );
    let ev = events::apigw_v1("GET", "/me").header("Cookie", &format!("theme=dark; session={token}"));
    let out = TestClient::new(lift).invoke_json(ev.build()).await;
    assert_eq!(out["statusCode"], 200, "{out}");
}

#[tokio::test]
async fn api_gateway_identities_are_trusted_only_where_configured() {
    let lift = app(AuthLayer::new(hs256_verifier()));
    let client = TestClient::new(lift.clone());
    let run = |name: &'static str| {
        let client = client.clone();
        async move {
            let out = client
                .invoke_json(serde_json::from_str::<Value>(&fixture(name)).unwrap())
                .await;
            let body: Value = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
            (out["statusCode"].as_u64().unwrap_or(0), body)
        }
    };
    // HTTP API JWT authorizer: claims and scopes.
    let (status, body) = run("example-apigw-v2-request-jwt-authorizer.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scopes"], json!(["scope1", "scope2"]));
    // HTTP API Lambda authorizer context.
    let (status, _) = run("example-apigw-v2-request-lambda-authorizer.json").await;
    assert_eq!(status, 200);
    // IAM: the caller's ARN is the subject.
    let (status, body) = run("example-apigw-v2-request-iam.json").await;
    assert_eq!(
        (status, body["sub"].as_str()),
        (200, Some("arn:aws:iam::1234567890:user/Admin"))
    );
    // REST Lambda authorizer: principalId.
    let (status, body) = run("example-apigw-request.json").await;
    assert_eq!((status, body["sub"].as_str()), (200, Some("admin")));
    // No authorizer: nothing to trust.
    let mut ev: Value = serde_json::from_str(&fixture("example-apigw-v2-request-no-authorizer.json")).unwrap();
    ev["rawPath"] = json!("/my/path");
    ev["requestContext"]["http"]["path"] = json!("/my/path");
    let out = client.invoke_json(ev).await;
    let body: Value = serde_json::from_str(out["body"].as_str().unwrap_or("null")).unwrap();
    assert_eq!((out["statusCode"].as_u64(), code(&body)), (Some(401), "missing_token"));

    // A JWT-only route does not take request-context claims as identity.
    let mut ev: Value = serde_json::from_str(&fixture("example-apigw-v2-request-jwt-authorizer.json")).unwrap();
    ev["rawPath"] = json!("/me");
    ev["requestContext"]["http"]["path"] = json!("/me");
    let out = client.invoke_json(ev.clone()).await;
    assert_eq!(out["statusCode"], 401);
    let trusting = App::new()
        .route(
            "/me",
            get(me).route_layer(AuthLayer::new(hs256_verifier()).trust_api_gateway()),
        )
        .build();
    let out = TestClient::new(trusting).invoke_json(ev).await;
    assert_eq!(out["statusCode"], 200, "{out}");
}

#[tokio::test]
async fn the_principal_is_in_the_invocations_context() {
    let lift = App::new()
        .route(
            "/ctx",
            get(|ctx: lift::Context| async move {
                let p = ctx.principal().unwrap();
                Json(json!({"sub": p.subject, "tenant": p.claims["tenant_id"]}))
            })
            .route_layer(AuthLayer::new(hs256_verifier())),
        )
        .build();
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).unwrap(),
        None,
        &good_claims(),
    );
    let (status, body, _) = call(&lift, "/ctx", Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, body), (200, json!({"sub": "u", "tenant": "t"})));
}

#[tokio::test]
async fn a_websocket_connect_handler_takes_the_layer() {
    use axum::handler::Handler as _;
    let connect = |auth: Auth| async move { auth.subject.clone() };
    let lift = App::new()
        .websocket("$connect", connect.layer(AuthLayer::new(hs256_verifier())))
        .build();
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).unwrap(),
        None,
        &good_claims(),
    );
    let mut ev = events::websocket("$connect", "conn-1", None);
    let out = TestClient::new(lift.clone()).invoke_json(ev.clone()).await;
    assert_eq!(out["statusCode"], 401, "{out}");
    ev["headers"]["Authorization"] = json!(format!("Bearer {token}"));
    ev["multiValueHeaders"]["Authorization"] = json!([format!("Bearer {token}")]);
    let out = TestClient::new(lift).invoke_json(ev).await;
    assert_eq!(
        (out["statusCode"].as_u64(), out["body"].as_str()),
        (Some(200), Some("u")),
        "{out}"
    );
}

#[tokio::test]
async fn deny_all_closes_a_route() {
    let lift = App::new()
        .route("/me", get(me).route_layer(AuthLayer::deny_all()))
        .build();
    let token = sign(
        Algorithm::HS256,
        &EncodingKey::from_secret(SECRET).unwrap(),
        None,
        &good_claims(),
    );
    let (status, body, _) = call(&lift, "/me", Some(&format!("Bearer {token}"))).await;
    assert_eq!((status, code(&body)), (401, "auth_not_configured"));
}

// ---------------------------------------------------------------------------------------------
// JWKS from a real loopback HTTP server.

/// What the key server answers, changeable while it runs.
#[derive(Clone)]
struct KeyServer {
    url: String,
    state: Arc<Mutex<Serve>>,
    hits: Arc<AtomicUsize>,
}

struct Serve {
    status: u16,
    body: String,
    delay: Duration,
}

impl KeyServer {
    async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(Serve {
            status: 200,
            body,
            delay: Duration::ZERO,
        }));
        let hits = Arc::new(AtomicUsize::new(0));
        let (st, h) = (state.clone(), hits.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (st, h) = (st.clone(), h.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |_req: hyper::Request<hyper::body::Incoming>| {
                        let (st, h) = (st.clone(), h.clone());
                        async move {
                            h.fetch_add(1, Ordering::SeqCst);
                            let (status, body, delay) = {
                                let s = st.lock().unwrap();
                                (s.status, s.body.clone(), s.delay)
                            };
                            tokio::time::sleep(delay).await;
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                                    .unwrap(),
                            )
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        Self { url, state, hits }
    }

    fn set(&self, status: u16, body: String, delay: Duration) {
        *self.state.lock().unwrap() = Serve { status, body, delay };
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn jwk(enc: &EncodingKey, alg: Algorithm, kid: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(enc, alg).unwrap();
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

fn jwks_body(keys: &[(&EncodingKey, Algorithm, &str)]) -> String {
    let set = JwkSet {
        keys: keys.iter().map(|(e, a, k)| jwk(e, *a, k)).collect(),
    };
    serde_json::to_string(&set).unwrap()
}

struct Signers {
    rsa1: EncodingKey,
    rsa2: EncodingKey,
    ec1: EncodingKey,
}

fn signers() -> Signers {
    Signers {
        rsa1: EncodingKey::from_rsa_pem(pem!("rsa1.pem")).unwrap(),
        rsa2: EncodingKey::from_rsa_pem(pem!("rsa2.pem")).unwrap(),
        ec1: EncodingKey::from_ec_pem(pem!("ec256-1.pem")).unwrap(),
    }
}

fn jwks_verifier(server: &KeyServer, min_refresh: Duration, timeout: Duration) -> JwtVerifier {
    let jwks = Jwks::builder(&server.url, &[Algorithm::RS256, Algorithm::ES256])
        .min_refresh_interval(min_refresh)
        .timeout(timeout)
        .build()
        .unwrap();
    JwtVerifier::builder().jwks(jwks).build().unwrap()
}

#[tokio::test]
async fn jwks_keys_verify_rs256_and_es256_and_are_fetched_once() {
    let s = signers();
    let server = KeyServer::start(jwks_body(&[
        (&s.rsa1, Algorithm::RS256, "r1"),
        (&s.ec1, Algorithm::ES256, "e1"),
    ]))
    .await;
    // Generous timeout and interval: on a loaded CI machine a debug build's first fetch can
    // be slow, and this test is about caching, not about either limit.
    let v = jwks_verifier(&server, Duration::from_secs(60), Duration::from_secs(30));
    let rs = sign(Algorithm::RS256, &s.rsa1, Some("r1"), &claims("rsa-user"));
    let es = sign(Algorithm::ES256, &s.ec1, Some("e1"), &claims("ec-user"));
    for _ in 0..20 {
        assert_eq!(v.verify(&rs).await.unwrap().subject, "rsa-user");
        assert_eq!(v.verify(&es).await.unwrap().subject, "ec-user");
    }
    assert_eq!(server.hits(), 1, "the set is cached");
    // A key of the set used with another algorithm than its own.
    let wrong_alg = sign(Algorithm::RS384, &s.rsa1, Some("r1"), &claims("u"));
    assert_eq!(v.verify(&wrong_alg).await, Err(AuthError::UnsupportedAlgorithm));
    // Right kid, wrong key.
    let forged = sign(Algorithm::RS256, &s.rsa2, Some("r1"), &claims("u"));
    assert_eq!(v.verify(&forged).await, Err(AuthError::InvalidSignature));
}

#[tokio::test]
async fn rotation_is_followed_and_unknown_kids_refetch_at_most_once_per_interval() {
    let s = signers();
    // Every token is signed before the clock that matters starts: RSA signing in a debug
    // build on a loaded machine can take longer than the interval under test.
    let invented: Vec<String> = (0..50)
        .map(|i| sign(Algorithm::RS256, &s.rsa1, Some(&format!("invented-{i}")), &claims("u")))
        .collect();
    let rotated: Vec<String> = (0..20)
        .map(|_| sign(Algorithm::RS256, &s.rsa2, Some("r2"), &claims("rotated")))
        .collect();
    let old = sign(Algorithm::RS256, &s.rsa1, Some("r1"), &claims("u"));
    let server = KeyServer::start(jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")])).await;
    let interval = Duration::from_millis(1000);
    let v = jwks_verifier(&server, interval, Duration::from_secs(2));
    assert!(v.verify(&old).await.is_ok());
    assert_eq!(server.hits(), 1);

    // A flood of invented kids right after the fetch: no refetch inside the interval.
    let mut tasks = Vec::new();
    for t in invented {
        let v = v.clone();
        tasks.push(tokio::spawn(async move { v.verify(&t).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), Err(AuthError::UnknownKey));
    }
    assert_eq!(server.hits(), 1, "no fetch inside the minimum interval");

    // The provider rotates to r2; once the interval has passed, the new kid triggers one fetch.
    server.set(200, jwks_body(&[(&s.rsa2, Algorithm::RS256, "r2")]), Duration::ZERO);
    tokio::time::sleep(interval + Duration::from_millis(50)).await;
    let mut tasks = Vec::new();
    for t in rotated {
        let v = v.clone();
        tasks.push(tokio::spawn(async move { v.verify(&t).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().map(|p| p.subject), Ok("rotated".to_owned()));
    }
    assert_eq!(server.hits(), 2, "one fetch for twenty requests");
    // The retired key no longer verifies.
    assert_eq!(v.verify(&old).await, Err(AuthError::UnknownKey));
}

#[tokio::test]
async fn one_fetch_in_flight_for_concurrent_first_requests() {
    let s = signers();
    let server = KeyServer::start(jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")])).await;
    server.set(
        200,
        jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")]),
        Duration::from_millis(200),
    );
    let v = jwks_verifier(&server, Duration::from_secs(5), Duration::from_secs(2));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let v = v.clone();
        let t = sign(Algorithm::RS256, &s.rsa1, Some("r1"), &claims("u"));
        tasks.push(tokio::spawn(async move { v.verify(&t).await }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_ok());
    }
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn jwks_down_slow_or_garbage_is_keys_unavailable_within_the_timeout() {
    let s = signers();
    let token = sign(Algorithm::RS256, &s.rsa1, Some("r1"), &claims("u"));
    let timeout = Duration::from_millis(300);

    // Down: nothing listens on the port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let jwks = Jwks::builder(format!("http://127.0.0.1:{closed}/jwks"), &[Algorithm::RS256])
        .timeout(timeout)
        .build()
        .unwrap();
    let v = JwtVerifier::builder().jwks(jwks).build().unwrap();
    let started = Instant::now();
    assert_eq!(v.verify(&token).await, Err(AuthError::KeysUnavailable));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    // Slow: answers after 5 s; refused after the 300 ms timeout.
    let server = KeyServer::start(jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")])).await;
    server.set(
        200,
        jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")]),
        Duration::from_secs(5),
    );
    let v = jwks_verifier(&server, Duration::from_millis(100), timeout);
    let started = Instant::now();
    assert_eq!(v.verify(&token).await, Err(AuthError::KeysUnavailable));
    let took = started.elapsed();
    assert!(took >= timeout && took < Duration::from_secs(2), "{took:?}");

    // Garbage, an error status, a set without usable keys, an oversized body.
    for (status, body) in [
        (200, "not json at all".to_owned()),
        (500, jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")])),
        (
            200,
            r#"{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "r1"}]}"#.to_owned(),
        ),
        (200, format!(r#"{{"keys": [], "pad": "{}"}}"#, "x".repeat(300 * 1024))),
    ] {
        let server = KeyServer::start(body).await;
        server.state.lock().unwrap().status = status;
        let v = jwks_verifier(&server, Duration::from_millis(100), timeout);
        assert_eq!(
            v.verify(&token).await,
            Err(AuthError::KeysUnavailable),
            "status {status}"
        );
    }

    // A good set, then garbage: the cached keys keep verifying.
    let server = KeyServer::start(jwks_body(&[(&s.rsa1, Algorithm::RS256, "r1")])).await;
    let v = jwks_verifier(&server, Duration::from_millis(50), timeout);
    assert!(v.verify(&token).await.is_ok());
    server.set(200, "garbage".into(), Duration::ZERO);
    tokio::time::sleep(Duration::from_millis(80)).await;
    let unknown = sign(Algorithm::RS256, &s.rsa1, Some("zz"), &claims("u"));
    assert_eq!(v.verify(&unknown).await, Err(AuthError::UnknownKey));
    assert_eq!(server.hits(), 2, "the unknown kid did refetch");
    assert!(
        v.verify(&token).await.is_ok(),
        "the cached set survives a garbage answer"
    );
}

#[tokio::test]
async fn http_key_sets_are_refused_off_loopback() {
    let err = Jwks::new("http://idp.example.com/jwks", &[Algorithm::RS256]).unwrap_err();
    assert!(err.to_string().contains("HTTPS is required"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// No input panics.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_authorization_values_never_panic(value in proptest::collection::vec(any::<u8>(), 0..200), prefix in prop::sample::select(vec!["", "Bearer ", "bearer  ", "Basic "])) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let verifier = JwtVerifier::builder()
            .key(Key::hmac(SECRET, &[Algorithm::HS256]).unwrap())
            .key(Key::rsa_pem(pem!("rsa1.pub.pem"), &[Algorithm::RS256]).unwrap().with_kid("r"))
            .build()
            .unwrap();
        let mut raw = prefix.as_bytes().to_vec();
        raw.extend_from_slice(&value);
        if let Ok(v) = http::HeaderValue::from_bytes(&raw) {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, v);
            let found = lift::auth::TokenSource::header().extract(&headers);
            if let Ok(token) = found {
                let r = rt.block_on(verifier.verify(token));
                prop_assert!(r.is_err());
            }
        }
        // Straight into the verifier as text too, and as three base64url segments.
        let text = String::from_utf8_lossy(&value).into_owned();
        prop_assert!(rt.block_on(verifier.verify(&text)).is_err());
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let dotted = format!("{}.{}.{}", b.encode(&value), b.encode(&value), b.encode(&value));
        prop_assert!(rt.block_on(verifier.verify(&dotted)).is_err());
    }

    #[test]
    fn arbitrary_headers_with_valid_signatures_never_panic(alg in "[A-Za-z0-9]{0,8}", kid in proptest::option::of("[ -~]{0,20}"), extra in "[ -~]{0,50}") {
        // A well-signed token whose header says anything.
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let verifier = JwtVerifier::builder().key(Key::hmac(SECRET, &[Algorithm::HS256]).unwrap()).build().unwrap();
        let header = json!({"alg": alg, "kid": kid, "x": extra}).to_string();
        let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let signing_input = format!("{}.{}", b.encode(header), b.encode(claims("u").to_string()));
        let sig = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &EncodingKey::from_secret(SECRET).unwrap(), Algorithm::HS256).unwrap();
        let token = format!("{signing_input}.{sig}");
        let r = rt.block_on(verifier.verify(&token));
        if alg == "HS256" {
            prop_assert!(r.is_ok(), "{r:?}");
        } else {
            prop_assert!(r.is_err());
        }
    }
}
